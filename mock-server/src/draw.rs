//! The seeded draw every per-request choice of the server makes (a fault, a straggler): the
//! `n`-th request since the last `/stats` reset is hit when a hash of `n` and the seed falls
//! under the share, so the same seed hits the same request numbers in every run.

/// Whether request number `n` is hit, for a share `p` (0–1) and a `seed`.
pub fn hits(seed: u64, n: u64, p: f64) -> bool {
    let x = splitmix64(seed ^ splitmix64(n));
    // The top 53 bits as a number in [0, 1).
    ((x >> 11) as f64 / (1u64 << 53) as f64) < p
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_hits_about_that_share_and_the_seed_decides_which() {
        let hit = |seed| (0..10_000).filter(|&n| hits(seed, n, 0.1)).count();
        assert!((900..=1_100).contains(&hit(0)), "{}", hit(0));
        let same: Vec<u64> = (0..100).filter(|&n| hits(7, n, 0.5)).collect();
        assert_eq!(
            same,
            (0..100).filter(|&n| hits(7, n, 0.5)).collect::<Vec<_>>()
        );
        assert_ne!(
            same,
            (0..100).filter(|&n| hits(8, n, 0.5)).collect::<Vec<_>>()
        );
        assert_eq!((0..1_000).filter(|&n| hits(0, n, 0.0)).count(), 0);
        assert_eq!((0..1_000).filter(|&n| hits(0, n, 1.0)).count(), 1_000);
    }
}

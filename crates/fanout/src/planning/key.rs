//! A point's key: what tells one cell of a run from another — its strategy, its C, the value
//! of the setting the run varies beside C, the protocol and the server's profile. A run's
//! cells, `fanout compare`'s pairs and `fanout resume`'s points done all find a point by it;
//! its order is the tables' (the catalog's, then the varied value, then C).

use mock_server::Profile;

use crate::model::knob::{Knob, Varied};
use crate::model::settings::Protocol;

use super::catalog;
use super::point::Point;

/// A point's key (see the module's comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PointKey {
    /// The strategy's place in the catalog: the tables' order.
    order: usize,
    /// The strategy's (or peer's) name.
    pub strategy: &'static str,
    /// The value of the setting the run varies, if it varies one.
    pub varied: Option<Varied>,
    /// The protocol the point spoke.
    pub protocol: Protocol,
    /// The server's profile.
    pub profile: Profile,
    /// Requests in flight (C).
    pub concurrency: usize,
}

impl PointKey {
    /// `point`'s key in a run that varies `knob` (`None`: it varies nothing beside C).
    pub fn of(point: &Point, knob: Option<Knob>) -> Self {
        Self {
            order: catalog::order(point.strategy),
            strategy: point.strategy.name,
            varied: knob.map(|k| k.value(&point.settings)),
            protocol: point.protocol(),
            profile: point.settings.server.profile,
            concurrency: point.concurrency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_differing_in_the_varied_setting_protocol_or_profile_have_different_keys() {
        let strategy = catalog::find("async_semaphore").expect("a strategy");
        let base = Point::new(strategy, 100);
        let key = |p: &Point| PointKey::of(p, Some(Knob::Fault));
        let mut faulty = base.clone();
        faulty.settings.fault.fault = Some(mock_server::FaultKind::Reset);
        faulty.settings.fault.fault_p = 0.01;
        let mut h2 = base.clone();
        h2.settings.protocol = Protocol::H2;
        let mut strict = base.clone();
        strict.settings.server.profile = Profile::Nginx;
        for other in [&faulty, &h2, &strict] {
            assert_ne!(key(&base), key(other), "{other:?}");
        }
        // The same point under another N is the same cell: the workload check tells them.
        let mut longer = base.clone();
        longer.requests *= 2;
        assert_eq!(key(&base), key(&longer));
        // Table order: the catalog's, then C.
        let bigger = Point::new(strategy, 1_000);
        let earlier = Point::new(catalog::find("thread_pool").expect("a strategy"), 1_000);
        assert!(key(&base) < key(&bigger) && key(&earlier) < key(&base));
    }
}

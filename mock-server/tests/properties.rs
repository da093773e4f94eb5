//! Property tests over the query and path parameters: never a 5xx the client did not ask for,
//! never a panic, and valid values honoured.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use mock_server::{AppState, Config, Stats, app, response_body};
use proptest::prelude::*;
use tower::ServiceExt;

const MAX_DELAY_MS: u64 = 3;
const MAX_BYTES: u64 = 256;

fn state() -> AppState {
    AppState {
        config: Config {
            default_delay_ms: 0,
            max_delay_ms: MAX_DELAY_MS,
            max_bytes: MAX_BYTES,
            ..Config::default()
        },
        stats: Arc::new(Stats::default()),
    }
}

fn call(uri: &str) -> (StatusCode, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let request = Request::get(uri).body(Body::empty()).expect("request");
        let response = app(state()).oneshot(request).await.expect("infallible");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, body.to_vec())
    })
}

/// A parameter value — a number in `lo..=hi`, a number above it, or any URL-safe text — and
/// whether the server must accept it.
fn value(lo: u64, hi: u64) -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        (lo..=hi).prop_map(|v| (v.to_string(), true)),
        (hi + 1..u64::MAX).prop_map(|v| (v.to_string(), false)),
        "[-a-zA-Z0-9._~]{0,12}".prop_map(move |s| {
            let ok = s.parse::<u64>().is_ok_and(|v| (lo..=hi).contains(&v));
            (s, ok)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn get_honours_valid_parameters_and_rejects_the_rest_with_400(
        delay in value(0, MAX_DELAY_MS),
        bytes in value(0, MAX_BYTES),
        status in value(200, 599),
    ) {
        let uri = format!("/get?delay_ms={}&bytes={}&status={}", delay.0, bytes.0, status.0);
        let (got, body) = call(&uri);
        if delay.1 && bytes.1 && status.1 {
            prop_assert_eq!(u64::from(got.as_u16()), status.0.parse::<u64>().expect("valid"));
            let len: usize = bytes.0.parse().expect("valid");
            // 204 and 304 carry no body by definition.
            if got != StatusCode::NO_CONTENT && got != StatusCode::NOT_MODIFIED {
                prop_assert_eq!(body, response_body(len));
            }
        } else {
            prop_assert_eq!(got, StatusCode::BAD_REQUEST, "{}", uri);
            let text = String::from_utf8(body).expect("utf-8");
            prop_assert!(text.contains(" must be "), "{}", text);
        }
    }

    #[test]
    fn path_parameters_never_give_a_5xx_unless_asked(
        segment in "[-a-zA-Z0-9._~]{0,20}",
        endpoint in prop::sample::select(vec!["delay", "status", "bytes"]),
    ) {
        let (got, _) = call(&format!("/{endpoint}/{segment}"));
        let asked_5xx = endpoint == "status" && segment.parse::<u16>().is_ok_and(|c| (500..=599).contains(&c));
        prop_assert!(asked_5xx || !got.is_server_error(), "/{}/{} gave {}", endpoint, segment, got);
        prop_assert!(got.is_success() || got == StatusCode::BAD_REQUEST || got == StatusCode::NOT_FOUND || asked_5xx
            || (endpoint == "status" && got.as_u16() >= 300), "/{}/{} gave {}", endpoint, segment, got);
    }
}

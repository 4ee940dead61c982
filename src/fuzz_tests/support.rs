//! What every fuzz target shares: the case count and fixed seed, and the HTTP client
//! and answers the vendor decoders are driven with, as a real exchange would (the
//! target's kind does not matter to decoding, so one client serves every vendor).

use std::sync::OnceLock;

use proptest::prelude::{TestCaseError, prop_assert_eq};
use proptest::test_runner::{Config, RngSeed};

use crate::api_error::ApiError;
use crate::config::Target;
use crate::http::client::{ErrorBodyParser, HttpClient};

/// The seed of every target, so a failure in CI fails the same way on every machine.
const SEED: u64 = 0x6375_746f_7665_7231;

/// Longest `Display` of an error made from a hostile answer: a message of a few hundred
/// characters plus the target and operation.
pub(crate) const MAX_SHOWN: usize = 1200;

/// The runner config of a target: `cases` (or `CUTOVER_FUZZ_CASES`), a fixed seed, and no
/// failure files (a failure is turned into a plain regression test instead).
pub(crate) fn config(cases: u32) -> Config {
    let cases = std::env::var("CUTOVER_FUZZ_CASES")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(SEED),
        ..Config::default()
    }
}

/// The runtime and client every decoding case shares: building a client loads the TLS
/// roots, which costs more than the decoding itself.
fn shared() -> &'static (tokio::runtime::Runtime, HttpClient) {
    static SHARED: OnceLock<(tokio::runtime::Runtime, HttpClient)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let target = Target::for_tests("https://array1.example.com");
        #[allow(clippy::unwrap_used, reason = "test setup with a fixed valid target")]
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        #[allow(clippy::unwrap_used, reason = "test setup with a fixed valid target")]
        let http = HttpClient::new(&target).unwrap();
        (runtime, http)
    })
}

/// The client of target `array1`, never connected: it only decodes.
pub(crate) fn client() -> &'static HttpClient {
    &shared().1
}

/// An answer of `status` carrying `body`, as `HttpClient::send` hands it on.
pub(crate) fn answer(status: u16, body: &[u8]) -> reqwest::Response {
    #[allow(clippy::unwrap_used, reason = "every status below 1000 is valid")]
    let response = http::Response::builder()
        .status(status)
        .body(body.to_vec())
        .unwrap();
    reqwest::Response::from(response)
}

/// Decodes a 200 answer as the client does and checks what a bad one gives: the typed
/// `http` error "unexpected answer", one line, bounded, with a bounded body excerpt.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let (runtime, http) = shared();
    let result = runtime.block_on(http.read_json::<T>("read", answer(200, body)));
    if let Err(err) = &result {
        check_error(err);
        assert_eq!(err.kind, crate::api_error::ErrorKind::Http, "{err}");
        assert!(err.message.starts_with("unexpected answer: "), "{err}");
    }
    result
}

/// Decodes an error answer of `status` with a vendor's body parser, as `send` does.
pub(crate) fn status_error(status: u16, body: &[u8], parse_error: ErrorBodyParser) -> ApiError {
    let err = shared().0.block_on(crate::http::client::status_error(
        answer(status, body),
        parse_error,
    ));
    check_error(&err);
    assert_eq!(err.status, Some(status), "{err}");
    assert!(err.message.starts_with(&status.to_string()), "{err}");
    err
}

/// What every vendor's error body keeps to: the kind and retryability of its status, and
/// the vendor code the vendor's own parser reads from it.
pub(crate) fn error_body_holds(
    status: u16,
    body: &[u8],
    parse_error: ErrorBodyParser,
) -> Result<(), TestCaseError> {
    let err = status_error(status, body, parse_error);
    prop_assert_eq!(err.kind, crate::api_error::ErrorKind::from_status(status));
    prop_assert_eq!(err.retryable, crate::api_error::is_retryable_status(status));
    let vendor = parse_error(&String::from_utf8_lossy(body));
    prop_assert_eq!(err.vendor_code, vendor.and_then(|v| v.code));
    Ok(())
}

/// The test of [`error_body_holds`] every vendor decoder target runs, over the bodies the
/// strategy `$bodies` draws and with the vendor's `$parse_error`.
macro_rules! error_bodies_property {
    ($bodies:expr, $parse_error:expr) => {
        proptest::proptest! {
            #![proptest_config($crate::fuzz_tests::support::config(256))]

            #[test]
            fn error_bodies_give_the_status_kind_and_the_vendor_code(
                body in $bodies,
                status in 400..600_u16,
            ) {
                $crate::fuzz_tests::support::error_body_holds(status, &body, $parse_error)?;
            }
        }
    };
}
pub(crate) use error_bodies_property;

/// What every error made from outside input keeps to: `Display` on one line, of bounded
/// length, with no control characters a terminal would act on; the body excerpt bounded.
pub(crate) fn check_error(err: &ApiError) {
    let shown = err.to_string();
    assert!(shown.chars().count() <= MAX_SHOWN, "{} chars", shown.len());
    assert!(
        !shown.chars().any(|c| c.is_control()),
        "control characters in {shown:?}"
    );
    if let Some(body) = &err.body {
        assert!(body.len() <= 2048 * 10 + 3, "{} bytes of body", body.len());
    }
}

//! What the vendors' verification tests share: every simulator on 127.0.0.1 on one
//! manual clock (objects stay in the state a test puts them in until it moves the
//! clock), the lab's target of a kind, and the lab's own routes over loopback HTTP.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::api_error::ErrorKind;
use crate::clock::Clock;
use crate::config::{Target, TargetKind};
use crate::http::call_record::CallRecord;
use crate::http::mutation::{Mutations, Verdict, Verification, Verify};
use crate::lab::{Lab, LabOptions};

/// The lab and its clock.
pub(crate) struct Rig {
    pub lab: Lab,
    pub clock: Clock,
}

impl Rig {
    pub async fn start() -> Self {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(crate::http::lab::testing::START);
        let clock = Clock::manual(start);
        let options = LabOptions {
            seed: 5,
            clock: clock.clone(),
            ..LabOptions::default()
        };
        let lab = Lab::start(options).await.unwrap();
        Self { lab, clock }
    }

    /// The lab's target of `kind` (the first, for a kind with several).
    pub fn target(&self, kind: TargetKind) -> Target {
        let targets = self.lab.targets();
        targets.into_iter().find(|t| t.kind == kind).unwrap()
    }

    /// A call record no test reads.
    pub fn calls() -> CallRecord {
        CallRecord::new()
    }

    /// `POST` `body` to `path` of the lab's listener of `kind`; its JSON answer.
    pub async fn post(&self, kind: TargetKind, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.lab.url(kind).unwrap());
        #[allow(clippy::disallowed_methods, reason = "tests drive the lab directly")]
        let response = reqwest::Client::new()
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{status}: {answer}");
        answer
    }

    /// Asserts that the mutation counts `/_lab/state` of each of `kinds`' listeners
    /// shows are all 0: no change reached the lab.
    pub async fn assert_untouched(&self, kinds: &[TargetKind]) {
        for &kind in kinds {
            let url = format!("{}/_lab/state", self.lab.url(kind).unwrap());
            #[allow(clippy::disallowed_methods, reason = "tests drive the lab directly")]
            let state: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            let counts = state["counts"].as_object().unwrap();
            let applied: u64 = counts.values().filter_map(Value::as_u64).sum();
            assert_eq!(applied, 0, "{kind:?}: a change reached the lab");
        }
    }

    /// Makes the next request to `path` (a prefix) of `kind`'s listener with `method`
    /// fail with `status`, before the simulator sees it.
    pub async fn fail_next(&self, kind: TargetKind, method: &str, path: &str, status: u16) {
        let rule = serde_json::json!({"status": status, "method": method, "path": path});
        self.post(kind, "/_lab/faults", rule).await;
    }

    /// Refuses the next `GET` to `path` (a prefix) of `kind`'s listener with 403 and
    /// asserts that `client` reading `asked` then fails with that authentication error.
    pub async fn assert_read_refused(
        &self,
        client: &dyn Verify,
        kind: TargetKind,
        path: &str,
        asked: &Verification,
    ) {
        self.fail_next(kind, "GET", path, 403).await;
        let err = client.verify(asked).await.unwrap_err();
        assert_eq!((err.kind, err.status), (ErrorKind::Auth, Some(403)));
    }
}

/// Asserts the verdict `client` reads for each verification, in order.
pub(crate) async fn assert_verdicts(client: &dyn Verify, cases: &[(&Verification, Verdict)]) {
    for (n, (asked, expected)) in cases.iter().enumerate() {
        let verdict = client.verify(asked).await.unwrap();
        assert_eq!(&verdict, expected, "case {n}");
    }
}

/// The verification `table` gives `operation` on the object `(id, name)` of `target`.
pub(crate) fn verification(
    table: &Mutations,
    target: &Target,
    operation: &str,
    object: (Option<&str>, Option<&str>),
    detail: Option<&str>,
) -> Verification {
    let mutation = table
        .mutation(&target.name, operation, object, operation)
        .unwrap();
    match detail {
        Some(detail) => mutation.with_detail(detail).verification,
        None => mutation.verification,
    }
}

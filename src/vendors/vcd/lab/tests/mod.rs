//! In-process tests of the simulator through its router, one module per area, and the
//! Cloud Director login flow they share: a client sending its token and an `Accept`
//! version. Requests carry `Host: vcd.test`, which task links are built from.

mod auth;
mod entities;
mod estate;
mod migration;
mod tasks;

use axum::Router;
use serde_json::Value;

use crate::clock::Clock;
use crate::http::lab::estate::{Estate, Scenario};
use crate::http::lab::testing::{PASSWORD, TestLab};
use crate::lab::testing::seeded_lab;

pub(super) use crate::http::lab::testing::{Answer, configure, lab_state, send};

use super::{LabState, router};

/// The provider user of test labs.
pub(super) const USER: &str = "administrator@System";
/// `application/json;version=38.0`.
pub(super) const JSON_38: &str = "application/json;version=38.0";

impl TestLab for LabState {
    const ROUTER: fn(Self) -> Router = router;

    fn default_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[("host", "vcd.test")]
    }
}

/// A lab seeded with 7 on the tests' manual clock, without the estate's entities;
/// password `secret`.
pub(super) fn lab() -> (LabState, Clock) {
    estate_lab(&Estate::new(Scenario::Happy, 0))
}

/// A lab seeded with 7 and the entities of `estate`'s applications.
pub(super) fn estate_lab(estate: &Estate) -> (LabState, Clock) {
    seeded_lab(estate, |setup| LabState::new(setup, USER))
}

/// An error answer's status and `minorErrorCode`, as the tests compare them.
pub(super) fn minor_error(answer: &Answer) -> (u16, Option<&str>) {
    (answer.status, answer.body["minorErrorCode"].as_str())
}

/// `Basic <user>:secret`.
pub(super) fn basic(user: &str) -> String {
    crate::http::lab::testing::basic(user, PASSWORD)
}

/// `POST path` (a login path) with the `Authorization` header `auth` and `accept`.
pub(super) async fn log_in(lab: &LabState, path: &str, auth: &str, accept: &str) -> Answer {
    let headers = [("authorization", auth), ("accept", accept)];
    send(lab, "POST", path, &headers, "").await
}

/// A logged-in client sending its token and an `Accept` version.
pub(super) struct Client {
    pub(super) lab: LabState,
    pub(super) token: String,
    pub(super) accept: String,
}

impl Client {
    /// The provider user logged in at API 38.0 to a fresh [`lab`].
    pub(super) async fn fresh() -> Self {
        Self::login(&lab().0).await
    }

    /// Logs the provider user in at API 38.0.
    pub(super) async fn login(lab: &LabState) -> Self {
        Self::login_as(lab, USER).await
    }

    /// Logs `user` (`name@org`) in at API 38.0, through the provider or tenant path.
    pub(super) async fn login_as(lab: &LabState, user: &str) -> Self {
        let path = if user.ends_with("@System") {
            "/cloudapi/1.0.0/sessions/provider"
        } else {
            "/cloudapi/1.0.0/sessions"
        };
        let answer = log_in(lab, path, &basic(user), JSON_38).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        let token = answer
            .header("x-vmware-vcloud-access-token")
            .unwrap()
            .to_owned();
        Self {
            lab: lab.clone(),
            token,
            accept: JSON_38.to_owned(),
        }
    }

    pub(super) async fn call(&self, method: &str, uri: &str, body: &str) -> Answer {
        let bearer = format!("Bearer {}", self.token);
        let headers = [
            ("authorization", bearer.as_str()),
            ("accept", self.accept.as_str()),
        ];
        send(&self.lab, method, uri, &headers, body).await
    }

    pub(super) async fn get(&self, uri: &str) -> Answer {
        self.call("GET", uri, "").await
    }

    pub(super) async fn post(&self, uri: &str, body: &str) -> Answer {
        self.call("POST", uri, body).await
    }

    /// Starts a migration; the task path from `Location`.
    pub(super) async fn migrate(&self, source: &str, target: &str, force: bool) -> String {
        let body = format!(r#"{{"targetEntityType": "{target}", "forceMigrate": {force}}}"#);
        let uri = format!("/cloudapi/1.0.0/entityTypes/{source}/migrateEntities");
        let answer = self.post(&uri, &body).await;
        assert_eq!(answer.status, 202, "{}", answer.text);
        let location = answer.header("location").unwrap();
        location.strip_prefix("http://vcd.test").unwrap().to_owned()
    }
}

/// The lab-state row of the entity called `name`.
pub(super) fn entity<'a>(state: &'a Value, name: &str) -> &'a Value {
    state["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()
}

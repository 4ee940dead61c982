//! `GET /_lab/state`, `GET`/`POST /_lab/config` and `POST /_lab/expire_sessions`, built
//! once for every simulator: the vendor supplies its inventory's view
//! ([`LabInventory::state_json`]), its settings ([`LabSettings`]) and how its login
//! sessions end ([`LabLogins`]); the scaffolding adds the lab time, the mutation log and
//! the fault rules, and parses and answers the config change.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::core::{LabCore, LabInventory};
use super::{control_error, timestamp};

/// A vendor's settings of `/_lab/config`: how a change is checked and made. Where the
/// settings are kept, [`config_routes`] is told.
pub trait LabSettings: LabInventory {
    /// The body of `POST /_lab/config`; absent fields keep their value.
    type Change: DeserializeOwned;

    /// Makes `change`, or says why it cannot be made.
    fn apply_config(&mut self, change: Self::Change) -> Result<(), String>;
}

/// `GET /_lab/state`: the vendor's view at now, with `fields` (what this listener adds,
/// e.g. which one it is), the lab time, every mutation and their counts, the faults,
/// the most requests the listener served at once and how many arrived on each route
/// (when it is served, [`super::serve`]), and its chaos (when the lab has some,
/// [`super::Chaos`]). `GET /_lab/requests`: every request's route and arrival, in order.
pub fn state_routes<I, C, S>(lab: &LabCore<I, C>, fields: Map<String, Value>) -> Router<S>
where
    I: LabInventory,
    C: Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    let shown = move |State(lab): State<LabCore<I, C>>,
                      traffic: Option<axum::Extension<super::Traffic>>,
                      chaos: Option<axum::Extension<super::Chaos>>| {
        let mut fields = fields.clone();
        if let Some(axum::Extension(traffic)) = traffic {
            fields.insert("peak_concurrent_requests".to_owned(), traffic.peak().into());
            fields.insert("requests".to_owned(), traffic.counts());
        }
        if let Some(axum::Extension(chaos)) = chaos {
            fields.insert("chaos".to_owned(), chaos.state());
        }
        async move { Json(Value::Object(state(&lab, fields))) }
    };
    let arrivals = |traffic: Option<axum::Extension<super::Traffic>>| async move {
        Json(traffic.map_or_else(Vec::new, |axum::Extension(traffic)| traffic.log()))
    };
    Router::new()
        .route("/_lab/state", get(shown))
        .route("/_lab/requests", get(arrivals))
        .with_state(lab.clone())
}

fn state<I: LabInventory, C>(
    lab: &LabCore<I, C>,
    mut fields: Map<String, Value>,
) -> Map<String, Value> {
    let now = lab.now();
    fields.extend(lab.at(now).state_json(now, lab.mutations()));
    let mutations = lab.mutations();
    let shared = [
        ("now", Value::String(timestamp(now))),
        ("mutations", serde_json::json!(mutations.entries())),
        ("counts", serde_json::json!(mutations.counts())),
        ("faults", serde_json::json!(lab.faults().summary())),
    ];
    fields.extend(shared.map(|(name, value)| (name.to_owned(), value)));
    fields
}

/// `GET /_lab/config` (the settings, which `config` finds in the inventory) and
/// `POST /_lab/config` (change them; answers the whole config).
pub fn config_routes<I, C, S, K>(lab: &LabCore<I, C>, config: fn(&I) -> &K) -> Router<S>
where
    I: LabSettings,
    C: Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
    K: Serialize + 'static,
{
    let shown = move |State(lab): State<LabCore<I, C>>| async move {
        Json(serde_json::json!(config(&lab.at_now())))
    };
    let changed = move |State(lab): State<LabCore<I, C>>, bytes: Bytes| async move {
        let change: I::Change = match serde_json::from_slice(&bytes) {
            Ok(change) => change,
            Err(e) => return control_error(format!("invalid config: {e}")),
        };
        let mut inventory = lab.at_now();
        match inventory.apply_config(change) {
            Ok(()) => Json(serde_json::json!(config(&inventory))).into_response(),
            Err(message) => control_error(message),
        }
    };
    Router::new()
        .route("/_lab/config", get(shown).post(changed))
        .with_state(lab.clone())
}

/// A vendor whose login sessions the lab can end all at once.
pub trait LabLogins: LabInventory {
    /// Ends every login session, as an idle timeout would; how many there were.
    fn expire_logins(&mut self) -> usize;
}

/// `POST /_lab/expire_sessions`: every login session lapses now; `{"expired": n}`.
pub fn expire_routes<I, C, S>(lab: &LabCore<I, C>) -> Router<S>
where
    I: LabLogins,
    C: Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/_lab/expire_sessions", post(sessions_expire::<I, C>))
        .with_state(lab.clone())
}

async fn sessions_expire<I: LabLogins, C>(State(lab): State<LabCore<I, C>>) -> Json<Value> {
    let expired = lab.at_now().expire_logins();
    Json(serde_json::json!({ "expired": expired }))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;
    use crate::http::lab::MutationLog;
    use crate::http::lab::testing::{TestLab, lab_state, seeded, send};

    /// A toy vendor: a counter that climbs one step a lab second, one setting and some
    /// login sessions.
    struct Toy {
        steps: u64,
        config: ToyConfig,
        since: Option<std::time::SystemTime>,
        logins: usize,
    }

    impl LabLogins for Toy {
        fn expire_logins(&mut self) -> usize {
            std::mem::take(&mut self.logins)
        }
    }

    #[derive(serde::Serialize)]
    struct ToyConfig {
        limit: u64,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ToyChange {
        limit: Option<u64>,
    }

    impl LabInventory for Toy {
        fn advance(&mut self, now: std::time::SystemTime, mutations: &MutationLog) {
            let since = *self.since.get_or_insert(now);
            let steps = now.duration_since(since).unwrap_or_default().as_secs();
            if steps > self.steps {
                mutations.record("step", "toy", now);
            }
            self.steps = steps.min(self.config.limit);
        }

        fn state_json(&mut self, _: std::time::SystemTime, _: &MutationLog) -> Map<String, Value> {
            let mut shown = Map::new();
            shown.insert("steps".to_owned(), json!(self.steps));
            shown
        }
    }

    impl LabSettings for Toy {
        type Change = ToyChange;

        fn apply_config(&mut self, change: ToyChange) -> Result<(), String> {
            match change.limit {
                Some(0) => Err("limit must be at least 1".to_owned()),
                Some(limit) => {
                    self.config.limit = limit;
                    Ok(())
                }
                None => Ok(()),
            }
        }
    }

    type ToyLab = LabCore<Toy, ()>;

    impl TestLab for ToyLab {
        const ROUTER: fn(Self) -> Router = |toy| {
            let fields = Map::from_iter([("listener".to_owned(), json!("toy"))]);
            Router::new()
                .merge(state_routes(&toy, fields))
                .merge(config_routes(&toy, |toy: &Toy| &toy.config))
                .merge(expire_routes(&toy))
        };
    }

    fn toy() -> (ToyLab, crate::clock::Clock) {
        let toy = Toy {
            steps: 0,
            config: ToyConfig { limit: 10 },
            since: None,
            logins: 2,
        };
        seeded(|clock| ToyLab::assemble(toy, clock, ()))
    }

    #[tokio::test]
    async fn the_state_moves_the_inventory_on_and_adds_what_every_lab_shows() {
        let (lab, clock) = toy();
        // The first read starts the toy's counter.
        drop(lab.at_now());
        clock.advance(std::time::Duration::from_secs(3));
        assert_eq!(
            lab_state(&lab).await,
            json!({
                "listener": "toy",
                "steps": 3,
                "now": "2025-03-01T00:00:03Z",
                "mutations": [{"operation": "step", "id": "toy", "at": "2025-03-01T00:00:03Z"}],
                "counts": {"step": 1},
                "faults": {"pending": [], "injected": 0},
            })
        );
    }

    #[tokio::test]
    async fn config_changes_are_checked_by_the_vendor_and_answered_whole() {
        let (lab, _) = toy();
        let shown = send(&lab, "GET", "/_lab/config", &[], "").await;
        assert_eq!((shown.status, shown.body), (200, json!({"limit": 10})));
        let changed = send(&lab, "POST", "/_lab/config", &[], r#"{"limit": 4}"#).await;
        assert_eq!((changed.status, changed.body), (200, json!({"limit": 4})));
        let refused = send(&lab, "POST", "/_lab/config", &[], r#"{"limit": 0}"#).await;
        assert_eq!(
            (refused.status, refused.body),
            (400, json!({"error": "limit must be at least 1"}))
        );
        let unknown = send(&lab, "POST", "/_lab/config", &[], r#"{"speed": 2}"#).await;
        assert_eq!(unknown.status, 400);
        assert_eq!(
            unknown.body["error"],
            "invalid config: unknown field `speed`, expected `limit` at line 1 column 8"
        );
        assert_eq!(lab.lock().config.limit, 4);
    }

    #[tokio::test]
    async fn expiring_sessions_ends_every_login_once() {
        let (lab, _) = toy();
        let first = send(&lab, "POST", "/_lab/expire_sessions", &[], "").await;
        assert_eq!((first.status, first.body), (200, json!({"expired": 2})));
        let again = send(&lab, "POST", "/_lab/expire_sessions", &[], "").await;
        assert_eq!(again.body, json!({"expired": 0}));
    }
}

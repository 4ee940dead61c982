//! `GET /_lab/state` and `GET`/`POST /_lab/config`, built once for every simulator: the
//! vendor supplies its inventory's view ([`LabInventory::state_json`]) and its settings
//! ([`LabSettings`]); the scaffolding adds the lab time, the mutation log and the fault
//! rules, and parses and answers the config change.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::core::{LabCore, LabInventory};
use super::{control_error, timestamp};

/// A vendor's settings of `/_lab/config`.
pub trait LabSettings: LabInventory {
    /// The body of `POST /_lab/config`; absent fields keep their value.
    type Change: DeserializeOwned;

    /// The whole config, as `GET` and `POST` answer it.
    fn config_json(&self) -> Value;

    /// Makes `change`, or says why it cannot be made.
    fn apply_config(&mut self, change: Self::Change) -> Result<(), String>;
}

/// `GET /_lab/state`: the vendor's view at now, with `fields` (what this listener adds,
/// e.g. which one it is), the lab time, every mutation and their counts, the faults.
pub fn state_routes<I, C, S>(lab: &LabCore<I, C>, fields: Map<String, Value>) -> Router<S>
where
    I: LabInventory,
    C: Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    let shown = move |State(lab): State<LabCore<I, C>>| {
        let fields = fields.clone();
        async move { Json(Value::Object(state(&lab, fields))) }
    };
    Router::new()
        .route("/_lab/state", get(shown))
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

/// `GET /_lab/config` (the settings) and `POST /_lab/config` (change them; answers the
/// whole config).
pub fn config_routes<I, C, S>(lab: &LabCore<I, C>) -> Router<S>
where
    I: LabSettings,
    C: Send + Sync + 'static,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/_lab/config",
            get(config_get::<I, C>).post(config_set::<I, C>),
        )
        .with_state(lab.clone())
}

async fn config_get<I: LabSettings, C>(State(lab): State<LabCore<I, C>>) -> Json<Value> {
    Json(lab.at_now().config_json())
}

async fn config_set<I: LabSettings, C>(State(lab): State<LabCore<I, C>>, bytes: Bytes) -> Response {
    let change: I::Change = match serde_json::from_slice(&bytes) {
        Ok(change) => change,
        Err(e) => return control_error(format!("invalid config: {e}")),
    };
    let mut inventory = lab.at_now();
    match inventory.apply_config(change) {
        Ok(()) => Json(inventory.config_json()).into_response(),
        Err(message) => control_error(message),
    }
}

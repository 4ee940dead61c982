//! The lab's own routes under `/_lab/` (never faulted, never authenticated): the whole
//! state with the actions applied to each task, lab settings (token lifetime, action
//! lag, the gateway's clock and token bucket), expiring every token, and adding tasks
//! in any state so tests can build exact scenarios.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::http::lab::control_error as bad;
use crate::http::lab::{LabSettings, config_routes, state_routes};
use crate::vendors::huawei_sms::wire::TaskState;

use super::plan::Flavour;
use super::seed::{GIB, MIB, TaskSpec, add};
use super::state::{Inventory, LabConfig, LabState, RateLimit};

/// The longest token lifetime, action lag and gateway clock offset: ten years. Lab
/// times are computed by adding them to now, and anything far longer would make
/// those sums overflow (or print as no date at all).
const MAX_SETTING_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// The `/_lab/*` routes of the SMS simulator (faults come from the scaffolding).
pub(super) fn routes(lab: &LabState) -> Router<LabState> {
    Router::new()
        .merge(state_routes(lab, Map::new()))
        .merge(config_routes(lab, |inventory: &Inventory| {
            &inventory.config
        }))
        .route("/_lab/expire_tokens", post(tokens_expire))
        .route("/_lab/tasks", post(tasks_add))
}

/// Body of `POST /_lab/config`; absent fields keep their value. A `rate_limit` with
/// capacity 0 turns the token bucket off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    token_ttl_seconds: Option<u64>,
    action_lag_seconds: Option<u64>,
    gateway_clock_offset_seconds: Option<i64>,
    rate_limit: Option<RateLimit>,
}

/// All of the change or, on a bad setting, none of it; a new rate limit starts with a
/// full bucket.
impl LabSettings for Inventory {
    type Change = ConfigChange;

    fn apply_config(&mut self, change: ConfigChange) -> Result<(), String> {
        change.check()?;
        change.apply(&mut self.config);
        if change.rate_limit.is_some() {
            self.bucket = Default::default();
        }
        Ok(())
    }
}

impl ConfigChange {
    /// Why the change cannot be made, if it cannot.
    fn check(&self) -> Result<(), String> {
        let at_most = |name: &str, seconds: u64| {
            if seconds > MAX_SETTING_SECONDS {
                Err(format!(
                    "{name} must be at most {MAX_SETTING_SECONDS} seconds (ten years)"
                ))
            } else {
                Ok(())
            }
        };
        if self.token_ttl_seconds == Some(0) {
            return Err("token_ttl_seconds must be at least 1".to_owned());
        }
        at_most("token_ttl_seconds", self.token_ttl_seconds.unwrap_or(0))?;
        at_most("action_lag_seconds", self.action_lag_seconds.unwrap_or(0))?;
        let offset = self.gateway_clock_offset_seconds.unwrap_or(0);
        at_most(
            "gateway_clock_offset_seconds (either way)",
            offset.unsigned_abs(),
        )?;
        if let Some(limit) = self.rate_limit
            && !(limit.per_second.is_finite() && limit.per_second >= 0.0)
        {
            return Err("rate_limit.per_second must be a number ≥ 0".to_owned());
        }
        Ok(())
    }

    /// Makes the (checked) change to `config`.
    fn apply(&self, config: &mut LabConfig) {
        if let Some(ttl) = self.token_ttl_seconds {
            config.token_ttl_seconds = ttl;
        }
        if let Some(lag) = self.action_lag_seconds {
            config.action_lag_seconds = lag;
        }
        if let Some(offset) = self.gateway_clock_offset_seconds {
            config.gateway_clock_offset_seconds = offset;
        }
        if let Some(limit) = self.rate_limit {
            config.rate_limit = (limit.capacity > 0).then_some(limit);
        }
    }
}

/// `POST /_lab/expire_tokens`: every IAM token lapses now.
async fn tokens_expire(State(lab): State<LabState>) -> Json<Value> {
    let (now, mut inventory) = lab.now_and_at();
    let mut expired = 0;
    for token in inventory.tokens.iter_mut().filter(|t| t.expires > now) {
        token.expires = now;
        expired += 1;
    }
    Json(json!({ "expired": expired }))
}

/// Body of `POST /_lab/tasks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabTaskSpec {
    name: String,
    #[serde(default = "ready")]
    state: TaskState,
    /// `MIGRATE_FILE` (default) or `MIGRATE_BLOCK`.
    #[serde(rename = "type")]
    task_type: Option<String>,
    /// `LINUX` (default) or `WINDOWS` (block-level only).
    os_type: Option<String>,
    used_gib: Option<u64>,
    rate_mib_s: Option<u64>,
    #[serde(default)]
    progress: u8,
    fail_at: Option<u8>,
}

fn ready() -> TaskState {
    TaskState::Ready
}

/// `POST /_lab/tasks`: adds a task in any state; `201 {"id"}`. Not a mutation a
/// client made, so not logged.
async fn tasks_add(State(lab): State<LabState>, bytes: Bytes) -> Response {
    let spec: LabTaskSpec = match serde_json::from_slice(&bytes) {
        Ok(spec) => spec,
        Err(e) => return bad(format!("invalid task: {e}")),
    };
    let flavour = match (spec.os_type.as_deref(), spec.task_type.as_deref()) {
        (None | Some("LINUX"), None | Some("MIGRATE_FILE")) => Flavour::LinuxFile,
        (None | Some("LINUX"), Some("MIGRATE_BLOCK")) => Flavour::LinuxBlock,
        (Some("WINDOWS"), None | Some("MIGRATE_BLOCK")) => Flavour::WindowsBlock,
        (os, kind) => {
            return bad(format!(
                "no task of os_type {os:?} and type {kind:?}; Windows migrates block-level"
            ));
        }
    };
    let bytes = |value: Option<u64>, default: u64, unit: u64, name: &str| {
        value
            .unwrap_or(default)
            .max(1)
            .checked_mul(unit)
            .ok_or_else(|| bad(format!("{name} must be at most {}", u64::MAX / unit)))
    };
    let (used_bytes, rate) = match (
        bytes(spec.used_gib, 6, GIB, "used_gib"),
        bytes(spec.rate_mib_s, 100, MIB, "rate_mib_s"),
    ) {
        (Ok(used_bytes), Ok(rate)) => (used_bytes, rate),
        (Err(refusal), _) | (_, Err(refusal)) => return refusal,
    };
    let task = TaskSpec {
        name: spec.name,
        state: spec.state,
        flavour,
        used_bytes,
        rate,
        progress: spec.progress,
        fail_at: spec.fail_at,
        lazy: false,
    };
    let (now, mut inventory) = lab.now_and_at();
    match add(&mut inventory, &task, now) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(message) => bad(message),
    }
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;

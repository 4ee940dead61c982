//! The lab's own routes under `/_lab/` (never faulted, never authenticated): the whole
//! state for tests, expiring sessions, and seeding the history import in any state.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, json};

use crate::http::lab::{LabLogins, expire_routes, state_routes};
use crate::vendors::vcenter::wire::{Encoding, HistoryStatus};

use super::history::{Cause, DEFAULT_TOTAL, History};
use super::state::Inventory;
use super::{Ctx, bad};

/// The `/_lab/*` routes of the vCenter simulator (faults come from the scaffolding).
pub(super) fn routes(ctx: &Ctx) -> Router<Ctx> {
    let mut listener = Map::new();
    listener.insert("listener".to_owned(), json!(ctx.port.as_str()));
    Router::new()
        .merge(state_routes(&ctx.lab, listener))
        .merge(expire_routes(&ctx.lab))
        .route("/_lab/history", post(history_seed))
}

/// Body of `POST /_lab/history`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Seed {
    status: HistoryStatus,
    #[serde(default)]
    completed: i64,
    #[serde(default = "default_total")]
    total: i64,
    /// BLOCKED: stopped by an import error rather than paused; FAILED: failed on an
    /// error rather than canceled.
    #[serde(default)]
    error: bool,
    /// RUNNING: the step at which the import stops in BLOCKED on an import error.
    #[serde(default)]
    block_at: Option<i64>,
    #[serde(default)]
    user: Option<String>,
}

fn default_total() -> i64 {
    DEFAULT_TOTAL
}

/// `POST /_lab/history`: replaces the import with one in any state, as if it had run
/// at the normal pace to `completed`; answers the Info. Not a mutation: no client made it.
async fn history_seed(State(ctx): State<Ctx>, bytes: Bytes) -> Response {
    let seed: Seed = match serde_json::from_slice(&bytes) {
        Ok(seed) => seed,
        Err(e) => return bad(format!("invalid history seed: {e}")),
    };
    if seed.total < 1 {
        return bad("total must be at least 1".to_owned());
    }
    if !(0..=seed.total).contains(&seed.completed) {
        return bad(format!(
            "completed must be between 0 and total ({})",
            seed.total
        ));
    }
    if let Some(at) = seed.block_at {
        if seed.status != HistoryStatus::Running || !(seed.completed..seed.total).contains(&at) {
            return bad(
                "block_at needs status RUNNING and completed <= block_at < total".to_owned(),
            );
        }
    }
    let now = ctx.lab.now();
    let cause = if seed.error {
        Cause::ImportError
    } else {
        Cause::User
    };
    let mut history = History::seeded(
        seed.status,
        seed.completed,
        seed.total,
        cause,
        seed.user.or_else(|| Some(super::APPLIANCE_USER.to_owned())),
        now,
    );
    history.block_at = seed.block_at;
    let mut inventory = ctx.lab.at(now);
    inventory.history = history;
    Json(inventory.history.info(Encoding::Api)).into_response()
}

/// Login sessions end as after their idle timeout.
impl LabLogins for Inventory {
    fn expire_logins(&mut self) -> usize {
        self.logins.expire_all()
    }
}

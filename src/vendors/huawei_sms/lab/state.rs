//! [`LabState`]: the lab scaffolding's [`LabCore`] over one simulated SMS project behind
//! its API gateway and IAM: the tasks, the IAM tokens handed out, the lab settings, the
//! gateway's token bucket and request ids. [`LabCore::at`] first moves every task
//! forward to the lab clock.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::config::Secret;
use crate::http::lab::estate::Estate;
use crate::http::lab::{LabCore, LabInventory, LazyStart, MutationLog};
use crate::vendors::LabSetup;
use crate::vendors::huawei_sms::wire::{CloneServer, TaskState};

use super::error::LabError;
use super::machine::SimTask;
use super::render::render;
use super::seed;

/// The IAM user the lab accepts.
pub const LAB_USER: &str = "migration-bot";
/// The account (domain) of [`LAB_USER`].
pub const LAB_DOMAIN: &str = "acme";
/// The one project of the lab.
pub const LAB_PROJECT_ID: &str = "0215ef11e49d4743be23dd97a1561abc";
/// The access key of signed requests; its secret key is the lab's.
pub const LAB_ACCESS_KEY: &str = "CUTOVERLABACCESSKEY1";
/// IAM is served on the same listener below this path, so the IAM URL stays a URL of
/// its own in the target.
pub const IAM_PREFIX: &str = "/iam";
/// The region the lab's tasks migrate into.
pub(super) const REGION: &str = "eu-west-101";

/// Settings of `POST /_lab/config`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LabConfig {
    /// Lab seconds an IAM token lives.
    pub(super) token_ttl_seconds: u64,
    /// Lab seconds an action's new state stays hidden behind the old one.
    pub(super) action_lag_seconds: u64,
    /// How far the gateway's clock is ahead of real time (negative: behind), to
    /// rehearse a client whose clock is off when it signs.
    pub(super) gateway_clock_offset_seconds: i64,
    /// The gateway's token bucket; `None` lets every request through.
    pub(super) rate_limit: Option<RateLimit>,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            token_ttl_seconds: 24 * 3600,
            action_lag_seconds: 5,
            gateway_clock_offset_seconds: 0,
            rate_limit: None,
        }
    }
}

/// A token bucket: `capacity` requests at once, refilled at `per_second` (lab time).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RateLimit {
    pub(super) capacity: u32,
    pub(super) per_second: f64,
}

/// The bucket's fill.
#[derive(Debug, Default)]
pub(super) struct Bucket {
    tokens: f64,
    last: Option<SystemTime>,
}

impl Bucket {
    /// Takes one request's token at `now`; `false` when the bucket is empty.
    pub(super) fn take(&mut self, limit: RateLimit, now: SystemTime) -> bool {
        let capacity = f64::from(limit.capacity);
        let refill = self.last.map_or(capacity, |last| {
            now.duration_since(last).unwrap_or_default().as_secs_f64() * limit.per_second
        });
        self.tokens = (self.tokens + refill).min(capacity);
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One task with what the lab shows about it beyond the state machine.
#[derive(Clone, Debug)]
pub(super) struct LabTask {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) created: SystemTime,
    pub(super) sim: SimTask,
    /// After an action, the state shown until then (the documented lag).
    pub(super) shown: Option<(TaskState, SystemTime)>,
    pub(super) log_collect_status: &'static str,
    pub(super) clone_server: Option<CloneServer>,
    pub(super) target_launched: bool,
    pub(super) network_check_info: Option<Value>,
    pub(super) source_id: String,
    pub(super) target_id: String,
    pub(super) vm_id: String,
    pub(super) ip: String,
    /// Whether the task's times run yet: a seeded task's start when a client first
    /// reads or acts on it.
    pub(super) start: LazyStart,
}

impl LabTask {
    /// A client reads or acts on the task at `now`: a waiting timeline starts here
    /// (every time of the task moves forward by the wait), then the task advances.
    pub(super) fn touch(&mut self, now: SystemTime) {
        if let Some(by) = self.start.touch(now) {
            self.created += by;
            if let Some((_, until)) = self.shown.as_mut() {
                *until += by;
            }
            self.sim.shift(by);
        }
        self.advance(now);
    }

    /// Moves a running timeline forward to `now`; a waiting one stays as it is.
    pub(super) fn advance(&mut self, now: SystemTime) {
        if self.start.is_running() {
            self.sim.advance(now);
        }
    }

    /// The task as a client reading it at `now` sees it: a waiting one as its first
    /// touch would leave it, without starting it.
    pub(super) fn view(&self, now: SystemTime) -> std::borrow::Cow<'_, LabTask> {
        if self.start.is_running() {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut touched = self.clone();
        touched.touch(now);
        std::borrow::Cow::Owned(touched)
    }

    /// The state a client sees at `now`.
    pub(super) fn shown_state(&self, now: SystemTime) -> TaskState {
        match self.shown {
            Some((state, until)) if now < until => state,
            _ => self.sim.state,
        }
    }
}

/// An IAM token the lab handed out.
#[derive(Clone)]
pub(super) struct IssuedToken {
    pub(super) value: String,
    pub(super) expires: SystemTime,
}

/// Leaves the token out: it opens the lab's API to whoever reads it.
impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// What the simulated project holds.
pub struct Inventory {
    pub(super) tasks: Vec<LabTask>,
    pub(super) tokens: Vec<IssuedToken>,
    pub(super) tokens_issued: u64,
    pub(super) config: LabConfig,
    pub(super) bucket: Bucket,
    pub(super) throttled: u64,
    pub(super) auth_refused: u64,
    rng: fastrand::Rng,
    next_sub_id: i64,
    next_request: u64,
}

/// The tasks, counters and settings; tokens show only how many there are.
impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory")
            .field("tasks", &self.tasks)
            .field("tokens", &self.tokens.len())
            .field("tokens_issued", &self.tokens_issued)
            .field("config", &self.config)
            .field("bucket", &self.bucket)
            .field("throttled", &self.throttled)
            .field("auth_refused", &self.auth_refused)
            .finish_non_exhaustive()
    }
}

impl Inventory {
    fn seeded(seed: u64, now: SystemTime, estate: &Estate) -> Self {
        let mut inventory = Self {
            tasks: Vec::new(),
            tokens: Vec::new(),
            tokens_issued: 0,
            config: LabConfig::default(),
            bucket: Bucket::default(),
            throttled: 0,
            auth_refused: 0,
            rng: fastrand::Rng::with_seed(seed),
            next_sub_id: 3514,
            next_request: seed.wrapping_mul(0x9E37_79B9) << 20,
        };
        seed::populate(&mut inventory, now);
        super::estate::populate(&mut inventory, estate, seed, now);
        inventory
    }

    /// 32 hex digits from the seeded stream, like the service's task ids.
    pub(super) fn new_id(&mut self) -> String {
        (0..2)
            .map(|_| format!("{:016x}", self.rng.u64(..)))
            .collect()
    }

    /// A UUID from the seeded stream, for server ids.
    pub(super) fn new_uuid(&mut self) -> String {
        crate::http::lab::seeded_uuid(&mut self.rng)
    }

    /// The seeded stream.
    pub(super) fn rng(&mut self) -> &mut fastrand::Rng {
        &mut self.rng
    }

    /// The first id for a new task's subtasks; each task gets a block of its own.
    pub(super) fn sub_id_block(&mut self) -> i64 {
        let first = self.next_sub_id;
        self.next_sub_id += 1000;
        first
    }

    /// The task with `id`, which a client reads or acts on at `now` (see
    /// [`LabTask::touch`]); a 404 when there is none.
    pub(super) fn task(&mut self, id: &str, now: SystemTime) -> Result<&mut LabTask, LabError> {
        let task = self
            .tasks
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or_else(|| LabError::not_found(id))?;
        task.touch(now);
        Ok(task)
    }

    /// The token `value`, if the lab issued it: whether it is still valid at `now`.
    pub(super) fn token_valid(&self, value: &str, now: SystemTime) -> Option<bool> {
        self.tokens
            .iter()
            .find(|t| t.value == value)
            .map(|t| now < t.expires)
    }
}

/// The shared state of one SMS simulator; cheap to clone.
pub type LabState = LabCore<Inventory, Credentials>;

/// What the lab accepts: the IAM password of [`LAB_USER`] and the secret key of
/// [`LAB_ACCESS_KEY`].
pub struct Credentials {
    pub(super) password: Secret,
    pub(super) secret_key: Secret,
}

impl LabState {
    /// A project seeded from the setup's seed and estate at its clock's current time,
    /// accepting the setup's password for [`LAB_USER`] and signatures by its secret key
    /// for [`LAB_ACCESS_KEY`].
    pub fn new(setup: &LabSetup<'_>) -> Self {
        let inventory = Inventory::seeded(setup.seed, setup.clock.now(), setup.estate);
        let credentials = Credentials {
            password: setup.password.clone(),
            secret_key: setup.secret_key.clone(),
        };
        Self::assemble(inventory, setup.clock.clone(), credentials)
    }

    /// A fresh `X-Request-Id`: 32 hex digits.
    pub(super) fn request_id(&self) -> String {
        let n = {
            let mut inventory = self.lock();
            let n = inventory.next_request;
            inventory.next_request = n.wrapping_add(1);
            n
        };
        format!("{:016x}{n:016x}", 0x5a5_u64 << 40 | 0x3_u64)
    }

    /// How long an action's new state hides behind the old one.
    pub(super) fn lag(inventory: &Inventory) -> Duration {
        Duration::from_secs(inventory.config.action_lag_seconds)
    }
}

/// Tasks move on the lab clock whenever the inventory is read.
impl LabInventory for Inventory {
    fn advance(&mut self, now: SystemTime, _: &MutationLog) {
        for task in &mut self.tasks {
            task.advance(now);
        }
    }

    /// Every task as the API shows it, plus what drives it and the actions applied to
    /// it; the settings, tokens, throttling and refusals.
    fn state_json(&mut self, now: SystemTime, mutations: &MutationLog) -> Map<String, Value> {
        let mutations = mutations.entries();
        let tasks: Vec<Value> = self
            .tasks
            .iter()
            .map(|task| {
                let started = task.start.is_running();
                let task = task.view(now);
                let mut actions = Map::new();
                for m in mutations.iter().filter(|m| m.id == task.id) {
                    let count = actions
                        .get(&m.operation)
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    actions.insert(m.operation.clone(), json!(count + 1));
                }
                let mut row = serde_json::to_value(render(&task, now, true)).unwrap_or_default();
                row["lab"] = json!({"state": task.sim.state, "fail_at": task.sim.fail_at,
                    "started": started,
                    "used_bytes": task.sim.used_bytes, "rate_bytes_per_second": task.sim.rate,
                    "target_launched": task.target_launched, "actions": actions});
                row
            })
            .collect();
        let active = self.tokens.iter().filter(|t| t.expires > now).count();
        let shown = json!({
            "config": self.config,
            "tasks": tasks,
            "tokens_issued": self.tokens_issued,
            "tokens_active": active,
            "throttled": self.throttled,
            "auth_refused": self.auth_refused,
        });
        match shown {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

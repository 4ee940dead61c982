//! Flow primitives every playbook uses: `sleep`, `retry`, `wait_until`, `log`, `env`,
//! `json_encode`/`json_decode` and `now`, plus [`poll`], the one polling loop behind
//! `wait_until`, every vendor's `wait_for` and the other waits.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rhai::{
    Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, ImmutableString, Map,
    NativeCallContext,
};

use crate::api_error::{ApiError, ErrorKind};
use crate::http::client::LAST_LOOK;
use crate::script::error_value::{invalid_argument, raise, retry_hint};
use crate::script::host::{Host, hold_deadline};
use crate::script::options::{Options, duration, spelled};
use crate::script::timestamp::Timestamp;
use crate::script::wait::options_doc;
use crate::script::wait_log::{Subject, WaitLog};

/// Defaults of `retry`.
const RETRY_ATTEMPTS: u64 = 5;
const RETRY_INITIAL: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);
/// The shortest poll interval, so `every: 0` cannot hammer a target.
pub const MIN_EVERY: Duration = Duration::from_millis(10);
/// Defaults of `wait_until`.
const WAIT_TIMEOUT: Duration = Duration::from_secs(3600);
const WAIT_EVERY: Duration = Duration::from_secs(5);

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// Calls `check` every `every` until it returns `Some`, sleeping on the host clock.
/// Returns `Ok(None)` once `timeout` has passed; the caller names what it waited for.
/// Requests retried inside `check` give up by the deadline.
pub fn poll<T>(
    host: &Host,
    timeout: Duration,
    every: Duration,
    check: impl FnMut() -> RhaiResult<Option<T>>,
) -> RhaiResult<Option<T>> {
    poll_with(host, timeout, None, check, every_after(every))
}

/// [`poll`] for a wait the operator follows in the log (see [`crate::script::wait_log`]):
/// the jobs read during it are logged as they change, and a heartbeat every minute
/// once it has lasted a minute, waking up for it when `every` is longer.
pub fn poll_logged<T>(
    host: &Host,
    subject: Subject,
    timeout: Duration,
    every: Duration,
    check: impl FnMut() -> RhaiResult<Option<T>>,
) -> RhaiResult<Option<T>> {
    poll_with(host, timeout, Some(subject), check, every_after(every))
}

/// [`poll_logged`] whose next check falls where `next` says, given when the last one
/// ended: a wait whose readings are booked with other waits' ([`crate::script::shared_read`]).
pub fn poll_logged_booked<T>(
    host: &Host,
    subject: Subject,
    timeout: Duration,
    check: impl FnMut() -> RhaiResult<Option<T>>,
    next: impl FnMut(SystemTime) -> SystemTime,
) -> RhaiResult<Option<T>> {
    poll_with(host, timeout, Some(subject), check, next)
}

/// The next check `every` (at least [`MIN_EVERY`]) after the last one ended.
fn every_after(every: Duration) -> impl FnMut(SystemTime) -> SystemTime {
    let every = every.max(MIN_EVERY);
    move |checked| checked.checked_add(every).unwrap_or(checked)
}

fn poll_with<T>(
    host: &Host,
    timeout: Duration,
    subject: Option<Subject>,
    check: impl FnMut() -> RhaiResult<Option<T>>,
    next: impl FnMut(SystemTime) -> SystemTime,
) -> RhaiResult<Option<T>> {
    let clock = host.clock();
    let start = clock.now();
    // A timeout too large for the calendar means no deadline at all.
    let deadline = start.checked_add(timeout);
    let what = subject.as_ref().map(|subject| match subject {
        Subject::Job { what, wanted } => format!("{what} to be {wanted}"),
        Subject::Condition(condition) => condition.clone(),
    });
    let result = poll_until(host, (start, deadline, timeout), subject, check, next);
    if let Some(deadline) = deadline {
        warn_if_late(host, deadline, timeout, what.as_deref());
    }
    result
}

/// How long past its deadline (wall time) a wait may still end: its last read may run
/// [`LAST_LOOK`] past it, and a busy machine takes its share.
const LATE: Duration = LAST_LOOK.saturating_add(Duration::from_secs(5));

/// Says so when a wait ended well past its deadline: every request in it is bounded by
/// the deadline, so that is a defect to report, not an operator's mistake.
fn warn_if_late(host: &Host, deadline: SystemTime, timeout: Duration, what: Option<&str>) {
    let clock = host.clock();
    let Ok(over) = clock.now().duration_since(deadline) else {
        return;
    };
    if over > LATE.mul_f64(clock.speed().max(1.0)) {
        tracing::warn!(
            "the wait{} ran {} past its timeout of {}",
            what.map(|what| format!(" for {what}")).unwrap_or_default(),
            humantime::format_duration(Duration::from_secs(over.as_secs())),
            humantime::format_duration(timeout)
        );
    }
}

/// The polling loop of [`poll_with`], from `start` to `deadline` (`timeout` after it).
fn poll_until<T>(
    host: &Host,
    (start, deadline, timeout): (SystemTime, Option<SystemTime>, Duration),
    subject: Option<Subject>,
    mut check: impl FnMut() -> RhaiResult<Option<T>>,
    mut next: impl FnMut(SystemTime) -> SystemTime,
) -> RhaiResult<Option<T>> {
    let clock = host.clock();
    let _deadline = deadline.map(hold_deadline);
    let log = subject.map(|subject| WaitLog::start(subject, start, timeout));
    let mut next_check = start;
    loop {
        let now = clock.now();
        if now >= next_check || deadline.is_some_and(|deadline| now >= deadline) {
            if let Some(done) = check()? {
                return Ok(Some(done));
            }
            next_check = next(clock.now());
        }
        let now = clock.now();
        if let Some(log) = &log {
            log.heartbeat(now);
        }
        let remaining = deadline.map_or(Duration::MAX, |deadline| {
            deadline.duration_since(now).unwrap_or_default()
        });
        if remaining.is_zero() {
            return Ok(None);
        }
        let wake = log
            .as_ref()
            .and_then(WaitLog::next_heartbeat)
            .map_or(next_check, |beat| beat.min(next_check));
        let nap = wake.duration_since(now).unwrap_or_default();
        host.sleep(nap.min(remaining)).map_err(raise)?;
    }
}

/// Registers the flow primitives.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    register_sleep(engine, host);

    let h = host.clone();
    FuncRegistration::new("retry")
        .with_comments([format!(
            "/// Calls `f` until it succeeds, retrying only errors marked `retryable`\n/// (exponential backoff with full jitter, honouring `Retry-After`).\n/// Options: `attempts` (default {RETRY_ATTEMPTS}), `initial` (\"{}\"), `max` (\"{}\").",
            spelled(RETRY_INITIAL),
            spelled(RETRY_MAX)
        )])
        .with_params_info(["options: Map", "f: FnPtr", "Dynamic"])
        .register_into_engine(engine, move |ctx: NativeCallContext, options: Map, f: FnPtr| {
            retry(&h, &ctx, options, &f)
        });
    let h = host.clone();
    FuncRegistration::new("retry")
        .with_comments(["/// `retry` with the default options."])
        .with_params_info(["f: FnPtr", "Dynamic"])
        .register_into_engine(engine, move |ctx: NativeCallContext, f: FnPtr| {
            retry(&h, &ctx, Map::new(), &f)
        });

    let h = host.clone();
    FuncRegistration::new("wait_until")
        .with_comments([format!(
            "/// Calls `f` until it returns true; a `timeout` error after `timeout`.\n{}",
            options_doc(WAIT_TIMEOUT, WAIT_EVERY)
        )])
        .with_params_info(["f: FnPtr", "options: Map", "()"])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, f: FnPtr, options: Map| wait_until(&h, &ctx, &f, options),
        );
    let h = host.clone();
    FuncRegistration::new("wait_until")
        .with_comments(["/// `wait_until` with the default options."])
        .with_params_info(["f: FnPtr", "()"])
        .register_into_engine(engine, move |ctx: NativeCallContext, f: FnPtr| {
            wait_until(&h, &ctx, &f, Map::new())
        });

    register_time(engine, host);

    let h = host.clone();
    FuncRegistration::new("env")
        .with_comments(["/// The environment variable `name`, or `()` when unset.\n/// Variables that hold a target's password cannot be read."])
        .with_params_info(["name: &str", "Dynamic"])
        .register_into_engine(engine, move |name: &str| env(&h, name));

    FuncRegistration::new("schema_errors")
        .with_comments(["/// Checks `value` against a JSON Schema (e.g. an entity type's `schema`);\n/// returns the violations as strings, empty when it is valid."])
        .with_params_info(["schema: Dynamic", "value: Dynamic", "Array"])
        .register_into_engine(engine, |schema: Dynamic, value: Dynamic| schema_errors(&schema, &value));

    FuncRegistration::new("log")
        .with_comments([
            "/// Writes `message` to the log at `level`: error, warn, info, debug or trace.",
        ])
        .with_params_info(["level: &str", "message: Dynamic", "()"])
        .register_into_engine(
            engine,
            |ctx: NativeCallContext, level: &str, message: Dynamic| log(&ctx, level, &message),
        );
    FuncRegistration::new("log")
        .with_comments(["/// Writes `message` to the log at level info."])
        .with_params_info(["message: Dynamic", "()"])
        .register_into_engine(engine, |ctx: NativeCallContext, message: Dynamic| {
            log(&ctx, "info", &message)
        });
}

/// `sleep` for each argument type. Rhai's own `sleep(seconds)` takes integers and
/// floats on the wall clock, deaf to Ctrl-C; these exact-type overloads come first in
/// lookup, so it is unreachable and every `sleep` reads milliseconds on the host clock.
fn register_sleep(engine: &mut Engine, host: &Arc<Host>) {
    const COMMENT: &str = "/// Pauses the script; `duration` is a string like `\"30s\"` or milliseconds\n/// (`sleep(1.5)` is 1.5 ms). With `--lab --speed N` it runs N times faster.";
    fn sleep(host: &Host, d: &Dynamic) -> RhaiResult<()> {
        host.sleep(duration("sleep", d)?).map_err(raise)
    }
    const SAME_MS: &str = "/// The same, for milliseconds on the run's clock.";
    let h = host.clone();
    FuncRegistration::new("sleep")
        .with_comments([SAME_MS])
        .with_params_info(["milliseconds: i64", "()"])
        .register_into_engine(engine, move |ms: rhai::INT| sleep(&h, &ms.into()));
    let h = host.clone();
    FuncRegistration::new("sleep")
        .with_comments([SAME_MS])
        .with_params_info(["milliseconds: f64", "()"])
        .register_into_engine(engine, move |ms: rhai::FLOAT| sleep(&h, &ms.into()));
    let h = host.clone();
    FuncRegistration::new("sleep")
        .with_comments(["/// The same, for a duration like `\"30s\"`."])
        .with_params_info(["duration: &str", "()"])
        .register_into_engine(engine, move |text: ImmutableString| sleep(&h, &text.into()));
    let h = host.clone();
    FuncRegistration::new("sleep")
        .with_comments([COMMENT])
        .with_params_info(["duration: Dynamic", "()"])
        .register_into_engine(engine, move |d: Dynamic| sleep(&h, &d));
}

/// `now()`, `elapsed` and `millis(d)`. Rhai's own `timestamp()` reads the wall clock
/// unscaled; `timestamp()` here is `now()`, so a script only ever sees the run's clock.
fn register_time(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    FuncRegistration::new("now")
        .with_comments(["/// The current instant on the run's clock (to the millisecond), a `Timestamp`:\n/// `now() - t0` is milliseconds, `t.elapsed` the milliseconds since `t`,\n/// `t + millis(\"30s\")` a later time; prints as RFC 3339 (UTC)."])
        .with_params_info(["Timestamp"])
        .register_into_engine(engine, move || now(&h, "now"));
    let h = host.clone();
    FuncRegistration::new("timestamp")
        .with_comments(["/// The same as `now()`."])
        .with_params_info(["Timestamp"])
        .register_into_engine(engine, move || now(&h, "timestamp"));
    let h = host.clone();
    FuncRegistration::new("get$elapsed")
        .with_comments([
            "/// Milliseconds from `time` to now on the run's clock (negative if it is later).",
        ])
        .with_params_info(["time: &mut Timestamp", "i64"])
        .register_into_engine(engine, move |t: &mut Timestamp| -> RhaiResult<rhai::INT> {
            Ok(now(&h, "elapsed")?.epoch_ms() - t.epoch_ms())
        });
    FuncRegistration::new("millis")
        .with_comments(["/// The milliseconds in `duration`, e.g. `millis(\"1m 30s\")` is 90000."])
        .with_params_info(["duration: Dynamic", "i64"])
        .register_into_engine(engine, |d: Dynamic| -> RhaiResult<rhai::INT> {
            // At most 100 years, so it fits.
            Ok(rhai::INT::try_from(duration("millis", &d)?.as_millis()).unwrap_or(rhai::INT::MAX))
        });
}

/// The run's clock as a `Timestamp`.
fn now(host: &Host, operation: &str) -> RhaiResult<Timestamp> {
    Timestamp::from_system_time(host.clock().now())
        .ok_or_else(|| invalid_argument(operation, "the run's clock is past the year 9999"))
}

fn retry(host: &Host, ctx: &NativeCallContext, options: Map, f: &FnPtr) -> RhaiResult<Dynamic> {
    let options = Options::new("retry", options, &["attempts", "initial", "max"])?;
    let attempts = options.count("attempts", RETRY_ATTEMPTS)?.max(1);
    let initial = options.duration("initial", RETRY_INITIAL)?;
    let max = options.duration("max", RETRY_MAX)?;
    let mut attempt = 1;
    loop {
        let err = match f.call_within_context::<Dynamic>(ctx, ()) {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let Some(retry_after) = retry_hint(&err) else {
            return Err(err);
        };
        if attempt >= attempts {
            return Err(err);
        }
        let wait = crate::http::backoff::backoff(initial, max, attempt, retry_after);
        tracing::warn!(
            "retrying in {} (attempt {} of {attempts}): {}",
            humantime::format_duration(Duration::from_millis(wait.as_millis() as u64)),
            attempt + 1,
            crate::script::diagnostic::headline(&err),
        );
        host.sleep(wait).map_err(raise)?;
        attempt += 1;
    }
}

fn wait_until(host: &Host, ctx: &NativeCallContext, f: &FnPtr, options: Map) -> RhaiResult<()> {
    let options = Options::new("wait_until", options, &["timeout", "every"])?;
    let timeout = options.duration("timeout", WAIT_TIMEOUT)?;
    let every = options.duration("every", WAIT_EVERY)?;
    let line = ctx.call_position().line().unwrap_or(0);
    let place = match ctx.call_source() {
        Some(source) => format!("the condition at {source}:{line}"),
        None => format!("the condition at line {line}"),
    };
    let done = poll_logged(host, Subject::Condition(place), timeout, every, || {
        let value: Dynamic = f.call_within_context(ctx, ())?;
        match value.as_bool() {
            Ok(true) => Ok(Some(())),
            Ok(false) => Ok(None),
            Err(other) => Err(invalid_argument(
                "wait_until",
                format!("the condition must return true or false, not {other}"),
            )),
        }
    })?;
    done.ok_or_else(|| {
        let mut err = ApiError::new(
            ErrorKind::Timeout,
            format!(
                "the condition was not met within {}",
                humantime::format_duration(timeout)
            ),
        );
        err.operation = Some("wait_until".into());
        raise(err)
    })
}

/// `value` with every `Timestamp` in it (e.g. `now()`) as its RFC 3339 text, which is
/// how JSON carries a time.
fn json_ready(value: Dynamic) -> Dynamic {
    if let Some(time) = value.read_lock::<Timestamp>() {
        return time.rfc3339().into();
    }
    if value.is_map() {
        if let Some(map) = value.clone().try_cast::<Map>() {
            let map: Map = map.into_iter().map(|(k, v)| (k, json_ready(v))).collect();
            return map.into();
        }
    }
    if value.is_array() {
        if let Some(array) = value.clone().try_cast::<rhai::Array>() {
            return array
                .into_iter()
                .map(json_ready)
                .collect::<rhai::Array>()
                .into();
        }
    }
    value
}

fn schema_errors(schema: &Dynamic, value: &Dynamic) -> RhaiResult<rhai::Array> {
    let to_json = |v: &Dynamic| -> RhaiResult<serde_json::Value> {
        rhai::serde::from_dynamic(v)
            .map_err(|err| invalid_argument("schema_errors", err.to_string()))
    };
    let validator = jsonschema::validator_for(&to_json(schema)?)
        .map_err(|err| invalid_argument("schema_errors", format!("not a JSON Schema: {err}")))?;
    Ok(validator
        .iter_errors(&to_json(value)?)
        .map(|err| Dynamic::from(err.to_string()))
        .collect())
}

fn env(host: &Host, name: &str) -> RhaiResult<Dynamic> {
    if let Some(target) = host.targets().target_with_secret_in(name) {
        let what = host
            .targets()
            .iter()
            .find(|t| t.name == target)
            .map_or("password", crate::config::Target::secret_name);
        return Err(invalid_argument(
            "env",
            format!("`{name}` holds the {what} of target `{target}`; scripts cannot read it"),
        ));
    }
    Ok(std::env::var(name).map_or(Dynamic::UNIT, Dynamic::from))
}

fn log(ctx: &NativeCallContext, level: &str, message: &Dynamic) -> RhaiResult<()> {
    let line = ctx.call_position().line().unwrap_or(0);
    let text = format!(
        "{}:{line}: {message}",
        ctx.call_source().unwrap_or("script")
    );
    match level {
        "error" => tracing::error!(target: "cutover::script", "{text}"),
        "warn" => tracing::warn!(target: "cutover::script", "{text}"),
        "info" => tracing::info!(target: "cutover::script", "{text}"),
        "debug" => tracing::debug!(target: "cutover::script", "{text}"),
        "trace" => tracing::trace!(target: "cutover::script", "{text}"),
        other => {
            return Err(invalid_argument(
                "log",
                format!("unknown level `{other}`; use error, warn, info, debug or trace"),
            ));
        }
    }
    Ok(())
}

/// Registers `json_encode`, refusing values nested more than `max_depth` deep, and
/// `json_decode` (whose parser stops at 128 levels).
pub fn register_json(engine: &mut Engine, max_depth: usize) {
    FuncRegistration::new("json_encode")
        .with_comments(["/// `value` as JSON text."])
        .with_params_info(["value: Dynamic", "String"])
        .register_into_engine(engine, move |value: Dynamic| -> RhaiResult<String> {
            // serde recursion on a deeper value would overflow the stack.
            crate::script::depth::within(&value, max_depth)
                .map_err(|max| crate::script::depth::too_deep("json_encode", max))?;
            let json: serde_json::Value = rhai::serde::from_dynamic(&json_ready(value))
                .map_err(|err| invalid_argument("json_encode", err.to_string()))?;
            Ok(json.to_string())
        });
    FuncRegistration::new("json_decode")
        .with_comments(["/// Parses JSON text into maps, arrays, strings, numbers and booleans."])
        .with_params_info(["text: &str", "Dynamic"])
        .register_into_engine(engine, |text: &str| -> RhaiResult<Dynamic> {
            let json: serde_json::Value = serde_json::from_str(text)
                .map_err(|err| invalid_argument("json_decode", format!("not JSON: {err}")))?;
            rhai::serde::to_dynamic(json)
        });
}

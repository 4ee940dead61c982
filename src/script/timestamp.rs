//! `Timestamp`: a point in time as scripts see the times vendors send as epoch
//! milliseconds. It prints as RFC 3339 (UTC), formats with `%Y-%m-%d %H:%M:%S`-style
//! patterns, compares, and subtracts to milliseconds.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use rhai::{Dynamic, Engine, EvalAltResult, FuncRegistration};

use crate::script::error_value::invalid_argument;

/// Whether an ordering satisfies a comparison operator.
type OrderingTest = fn(Ordering) -> bool;

/// A UTC instant with millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    epoch_ms: i64,
}

/// The last millisecond RFC 3339 can write, 9999-12-31T23:59:59.999Z.
pub const MAX_EPOCH_MS: i64 = 253_402_300_799_999;

impl Timestamp {
    /// The instant `ms` milliseconds after 1970-01-01T00:00:00Z; `None` before 1970 or
    /// after the year 9999, which RFC 3339 cannot write.
    pub fn from_epoch_ms(ms: i64) -> Option<Self> {
        (0..=MAX_EPOCH_MS)
            .contains(&ms)
            .then_some(Self { epoch_ms: ms })
    }

    /// `at`, to the millisecond (earlier); `None` outside what [`Self::from_epoch_ms`]
    /// takes.
    pub fn from_system_time(at: SystemTime) -> Option<Self> {
        let ms = at.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_millis();
        Self::from_epoch_ms(i64::try_from(ms).ok()?)
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn epoch_ms(self) -> i64 {
        self.epoch_ms
    }

    /// The instant `ms` milliseconds later (`+`) or earlier (`-`), if RFC 3339 can
    /// write it.
    fn shifted(self, operator: &str, ms: i64) -> RhaiResult<Self> {
        let moved = match operator {
            "-" => self.epoch_ms.checked_sub(ms),
            _ => self.epoch_ms.checked_add(ms),
        };
        moved.and_then(Self::from_epoch_ms).ok_or_else(|| {
            invalid_argument(
                operator,
                format!(
                    "{} {operator} {ms} ms is before 1970 or after the year 9999",
                    self.rfc3339()
                ),
            )
        })
    }

    /// The same instant as a value a script holds: a `Timestamp`, or `()` for `None`.
    pub fn dynamic(ms: Option<i64>) -> Dynamic {
        ms.and_then(Self::from_epoch_ms)
            .map_or(Dynamic::UNIT, Dynamic::from)
    }

    fn system_time(self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(self.epoch_ms.unsigned_abs())
    }

    /// RFC 3339 in UTC: to the second, with milliseconds only when there are any.
    pub fn rfc3339(self) -> String {
        let at = self.system_time();
        let mut text = String::with_capacity(24);
        // humantime's `Display` fails past the year 9999; `from_epoch_ms` keeps those
        // out, and writing rather than `to_string()` keeps a slip from panicking.
        let written = if self.epoch_ms % 1000 == 0 {
            write!(text, "{}", humantime::format_rfc3339_seconds(at))
        } else {
            write!(text, "{}", humantime::format_rfc3339_millis(at))
        };
        match written {
            Ok(()) => text,
            Err(_) => format!("{}ms after 1970-01-01T00:00:00Z", self.epoch_ms),
        }
    }

    /// Formats with `%Y %m %d %H %M %S` (and `%F` = `%Y-%m-%d`, `%T` = `%H:%M:%S`,
    /// `%s` epoch seconds, `%%`), all in UTC.
    pub fn format(self, pattern: &str) -> Result<String, String> {
        // `YYYY-MM-DDTHH:MM:SSZ`: every field at a fixed offset.
        let mut text = String::with_capacity(20);
        write!(
            text,
            "{}",
            humantime::format_rfc3339_seconds(self.system_time())
        )
        .map_err(|_| format!("{}ms is past the year 9999", self.epoch_ms))?;
        let field = |range: std::ops::Range<usize>| text.get(range).unwrap_or("");
        let mut out = String::with_capacity(pattern.len() + 8);
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('Y') => out.push_str(field(0..4)),
                Some('m') => out.push_str(field(5..7)),
                Some('d') => out.push_str(field(8..10)),
                Some('H') => out.push_str(field(11..13)),
                Some('M') => out.push_str(field(14..16)),
                Some('S') => out.push_str(field(17..19)),
                Some('F') => out.push_str(field(0..10)),
                Some('T') => out.push_str(field(11..19)),
                Some('s') => out.push_str(&(self.epoch_ms / 1000).to_string()),
                Some('%') => out.push('%'),
                Some(other) => {
                    return Err(format!(
                        "`%{other}` is not a format field; use %Y %m %d %H %M %S %F %T %s or %%"
                    ));
                }
                None => return Err("the pattern ends with a lone `%`".to_owned()),
            }
        }
        Ok(out)
    }
}

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// Registers the `Timestamp` type with its printing, formatting and arithmetic.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Timestamp>("Timestamp");
    engine.register_get("epoch_ms", |t: &mut Timestamp| t.epoch_ms);
    FuncRegistration::new("timestamp")
        .with_comments(["/// The instant `epoch_ms` milliseconds after 1970-01-01T00:00:00Z, as vendors\n/// send times; prints as RFC 3339 (UTC)."])
        .with_params_info(["epoch_ms: i64", "Timestamp"])
        .register_into_engine(engine, |ms: i64| -> RhaiResult<Timestamp> {
            Timestamp::from_epoch_ms(ms).ok_or_else(|| {
                let why = if ms < 0 { "before 1970" } else { "after the year 9999" };
                invalid_argument("timestamp", format!("{ms} is {why}"))
            })
        });
    FuncRegistration::new("format")
        .with_comments(["/// Formats the time in UTC: `%Y %m %d %H %M %S`, `%F` (`%Y-%m-%d`), `%T`\n/// (`%H:%M:%S`), `%s` (epoch seconds) and `%%`, e.g. `t.format(\"%F %H:%M\")`."])
        .with_params_info(["time: Timestamp", "pattern: &str", "String"])
        .register_into_engine(engine, |t: &mut Timestamp, pattern: &str| -> RhaiResult<String> {
            t.format(pattern).map_err(|message| invalid_argument("format", message))
        });
    FuncRegistration::new("to_string")
        .with_comments(["/// The time in RFC 3339 (UTC), e.g. `2020-09-18T01:03:34Z`, with milliseconds\n/// only when there are any."])
        .with_params_info(["time: Timestamp", "String"])
        .register_into_engine(engine, |t: &mut Timestamp| t.rfc3339());
    FuncRegistration::new("to_debug")
        .with_comments(["/// The time in RFC 3339 (UTC), as `debug` and the REPL show it."])
        .with_params_info(["time: Timestamp", "String"])
        .register_into_engine(engine, |t: &mut Timestamp| t.rfc3339());
    FuncRegistration::new("+")
        .with_comments([
            "/// The time `ms` milliseconds later; `t + millis(\"30s\")` for other units.",
        ])
        .with_params_info(["time: Timestamp", "ms: i64", "Timestamp"])
        .register_into_engine(engine, |t: Timestamp, ms: i64| t.shifted("+", ms));
    FuncRegistration::new("-")
        .with_comments(["/// The time `ms` milliseconds earlier."])
        .with_params_info(["time: Timestamp", "ms: i64", "Timestamp"])
        .register_into_engine(engine, |t: Timestamp, ms: i64| t.shifted("-", ms));
    FuncRegistration::new("-")
        .with_comments(["/// Milliseconds from `b` to `a` (negative when `a` is earlier)."])
        .with_params_info(["a: Timestamp", "b: Timestamp", "i64"])
        .register_into_engine(engine, |a: Timestamp, b: Timestamp| a.epoch_ms - b.epoch_ms);
    let comparisons: [(&str, OrderingTest); 6] = [
        ("==", Ordering::is_eq),
        ("!=", Ordering::is_ne),
        ("<", Ordering::is_lt),
        ("<=", Ordering::is_le),
        (">", Ordering::is_gt),
        (">=", Ordering::is_ge),
    ];
    for (operator, compare) in comparisons {
        FuncRegistration::new(operator)
            .with_comments(["/// Compares two times; earlier is less."])
            .with_params_info(["a: Timestamp", "b: Timestamp", "bool"])
            .register_into_engine(engine, move |a: Timestamp, b: Timestamp| compare(a.cmp(&b)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_and_format_in_utc() {
        let t = Timestamp::from_epoch_ms(1_600_391_014_000).unwrap();
        assert_eq!(t.rfc3339(), "2020-09-18T01:03:34Z");
        #[track_caller]
        fn case(t: Timestamp, pattern: &str, expected: &str) {
            assert_eq!(t.format(pattern).as_deref(), Ok(expected), "{pattern}");
        }
        case(t, "%Y-%m-%d %H:%M:%S", "2020-09-18 01:03:34");
        case(t, "%F %T", "2020-09-18 01:03:34");
        case(
            t,
            "%d.%m. %H:%M (%s) 100%%",
            "18.09. 01:03 (1600391014) 100%",
        );
        assert!(t.format("%Q").unwrap_err().contains("`%Q`"));
        assert!(t.format("50%").is_err());
        let fine = Timestamp::from_epoch_ms(1_600_391_014_250).unwrap();
        assert_eq!(fine.rfc3339(), "2020-09-18T01:03:34.250Z");
        assert_eq!(Timestamp::from_epoch_ms(-1), None);
        assert!(Timestamp::dynamic(None).is_unit());
    }

    #[test]
    fn times_past_the_year_9999_are_refused_not_printed() {
        let last = Timestamp::from_epoch_ms(MAX_EPOCH_MS).unwrap();
        assert_eq!(last.rfc3339(), "9999-12-31T23:59:59.999Z");
        assert_eq!(last.format("%F %T").as_deref(), Ok("9999-12-31 23:59:59"));
        assert_eq!(Timestamp::from_epoch_ms(MAX_EPOCH_MS + 1), None);
        assert_eq!(Timestamp::from_epoch_ms(i64::MAX), None);
        assert!(Timestamp::dynamic(Some(i64::MAX)).is_unit());
        let mut engine = Engine::new();
        register(&mut engine);
        let err = engine
            .eval::<Dynamic>("timestamp(253402300800000)")
            .unwrap_err();
        let map = crate::script::error_value::error_map(&err).unwrap();
        assert_eq!(map["kind"].clone().into_string().unwrap(), "validation");
        assert!(
            map["message"]
                .clone()
                .into_string()
                .unwrap()
                .contains("253402300800000 is after the year 9999"),
            "{map:?}"
        );
    }

    /// Runs `script` on an engine with the timestamp functions registered.
    fn eval_string(script: &str) -> String {
        let mut engine = Engine::new();
        register(&mut engine);
        engine.eval(script).unwrap()
    }

    #[test]
    fn scripts_compare_and_subtract_timestamps() {
        let result = eval_string(
            r#"
            let a = timestamp(1600159831000);
            let b = timestamp(1600160831000);
            `${a} ${b - a} ${a < b} ${a == a} ${b.format("%H:%M")} ${a.epoch_ms}`
            "#,
        );
        assert_eq!(
            result,
            "2020-09-15T08:50:31Z 1000000 true true 09:07 1600159831000"
        );
    }

    #[test]
    fn milliseconds_move_a_timestamp_within_the_calendar() {
        let result = eval_string(
            r#"
            let a = timestamp(1600159831000);
            let b = a + 1500;
            `${b} ${b - 1500 == a} ${type_of(b)} ${b - a}`
            "#,
        );
        assert_eq!(result, "2020-09-15T08:50:32.500Z true Timestamp 1500");
        #[track_caller]
        fn refused(script: &str, expected: &str) {
            let mut engine = Engine::new();
            register(&mut engine);
            let err = engine.eval::<Dynamic>(script).unwrap_err();
            let map = crate::script::error_value::error_map(&err).unwrap();
            assert_eq!(map["kind"].clone().into_string().unwrap(), "validation");
            assert_eq!(map["message"].clone().into_string().unwrap(), expected);
        }
        refused(
            "timestamp(1000) - 2000",
            "1970-01-01T00:00:01Z - 2000 ms is before 1970 or after the year 9999",
        );
        refused(
            "timestamp(1000) + 9223372036854775807",
            "1970-01-01T00:00:01Z + 9223372036854775807 ms is before 1970 or after the year 9999",
        );
        refused(
            "timestamp(1000) - (-9223372036854775807 - 1)",
            "1970-01-01T00:00:01Z - -9223372036854775808 ms is before 1970 or after the year 9999",
        );
    }
}

//! The `--chaos` spec: how often the lab's listeners misbehave and how, e.g.
//! `rate=0.1,kinds=503,429,reset,slow,apply_then_reset,garbage`. After `kinds=`, the
//! following comma-separated items without `=` are kinds too, so the spec reads as one
//! list; `kinds=all`, or no `kinds`, means every kind.

use std::fmt;

use crate::suggest::{closest, did_you_mean};

/// One way a listener misbehaves (what each does: [`super::chaos`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChaosKind {
    /// 503 in the vendor's error body; the request is not applied.
    Unavailable,
    /// 429 in the vendor's error body with a short `Retry-After`; not applied.
    TooManyRequests,
    /// The connection closed before the request is applied, with no answer.
    Reset,
    /// The answer comes late, then as usual.
    Slow,
    /// The request applied, then the connection closed with no answer.
    ApplyThenReset,
    /// The request applied, then its answer's body truncated or malformed.
    Garbage,
}

impl ChaosKind {
    /// Every kind, in the order specs and summaries list them.
    pub const ALL: [ChaosKind; 6] = [
        ChaosKind::Unavailable,
        ChaosKind::TooManyRequests,
        ChaosKind::Reset,
        ChaosKind::Slow,
        ChaosKind::ApplyThenReset,
        ChaosKind::Garbage,
    ];

    /// The kind's name in a spec, a summary and `/_lab/state`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChaosKind::Unavailable => "503",
            ChaosKind::TooManyRequests => "429",
            ChaosKind::Reset => "reset",
            ChaosKind::Slow => "slow",
            ChaosKind::ApplyThenReset => "apply_then_reset",
            ChaosKind::Garbage => "garbage",
        }
    }

    fn parse(name: &str) -> Result<Self, String> {
        if let Some(kind) = Self::ALL.into_iter().find(|k| k.as_str() == name) {
            return Ok(kind);
        }
        let names = Self::ALL.map(Self::as_str);
        let hint = closest(name, names.iter().copied().chain(["all"])).map_or_else(
            || format!("; use `all` or some of `{}`", names.join("`, `")),
            did_you_mean,
        );
        Err(format!("unknown chaos kind `{name}`{hint}"))
    }
}

/// As its name, e.g. `"apply_then_reset"`.
impl serde::Serialize for ChaosKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for ChaosKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed `--chaos` spec.
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosSpec {
    /// The share of requests that get a fault, above 0 and at most 1.
    pub rate: f64,
    /// The kinds drawn from, each as likely, in [`ChaosKind::ALL`] order, none twice.
    pub kinds: Vec<ChaosKind>,
}

/// What an error names as the way to write a spec.
const EXAMPLE: &str = "e.g. `rate=0.1,kinds=503,reset`";

impl ChaosSpec {
    /// Parses `rate=R[,kinds=K[,K…]]`; `rate` is required.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Err(format!(
                "the chaos spec is empty; give a rate and kinds, {EXAMPLE}"
            ));
        }
        let mut rate = None;
        let mut kinds: Option<Vec<ChaosKind>> = None;
        // Whether bare items are kinds: only right after `kinds=` and its kinds.
        let mut in_kinds = false;
        let mut all = false;
        for item in text.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(format!(
                    "the chaos spec `{text}` has an empty item; separate items with one comma, {EXAMPLE}"
                ));
            }
            let (key, value) = match item.split_once('=') {
                Some((key, value)) => (Some(key.trim()), value.trim()),
                None if in_kinds => (None, item),
                None => {
                    return Err(format!(
                        "chaos spec item `{item}` is not `key=value`; kinds go after `kinds=`, {EXAMPLE}"
                    ));
                }
            };
            match key {
                Some("rate") => {
                    in_kinds = false;
                    if rate.is_some() {
                        return Err("the chaos spec gives `rate` twice; give it once".to_owned());
                    }
                    rate = Some(parse_rate(value)?);
                }
                Some("kinds") => {
                    in_kinds = true;
                    if kinds.is_some() {
                        return Err(
                            "the chaos spec gives `kinds` twice; list every kind after one `kinds=`"
                                .to_owned(),
                        );
                    }
                    kinds = Some(Vec::new());
                    all = add_kind(&mut kinds, value, all)?;
                }
                None => all = add_kind(&mut kinds, value, all)?,
                Some(other) => {
                    let hint = closest(other, ["rate", "kinds"])
                        .map_or_else(|| "; use `rate` and `kinds`".to_owned(), did_you_mean);
                    return Err(format!("unknown chaos spec key `{other}`{hint}"));
                }
            }
        }
        let Some(rate) = rate else {
            return Err(format!(
                "the chaos spec `{text}` has no rate; add one, {EXAMPLE}"
            ));
        };
        let mut kinds = match kinds {
            Some(kinds) if !all => kinds,
            _ => ChaosKind::ALL.to_vec(),
        };
        kinds.sort();
        Ok(Self { rate, kinds })
    }
}

/// A rate above 0 and at most 1.
fn parse_rate(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(rate) if rate > 0.0 && rate <= 1.0 => Ok(rate),
        _ => Err(format!(
            "chaos rate `{value}` is not a number above 0 and at most 1, e.g. `rate=0.1` for one request in ten"
        )),
    }
}

/// Adds the kind `name` (or `all`) to `kinds`; whether `all` was given.
fn add_kind(kinds: &mut Option<Vec<ChaosKind>>, name: &str, all: bool) -> Result<bool, String> {
    let listed = kinds.get_or_insert_with(Vec::new);
    if name == "all" {
        if all || !listed.is_empty() {
            return Err("chaos kind `all` stands alone; drop it or the other kinds".to_owned());
        }
        return Ok(true);
    }
    if name.is_empty() {
        return Err(format!("`kinds=` names no kind; {EXAMPLE}, or `kinds=all`"));
    }
    if all {
        return Err("chaos kind `all` stands alone; drop it or the other kinds".to_owned());
    }
    let kind = ChaosKind::parse(name)?;
    if listed.contains(&kind) {
        return Err(format!("chaos kind `{kind}` is listed twice; list it once"));
    }
    listed.push(kind);
    Ok(false)
}

/// The spec as it parses back: `rate=0.1,kinds=503,reset`.
impl fmt::Display for ChaosSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.as_str()).collect();
        write!(f, "rate={},kinds={}", self.rate, kinds.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::ChaosKind::*;
    use super::*;

    #[track_caller]
    fn case(text: &str, expected: Result<(f64, &[ChaosKind]), &str>) {
        let parsed = ChaosSpec::parse(text);
        let expected = expected
            .map(|(rate, kinds)| ChaosSpec {
                rate,
                kinds: kinds.to_vec(),
            })
            .map_err(str::to_owned);
        assert_eq!(parsed, expected, "{text}");
    }

    #[test]
    fn specs_parse_or_say_what_is_wrong() {
        case(
            "rate=0.1,kinds=503,429,reset,slow,apply_then_reset,garbage",
            Ok((0.1, &ChaosKind::ALL)),
        );
        case("rate=1", Ok((1.0, &ChaosKind::ALL)));
        case("rate=0.5,kinds=all", Ok((0.5, &ChaosKind::ALL)));
        case("kinds=503, rate=1", Ok((1.0, &[Unavailable])));
        case("rate=0.2,kinds=garbage,reset", Ok((0.2, &[Reset, Garbage])));
        case(
            "kinds=slow,apply_then_reset,rate=0.25",
            Ok((0.25, &[Slow, ApplyThenReset])),
        );
        case(
            "",
            Err("the chaos spec is empty; give a rate and kinds, e.g. `rate=0.1,kinds=503,reset`"),
        );
        case(
            "  ",
            Err("the chaos spec is empty; give a rate and kinds, e.g. `rate=0.1,kinds=503,reset`"),
        );
        case(
            "rate=0",
            Err(
                "chaos rate `0` is not a number above 0 and at most 1, e.g. `rate=0.1` for one request in ten",
            ),
        );
        case(
            "rate=1.5,kinds=503",
            Err(
                "chaos rate `1.5` is not a number above 0 and at most 1, e.g. `rate=0.1` for one request in ten",
            ),
        );
        case(
            "rate=-0.1",
            Err(
                "chaos rate `-0.1` is not a number above 0 and at most 1, e.g. `rate=0.1` for one request in ten",
            ),
        );
        case(
            "rate=NaN",
            Err(
                "chaos rate `NaN` is not a number above 0 and at most 1, e.g. `rate=0.1` for one request in ten",
            ),
        );
        case(
            "rate=ten",
            Err(
                "chaos rate `ten` is not a number above 0 and at most 1, e.g. `rate=0.1` for one request in ten",
            ),
        );
        case(
            "rate=0.1,kinds=503,rest",
            Err("unknown chaos kind `rest`; did you mean `reset`?"),
        );
        case(
            "rate=0.1,kinds=apply_then_rest",
            Err("unknown chaos kind `apply_then_rest`; did you mean `apply_then_reset`?"),
        );
        case(
            "rate=0.1,kinds=teapot",
            Err(
                "unknown chaos kind `teapot`; use `all` or some of `503`, `429`, `reset`, `slow`, `apply_then_reset`, `garbage`",
            ),
        );
        case(
            "rat=0.1",
            Err("unknown chaos spec key `rat`; did you mean `rate`?"),
        );
        case(
            "rate=0.1,seed=4",
            Err("unknown chaos spec key `seed`; use `rate` and `kinds`"),
        );
        case(
            "rate=0.1,503",
            Err(
                "chaos spec item `503` is not `key=value`; kinds go after `kinds=`, e.g. `rate=0.1,kinds=503,reset`",
            ),
        );
        case(
            "kinds=503",
            Err("the chaos spec `kinds=503` has no rate; add one, e.g. `rate=0.1,kinds=503,reset`"),
        );
        case(
            "rate=0.1,,kinds=503",
            Err(
                "the chaos spec `rate=0.1,,kinds=503` has an empty item; separate items with one comma, e.g. `rate=0.1,kinds=503,reset`",
            ),
        );
        case(
            "rate=0.1,kinds=",
            Err("`kinds=` names no kind; e.g. `rate=0.1,kinds=503,reset`, or `kinds=all`"),
        );
        case(
            "rate=0.1,kinds=503,503",
            Err("chaos kind `503` is listed twice; list it once"),
        );
        case(
            "rate=0.1,kinds=all,503",
            Err("chaos kind `all` stands alone; drop it or the other kinds"),
        );
        case(
            "rate=0.1,kinds=503,all",
            Err("chaos kind `all` stands alone; drop it or the other kinds"),
        );
        case(
            "rate=0.1,rate=0.2",
            Err("the chaos spec gives `rate` twice; give it once"),
        );
        case(
            "rate=0.1,kinds=503,kinds=429",
            Err("the chaos spec gives `kinds` twice; list every kind after one `kinds=`"),
        );
    }

    #[test]
    fn a_spec_shows_as_it_parses_back() {
        let spec = ChaosSpec::parse("kinds=garbage,503,rate=0.1").unwrap();
        assert_eq!(spec.to_string(), "rate=0.1,kinds=503,garbage");
        assert_eq!(ChaosSpec::parse(&spec.to_string()), Ok(spec));
    }
}

//! What every vendor's [`Verify`](crate::http::mutation::Verify) shares: the answers a
//! check gives without reading anything, a state or field read against its check, a
//! read against `Gone`, and how a client knows the answer the gate replays for a call
//! whose answer was lost and that verification found applied.

use reqwest::{Response, StatusCode};

use crate::api_error::{ApiError, ErrorKind};
use crate::http::mutation::{
    Check, Mutations, ObjectRef, Operation, RECONCILED_HEADER, Verdict, Verification,
};

/// Whether `response` is the gate's replayed answer rather than the vendor's: a method
/// that needs the vendor's body rebuilds it by reading instead.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "only the echo client, in tests, needs a body the gate's replay lacks"
    )
)]
pub(crate) fn is_reconciled(response: &Response) -> bool {
    response.status() == StatusCode::NO_CONTENT
        && response
            .headers()
            .get(RECONCILED_HEADER)
            .is_some_and(|value| value == "1")
}

/// The value an `Ok` holds; an `Err` holds the verdict, which the `async` block of a
/// [`Verify`](crate::http::mutation::Verify) method answers at once.
macro_rules! or_answer {
    ($step:expr) => {
        match $step {
            Ok(value) => value,
            Err(verdict) => return Ok(verdict),
        }
    };
}
pub(crate) use or_answer;

/// Whether the check needs a read (`Ok`), or (`Err`) the verdict it gives without one.
pub(crate) fn reading_needed(check: Check) -> Result<(), Verdict> {
    match check {
        Check::RepeatSafe(why) => Err(Verdict::CannotTell(format!(
            "sending it again is safe: {why}"
        ))),
        Check::ChangesNothing => Err(Verdict::CannotTell(
            "sending it again is safe: it changes nothing".to_owned(),
        )),
        Check::NotShown(look) => Err(Verdict::CannotTell(look.to_owned())),
        _ => Ok(()),
    }
}

/// The states a `States` check of `table` leads to, to read the object against; or
/// (`Err`) the verdict to answer at once: a check that reads nothing, or any other
/// check, which no operation of a table of state checks declares.
pub(crate) fn states_to_read(
    table: &Mutations,
    check: Check,
) -> Result<&'static [&'static str], Verdict> {
    reading_needed(check)?;
    match check {
        Check::States(applied) => Ok(applied),
        check => Err(undeclared(table, check)),
    }
}

/// The answer to a client-token check whose operation needs the vendor's answer (the
/// id it creates) that the client cannot read back: sending the create again is safe
/// and returns the object.
pub(crate) fn resend_with_token(verification: &Verification) -> Verdict {
    Verdict::CannotTell(format!(
        "sending it again with the same token is safe: it answers the {} the first call created",
        verification.object.kind
    ))
}

/// The answer to a check no operation of `table` declares: a defect of the caller, so
/// nothing is claimed.
pub(crate) fn undeclared(table: &Mutations, check: Check) -> Verdict {
    Verdict::CannotTell(format!(
        "internal error: no {} operation is checked by {check:?}",
        table.vendor
    ))
}

/// The answer when the object has neither the id nor the name the read needs.
pub(crate) fn unnamed(object: &ObjectRef, needs: &str) -> Verdict {
    Verdict::CannotTell(format!(
        "the {} is known by no {needs} to read it by",
        object.kind
    ))
}

/// The operation of `table` a verification was made for: the one changing its object
/// with its check.
pub(crate) fn operation_of(
    table: &Mutations,
    verification: &Verification,
) -> Option<&'static Operation> {
    table
        .operations
        .iter()
        .find(|op| op.object == verification.object.kind && op.check == verification.check)
}

/// A state read against the states a change leads to. `undecided` is why `state`
/// tells nothing, when the object can be in it both had the change not been applied
/// and after it was: then sending it again may make a second change, or none was made,
/// and only a person can tell; it outweighs the state being one the change leads to.
pub(crate) fn by_state(applied: &[&str], state: &str, undecided: Option<&str>) -> Verdict {
    if let Some(why) = undecided {
        Verdict::CannotTell(format!("state `{state}`: {why}"))
    } else if applied.contains(&state) {
        Verdict::Applied(format!("state `{state}`"))
    } else {
        Verdict::NotApplied(format!("state `{state}`"))
    }
}

/// A field read against a `Field` check: set (to one of `values`, when there are any).
pub(crate) fn by_field(field: &str, values: &[&str], value: Option<&str>) -> Verdict {
    match value {
        None => Verdict::NotApplied(format!("`{field}` is not set")),
        Some(_) if values.is_empty() => Verdict::Applied(format!("`{field}` is set")),
        Some(value) if values.contains(&value) => {
            Verdict::Applied(format!("`{field}` is `{value}`"))
        }
        Some(value) => Verdict::NotApplied(format!("`{field}` is `{value}`")),
    }
}

/// A read for a `Gone` check: not found is applied; the object still there, with what
/// `shown` says of it, is not.
pub(crate) fn gone<T>(
    read: Result<T, ApiError>,
    shown: impl FnOnce(&T) -> String,
) -> Result<Verdict, ApiError> {
    match read {
        Ok(object) => Ok(Verdict::NotApplied(format!(
            "it is still there, {}",
            shown(&object)
        ))),
        Err(err) if err.kind == ErrorKind::NotFound => {
            Ok(Verdict::Applied("reading it answers not found".to_owned()))
        }
        Err(err) => Err(err),
    }
}

/// A read for any other check: the object, or (`Err`) the verdict when it is not
/// found, which tells nothing (it may have been removed since, either way). A failed
/// read stays an error.
pub(crate) fn found<T>(read: Result<T, ApiError>) -> Result<Result<T, Verdict>, ApiError> {
    match read {
        Ok(object) => Ok(Ok(object)),
        Err(err) if err.kind == ErrorKind::NotFound => Ok(Err(Verdict::CannotTell(
            "reading it answers not found".to_owned(),
        ))),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_fields_read_as_one_short_phrase() {
        use Verdict::*;
        let applied = ["Cancelled"];
        let cases = [
            (
                by_state(&applied, "Cancelled", None),
                Applied("state `Cancelled`".into()),
            ),
            (
                by_state(&applied, "Running", None),
                NotApplied("state `Running`".into()),
            ),
            (
                by_state(&applied, "Done", Some("why")),
                CannotTell("state `Done`: why".into()),
            ),
            (
                by_state(&applied, "Cancelled", Some("why")),
                CannotTell("state `Cancelled`: why".into()),
            ),
            (by_field("f", &[], Some("x")), Applied("`f` is set".into())),
            (
                by_field("f", &["a"], Some("a")),
                Applied("`f` is `a`".into()),
            ),
            (
                by_field("f", &["a"], Some("b")),
                NotApplied("`f` is `b`".into()),
            ),
            (
                by_field("f", &[], None),
                NotApplied("`f` is not set".into()),
            ),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
        assert_eq!(
            reading_needed(Check::ChangesNothing),
            Err(CannotTell(
                "sending it again is safe: it changes nothing".into()
            ))
        );
        assert_eq!(reading_needed(Check::Gone), Ok(()));
    }
}

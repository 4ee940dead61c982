//! How to tell afterwards whether a mutating call took effect: what every mutation
//! declares before it is sent, and what an `unknown_outcome` error carries, so an
//! operator (and later the journal's reconciliation) reads the right object instead of
//! guessing or sending the change twice.

use std::fmt;

/// What a vendor's table declares an operation leads to, before any object is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The object's state afterwards is one of these (the vendor's spelling).
    States(&'static [&'static str]),
    /// The object's field afterwards holds one of these values; any value when empty.
    Field {
        field: &'static str,
        values: &'static [&'static str],
    },
    /// Objects created with the client token sent along can be looked up; the same
    /// token answers the same object, so sending it again is safe too.
    ClientToken,
    /// Sending the request again is safe; why.
    RepeatSafe(&'static str),
    /// The object is gone afterwards: reading it answers not found.
    Gone,
    /// A query sent as POST: it changes nothing.
    ChangesNothing,
    /// The object's file shows all its bytes transferred.
    Uploaded,
    /// Nothing the API answers shows it; where a person looks instead.
    NotShown(&'static str),
}

/// The object a mutation changes: its kind as an operator says it, and its id and name
/// where the client knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    /// e.g. `import session`.
    pub kind: &'static str,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl ObjectRef {
    /// An object known by its id.
    pub fn id(kind: &'static str, id: &str) -> Self {
        Self {
            kind,
            id: Some(id.to_owned()),
            name: None,
        }
    }

    /// An object known by its name.
    pub fn name(kind: &'static str, name: &str) -> Self {
        Self {
            kind,
            id: None,
            name: Some(name.to_owned()),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.id) {
            (Some(name), Some(id)) => write!(f, "{} `{name}` (id `{id}`)", self.kind),
            (Some(name), None) => write!(f, "{} `{name}`", self.kind),
            (None, Some(id)) => write!(f, "{} `{id}`", self.kind),
            (None, None) => f.write_str(self.kind),
        }
    }
}

/// How to tell whether one mutation took effect: its operation's [`Check`] applied to
/// its object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub check: Check,
    /// What to read.
    pub object: ObjectRef,
    /// The client token ([`Check::ClientToken`]) or the file ([`Check::Uploaded`]).
    pub detail: Option<String>,
}

impl Verification {
    /// What a night operator does before sending the change again, as one sentence.
    pub fn advice(&self) -> String {
        let object = &self.object;
        let detail = self.detail.as_deref().unwrap_or("?");
        match self.check {
            Check::States(states) => format!(
                "read {object} before trying again: it took effect if its state is {}",
                either(states)
            ),
            Check::Field { field, values: [] } => {
                format!("read {object} before trying again: it took effect if its `{field}` is set")
            }
            Check::Field { field, values } => format!(
                "read {object} before trying again: it took effect if its `{field}` is {}",
                either(values)
            ),
            Check::ClientToken => format!(
                "look for the {} with client token `{detail}` before trying again: it took effect if there is one (sending it again with the same token is safe)",
                object.kind
            ),
            Check::RepeatSafe(why) => format!("sending it again is safe: {why}"),
            Check::Gone => {
                format!("read {object} before trying again: it took effect if it is not found")
            }
            Check::ChangesNothing => "it changes nothing, so sending it again is safe".to_owned(),
            Check::Uploaded => format!(
                "read {object} before trying again: the upload took effect if its file `{detail}` shows all its bytes transferred"
            ),
            Check::NotShown(look) => {
                format!("{object} does not show whether it took effect: {look} before trying again")
            }
        }
    }
}

/// `` `a` ``, `` `a` or `b` ``, `` `a`, `b` or `c` ``.
fn either(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    match quoted.split_last() {
        None => "(none declared)".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verification(check: Check, detail: Option<&str>) -> String {
        Verification {
            check,
            object: ObjectRef {
                kind: "import session",
                id: Some("9a1c".into()),
                name: Some("lun03".into()),
            },
            detail: detail.map(str::to_owned),
        }
        .advice()
    }

    #[test]
    fn each_check_reads_as_one_sentence() {
        assert_eq!(
            verification(
                Check::States(&["Import_Completed", "Cutover_In_Progress"]),
                None
            ),
            "read import session `lun03` (id `9a1c`) before trying again: it took effect if its state is `Import_Completed` or `Cutover_In_Progress`"
        );
        assert_eq!(
            verification(Check::States(&["A", "B", "C"]), None),
            "read import session `lun03` (id `9a1c`) before trying again: it took effect if its state is `A`, `B` or `C`"
        );
        assert_eq!(
            verification(
                Check::Field {
                    field: "clone_server",
                    values: &[]
                },
                None
            ),
            "read import session `lun03` (id `9a1c`) before trying again: it took effect if its `clone_server` is set"
        );
        assert_eq!(
            verification(Check::ClientToken, Some("tok-1")),
            "look for the import session with client token `tok-1` before trying again: it took effect if there is one (sending it again with the same token is safe)"
        );
        assert_eq!(
            verification(Check::Gone, None),
            "read import session `lun03` (id `9a1c`) before trying again: it took effect if it is not found"
        );
        assert_eq!(
            verification(Check::RepeatSafe("the vendor says so"), None),
            "sending it again is safe: the vendor says so"
        );
        assert_eq!(
            ObjectRef::name("task", "web-01").to_string(),
            "task `web-01`"
        );
    }
}

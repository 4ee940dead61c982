//! The plan of `cutover run --plan`: every change the run would have made, in order,
//! with the `parallel` item it was made in, and the waits and gates it passed without
//! waiting or asking. The mutation gate records each change here instead of sending it;
//! a job handle whose object a planned change touches asks the plan before reading, so
//! a wait on a state only that change would reach returns at once and is noted.
//!
//! The text groups entries as `cutover runs show` does: the playbook's own first, then
//! each item in the order it began. Items begin in their list's order (the dispatcher
//! starts them one by one), so the text is the same for every run of a playbook.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

use crate::http::mutation::{Mutation, ObjectRef};
use crate::journal::frame;

/// What a plan entry says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A change that was not sent.
    Change(PlannedChange),
    /// A wait that returned at once because only a planned change would end it.
    Wait { what: String, state: String },
    /// A `confirm` gate, shown and not asked.
    Gate(String),
}

/// One change the run would have made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedChange {
    pub target: String,
    pub vendor: String,
    pub operation: String,
    /// The object it changes.
    pub object: ObjectRef,
    /// What was asked, e.g. `cancel, force = false`; never a secret.
    pub summary: String,
}

impl PlannedChange {
    fn of(mutation: &Mutation) -> Self {
        Self {
            target: mutation.target.clone(),
            vendor: mutation.vendor.to_owned(),
            operation: mutation.operation.to_owned(),
            object: mutation.object().clone(),
            summary: mutation.summary.clone(),
        }
    }
}

/// An object planned changes touch: its target, kind, and id or name (`None`: the
/// target's only object of the kind, e.g. vCenter's history import).
type Touched = (String, String, Option<String>);

#[derive(Debug, Default)]
struct State {
    /// Item keys in the order they began.
    items: Vec<String>,
    /// (frame key, entry), in the order they were made.
    entries: Vec<(String, Entry)>,
    touched: HashSet<Touched>,
}

/// The plan of a run; shared by every clone of the run's call record.
#[derive(Debug, Default)]
pub struct Plan(Mutex<State>);

impl Plan {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, entry: Entry) {
        let key = frame::current_key();
        self.state().entries.push((key, entry));
    }

    /// Notes that the `parallel` item with frame key `key` began.
    pub fn item_began(&self, key: &str) {
        let group = group_of(key).to_owned();
        let mut state = self.state();
        if !state.items.contains(&group) {
            state.items.push(group);
        }
    }

    /// Records `mutation` as planned, and the object it touches.
    pub fn change(&self, mutation: &Mutation) {
        let change = PlannedChange::of(mutation);
        {
            let mut state = self.state();
            let (target, kind) = (change.target.clone(), change.object.kind.to_owned());
            match (&change.object.id, &change.object.name) {
                (None, None) => {
                    state.touched.insert((target, kind, None));
                }
                (id, name) => {
                    for key in [id, name].into_iter().flatten() {
                        state
                            .touched
                            .insert((target.clone(), kind.clone(), Some(key.clone())));
                    }
                }
            }
        }
        self.push(Entry::Change(change));
    }

    /// Marks an object a planned change made (a session a planned create would have
    /// answered) so reads of it are answered from the plan.
    pub fn made(&self, target: &str, kind: &str, id: &str) {
        self.state()
            .touched
            .insert((target.to_owned(), kind.to_owned(), Some(id.to_owned())));
    }

    /// The id of an object the newest planned change would have made, for a client
    /// whose answer would have named it: `planned-<n>`, n counting the changes so far.
    pub fn next_id(&self) -> String {
        let count = self
            .state()
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Change(_)))
            .count();
        format!("planned-{count}")
    }

    /// Whether a planned change touches the `kind` object `id` (or name) of `target`;
    /// `None` is the target's only object of the kind.
    pub fn touches(&self, target: &str, kind: &str, id: Option<&str>) -> bool {
        let key = (target.to_owned(), kind.to_owned(), id.map(str::to_owned));
        self.state().touched.contains(&key)
    }

    /// Notes a wait that returned at once.
    pub fn waited(&self, what: &str, state: &str) {
        self.push(Entry::Wait {
            what: what.to_owned(),
            state: state.to_owned(),
        });
    }

    /// Notes a gate shown and not asked.
    pub fn gate(&self, question: &str) {
        self.push(Entry::Gate(question.to_owned()));
    }

    /// The planned changes in the order they were made.
    pub fn changes(&self) -> Vec<PlannedChange> {
        self.state()
            .entries
            .iter()
            .filter_map(|(_, entry)| match entry {
                Entry::Change(change) => Some(change.clone()),
                _ => None,
            })
            .collect()
    }

    /// The plan as the operator reads it after the run.
    pub fn text(&self) -> String {
        let state = self.state();
        let count = state
            .entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Change(_)))
            .count();
        let noun = if count == 1 { "change" } else { "changes" };
        let mut text = format!("plan: {count} {noun}, nothing was sent\n");
        let mut groups: Vec<&str> = Vec::new();
        if state
            .entries
            .iter()
            .any(|(key, _)| group_of(key).is_empty())
        {
            groups.push("");
        }
        for item in &state.items {
            if state.entries.iter().any(|(key, _)| group_of(key) == item) {
                groups.push(item);
            }
        }
        for group in groups {
            let title = if group.is_empty() {
                "the playbook"
            } else {
                group
            };
            let _ = writeln!(text, "{}", crate::terminal_text::escape_control(title));
            for (_, entry) in state.entries.iter().filter(|(k, _)| group_of(k) == group) {
                let line = line(entry);
                let _ = writeln!(text, "  {}", crate::terminal_text::escape_control(&line));
            }
        }
        text
    }
}

/// The item a frame key belongs to: its first segment; `""` for the playbook's own.
fn group_of(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

fn line(entry: &Entry) -> String {
    match entry {
        Entry::Change(change) => format!(
            "would `{}` {} on `{}`: {}",
            change.operation, change.object, change.target, change.summary
        ),
        Entry::Wait { what, state } => format!("would wait for {what} to reach `{state}`"),
        Entry::Gate(question) => format!("gate: {question} (shown, not asked)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_groups_the_playbooks_own_first_then_items_as_they_began() {
        let plan = Plan::default();
        plan.gate("go?");
        let mutation = crate::vendors::powerstore::client::MUTATIONS
            .mutation(
                "array1",
                "cutover",
                (Some("imp-1"), Some("lun03")),
                "cut over",
            )
            .unwrap();
        plan.item_began("crm");
        plan.item_began("erp");
        {
            let _frame = frame::enter_item("erp/volumes".into(), "erp".into(), None);
            plan.change(&mutation);
            plan.waited("import session `lun03`", "Import_Completed");
        }
        assert!(plan.touches("array1", "import session", Some("imp-1")));
        assert!(plan.touches("array1", "import session", Some("lun03")));
        assert!(!plan.touches("array2", "import session", Some("imp-1")));
        assert_eq!(
            plan.text(),
            "plan: 1 change, nothing was sent\n\
             the playbook\n  gate: go? (shown, not asked)\n\
             erp\n  would `cutover` import session `lun03` (id `imp-1`) on `array1`: cut over\n  \
             would wait for import session `lun03` to reach `Import_Completed`\n"
        );
    }
}

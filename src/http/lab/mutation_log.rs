//! The log of every mutating request a simulator applied, so tests can prove that nothing
//! was done twice and `/_lab/state` can show counts per operation.
//!
//! Only applied mutations belong here: a request refused with an error, or answered by an
//! injected fault, changed nothing and is not recorded.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::timestamp;

/// One applied mutation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutation {
    /// The vendor operation, e.g. `cutover` or `create`.
    pub operation: String,
    /// The resource it changed.
    pub id: String,
    /// Lab time at which it was applied.
    pub at: SystemTime,
}

impl Serialize for Mutation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Mutation", 3)?;
        out.serialize_field("operation", &self.operation)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("at", &timestamp(self.at))?;
        out.end()
    }
}

/// A clonable handle on one simulator's mutation log.
#[derive(Clone, Debug, Default)]
pub struct MutationLog {
    entries: Arc<Mutex<Vec<Mutation>>>,
}

impl MutationLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `operation` was applied to `id` at lab time `at`.
    pub fn record(&self, operation: &str, id: &str, at: SystemTime) {
        self.lock().push(Mutation {
            operation: operation.to_owned(),
            id: id.to_owned(),
            at,
        });
    }

    /// Every mutation so far, oldest first.
    pub fn entries(&self) -> Vec<Mutation> {
        self.lock().clone()
    }

    /// How many times `operation` was applied, to any resource.
    #[cfg(test)]
    pub fn count(&self, operation: &str) -> usize {
        self.lock()
            .iter()
            .filter(|m| m.operation == operation)
            .count()
    }

    /// How many times each operation was applied.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for mutation in self.lock().iter() {
            *counts.entry(mutation.operation.clone()).or_insert(0) += 1;
        }
        counts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Mutation>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn counts_per_operation_and_serialises_lab_time() {
        let log = MutationLog::new();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_794_400);
        log.record("cutover", "a", at);
        log.record("pause", "b", at);
        log.clone()
            .record("cutover", "b", at + Duration::from_secs(5));
        assert_eq!(log.count("cutover"), 2);
        assert_eq!(log.count("delete"), 0);
        assert_eq!(
            log.counts().into_iter().collect::<Vec<_>>(),
            [("cutover".to_owned(), 2), ("pause".to_owned(), 1)]
        );
        let json = serde_json::to_value(&log.entries()[2]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"operation": "cutover", "id": "b", "at": "2025-03-01T02:00:05Z"})
        );
    }
}

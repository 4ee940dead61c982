//! The lab's count of how import sessions were read: single `GET`s, and each list with
//! the number of ids its `id=in.(…)` filter named and of rows it answered. Tests read it
//! from `/_lab/state` (`session_reads`) to prove that waits on one array share one list
//! request per interval instead of one `GET` each.

use serde_json::{Value, json};

/// The most lists remembered one by one; the counts go on past it.
const MAX_LISTS: usize = 10_000;

/// How import sessions were read so far.
#[derive(Debug, Default)]
pub(super) struct SessionReads {
    gets: u64,
    lists: u64,
    /// `(ids named by an id filter, rows answered)` of each list, oldest first.
    recent: Vec<(Option<usize>, usize)>,
}

impl SessionReads {
    /// A `GET /import_session/{id}`.
    pub(super) fn get(&mut self) {
        self.gets += 1;
    }

    /// A list with query `params` that answered `rows` rows.
    pub(super) fn list(&mut self, params: &[(String, String)], rows: usize) {
        self.lists += 1;
        if self.recent.len() < MAX_LISTS {
            self.recent.push((named_ids(params), rows));
        }
    }

    /// As `/_lab/state` shows it.
    pub(super) fn to_json(&self) -> Value {
        let lists: Vec<Value> = self
            .recent
            .iter()
            .map(|(ids, rows)| json!({"ids": ids, "rows": rows}))
            .collect();
        json!({"gets": self.gets, "lists": self.lists, "recent_lists": lists})
    }
}

/// How many ids an `id=in.(a,b,…)` filter among `params` names.
fn named_ids(params: &[(String, String)]) -> Option<usize> {
    let (_, value) = params.iter().find(|(key, _)| key == "id")?;
    let list = value.strip_prefix("in.(")?.strip_suffix(')')?;
    Some(list.split(',').filter(|id| !id.is_empty()).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_count_the_ids_their_filter_names() {
        let mut reads = SessionReads::default();
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        reads.list(&[pair("select", "id"), pair("id", "in.(a,b,c)")], 2);
        reads.list(&[pair("name", "eq.x")], 1);
        reads.get();
        assert_eq!(
            reads.to_json(),
            json!({"gets": 1, "lists": 2, "recent_lists": [
                {"ids": 3, "rows": 2}, {"ids": null, "rows": 1}]})
        );
    }
}

//! Collection queries of the cloudapi (vendor-apis.md §2.5): 1-based `page`, `pageSize`
//! (at most 128; larger sizes are cut to 128, as VCD does), and FIQL `filter` with `==`
//! and `!=`, `;` (AND, binding tighter) and `,` (OR), and `*` wildcards in values.
//! Fields are the item's JSON names; dots reach into objects (`org.name`). Parentheses
//! and the `=lt=`-style comparisons are not simulated.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::vendors::vcd::wire::Page;

use super::error::LabError;

/// The largest page the server hands out.
pub(super) const MAX_PAGE_SIZE: u64 = 128;
const DEFAULT_PAGE_SIZE: u64 = 25;

/// One comparison of a filter.
#[derive(Clone, Debug, PartialEq)]
struct Term {
    field: String,
    equal: bool,
    pattern: String,
}

/// A parsed `page`, `pageSize` and `filter`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Listing {
    page: u64,
    page_size: u64,
    /// OR of ANDs; empty means everything matches.
    filter: Vec<Vec<Term>>,
}

impl Listing {
    /// Reads the query parameters; 400 for a non-numeric or zero page or size, or a
    /// filter term without `==`/`!=`.
    pub(super) fn parse(params: &HashMap<String, String>) -> Result<Self, LabError> {
        let number = |name: &str, default: u64| -> Result<u64, LabError> {
            match params.get(name) {
                None => Ok(default),
                Some(text) => text.trim().parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    LabError::bad_request(format!(
                        "Invalid {name} value '{text}': must be a positive integer"
                    ))
                }),
            }
        };
        let filter = match params.get("filter").map(|f| f.trim()) {
            None | Some("") => Vec::new(),
            Some(text) => parse_filter(text)?,
        };
        Ok(Self {
            page: number("page", 1)?,
            page_size: number("pageSize", DEFAULT_PAGE_SIZE)?.min(MAX_PAGE_SIZE),
            filter,
        })
    }

    /// Filters `items` and cuts out the asked page.
    pub(super) fn page<T: Serialize>(&self, items: Vec<T>) -> Page<T> {
        let matching: Vec<T> = items
            .into_iter()
            .filter(|item| self.matches(item))
            .collect();
        let total = matching.len() as u64;
        let skip = (self.page - 1).saturating_mul(self.page_size);
        let values: Vec<T> = matching
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(usize::try_from(self.page_size).unwrap_or(usize::MAX))
            .collect();
        Page {
            result_total: total,
            page_count: total.div_ceil(self.page_size),
            page: self.page,
            page_size: self.page_size,
            associations: Vec::new(),
            values,
        }
    }

    fn matches<T: Serialize>(&self, item: &T) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let value = serde_json::to_value(item).unwrap_or(Value::Null);
        self.filter
            .iter()
            .any(|all| all.iter().all(|term| term.matches(&value)))
    }
}

fn parse_filter(text: &str) -> Result<Vec<Vec<Term>>, LabError> {
    text.split(',')
        .map(|any| any.split(';').map(parse_term).collect())
        .collect()
}

fn parse_term(text: &str) -> Result<Term, LabError> {
    let (field, equal, pattern) = if let Some((f, p)) = text.split_once("!=") {
        (f, false, p)
    } else if let Some((f, p)) = text.split_once("==") {
        (f, true, p)
    } else {
        return Err(LabError::bad_request(format!(
            "Invalid filter expression '{text}': expected <field>==<value> or <field>!=<value>"
        )));
    };
    if field.trim().is_empty() {
        return Err(LabError::bad_request(format!(
            "Invalid filter expression '{text}': the field name is missing"
        )));
    }
    Ok(Term {
        field: field.trim().to_owned(),
        equal,
        pattern: pattern.trim().to_owned(),
    })
}

impl Term {
    fn matches(&self, item: &Value) -> bool {
        let found = self
            .field
            .split('.')
            .try_fold(item, |value, key| value.get(key));
        let text = match found {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        wildcard(&self.pattern, &text) == self.equal
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if let [only] = parts.as_slice() {
        return *only == text;
    }
    let (first, rest) = (parts[0], &parts[1..]);
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let (last, middle) = rest.split_last().map_or(("", &[][..]), |(l, m)| (*l, m));
    for piece in middle {
        match remaining.find(piece) {
            Some(at) => remaining = &remaining[at + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing(query: &[(&str, &str)]) -> Result<Listing, LabError> {
        let params = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Listing::parse(&params)
    }

    #[track_caller]
    fn case(filter: &str, expected: &[&str]) {
        let items = vec![
            json!({"name": "web-01", "entityState": "RESOLVED", "org": {"name": "acme"}}),
            json!({"name": "web-02", "entityState": "PRE_CREATED", "org": {"name": "globex"}}),
            json!({"name": "db-01", "entityState": "RESOLVED", "org": {"name": "globex"}}),
        ];
        let page = listing(&[("filter", filter)]).unwrap().page(items);
        let names: Vec<&str> = page
            .values
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "{filter}");
    }

    #[test]
    fn fiql_filters_on_names_and_states() {
        case("name==web-01", &["web-01"]);
        case("name==web-*", &["web-01", "web-02"]);
        case("name==*-01", &["web-01", "db-01"]);
        case("name==*eb-0*", &["web-01", "web-02"]);
        case("name!=web-*", &["db-01"]);
        case("entityState==RESOLVED", &["web-01", "db-01"]);
        case("entityState==RESOLVED;org.name==globex", &["db-01"]);
        case("name==web-02,name==db-01", &["web-02", "db-01"]);
        case(
            "entityState==PRE_CREATED,name==web-01;org.name==acme",
            &["web-01", "web-02"],
        );
        case("name==nothing", &[]);
        case("", &["web-01", "web-02", "db-01"]);
    }

    #[test]
    fn pages_are_one_based_and_counted() {
        let page = listing(&[("page", "2"), ("pageSize", "2")])
            .unwrap()
            .page((1..=5).collect());
        assert_eq!(
            (page.values, page.page, page.page_count, page.result_total),
            (vec![3, 4], 2, 3, 5)
        );
        let past = listing(&[("page", "9")]).unwrap().page(vec![1]);
        assert!(past.values.is_empty());
        assert_eq!(listing(&[("pageSize", "500")]).unwrap().page_size, 128);
        let empty = listing(&[]).unwrap().page(Vec::<u8>::new());
        assert_eq!((empty.page_count, empty.page_size), (0, 25));
    }

    #[test]
    fn bad_queries_are_400() {
        for query in [
            [("page", "0")],
            [("pageSize", "x")],
            [("filter", "name=web")],
            [("filter", "==x")],
        ] {
            let error = listing(&query).unwrap_err();
            assert_eq!(error.status().as_u16(), 400, "{query:?}");
        }
    }
}

//! Fuzz target: the PowerStore filter builder (`page_params` of the client, vendor-apis.md
//! §4.3). Whatever state, name, page and offset a script asks for, the query string the
//! client sends reads back, through URL encoding and the lab's own parser, as exactly
//! the filters asked for, and the session asked for is in the page it selects.
//!
//! Declared by `vendors/powerstore/lab/mod.rs` so it can use the lab's parser.

use proptest::prelude::*;
use proptest::sample::select;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::filter::{Condition, Op};
use super::import_sessions::IMPORT_SESSION;
use super::query::Query;
use crate::fuzz_tests::support::{client, config};
use crate::vendors::powerstore::client::{SessionQuery, page_params};
use crate::vendors::powerstore::wire::ImportState;

/// The pairs the lab sees: the client's pairs through reqwest's and axum's encoding.
fn sent(params: &[(String, String)]) -> Result<Vec<(String, String)>, TestCaseError> {
    let http = client();
    let request = http
        .request(Method::GET, http.url(&["api", "rest", "import_session"]))
        .query(params)
        .build()
        .map_err(|err| TestCaseError::fail(err.to_string()))?;
    let uri: axum::http::Uri = request
        .url()
        .as_str()
        .parse()
        .map_err(|err: axum::http::uri::InvalidUri| TestCaseError::fail(err.to_string()))?;
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|query| query.0)
        .map_err(|err| TestCaseError::fail(err.to_string()))
}

/// A session row as the lab lists it.
fn row(name: &str, state: &str) -> Map<String, Value> {
    let Value::Object(row) = json!({"id": "x", "name": name, "state": state}) else {
        return Map::new();
    };
    row
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z*._,()\"-]{0,12}",
        select(
            &[
                "not.x", "eq.x", "a,b", "(a)", "in.(a,b)", "*", "**", "x*y", "is.null", "%20"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn built_queries_read_back_as_asked(
        state in proptest::option::of(select(&ImportState::ALL[..])),
        name in proptest::option::of(name()),
        wanted in 1..=2000_usize,
        offset in 0..1_000_000_usize,
    ) {
        let query = SessionQuery { state, name: name.clone(), limit: None, page_size: None };
        let params = page_params(&query, wanted, offset);
        let pairs = sent(&params)?;
        prop_assert_eq!(&pairs, &params);
        let filters: Vec<Condition> = pairs
            .iter()
            .filter(|(key, _)| key == "state" || key == "name")
            .map(|(key, value)| Condition::parse(key, value, &IMPORT_SESSION))
            .collect::<Result<_, _>>()
            .map_err(|err| TestCaseError::fail(format!("{err:?}")))?;
        let mut expected = Vec::new();
        if let Some(state) = state {
            expected.push(Condition::Test { attr: "state", negated: false, op: Op::Eq(state.as_str().to_owned()) });
        }
        if let Some(name) = &name {
            let op = if name.contains('*') { Op::ILike(name.clone()) } else { Op::Eq(name.clone()) };
            expected.push(Condition::Test { attr: "name", negated: false, op });
        }
        prop_assert_eq!(filters, expected);

        let parsed = Query::parse(&pairs, None, &IMPORT_SESSION);
        prop_assert!(parsed.is_ok(), "{:?}", parsed.err());
        // The session asked for, on the first page, is listed; one in another state is not.
        let first = page_params(&query, wanted, 0);
        let query = Query::parse(&sent(&first)?, None, &IMPORT_SESSION)
            .map_err(|err| TestCaseError::fail(format!("{err:?}")))?;
        let wanted_name = name.as_deref().map_or("s1".to_owned(), |n| n.replace('*', ""));
        let wanted_state = state.map_or("Queued", ImportState::as_str);
        let other_state = if wanted_state == "Failed" { "Queued" } else { "Failed" };
        let rows = vec![row(&wanted_name, wanted_state), row(&wanted_name, other_state)];
        let listing = query.run(rows).map_err(|err| TestCaseError::fail(format!("{err:?}")))?;
        let states: Vec<&str> = listing.items.iter().filter_map(|i| i["state"].as_str()).collect();
        if state.is_some() {
            prop_assert_eq!(states, vec![wanted_state]);
        } else {
            prop_assert_eq!(states.len(), 2.min(wanted));
        }
    }
}

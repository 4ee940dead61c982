//! Collection queries of the PowerStore REST API (vendor-apis.md §4.3): a [`Select`],
//! filters, `order`, and paging by `limit`/`offset` or a `Range` header, answered 206
//! with `Content-Range` when more rows follow.

use std::cmp::Ordering;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::error::LabError;
use super::filter::{Condition, split_top_level};
use super::select::Select;

/// Rows per page when the client names no limit.
const DEFAULT_LIMIT: usize = 100;
/// The largest page the array serves; bigger limits are clamped to it.
const MAX_LIMIT: usize = 2000;
/// Parameters that are not filters.
const RESERVED: &[&str] = &["select", "order", "limit", "offset", "is_async", "async"];

/// The query string as pairs, in order; repeated keys are kept.
#[derive(Debug)]
pub(super) struct Params(pub(super) Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = LabError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, LabError> {
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|err| {
                LabError::invalid_request(format!("The query string is not valid: {err}."), &[])
            })?;
        Ok(Self(pairs.0))
    }
}

/// The `Range` header of a request, if any.
pub(super) fn range(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get(header::RANGE).and_then(|v| v.to_str().ok())
}

/// The attributes a collection's rows have, for validating queries against.
#[derive(Debug)]
pub(super) struct Resource {
    /// The collection's name in paths and messages, e.g. `import_session`.
    pub(super) name: &'static str,
    pub(super) fields: &'static [&'static str],
    /// Embeddable relations and their attributes, e.g. `remote_system`.
    pub(super) embeds: &'static [(&'static str, &'static [&'static str])],
}

impl Resource {
    /// A collection with nothing to embed.
    pub(super) const fn plain(name: &'static str, fields: &'static [&'static str]) -> Self {
        Self {
            name,
            fields,
            embeds: &[],
        }
    }

    pub(super) fn field(&self, name: &str) -> Option<&'static str> {
        self.fields.iter().copied().find(|f| *f == name)
    }

    pub(super) fn embed(&self, name: &str) -> Option<(&'static str, &'static [&'static str])> {
        self.embeds.iter().copied().find(|(e, _)| *e == name)
    }
}

/// A whole collection query: select, filters, order and page.
#[derive(Debug)]
pub(super) struct Query {
    select: Select,
    filters: Vec<Condition>,
    order: Vec<(&'static str, bool)>,
    offset: usize,
    limit: usize,
}

impl Query {
    /// Parses the query string and the `Range` header of a list request.
    pub(super) fn parse(
        params: &[(String, String)],
        range: Option<&str>,
        resource: &Resource,
    ) -> Result<Self, LabError> {
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let filters = params
            .iter()
            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
            .map(|(k, v)| Condition::parse(k, v, resource))
            .collect::<Result<_, _>>()?;
        let (offset, limit) = match range {
            Some(range) => parse_range(range)?,
            None => (parse_offset(param("offset"))?, parse_limit(param("limit"))?),
        };
        Ok(Self {
            select: Select::from_params(params, resource)?,
            filters,
            order: param("order").map_or(Ok(Vec::new()), |o| parse_order(o, resource))?,
            offset,
            limit,
        })
    }

    /// Whether the query has filters and they read only `fields`: then a row holding
    /// just those fields tells whether a whole row would pass ([`Query::keeps`]).
    pub(super) fn filters_only(&self, fields: &[&str]) -> bool {
        !self.filters.is_empty() && self.filters.iter().all(|f| f.reads_only(fields))
    }

    /// Whether `row` passes every filter.
    pub(super) fn keeps(&self, row: &Map<String, Value>) -> bool {
        self.filters.iter().all(|f| f.matches(row))
    }

    /// Filters, orders, pages and projects `rows`.
    pub(super) fn run(&self, mut rows: Vec<Map<String, Value>>) -> Result<Listing, LabError> {
        rows.retain(|row| self.filters.iter().all(|f| f.matches(row)));
        rows.sort_by(|a, b| {
            let by = |(attr, desc): &(&str, bool)| {
                let order = compare_values(a.get(*attr), b.get(*attr));
                if *desc { order.reverse() } else { order }
            };
            self.order
                .iter()
                .map(by)
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        let total = rows.len();
        if self.offset > 0 && self.offset >= total {
            return Err(LabError::range(format!(
                "The offset {} is past the end of the {total} results.",
                self.offset
            )));
        }
        let end = total.min(self.offset + self.limit);
        let page = &rows[self.offset..end];
        let ids = page
            .iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let items = page.iter().map(|r| self.select.project(r)).collect();
        let content_range = (end < total).then(|| format!("{}-{}/{total}", self.offset, end - 1));
        Ok(Listing {
            items,
            content_range,
            ids,
        })
    }
}

fn parse_limit(text: Option<&str>) -> Result<usize, LabError> {
    let Some(text) = text else {
        return Ok(DEFAULT_LIMIT);
    };
    let limit: i64 = text.trim().parse().map_err(|_| {
        LabError::invalid_request(format!("The limit {text} is not a number."), &[text])
    })?;
    if limit <= 0 {
        return Err(LabError::range(format!(
            "The limit {limit} is out of range; it must be between 1 and {MAX_LIMIT}."
        )));
    }
    Ok(usize::try_from(limit).unwrap_or(MAX_LIMIT).min(MAX_LIMIT))
}

fn parse_offset(text: Option<&str>) -> Result<usize, LabError> {
    let Some(text) = text else {
        return Ok(0);
    };
    text.trim().parse().map_err(|_| {
        LabError::invalid_request(format!("The offset {text} is not a valid offset."), &[text])
    })
}

/// `Range: 100-199` (an `items=` unit is tolerated) as offset 100, limit 100.
fn parse_range(text: &str) -> Result<(usize, usize), LabError> {
    let spec = text.split_once('=').map_or(text, |(_, spec)| spec).trim();
    let bounds = spec.split_once('-').and_then(|(a, b)| {
        Some((
            a.trim().parse::<usize>().ok()?,
            b.trim().parse::<usize>().ok()?,
        ))
    });
    match bounds {
        Some((first, last)) if first <= last => Ok((first, (last - first + 1).min(MAX_LIMIT))),
        _ => Err(LabError::range(format!(
            "The range {text} is not satisfiable."
        ))),
    }
}

fn parse_order(text: &str, resource: &Resource) -> Result<Vec<(&'static str, bool)>, LabError> {
    let mut order = Vec::new();
    for item in split_top_level(text) {
        let (attr, desc) = match item.rsplit_once('.') {
            Some((attr, "asc")) => (attr, false),
            Some((attr, "desc")) => (attr, true),
            _ => (item, false),
        };
        let attr = resource.field(attr).ok_or_else(|| {
            LabError::invalid_request(
                format!(
                    "The order attribute {attr} is not valid for {}.",
                    resource.name
                ),
                &[attr],
            )
        })?;
        order.push((attr, desc));
    }
    Ok(order)
}

/// Ascending order of two attribute values: numbers, then case-insensitive text;
/// `null` sorts last.
fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let null = Value::Null;
    match (a.unwrap_or(&null), b.unwrap_or(&null)) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (x, y) => {
            let (x, y) = (x.to_string(), y.to_string());
            x.to_lowercase().cmp(&y.to_lowercase())
        }
    }
}

/// One page of a collection: 206 with `Content-Range` when more rows follow, else 200.
#[derive(Debug)]
pub(super) struct Listing {
    pub(super) items: Vec<Value>,
    pub(super) content_range: Option<String>,
    /// The ids of the page's rows, which the client has now read.
    pub(super) ids: Vec<String>,
}

impl IntoResponse for Listing {
    fn into_response(self) -> Response {
        let Some(range) = self.content_range else {
            return Json(self.items).into_response();
        };
        let mut response = (StatusCode::PARTIAL_CONTENT, Json(self.items)).into_response();
        if let Ok(value) = HeaderValue::from_str(&range) {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: Resource = Resource {
        name: "import_session",
        fields: &["id", "name", "state", "progress_percentage"],
        embeds: &[("remote_system", &["id", "name", "type"])],
    };

    const ROWS: &str = r#"[
        {"id": "s0", "name": "lun5", "state": "Queued", "progress_percentage": 0},
        {"id": "s1", "name": "lun4", "state": "Copy_In_Progress", "progress_percentage": 10},
        {"id": "s2", "name": "lun3", "state": "Failed", "progress_percentage": null},
        {"id": "s3", "name": "lun2", "state": "copy_in_progress", "progress_percentage": 30},
        {"id": "s4", "name": "lun1", "state": "Scheduled", "progress_percentage": 40}]"#;

    /// Runs `query` with an optional `Range` header over [`ROWS`], each row embedding
    /// `remote_system` as the handlers do. The answer in one line: status, then the
    /// `Content-Range` if any, then the body (compact JSON, or an error's message).
    fn run(query: &str, range: Option<&str>) -> String {
        let params: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let mut rows: Vec<Map<String, Value>> = serde_json::from_str(ROWS).unwrap();
        for row in &mut rows {
            let system = serde_json::json!({"id": "r1", "name": "unity-01", "type": "Unity"});
            row.insert("remote_system".into(), system);
        }
        match Query::parse(&params, range, &SESSION).and_then(|q| q.run(rows)) {
            Ok(Listing {
                items,
                content_range: Some(range),
                ..
            }) => {
                format!("206 {range} {}", Value::Array(items))
            }
            Ok(Listing {
                items,
                content_range: None,
                ..
            }) => format!("200 {}", Value::Array(items)),
            Err(e) => format!(
                "{} {}",
                e.status().as_u16(),
                e.body().messages[0].message_l10n
            ),
        }
    }

    #[track_caller]
    fn case(query: &str, expected: &str) {
        assert_eq!(run(query, None), expected, "{query}");
    }

    #[track_caller]
    fn ranged(range: &str, query: &str, expected: &str) {
        assert_eq!(run(query, Some(range)), expected, "Range: {range} {query}");
    }

    /// Just the ids the query returns, space-separated.
    #[track_caller]
    fn ids(query: &str, expected: &str) {
        let answer = run(query, None);
        let json = answer
            .split_once(" [")
            .map(|(_, j)| format!("[{j}"))
            .unwrap_or(answer);
        let rows: Vec<Value> = serde_json::from_str(&json).unwrap();
        let got: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(got.join(" "), expected, "{query}");
    }

    #[test]
    fn select() {
        case("limit=2", r#"206 0-1/5 [{"id":"s0"},{"id":"s1"}]"#);
        case("select=name&limit=1", r#"206 0-0/5 [{"name":"lun5"}]"#);
        case(
            "select=id,name,name&limit=1",
            r#"206 0-0/5 [{"id":"s0","name":"lun5"}]"#,
        );
        case(
            "select=remote_system&limit=1",
            r#"206 0-0/5 [{"remote_system":{"id":"r1"}}]"#,
        );
        case(
            "select=id,remote_system(id,name)&offset=4",
            r#"200 [{"id":"s4","remote_system":{"id":"r1","name":"unity-01"}}]"#,
        );
        case(
            "select=remote_system(*)&offset=4",
            r#"200 [{"remote_system":{"id":"r1","name":"unity-01","type":"Unity"}}]"#,
        );
        case(
            "select=*&offset=4",
            r#"200 [{"id":"s4","name":"lun1","progress_percentage":40,"state":"Scheduled"}]"#,
        );
        case(
            "select=id,size",
            "400 The select attribute size is not valid for import_session.",
        );
        case(
            "select=remote_system(x)",
            "400 The select attribute remote_system(x) is not valid for import_session.",
        );
    }

    #[test]
    fn filters_and_order() {
        ids("state=eq.copy_in_progress", "s1 s3");
        ids("state=neq.Failed&progress_percentage=gte.10", "s1 s3 s4");
        ids("state=in.(Queued,Failed)&order=id.desc", "s2 s0");
        ids("order=name.asc", "s4 s3 s2 s1 s0");
        ids("order=name", "s4 s3 s2 s1 s0");
        ids("order=progress_percentage.desc", "s2 s4 s3 s1 s0");
        ids("order=progress_percentage.asc", "s0 s1 s3 s4 s2");
        ids("order=state,name.asc", "s3 s1 s2 s0 s4");
        ids("order=state,name.desc", "s1 s3 s2 s0 s4");
        case("name=eq.nothing", "200 []");
        case(
            "order=size.asc",
            "400 The order attribute size is not valid for import_session.",
        );
        case(
            "size=eq.1",
            "400 The filter attribute size is not valid for import_session.",
        );
    }

    #[test]
    fn paging() {
        case(
            "",
            r#"200 [{"id":"s0"},{"id":"s1"},{"id":"s2"},{"id":"s3"},{"id":"s4"}]"#,
        );
        case("limit=2&offset=1", r#"206 1-2/5 [{"id":"s1"},{"id":"s2"}]"#);
        case("limit=2&offset=3", r#"200 [{"id":"s3"},{"id":"s4"}]"#);
        case("offset=4", r#"200 [{"id":"s4"}]"#);
        ids("limit=9999", "s0 s1 s2 s3 s4");
        ranged("1-2", "", r#"206 1-2/5 [{"id":"s1"},{"id":"s2"}]"#);
        ranged("items=3-9", "limit=1", r#"200 [{"id":"s3"},{"id":"s4"}]"#);
        ranged("3-1", "", "416 The range 3-1 is not satisfiable.");
        case(
            "limit=0",
            "416 The limit 0 is out of range; it must be between 1 and 2000.",
        );
        case(
            "limit=-3",
            "416 The limit -3 is out of range; it must be between 1 and 2000.",
        );
        case("limit=ten", "400 The limit ten is not a number.");
        case("offset=-1", "400 The offset -1 is not a valid offset.");
        case(
            "offset=5",
            "416 The offset 5 is past the end of the 5 results.",
        );
        case("state=eq.none&offset=0", "200 []");
    }

    #[test]
    fn big_limits_clamp() {
        assert_eq!(parse_limit(Some("2001")).unwrap(), MAX_LIMIT);
        assert_eq!(parse_limit(Some("2000")).unwrap(), 2000);
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_range("0-99999").unwrap(), (0, MAX_LIMIT));
    }
}

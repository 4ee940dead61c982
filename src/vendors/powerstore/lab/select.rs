//! `select=`: which attributes a query returns (vendor-apis.md §4.3). Without it the
//! array returns only `id`; `*` means every attribute; an embeddable relation is picked
//! as `remote_system(id,name)`.

use serde_json::{Map, Value};

use super::error::LabError;
use super::filter::split_top_level;
use super::query::Resource;

#[derive(Clone, Debug, PartialEq)]
enum Pick {
    Field(&'static str),
    Embed(&'static str, Vec<&'static str>),
}

/// The attributes a query returns.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Select(Vec<Pick>);

impl Select {
    /// The `select` parameter of `params`; without one the array returns only `id`.
    pub(super) fn from_params(
        params: &[(String, String)],
        resource: &Resource,
    ) -> Result<Self, LabError> {
        let text = params.iter().find(|(k, _)| k == "select").map(|(_, v)| v);
        Self::parse(text.map(String::as_str), resource)
    }

    fn parse(text: Option<&str>, resource: &Resource) -> Result<Self, LabError> {
        let Some(text) = text else {
            return Ok(Self(vec![Pick::Field("id")]));
        };
        let mut picks = Vec::new();
        for item in split_top_level(text) {
            for pick in pick(item, resource)? {
                if !picks.contains(&pick) {
                    picks.push(pick);
                }
            }
        }
        Ok(Self(picks))
    }

    /// Keeps the selected attributes of `row`; embedded objects keep theirs.
    pub(super) fn project(&self, row: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        for pick in &self.0 {
            let (name, value) = match pick {
                Pick::Field(name) => (*name, row.get(*name).cloned().unwrap_or_default()),
                Pick::Embed(name, fields) => (*name, embedded(row.get(*name), fields)),
            };
            out.insert(name.to_owned(), value);
        }
        Value::Object(out)
    }
}

fn pick(item: &str, resource: &Resource) -> Result<Vec<Pick>, LabError> {
    if item == "*" {
        return Ok(resource.fields.iter().map(|f| Pick::Field(f)).collect());
    }
    let (name, inner) = match item.split_once('(') {
        Some((name, rest)) => (name, rest.strip_suffix(')')),
        None => (item, Some("id")),
    };
    if let Some(field) = resource.field(item) {
        return Ok(vec![Pick::Field(field)]);
    }
    let unknown = || {
        LabError::invalid_request(
            format!(
                "The select attribute {item} is not valid for {}.",
                resource.name
            ),
            &[item],
        )
    };
    let (embed, fields) = resource.embed(name).ok_or_else(unknown)?;
    let mut picked = Vec::new();
    for sub in split_top_level(inner.ok_or_else(unknown)?) {
        match fields.iter().find(|f| **f == sub) {
            _ if sub == "*" => picked.extend(fields.iter().copied()),
            Some(field) => picked.push(*field),
            None => return Err(unknown()),
        }
    }
    Ok(vec![Pick::Embed(embed, picked)])
}

fn embedded(value: Option<&Value>, fields: &[&str]) -> Value {
    match value {
        Some(Value::Object(object)) => {
            let kept = fields
                .iter()
                .map(|f| ((*f).to_owned(), object.get(*f).cloned().unwrap_or_default()));
            Value::Object(kept.collect())
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JOB: Resource = Resource::plain("job", &["id", "state"]);

    #[track_caller]
    fn case(select: Option<&str>, expected: Value) {
        let row = json!({"id": "j1", "state": "COMPLETED"});
        let picked = Select::parse(select, &JOB).unwrap();
        assert_eq!(
            picked.project(row.as_object().unwrap()),
            expected,
            "{select:?}"
        );
    }

    #[test]
    fn without_select_only_the_id_comes_back() {
        case(None, json!({"id": "j1"}));
        case(Some("state"), json!({"state": "COMPLETED"}));
        case(Some("*"), json!({"id": "j1", "state": "COMPLETED"}));
        case(Some(""), json!({}));
        let error = Select::parse(Some("state,foo"), &JOB).unwrap_err();
        let message = &error.body().messages[0].message_l10n;
        assert_eq!(message, "The select attribute foo is not valid for job.");
    }
}

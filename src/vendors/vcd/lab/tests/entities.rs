//! Entity types and entities: paging, filters, ETags, updates, resolve, delete, rights.

use serde_json::json;

use super::{Client, JSON_38, lab, minor_error, send};

const VM: &str = "/cloudapi/1.0.0/entities/types/acme/vm";

fn names(answer: &serde_json::Value) -> Vec<&str> {
    answer["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn types_are_paged_and_found_by_urn() {
    let c = Client::fresh().await;
    let page = c
        .get("/cloudapi/1.0.0/entityTypes?page=2&pageSize=2")
        .await
        .body;
    assert_eq!(
        (
            page["page"].as_u64(),
            page["pageCount"].as_u64(),
            page["resultTotal"].as_u64()
        ),
        (Some(2), Some(3), Some(5))
    );
    let ids: Vec<&str> = page["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "urn:vcloud:type:acme:vm:1.1.0",
            "urn:vcloud:type:acme:vm:2.0.0"
        ]
    );
    let db = c
        .get("/cloudapi/1.0.0/entityTypes?filter=nss==db")
        .await
        .body;
    assert_eq!(db["values"][0]["id"], "urn:vcloud:type:acme:db:1.0.0");
    let one = c
        .get("/cloudapi/1.0.0/entityTypes/urn:vcloud:type:acme:vm:2.0.0")
        .await;
    assert_eq!(
        one.body["schema"]["required"],
        json!(["name", "cpus", "guestOs"])
    );
    let missing = c
        .get("/cloudapi/1.0.0/entityTypes/urn:vcloud:type:acme:vm:9.9.9")
        .await;
    assert_eq!(minor_error(&missing), (404, Some("NOT_FOUND")));
}

#[tokio::test]
async fn entities_are_listed_per_type_with_paging_and_fiql() {
    let c = Client::fresh().await;
    let all = c.get(&format!("{VM}?pageSize=5")).await.body;
    assert_eq!(
        (all["resultTotal"].as_u64(), all["pageCount"].as_u64()),
        (Some(14), Some(3))
    );
    let last = c.get(&format!("{VM}?pageSize=5&page=3")).await.body;
    assert_eq!(names(&last), ["batch-01", "batch-02", "batch-03", "new-01"]);
    let v100 = c
        .get(&format!("{VM}/1.0.0?filter=entityState==RESOLVED"))
        .await
        .body;
    assert_eq!(names(&v100), ["web-01", "web-02", "gx-web-01"]);
    let filtered = c
        .get(&format!(
            "{VM}?filter=name==web-*;entityState!=RESOLVED,name==new-01"
        ))
        .await
        .body;
    assert_eq!(names(&filtered), ["web-03", "web-04", "web-05", "new-01"]);
    let unknown = c.get("/cloudapi/1.0.0/entities/types/acme/vm/7.0.0").await;
    assert_eq!(unknown.status, 404);
    let bad = c.get(&format!("{VM}?filter=name~web")).await;
    assert_eq!(minor_error(&bad), (400, Some("BAD_REQUEST")));
}

#[tokio::test]
async fn a_tenant_sees_only_its_org() {
    let c = Client::login_as(&lab().0, "tenant@acme").await;
    let listed = c.get(&format!("{VM}?pageSize=128")).await;
    assert_eq!(listed.body["resultTotal"], 11);
    assert!(names(&listed.body).iter().all(|n| !n.starts_with("gx-")));
}

async fn id_of(c: &Client, name: &str) -> String {
    let page = c.get(&format!("{VM}?filter=name=={name}")).await.body;
    page["values"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn updates_need_a_matching_etag_and_stay_in_the_family() {
    let (state, _) = lab();
    let c = Client::login(&state).await;
    let id = id_of(&c, "web-02").await;
    let uri = format!("/cloudapi/1.0.0/entities/{id}");
    let got = c.get(&uri).await;
    let etag = got.header("etag").unwrap().to_owned();
    let mut body = got.body.clone();
    body["entityType"] = json!("urn:vcloud:type:acme:vm:2.0.0");
    let bearer = format!("Bearer {}", c.token);
    let put = |tag: &str, body: String| {
        let (bearer, tag, uri, state) =
            (bearer.clone(), tag.to_owned(), uri.clone(), state.clone());
        async move {
            send(
                &state,
                "PUT",
                &uri,
                &[
                    ("authorization", &bearer),
                    ("accept", JSON_38),
                    ("if-match", &tag),
                ],
                &body,
            )
            .await
        }
    };
    let invalid = put(&etag, body.to_string()).await;
    assert_eq!(
        invalid.status, 400,
        "RESOLVED contents must fit the new type"
    );
    body["entity"]["guestOs"] = json!("ubuntu");
    assert_eq!(put("\"stale\"", body.to_string()).await.status, 412);
    let done = put(&etag, body.to_string()).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_ne!(done.header("etag"), Some(etag.as_str()));
    assert_eq!(done.body["entityType"], "urn:vcloud:type:acme:vm:2.0.0");
    body["entityType"] = json!("urn:vcloud:type:acme:db:1.0.0");
    let tag = done.header("etag").unwrap().to_owned();
    assert_eq!(put(&tag, body.to_string()).await.status, 400);
    let state_now = super::lab_state(&state).await;
    assert_eq!(
        state_now["events"][0]["definedEntity.was.type"],
        "urn:vcloud:type:acme:vm:1.0.0"
    );
}

#[tokio::test]
async fn resolve_validates_and_the_provider_may_delete_any_orgs_entity() {
    let c = Client::fresh().await;
    let broken = id_of(&c, "web-04").await;
    let resolved = c
        .post(&format!("/cloudapi/1.0.0/entities/{broken}/resolve"), "")
        .await;
    assert_eq!(resolved.body["entityState"], "RESOLUTION_ERROR");
    assert!(resolved.header("etag").is_some());
    let fine = id_of(&c, "web-03").await;
    let resolved = c
        .post(&format!("/cloudapi/1.0.0/entities/{fine}/resolve"), "")
        .await;
    assert_eq!(
        (
            resolved.body["entityState"].as_str(),
            resolved.body["state"].as_str()
        ),
        (Some("RESOLVED"), Some("RESOLVED"))
    );
    let foreign = id_of(&c, "gx-web-01").await;
    assert_eq!(
        c.get(&format!("/cloudapi/1.0.0/entities/{foreign}"))
            .await
            .status,
        200
    );
    let deleted = c
        .call("DELETE", &format!("/cloudapi/1.0.0/entities/{foreign}"), "")
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(
        c.call("DELETE", &format!("/cloudapi/1.0.0/entities/{fine}"), "")
            .await
            .status,
        204
    );
    assert_eq!(
        c.get(&format!("/cloudapi/1.0.0/entities/{fine}"))
            .await
            .status,
        404
    );
}

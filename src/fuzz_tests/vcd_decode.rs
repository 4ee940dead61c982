//! Fuzz target: Cloud Director answers (vendor-apis.md §2). Entity and entity-type pages,
//! one entity, a resolve result, the legacy XML task, `/api/versions`, and JSON and XML
//! error bodies decode to typed values or to the typed error, never a panic.

use proptest::prelude::*;

use super::mutate;
use super::support::{check_error, client, config, decode, error_bodies_property, status_error};
use crate::vendors::vcd::client::parse_error;
use crate::vendors::vcd::wire::tests::TASK;
use crate::vendors::vcd::wire::{
    DefinedEntity, DefinedEntityType, Page, ResolveResult, Task, parse_versions, version_at_least,
    versions_xml,
};

const ENTITY: &str = r#"{"id": "urn:vcloud:entity:vmware:vspheresddc:5e0b9c44",
 "entityType": "urn:vcloud:type:vmware:vspheresddc:1.0.0", "name": "sddc-01", "externalId": null,
 "entity": {"any": "JSON"}, "state": "RESOLVED", "entityState": "RESOLVED", "message": null,
 "owner": {"name": "admin", "id": "urn:vcloud:user:1"}, "org": {"name": "acme", "id": "urn:vcloud:org:1"}}"#;
const ENTITY_PAGE: &str = r#"{"resultTotal": 2, "pageCount": 1, "page": 1, "pageSize": 25,
 "associations": [], "values": [{"id": "urn:vcloud:entity:acme:vm:1", "entityType":
 "urn:vcloud:type:acme:vm:1.0.0", "name": "vm-1", "entity": {"cpu": 2},
 "entityState": "PRE_CREATED"}, {"id": "urn:vcloud:entity:acme:vm:2", "entityType":
 "urn:vcloud:type:acme:vm:2.0.0", "name": "vm-2", "entityState": "IN_DELETION"}]}"#;
const TYPE_PAGE: &str = r#"{"resultTotal": 1, "pageCount": 1, "page": 1, "pageSize": 25,
 "values": [{"id": "urn:vcloud:type:acme:vm:1.0.0", "name": "vm", "description": "a vm",
 "nss": "vm", "version": "1.0.0", "inheritedVersion": null, "externalId": null,
 "schema": {"type": "object"}, "vendor": "acme", "interfaces": ["urn:vcloud:interface:acme:vm:1.0.0"],
 "hooks": {}, "readonly": false, "maxImplicitRight": null}]}"#;
const RESOLVED: &str = r#"{"id": "urn:vcloud:entity:acme:vm:1", "entity": {"cpu": 2},
 "state": "RESOLUTION_ERROR", "entityState": "RESOLUTION_ERROR", "message": "cpu: must be a string"}"#;
const CLOUDAPI_ERROR: &str = r#"{"minorErrorCode": "BAD_REQUEST",
 "message": "[ 9f3c-request-id ] Target entity type urn:vcloud:type:vmware:vspheresddc:9.9.9 not found",
 "stackTrace": "com.vmware.vcloud.api.presentation.service.BadRequestException: x"}"#;
const JSON_SEEDS: &[&str] = &[ENTITY, ENTITY_PAGE, TYPE_PAGE, RESOLVED, CLOUDAPI_ERROR];

const FAILED_TASK: &str = r#"<Task status="error" id="urn:vcloud:task:2" href="/api/task/2" endTime="2025-01-01T10:00:00.000Z"><Error majorErrorCode="400" minorErrorCode="BAD_REQUEST" message="no"/></Task>"#;
const XML_ERROR: &str = r#"<Error xmlns="http://www.vmware.com/vcloud/v1.5" majorErrorCode="404" minorErrorCode="RESOURCE_NOT_FOUND" message="gone" stackTrace="x"/>"#;
const VERSIONS: &str = r#"<SupportedVersions xmlns="http://www.vmware.com/vcloud/versions"><VersionInfo deprecated="false"><Version>37.2</Version><LoginUrl>https://vcd/api/sessions</LoginUrl></VersionInfo><VersionInfo deprecated="false"><Version>38.0</Version><LoginUrl>https://vcd/api/sessions</LoginUrl></VersionInfo><VersionInfo deprecated="false"><Version>40.0.0-alpha</Version><LoginUrl>x</LoginUrl></VersionInfo></SupportedVersions>"#;
const XML_SEEDS: &[&str] = &[TASK, FAILED_TASK, XML_ERROR, VERSIONS];

/// What the client makes of a task document: the task, or the typed error.
fn read_task(text: &str) -> Result<Task, crate::api_error::ApiError> {
    let http = client();
    let read = Task::from_xml(text).map_err(|err| http.unexpected("task", &err.to_string(), text));
    if let Err(err) = &read {
        check_error(err);
    }
    read
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn json_answers_decode_or_give_the_typed_error(body in mutate::json(JSON_SEEDS)) {
        let _ = decode::<Page<DefinedEntity>>(&body);
        let _ = decode::<Page<DefinedEntityType>>(&body);
        let _ = decode::<DefinedEntity>(&body);
        let _ = decode::<ResolveResult>(&body);
    }

    #[test]
    fn tasks_decode_and_round_trip(text in mutate::xml(XML_SEEDS)) {
        if let Ok(task) = read_task(&text) {
            let again = task.to_xml().ok().and_then(|xml| Task::from_xml(&xml).ok());
            prop_assert_eq!(again, Some(task));
        }
    }

    #[test]
    fn versions_decode_and_only_plain_numbers_are_kept(text in mutate::xml(XML_SEEDS)) {
        if let Ok(versions) = parse_versions(&text) {
            for version in &versions {
                prop_assert!(version.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
                prop_assert!(version_at_least(version, version));
            }
        }
    }

    #[test]
    fn versions_compare_as_numbers(
        a in proptest::collection::vec("[0-9]{1,25}", 1..4),
        b in proptest::collection::vec("[0-9]{1,25}", 1..4),
    ) {
        // Numbers of any length, compared by value: no leading zeros, then length, then digits.
        let key = |parts: &[String]| -> Vec<(usize, String)> {
            parts.iter().map(|p| {
                let digits = p.trim_start_matches('0');
                (digits.len(), digits.to_owned())
            }).collect()
        };
        let (ta, tb) = (a.join("."), b.join("."));
        prop_assert_eq!(version_at_least(&ta, &tb), key(&a) >= key(&b), "{} vs {}", ta, tb);
        let listed = parse_versions(&versions_xml(&[&ta, &tb], "https://vcd/api/sessions"));
        prop_assert_eq!(listed.ok(), Some(vec![ta, tb]));
    }
}

error_bodies_property!(
    prop_oneof![
        mutate::json(JSON_SEEDS),
        mutate::xml(XML_SEEDS).prop_map(String::into_bytes)
    ],
    parse_error
);

#[test]
fn the_seeds_decode_whole() {
    let page: Page<DefinedEntity> = decode(ENTITY_PAGE.as_bytes()).unwrap();
    assert_eq!(page.values.len(), 2);
    let types: Page<DefinedEntityType> = decode(TYPE_PAGE.as_bytes()).unwrap();
    assert_eq!(types.values[0].version, "1.0.0");
    let resolved: ResolveResult = decode(RESOLVED.as_bytes()).unwrap();
    assert_eq!(resolved.message.as_deref(), Some("cpu: must be a string"));
    assert_eq!(read_task(TASK).unwrap().progress, Some(50));
    assert!(read_task(FAILED_TASK).unwrap().error.is_some());
    assert_eq!(parse_versions(VERSIONS).unwrap(), ["37.2", "38.0"]);
    let err = status_error(404, XML_ERROR.as_bytes(), parse_error);
    assert_eq!(err.to_string(), "404 Not Found: gone (kind: not_found)");
}

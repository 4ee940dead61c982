//! The estate's OVF packages through the proxy router: a production repository URL is
//! pulled as a package generated for the appliance its file names, imported to a VM,
//! and the rough estate's broken package fails the session while its descriptor is read.

use std::time::Duration;

use serde_json::Value;

use crate::http::lab::estate::{Estate, Fault, Scenario};

use super::LabState;
use super::ovf_tests::{self, action, create, info};
use super::tests::{Client, estate_lab, lab_state};
use super::{PROXY_USER, Port};
use crate::clock::Clock;

/// Creates a pull session of `url`; its id.
async fn pull(client: &Client, url: &str) -> String {
    create(client, &ovf_tests::pull(url, None)).await
}

/// A lab serving `estate` and a proxy client of it that pulled `url`: the session's id.
async fn pulled(estate: &Estate, url: &str) -> (LabState, Clock, Client, String) {
    let (lab, clock) = estate_lab(estate);
    let client = Client::basic(&lab, Port::Proxy, true, PROXY_USER);
    let id = pull(&client, url).await;
    (lab, clock, client, id)
}

fn names(info: &Value) -> Vec<&str> {
    info["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_production_url_imports_the_appliance_its_file_names() {
    let rough = Estate::new(Scenario::Rough, 12);
    let (lab, clock, client, id) = pulled(&rough, "https://repo.example.com/apps/crm.ovf").await;
    clock.advance(Duration::from_secs(1));
    let selecting = info(&client, &id).await;
    assert_eq!(selecting["state"], "IMPORT_SELECTING_OVF_PARAMS");
    assert_eq!(
        names(&selecting),
        ["crm.ovf", "crm-disk1.vmdk", "crm-disk2.vmdk"]
    );
    let params = r#"{"instantiation_parameters": []}"#;
    assert_eq!(
        action(&client, &id, "instantiate", params).await.status,
        200
    );
    clock.advance(Duration::from_secs(3));
    let done = info(&client, &id).await;
    assert_eq!(
        (done["state"].as_str(), done["vm_id"].as_str()),
        (Some("IMPORT_COMPLETED"), Some("vm-101"))
    );
    let shown = lab_state(&lab).await;
    assert_eq!(shown["ovf_sessions"][0]["appliance"], "crm");
    assert_eq!(
        shown["ovf_sessions"][0]["pull_source"],
        "https://repo.example.com/apps/crm.ovf"
    );
}

#[tokio::test]
async fn the_rough_estates_broken_package_fails_while_its_descriptor_is_read() {
    let rough = Estate::new(Scenario::Rough, 12);
    let broken = rough.with_fault(Fault::BrokenOvf).unwrap().name.clone();
    assert_eq!(broken, "payroll");
    let url = "https://repo.example.com/apps/payroll.ovf";
    let (_lab, clock, client, id) = pulled(&rough, url).await;
    assert_eq!(info(&client, &id).await["state"], "IMPORT_OVF_TRANSFER");
    clock.advance(Duration::from_secs(1));
    let failed = info(&client, &id).await;
    assert_eq!(failed["state"], "IMPORT_ERROR");
    assert_eq!(failed["errors"][0]["category"], "INPUT");
    let issue = &failed["errors"][0]["issues"][0];
    assert_eq!(
        (
            issue["category"].as_str(),
            issue["file"].as_str(),
            issue["line_number"].as_i64(),
            issue["column_number"].as_i64()
        ),
        (Some("PARSE_ERROR"), Some("payroll.ovf"), Some(5), Some(3))
    );
    assert_eq!(
        issue["message"]["default_message"],
        "the descriptor is not well-formed XML: ill-formed document: expected `</File>`, but `</References>` was found"
    );
    // The same package is good in the happy estate.
    let (_lab, clock, client, id) = pulled(&Estate::default(), url).await;
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        info(&client, &id).await["state"],
        "IMPORT_SELECTING_OVF_PARAMS"
    );
}

#[tokio::test]
async fn only_descriptor_urls_are_served() {
    let url = "https://repo.example.com/apps/crm.ova";
    let (_lab, clock, client, id) = pulled(&Estate::default(), url).await;
    clock.advance(Duration::from_secs(1));
    let failed = info(&client, &id).await;
    assert_eq!(failed["state"], "IMPORT_ERROR");
    assert_eq!(
        failed["errors"][0]["message"]["default_message"],
        "Could not fetch https://repo.example.com/apps/crm.ova: the lab serves any descriptor URL whose file is <name>.ovf (letters, digits, `-`, `_` and `.`)."
    );
}

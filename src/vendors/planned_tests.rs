//! Under `--plan` the gate answers every change with a planned answer (204, no body,
//! `cutover-planned: 1`); the client methods that need an answer's body make the object
//! the change would have made instead, and the plan answers for it. Against the lab on
//! 127.0.0.1, none of them may reach it.

use std::sync::Arc;

use crate::http::plan::Plan;
use crate::vendors::echo::client::EchoClient;
use crate::vendors::echo::wire::JobState;
use crate::vendors::vcd::client::VcdClient;
use crate::vendors::vcd::wire::EntityState;
use crate::vendors::vcenter::client::VcenterClient;
use crate::vendors::vcenter::ovf_wire::CreateRequest;
use crate::vendors::verify_testing::Rig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_that_need_an_answer_make_a_planned_object_and_send_nothing() {
    let rig = Rig::start().await;
    let calls = Rig::calls();
    let plan = Arc::new(Plan::default());
    calls.plan_into(Arc::clone(&plan));

    let vcd = rig.target(crate::vendors::vcd::KIND);
    let director = VcdClient::new(&vcd, calls.clone(), rig.clock.clone()).unwrap();
    let from = "urn:vcloud:type:acme:vm:1";
    let task = director
        .migrate_entities(from, "urn:vcloud:type:acme:vm:2.0.0", false)
        .await
        .unwrap();
    assert_eq!(task, director.task_url("planned-1"));
    assert!(plan.touches(&vcd.name, "task", Some("planned-1")));
    let entity = "urn:vcloud:entity:acme:vm:0001";
    let resolved = director.resolve(entity).await.unwrap();
    assert_eq!(
        (resolved.id.as_str(), resolved.entity_state),
        (entity, Some(EntityState::Resolved))
    );

    let vcenter = rig.target(crate::vendors::vcenter::KIND);
    let vc = VcenterClient::new(&vcenter, calls.clone(), rig.clock.clone()).unwrap();
    let request = CreateRequest {
        client_token: Some("wave-1-crm".to_owned()),
        ..CreateRequest::pull("resgroup-8", "http://127.0.0.1:1/crm.ovf")
    };
    let session = vc.ovf_create(&request).await.unwrap();
    assert_eq!(session, "planned-wave-1-crm");
    assert!(plan.touches(&vcenter.name, "OVF import session", Some(&session)));

    let echo = rig.target(crate::vendors::echo::KIND);
    let client = EchoClient::new(&echo, calls.clone()).unwrap();
    let job = client.create("copy", 30).await.unwrap();
    assert_eq!(
        (job.id.as_str(), job.state, job.seconds),
        ("planned-copy", JobState::Running, 30)
    );
    let cancelled = client.cancel(&job.id, &job.name).await.unwrap();
    assert_eq!(
        (cancelled.id.as_str(), cancelled.state),
        ("planned-copy", JobState::Cancelled)
    );

    let operations: Vec<String> = plan.changes().into_iter().map(|c| c.operation).collect();
    assert_eq!(
        operations,
        [
            "migrate_entities",
            "resolve",
            "ovf_import",
            "create",
            "cancel"
        ]
    );
    rig.assert_untouched(&[
        crate::vendors::vcd::KIND,
        crate::vendors::vcenter::KIND,
        crate::vendors::echo::KIND,
    ])
    .await;
    rig.lab.shutdown().await;
}

//! Every mutating call of the Cloud Director client, once, against its lab target.

use crate::api_error::ApiError;
use crate::clock::Clock;
use crate::config::Target;
use crate::http::call_record::CallRecord;
use crate::vendors::Driven;

/// Migrates entities, cancels the task and resolves an entity.
pub(super) fn drive(director: Target, record: CallRecord) -> Driven {
    Box::pin(async move {
        let vcd = super::client::VcdClient::new(&director, record, Clock::wall()).unwrap();
        let mut errors = Vec::new();
        let task = vcd
            .migrate_entities(
                "urn:vcloud:type:acme:vm:1.0.0",
                "urn:vcloud:type:acme:vm:2.0.0",
                false,
            )
            .await;
        let task = task.unwrap_or_else(|err| {
            errors.push(err);
            reqwest::Url::parse(&format!("{}/api/task/0000", director.url)).unwrap()
        });
        let mut note = |result: Result<(), ApiError>| errors.extend(result.err());
        note(vcd.cancel_task(&task).await);
        note(
            vcd.resolve("urn:vcloud:entity:acme:vm:0000")
                .await
                .map(drop),
        );
        errors
    })
}

//! Every mutating call of the Huawei SMS client, once, against its lab target.

use crate::clock::Clock;
use crate::config::Target;
use crate::http::call_record::CallRecord;
use crate::vendors::Driven;

/// Sends every task operation of the API to the lab's first task.
pub(super) fn drive(target: Target, record: CallRecord) -> Driven {
    Box::pin(async move {
        let sms = super::client::SmsClient::new(&target, record, Clock::wall()).unwrap();
        let mut errors = Vec::new();
        let task = sms
            .tasks(&super::client::TaskQuery::default())
            .await
            .unwrap();
        let id = task[0].task.id.clone();
        for operation in super::wire::OPERATIONS {
            errors.extend(
                sms.action(&id, operation, serde_json::Map::new())
                    .await
                    .err(),
            );
        }
        errors
    })
}

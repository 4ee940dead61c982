//! Every mutating call of the echo client, once, against its lab target.

use crate::config::Target;
use crate::http::call_record::CallRecord;
use crate::vendors::Driven;

/// Starts a job and cancels it.
pub(super) fn drive(toy: Target, record: CallRecord) -> Driven {
    Box::pin(async move {
        let toy = super::client::EchoClient::new(&toy, record).unwrap();
        let result = match toy.create("drive", 3600).await {
            Ok(job) => toy.cancel(&job.id, &job.name).await.map(drop),
            Err(err) => Err(err),
        };
        result.err().into_iter().collect()
    })
}

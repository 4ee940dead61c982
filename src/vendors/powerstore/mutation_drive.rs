//! Every mutating call of the PowerStore client, once, against its lab target.

use crate::api_error::ApiError;
use crate::clock::Clock;
use crate::config::Target;
use crate::http::call_record::CallRecord;
use crate::vendors::Driven;

/// Pauses, resumes, cancels and cuts over the lab's import sessions.
pub(super) fn drive(array: Target, record: CallRecord) -> Driven {
    Box::pin(async move {
        let ps = super::client::PowerStoreClient::new(&array, record, Clock::wall()).unwrap();
        let mut errors = Vec::new();
        let mut note = |result: Result<(), ApiError>| errors.extend(result.err());
        note(ps.pause("wave1-lun03").await);
        note(ps.resume("wave1-lun03").await);
        note(ps.cancel("wave1-lun04", false).await);
        note(ps.cutover("wave1-lun05").await);
        errors
    })
}

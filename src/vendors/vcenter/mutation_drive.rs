//! Every mutating call of the vCenter client, once, against its lab target: the
//! historical-data import's actions and an OVF import session from create to delete.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::api_error::ApiError;
use crate::clock::Clock;
use crate::config::Target;
use crate::http::call_record::CallRecord;
use crate::vendors::Driven;

/// Drives the history actions and an OVF session's calls.
pub(super) fn drive(vc: Target, record: CallRecord) -> Driven {
    Box::pin(async move {
        let vcenter = super::client::VcenterClient::new(&vc, record, Clock::wall()).unwrap();
        let mut errors = Vec::new();
        let mut note = |result: Result<(), ApiError>| errors.extend(result.err());
        for action in [
            super::wire::HistoryAction::Start,
            super::wire::HistoryAction::Pause,
            super::wire::HistoryAction::Resume,
            super::wire::HistoryAction::Cancel,
        ] {
            note(vcenter.history_action(action, None).await);
        }
        let package = format!("{}/packages/web.ovf", vc.url);
        let create = super::ovf_wire::CreateRequest::pull("resgroup-8", &package);
        let session = match vcenter.ovf_create(&create).await {
            Ok(id) => id,
            Err(err) => {
                errors.push(err);
                "session-0".to_owned()
            }
        };
        let mut note = |result: Result<(), ApiError>| errors.extend(result.err());
        note(vcenter.ovf_preview("<Envelope/>").await.map(drop));
        note(vcenter.ovf_probe(&package).await.map(drop));
        note(
            vcenter
                .ovf_try_instantiate(&session, Vec::new())
                .await
                .map(drop),
        );
        note(vcenter.ovf_instantiate(&session, Vec::new()).await);
        note(vcenter.ovf_progress(&session, 10).await);
        let dir = tempfile::tempdir().unwrap();
        let url = format!("{}/nfc/{session}/disk.vmdk", vc.url);
        let (entry, file) = super::ovf_push::test_disk(dir.path(), url);
        let sent = Arc::new(AtomicU64::new(0));
        note(vcenter.ovf_upload(&session, &entry, &file, sent).await);
        note(vcenter.ovf_delete(&session).await);
        errors
    })
}

//! Uploading local files into a push import session: every file streams from disk on
//! its own request, all at once, while the session is kept alive with `progress`
//! reports (vendor-apis.md §3.4: push clients in EXTERNAL_TRANSFER_MODE must send them).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::api_error::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::file_gate::GatedFile;
use crate::vendors::vcenter::client::VcenterClient;
use crate::vendors::vcenter::ovf_wire::{ImportInfo, ImportState, OvfFileInfo};

/// Clock time between two keep-alive reports while files upload, unless a script says.
pub const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(10);
/// Wall time between two reports at least, whatever the clock's speed.
const KEEP_ALIVE_FLOOR: Duration = Duration::from_millis(20);

/// One local file bound for one session file.
#[derive(Debug)]
pub struct Upload {
    pub entry: OvfFileInfo,
    pub file: GatedFile,
}

/// Matches a session file named `name` to the local `file`, refusing a name the session
/// does not list, a file that is not pushed, or a size other than the descriptor's.
pub fn plan(info: &ImportInfo, name: &str, file: GatedFile) -> Result<Upload, ApiError> {
    let fail = |message: String| Err(ApiError::new(ErrorKind::Validation, message));
    let Some(entry) = info.files.iter().find(|f| f.name == name) else {
        let names: Vec<&str> = info.files.iter().map(|f| f.name.as_str()).collect();
        return fail(format!(
            "the session has no file `{name}`; in {} it lists: {}",
            info.state.as_str(),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        ));
    };
    let expected = u64::try_from(entry.size).unwrap_or(0);
    if entry.file_type != "OVF" && expected > 0 && expected != file.len {
        return fail(format!(
            "`{}` is {} bytes but the descriptor says `{name}` has {expected}",
            file.path.display(),
            file.len
        ));
    }
    Ok(Upload {
        entry: entry.clone(),
        file,
    })
}

/// Uploads every file of `uploads` at once into session `id`, and reports progress
/// every `keep_alive` while the session is in IMPORT_FILE_TRANSFER. The first failed
/// upload ends the push; the others are dropped with it.
pub async fn push_all(
    client: Arc<VcenterClient>,
    clock: &Clock,
    keep_alive: Duration,
    id: &str,
    before: &ImportInfo,
    uploads: Vec<Upload>,
) -> Result<(), ApiError> {
    let sent = Arc::new(AtomicU64::new(0));
    let progress = Progress::of(before, &uploads);
    let mut running = JoinSet::new();
    for upload in uploads {
        let client = client.clone();
        let sent = sent.clone();
        let id = id.to_owned();
        running.spawn(async move {
            let started = Instant::now();
            client
                .ovf_upload(&id, &upload.entry, &upload.file, sent)
                .await?;
            tracing::info!(
                file = %upload.entry.name,
                bytes = upload.file.len,
                seconds = started.elapsed().as_secs_f64(),
                "uploaded"
            );
            Ok::<(), ApiError>(())
        });
    }
    // One timer across the whole push: an upload finishing must not put the next
    // report off, or files ending close together would starve the keep-alive.
    let next_report = || {
        Box::pin(async {
            clock.sleep(keep_alive).await;
            tokio::time::sleep(KEEP_ALIVE_FLOOR).await;
        })
    };
    let mut tick = next_report();
    loop {
        tokio::select! {
            next = running.join_next() => match next {
                None => return Ok(()),
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(err))) => return Err(err),
                Some(Err(err)) => {
                    return Err(ApiError::new(ErrorKind::Http, format!("an upload stopped: {err}")));
                }
            },
            () = &mut tick => {
                report(&client, id, progress.percent(sent.load(Ordering::Relaxed))).await;
                tick = next_report();
            }
        }
    }
}

/// Tells the session how far the push has got, if it is transferring files; a report
/// that fails is only logged, since the uploads themselves say whether the push worked.
async fn report(client: &VcenterClient, id: &str, percent: u8) {
    let transferring = match client.ovf_session(id).await {
        Ok(info) => info.state == ImportState::ImportFileTransfer,
        Err(err) => {
            tracing::warn!("cannot read import session {id} while pushing: {err}");
            false
        }
    };
    if transferring {
        if let Err(err) = client.ovf_progress(id, percent).await {
            tracing::warn!("cannot report progress of import session {id}: {err}");
        }
    }
}

/// The share of the session's bytes that are in, counting those this push has sent.
#[derive(Debug)]
struct Progress {
    /// Bytes of files this push does not send that are in already.
    elsewhere: u64,
    total: u64,
}

impl Progress {
    fn of(info: &ImportInfo, uploads: &[Upload]) -> Self {
        let pushed = |f: &OvfFileInfo| uploads.iter().any(|u| u.entry.name == f.name);
        let bytes = |v: i64| u64::try_from(v).unwrap_or(0);
        let elsewhere = info
            .files
            .iter()
            .filter(|f| !pushed(f))
            .map(|f| bytes(f.bytes_transferred))
            .sum();
        let sizes: u64 = info.files.iter().map(|f| bytes(f.size)).sum();
        let pushing: u64 = uploads.iter().map(|u| u.file.len).sum();
        let total = sizes.max(elsewhere + pushing);
        Self { elsewhere, total }
    }

    /// Never 100 while uploads run: the server says when everything is in.
    fn percent(&self, sent: u64) -> u8 {
        if self.total == 0 {
            return 0;
        }
        let share = (self.elsewhere + sent).saturating_mul(100) / self.total;
        u8::try_from(share.min(99)).unwrap_or(99)
    }
}

/// A 4-byte disk, `disk.vmdk`, written in `dir` and gated, with the entry a session lists
/// for it at `file_url`: the upload the client tests push.
#[cfg(test)]
pub fn test_disk(dir: &std::path::Path, file_url: String) -> (OvfFileInfo, GatedFile) {
    let path = dir.join("disk.vmdk");
    std::io::Write::write_all(&mut std::fs::File::create(&path).unwrap(), b"disk").unwrap();
    let entry = OvfFileInfo {
        name: "disk.vmdk".to_owned(),
        file_type: "DISK".to_owned(),
        optional_upload: false,
        file_url: Some(file_url),
        ssl_thumb_print: None,
        upload_method: None,
        size: 4,
        bytes_transferred: 0,
        sha256: None,
    };
    (entry, GatedFile { path, len: 4 })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn entry(name: &str, file_type: &str, size: i64, transferred: i64) -> OvfFileInfo {
        OvfFileInfo {
            name: name.to_owned(),
            file_type: file_type.to_owned(),
            optional_upload: false,
            file_url: Some(format!("https://vc/nfc/{name}")),
            ssl_thumb_print: None,
            upload_method: Some("PUT".to_owned()),
            size,
            bytes_transferred: transferred,
            sha256: None,
        }
    }

    fn info(files: Vec<OvfFileInfo>) -> ImportInfo {
        serde_json::from_value(serde_json::json!({
            "state": "IMPORT_FILE_TRANSFER", "progress": 0, "files": files,
            "errors": [], "warnings": [], "information": []
        }))
        .unwrap()
    }

    fn local(len: u64) -> GatedFile {
        GatedFile {
            path: PathBuf::from("/data/disk.vmdk"),
            len,
        }
    }

    #[test]
    fn a_plan_checks_the_name_and_the_size() {
        let session = info(vec![
            entry("app.ovf", "OVF", 900, 900),
            entry("disk1.vmdk", "DISK", 4096, 0),
        ]);
        assert!(plan(&session, "disk1.vmdk", local(4096)).is_ok());
        let unknown = plan(&session, "disk9.vmdk", local(4096)).unwrap_err();
        assert!(
            unknown.message.contains("it lists: app.ovf, disk1.vmdk"),
            "{unknown}"
        );
        let wrong = plan(&session, "disk1.vmdk", local(10)).unwrap_err();
        assert!(
            wrong
                .message
                .contains("is 10 bytes but the descriptor says"),
            "{wrong}"
        );
    }

    #[test]
    fn progress_counts_what_is_in_and_stops_short_of_100() {
        let session = info(vec![
            entry("app.ovf", "OVF", 1000, 1000),
            entry("disk1.vmdk", "DISK", 3000, 0),
            entry("disk2.vmdk", "DISK", 6000, 6000),
        ]);
        let uploads = vec![plan(&session, "disk1.vmdk", local(3000)).unwrap()];
        let progress = Progress::of(&session, &uploads);
        assert_eq!(progress.percent(0), 70);
        assert_eq!(progress.percent(1500), 85);
        assert_eq!(progress.percent(3000), 99);
        let empty = Progress::of(&info(Vec::new()), &[]);
        assert_eq!(empty.percent(0), 0);
    }
}

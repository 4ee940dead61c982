//! OVF import sessions (vendor-apis.md §3.4) on the lab clock: each moves forward
//! whenever the lab is read, never by background tasks, and is reclaimed once ended or
//! idle for [`OvfSessions::reclaim_after`].

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::http::lab::timestamp;
use crate::vendors::vcenter::ovf::{ParseIssue, parse_descriptor};
use crate::vendors::vcenter::ovf_wire::{
    CreateRequest, ImportInfo, ImportState, OvfFileInfo, OvfProblem, SourceType,
};
use crate::vendors::vcenter::wire::VapiErrorKind;

use super::error::LabError;
use super::ovf_packages::{self, Package, Packages};

/// Resource pools a session may target.
pub(super) const RESOURCE_POOLS: [&str; 2] = ["resgroup-8", "resgroup-9"];
/// Lab-seconds a pull session takes to fetch its descriptor.
pub(super) const OVF_TRANSFER_SECONDS: u64 = 1;
/// Lab-seconds a pull session takes to fetch its disks after instantiate.
pub(super) const FILE_TRANSFER_SECONDS: u64 = 2;
/// Lab-seconds the VM takes to be created once every file is in.
pub(super) const INSTANTIATE_SECONDS: u64 = 1;
/// Default lab-seconds after which ended or idle sessions are reclaimed: an hour, so a
/// rehearsal at a high `--speed` on a busy machine does not lose a session between two
/// reads of one script thread.
pub(super) const DEFAULT_RECLAIM_SECONDS: u64 = 3600;

/// One import session.
#[derive(Clone, Debug)]
pub(super) struct OvfSession {
    pub(super) id: String,
    pub(super) client_token: Option<String>,
    pub(super) source: SourceType,
    pub(super) pull_source: Option<String>,
    pub(super) state: ImportState,
    /// When the session entered its state.
    pub(super) since: SystemTime,
    /// The last get, upload or progress.
    pub(super) last_used: SystemTime,
    pub(super) files: Vec<OvfFileInfo>,
    /// Files whose upload has finished.
    pub(super) done: Vec<String>,
    pub(super) errors: Vec<OvfProblem>,
    pub(super) mode: Option<&'static str>,
    pub(super) last_progress: Option<i64>,
    /// Uploads streaming now, and the most there have been at once.
    pub(super) uploads_now: u32,
    pub(super) uploads_peak: u32,
    pub(super) parameters: Option<Vec<Value>>,
    pub(super) vm_id: Option<String>,
    /// The appliance the descriptor describes (its `VirtualSystem` id), once read.
    pub(super) appliance: Option<String>,
    pub(super) base: String,
}

impl OvfSession {
    fn enter(&mut self, state: ImportState, at: SystemTime) {
        self.state = state;
        self.since = at;
    }

    fn after(&self, seconds: u64) -> SystemTime {
        self.since + Duration::from_secs(seconds)
    }

    /// A file entry; push sessions get the URL to upload it to.
    pub(super) fn file(&self, name: &str, size: u64) -> OvfFileInfo {
        let push = self.source == SourceType::PushSource;
        OvfFileInfo {
            name: name.to_owned(),
            file_type: file_type(name).to_owned(),
            optional_upload: false,
            file_url: push.then(|| format!("{}/_lab/nfc/{}/{name}", self.base, self.id)),
            ssl_thumb_print: None,
            upload_method: push.then(|| "PUT".to_owned()),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            bytes_transferred: 0,
            sha256: None,
        }
    }

    /// Reads the descriptor `file` (of `package`, for a pull session): its files are
    /// listed and parameters can be selected, or the session fails with the parse issue.
    pub(super) fn accept_descriptor(
        &mut self,
        file: &str,
        text: &str,
        package: Option<&Package>,
        at: SystemTime,
    ) {
        match parse_descriptor(file, text) {
            Ok(descriptor) => {
                for entry in descriptor.files {
                    let size = entry
                        .size
                        .or_else(|| package.and_then(|p| ovf_packages::size_of(p, &entry.href)));
                    let info = self.file(&entry.href, size.unwrap_or(0));
                    self.files.push(info);
                }
                self.appliance = descriptor.name;
                self.enter(ImportState::ImportSelectingOvfParams, at);
            }
            Err(issue) => {
                self.errors.push(input_problem(issue));
                self.enter(ImportState::ImportError, at);
            }
        }
    }

    fn fail(&mut self, message: String, at: SystemTime) {
        self.errors.push(OvfProblem {
            category: "INPUT".to_owned(),
            issues: Vec::new(),
            name: None,
            value: self.pull_source.clone(),
            message: Some(crate::vendors::vcenter::wire::LocalizableMessage::new(
                "com.vmware.ovfs.ovfs-main.ovfs.fetch_error",
                message,
            )),
            error: None,
        });
        self.enter(ImportState::ImportError, at);
    }

    /// Fetches the descriptor of a pull session from the lab's own packages.
    fn fetch_descriptor(&mut self, packages: &Packages, at: SystemTime) {
        let url = self.pull_source.clone().unwrap_or_default();
        let found = packages
            .at_url(&url)
            .and_then(|(p, file)| (file == p.descriptor).then_some(p));
        match found {
            Some(package) => {
                let mut entry = self.file(&package.descriptor, package.text.len() as u64);
                entry.bytes_transferred = entry.size;
                self.files.push(entry);
                self.done.push(package.descriptor.clone());
                self.accept_descriptor(&package.descriptor, &package.text, Some(&package), at);
            }
            None => self.fail(
                format!("Could not fetch {url}: the lab serves any descriptor URL whose file is <name>.ovf (letters, digits, `-`, `_` and `.`)."),
                at,
            ),
        }
    }

    /// Whether every non-optional file has been uploaded.
    pub(super) fn all_done(&self) -> bool {
        self.files
            .iter()
            .all(|f| f.optional_upload || self.done.contains(&f.name))
    }

    /// One transition due by `now`, if any.
    fn step(&mut self, now: SystemTime, packages: &Packages, next_vm: &mut u64) -> bool {
        let pull = self.source != SourceType::PushSource;
        match self.state {
            ImportState::ImportOvfTransfer if pull && now >= self.after(OVF_TRANSFER_SECONDS) => {
                let at = self.after(OVF_TRANSFER_SECONDS);
                self.fetch_descriptor(packages, at);
            }
            ImportState::ImportFileTransfer if pull && now >= self.after(FILE_TRANSFER_SECONDS) => {
                for file in &mut self.files {
                    file.bytes_transferred = file.size;
                }
                self.done = self.files.iter().map(|f| f.name.clone()).collect();
                let at = self.after(FILE_TRANSFER_SECONDS);
                self.enter(ImportState::ImportInstantiating, at);
            }
            ImportState::ImportFileTransfer if !pull && self.all_done() => {
                self.enter(ImportState::ImportInstantiating, now);
            }
            ImportState::ImportInstantiating if now >= self.after(INSTANTIATE_SECONDS) => {
                *next_vm += 1;
                self.vm_id = Some(format!("vm-{next_vm}"));
                let at = self.after(INSTANTIATE_SECONDS);
                self.enter(ImportState::ImportCompleted, at);
            }
            _ => return false,
        }
        true
    }

    /// The Info of `GET …/id:{id}`.
    pub(super) fn info(&self) -> ImportInfo {
        let total: i64 = self.files.iter().map(|f| f.size).sum();
        let moved: i64 = self
            .files
            .iter()
            .map(|f| f.bytes_transferred.min(f.size))
            .sum();
        let progress = match self.state {
            ImportState::ImportCompleted => 100,
            ImportState::ImportInstantiating => 90,
            ImportState::ImportFileTransfer => {
                self.last_progress
                    .unwrap_or(if total > 0 { moved * 89 / total } else { 0 })
            }
            _ => 0,
        };
        ImportInfo {
            state: self.state,
            progress,
            file_transfer_mode: self.mode.map(str::to_owned),
            files: self.files.clone(),
            errors: self.errors.clone(),
            warnings: Vec::new(),
            information: Vec::new(),
            vm_id: self.vm_id.clone(),
            vapp_id: None,
            customization_results: None,
        }
    }

    /// The session as `/_lab/state` shows it.
    pub(super) fn summary(&self) -> Value {
        json!({
            "id": self.id,
            "state": self.state.as_str(),
            "source": self.source,
            "pull_source": self.pull_source,
            "client_token": self.client_token,
            "since": timestamp(self.since),
            "last_used": timestamp(self.last_used),
            "last_progress": self.last_progress,
            "uploads_now": self.uploads_now,
            "uploads_peak": self.uploads_peak,
            "vm_id": self.vm_id,
            "appliance": self.appliance,
            "files": self.files.iter().map(|f| json!({
                "name": f.name, "size": f.size, "bytes_transferred": f.bytes_transferred,
                "done": self.done.contains(&f.name),
            })).collect::<Vec<_>>(),
        })
    }
}

fn file_type(name: &str) -> &'static str {
    match name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
    {
        Some(ext) if ext == "ovf" => "OVF",
        Some(ext) if ext == "vmdk" => "DISK",
        Some(ext) if ext == "mf" => "MANIFEST",
        Some(ext) if ext == "cert" => "CERT",
        Some(ext) if ext == "nvram" => "NVRAM",
        _ => "CONTENT",
    }
}

/// 404 `not_found` for a session that does not exist (any more).
pub(super) fn no_session(id: &str) -> LabError {
    LabError::new(
        VapiErrorKind::NotFound,
        "com.vmware.vapi.std.errors.not_found",
        format!("There is no import session {id}; it may have been reclaimed or deleted."),
    )
}

/// 400 `not_allowed_in_current_state`.
pub(super) fn not_allowed(op: &str, state: ImportState) -> LabError {
    LabError::new(
        VapiErrorKind::NotAllowedInCurrentState,
        "com.vmware.vcenter.ovf.import_session.state",
        format!("{op} is not allowed in state {}.", state.as_str()),
    )
    .with_arg(state.as_str())
}

/// Every import session of the lab.
#[derive(Debug)]
pub(super) struct OvfSessions {
    pub(super) list: Vec<OvfSession>,
    rng: fastrand::Rng,
    next_vm: u64,
    pub(super) reclaim_after: Duration,
    /// The packages pull sessions read.
    pub(super) packages: Packages,
    /// While `true`, a disk upload that has started waits before reading its body, so
    /// a test sees pushes in flight for as long as it needs (`/_lab/ovf`).
    held: tokio::sync::watch::Sender<bool>,
}

impl OvfSessions {
    pub(super) fn new(seed: u64, packages: Packages) -> Self {
        Self {
            packages,
            list: Vec::new(),
            rng: fastrand::Rng::with_seed(seed ^ 0x0F5E_5510_0F11_E500),
            next_vm: 100,
            reclaim_after: Duration::from_secs(DEFAULT_RECLAIM_SECONDS),
            held: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Holds disk uploads at their start (`true`) or lets them all go on (`false`).
    pub(super) fn hold_uploads(&self, hold: bool) {
        self.held.send_replace(hold);
    }

    /// Whether disk uploads are held.
    pub(super) fn uploads_held(&self) -> bool {
        *self.held.borrow()
    }

    /// What a started upload watches to know when it may go on.
    pub(super) fn upload_hold(&self) -> tokio::sync::watch::Receiver<bool> {
        self.held.subscribe()
    }

    /// Moves every session forward to `now`, then drops ended and idle ones.
    pub(super) fn advance(&mut self, now: SystemTime) {
        for session in &mut self.list {
            while session.step(now, &self.packages, &mut self.next_vm) {}
        }
        let reclaim = self.reclaim_after;
        self.list.retain(|s| {
            let from = if s.state.is_terminal() {
                s.since
            } else {
                s.last_used
            };
            now < from + reclaim
        });
    }

    /// A new session (`true`), or the one created before with the same client token
    /// (`false`: nothing changed).
    pub(super) fn create(
        &mut self,
        request: CreateRequest,
        base: String,
        now: SystemTime,
    ) -> Result<(String, bool), LabError> {
        if let Some(token) = &request.client_token {
            if let Some(old) = self
                .list
                .iter()
                .find(|s| s.client_token.as_ref() == Some(token))
            {
                return Ok((old.id.clone(), false));
            }
        }
        if !RESOURCE_POOLS.contains(&request.resource_pool.as_str()) {
            return Err(LabError::new(
                VapiErrorKind::NotFound,
                "com.vmware.vapi.std.errors.not_found",
                format!(
                    "There is no resource pool {}; the lab has {}.",
                    request.resource_pool,
                    RESOURCE_POOLS.join(" and ")
                ),
            ));
        }
        let spec = request.create_spec;
        match spec.source_type {
            SourceType::PullSource if spec.pull_source.is_none() => {
                return Err(LabError::invalid_argument(
                    "A PULL_SOURCE session needs create_spec.pull_source.",
                ));
            }
            SourceType::ContentLibrarySource => {
                return Err(LabError::invalid_argument(
                    "The lab imports PUSH_SOURCE and PULL_SOURCE packages only.",
                ));
            }
            _ => {}
        }
        let id = format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            self.rng.u32(..),
            self.rng.u16(..),
            self.rng.u16(..),
            self.rng.u16(..),
            self.rng.u64(..) & 0xFFFF_FFFF_FFFF
        );
        let mut session = OvfSession {
            id: id.clone(),
            client_token: request.client_token,
            source: spec.source_type,
            pull_source: spec.pull_source,
            state: ImportState::ImportOvfTransfer,
            since: now,
            last_used: now,
            files: Vec::new(),
            done: Vec::new(),
            errors: Vec::new(),
            mode: None,
            last_progress: None,
            uploads_now: 0,
            uploads_peak: 0,
            parameters: None,
            vm_id: None,
            appliance: None,
            base,
        };
        if session.source == SourceType::PushSource {
            let descriptor = session.file("descriptor.ovf", 0);
            session.files.push(descriptor);
        }
        self.list.push(session);
        Ok((id, true))
    }

    /// The session `id`, marked as used at `now`.
    pub(super) fn touch(&mut self, id: &str, now: SystemTime) -> Result<&mut OvfSession, LabError> {
        let session = self.get(id)?;
        session.last_used = now;
        Ok(session)
    }

    /// The session `id`.
    pub(super) fn get(&mut self, id: &str) -> Result<&mut OvfSession, LabError> {
        self.list
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| no_session(id))
    }

    /// Deletes (cancels) the session `id`.
    pub(super) fn remove(&mut self, id: &str) -> Result<(), LabError> {
        let before = self.list.len();
        self.list.retain(|s| s.id != id);
        if self.list.len() == before {
            return Err(no_session(id));
        }
        Ok(())
    }
}

/// The `INPUT` problem a descriptor that does not parse is reported as, by a session and
/// by a probe alike.
pub(super) fn input_problem(issue: ParseIssue) -> OvfProblem {
    OvfProblem {
        category: "INPUT".to_owned(),
        message: Some(issue.message.clone()),
        issues: vec![issue],
        name: None,
        value: None,
        error: None,
    }
}

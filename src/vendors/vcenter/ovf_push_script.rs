//! `push()` on an OVF import session handle: local files, checked by the script's file
//! gate, uploaded into a push import by [`super::ovf_push`].

use std::time::Duration;

use rhai::{Engine, EvalAltResult, FuncRegistration, Map, NativeCallContext};

use crate::api_error::{ApiError, ErrorKind};
use crate::file_gate::{FileGate, GatedFile};
use crate::script::error_value::{invalid_argument, raise};
use crate::script::flow::poll;
use crate::script::options::{Options, spelled};
use crate::vendors::vcenter::ovf_push::{KEEP_ALIVE_EVERY, plan, push_all};
use crate::vendors::vcenter::ovf_script::{OvfImport, problem};
use crate::vendors::vcenter::ovf_wire::ImportState;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// How long a pushed descriptor may take to be read, and how often to look.
const DESCRIPTOR_TIMEOUT: Duration = Duration::from_secs(300);
const DESCRIPTOR_EVERY: Duration = Duration::from_secs(1);
const PUSH: &str = "ovf.push";

impl OvfImport {
    /// Uploads local files (session file name → path): descriptors first, so the files
    /// they reference are listed, then everything else at once.
    fn push(&self, context: &NativeCallContext, files: Map, options: Map) -> RhaiResult<Self> {
        let options = Options::new(PUSH, options, &["keep_alive"])?;
        let keep_alive = options.duration("keep_alive", KEEP_ALIVE_EVERY)?;
        let gate = FileGate::of(context).map_err(|err| raise(self.located(err)))?;
        let mut checked = Vec::new();
        for (name, path) in files {
            let path = path.into_string().map_err(|found| {
                invalid_argument(
                    PUSH,
                    format!("the path of `{name}` must be a string, not {found}"),
                )
            })?;
            let file = gate
                .check(&path, PUSH)
                .map_err(|err| raise(self.located(err)))?;
            checked.push((name.to_string(), file));
        }
        self.refresh()?;
        let listed = self.snapshot();
        let (descriptors, others): (Vec<_>, Vec<_>) = checked.into_iter().partition(|(name, _)| {
            listed
                .files
                .iter()
                .any(|f| f.name == *name && f.file_type == "OVF")
        });
        if !descriptors.is_empty() {
            self.upload(descriptors, keep_alive)?;
            self.await_descriptor()?;
        }
        if !others.is_empty() {
            self.upload(others, keep_alive)?;
        }
        self.refresh()
    }

    fn upload(&self, files: Vec<(String, GatedFile)>, keep_alive: Duration) -> RhaiResult<()> {
        let info = self.snapshot();
        let uploads = files
            .into_iter()
            .map(|(name, file)| plan(&info, &name, file))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| raise(self.located(err)))?;
        let host = self.job().remote.host();
        self.job().remote.run(push_all(
            self.job().remote.shared_client(),
            host.clock(),
            keep_alive,
            &self.job().id,
            &info,
            uploads,
        ))
    }

    /// Waits until vCenter has read a pushed descriptor, failing with its parse issue.
    fn await_descriptor(&self) -> RhaiResult<()> {
        let read = poll(
            self.job().remote.host(),
            DESCRIPTOR_TIMEOUT,
            DESCRIPTOR_EVERY,
            || {
                self.refresh()?;
                let info = self.snapshot();
                match info.state {
                    // In IMPORT_MSG_BUNDLES_TRANSFER the descriptor is read and the
                    // session waits for the bundles it lists, which a push sends next.
                    ImportState::ImportOvfTransfer => Ok(None),
                    ImportState::ImportError => Err(raise(
                        self.located(
                            ApiError::new(
                                ErrorKind::InvalidState,
                                format!(
                                    "import session `{}` refused the descriptor{}",
                                    self.job().id,
                                    problem(&info)
                                ),
                            )
                            .with_state(info.state.as_str()),
                        ),
                    )),
                    _ => Ok(Some(())),
                }
            },
        )?;
        read.ok_or_else(|| {
            raise(self.located(ApiError::new(
                ErrorKind::Timeout,
                format!(
                    "import session `{}` did not read the pushed descriptor",
                    self.job().id
                ),
            )))
        })
    }

    fn located(&self, err: ApiError) -> ApiError {
        err.at(self.job().remote.client().target(), PUSH)
    }
}

/// Registers `push`.
pub(super) fn register(engine: &mut Engine) {
    FuncRegistration::new("push")
        .with_comments(["/// Uploads local files into a push import: `#{ \"disk1.vmdk\": \"disks/disk1.vmdk\", … }`\n/// maps session file names to paths (relative to the playbook's folder; see\n/// `--allow-read`). The descriptor goes first; the other files then stream at once,\n/// never read whole into memory, with `progress` keep-alives while they transfer.\n/// Returns the refreshed session."])
        .with_params_info(["session: OvfImport", "files: Map", "OvfImport"])
        .register_into_engine(engine, |context: NativeCallContext, s: &mut OvfImport, files: Map| s.push(&context, files, Map::new()));
    FuncRegistration::new("push")
        .with_comments([format!(
            "/// `push(files)` with options: `keep_alive`, how often progress is reported while\n/// files transfer (default \"{}\"; shorter than the server's idle timeout).",
            spelled(KEEP_ALIVE_EVERY)
        )])
        .with_params_info(["session: OvfImport", "files: Map", "options: Map", "OvfImport"])
        .register_into_engine(engine, |context: NativeCallContext, s: &mut OvfImport, files: Map, options: Map| s.push(&context, files, options));
    FuncRegistration::new("push")
        .with_comments([
            "/// Uploads one local file as the session file `name`; see `push(files)`.",
        ])
        .with_params_info([
            "session: OvfImport",
            "name: &str",
            "path: &str",
            "OvfImport",
        ])
        .register_into_engine(
            engine,
            |context: NativeCallContext, s: &mut OvfImport, name: &str, path: &str| {
                let mut files = Map::new();
                files.insert(name.into(), path.into());
                s.push(&context, files, Map::new())
            },
        );
}

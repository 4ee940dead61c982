//! `Runtime`: the embeddable way to run playbooks. It owns the tokio runtime, the script
//! host and, for rehearsals, the lab; `cutover run` is a thin shell over it.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::Targets;
use crate::http::lab::estate::Estate;
use crate::journal::fingerprint::FileHash;
use crate::lab::{ChaosSpec, Lab, LabOptions};
use crate::script::console::Console;
use crate::script::{self, Host, Limits, ScriptFile};
use crate::stop_signal::{self, StopSignal};

/// How long an interrupted script gets to notice before the run gives up on it.
const GRACE: Duration = Duration::from_secs(3);

/// Why a run did not succeed. Diagnostics are rendered for a terminal already.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The script or one of its imports does not compile.
    #[error("{0}")]
    Compile(String),
    /// A target the script names is missing or unusable.
    #[error("{0}")]
    Config(String),
    /// The script ran and failed; any reasons it gave `fail_run` are rendered too.
    #[error("{0}")]
    Script(String),
    /// The script ran to its end and marked the run failed with `fail_run`, for these
    /// reasons.
    #[error("the playbook marked the run failed: {}", .0.join("; "))]
    Marked(Vec<String>),
    /// The run was cancelled (SIGINT, SIGTERM, or its token) before its end.
    #[error("interrupted{}; the run stopped before its end", by(*.signal))]
    Interrupted {
        /// The signal that stopped it; `None` when an embedder cancelled the token.
        signal: Option<StopSignal>,
        /// Reasons the script gave `fail_run` before it stopped.
        marked: Vec<String>,
    },
    /// The script thread could not start or vanished.
    #[error("{0}")]
    Thread(String),
}

/// A playbook compiled with its imports, ready to run.
pub struct Compiled {
    engine: rhai::Engine,
    ast: rhai::AST,
    /// The playbook, then each module it imports, with the hash of its content.
    pub files: Vec<FileHash>,
}

/// Builds a [`Runtime`].
#[derive(Debug, Default)]
#[must_use]
pub struct RuntimeBuilder {
    targets: Targets,
    limits: Limits,
    lab_seed: Option<u64>,
    lab_tls: bool,
    estate: Estate,
    chaos: Option<ChaosSpec>,
    speed: Option<f64>,
    allowed_reads: Vec<PathBuf>,
    approve_all: bool,
}

impl RuntimeBuilder {
    /// The targets scripts may reach.
    pub fn targets(mut self, targets: Targets) -> Self {
        self.targets = targets;
        self
    }

    /// Resource limits on each script.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Starts the lab with inventory `seed` and points every target at it.
    pub fn lab(mut self, seed: u64) -> Self {
        self.lab_seed = Some(seed);
        self
    }

    /// Has the lab serve HTTPS from a CA of its own, trusted by every target through a
    /// private temporary CA file removed when the runtime ends.
    pub fn tls(mut self, tls: bool) -> Self {
        self.lab_tls = tls;
        self
    }

    /// The applications and scenario the lab seeds (default: the `happy` wave of
    /// [`crate::http::lab::estate::DEFAULT_APPS`]).
    pub fn estate(mut self, estate: Estate) -> Self {
        self.estate = estate;
        self
    }

    /// Seeded faults on the lab's vendor listeners (`--chaos`), or none.
    pub fn chaos(mut self, chaos: Option<ChaosSpec>) -> Self {
        self.chaos = chaos;
        self
    }

    /// Runs the clock (lab jobs and script sleeps) `speed` times faster.
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = Some(speed);
        self
    }

    /// Lets scripts read local files under `folders` too, not only under their own folder.
    pub fn allow_read(mut self, folders: Vec<PathBuf>) -> Self {
        self.allowed_reads = folders;
        self
    }

    /// Approves every `confirm` gate without asking (`--yes`).
    pub fn approve_all(mut self, approve_all: bool) -> Self {
        self.approve_all = approve_all;
        self
    }

    /// Starts the tokio runtime and, if asked, the lab.
    pub fn build(mut self) -> std::io::Result<Runtime> {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("cutover-io")
            .build()?;
        let clock = self.speed.map_or_else(Clock::wall, Clock::scaled);
        let lab = match self.lab_seed {
            Some(seed) => {
                let options = LabOptions {
                    port: 0,
                    seed,
                    clock: clock.clone(),
                    estate: self.estate,
                    chaos: self.chaos,
                    tls: self.lab_tls,
                    ..LabOptions::default()
                };
                let lab = tokio.block_on(Lab::start(options))?;
                self.targets.redirect_to_lab(&lab.targets());
                Some(lab)
            }
            None => None,
        };
        let cancel = CancellationToken::new();
        let host = Arc::new(
            Host::new(tokio.handle().clone(), clock, cancel, self.targets)
                .allowing_reads(self.allowed_reads)
                .approving_all(self.approve_all),
        );
        Ok(Runtime {
            tokio,
            host,
            limits: self.limits,
            lab,
            stopped_by: Arc::default(),
            stop_waiting: CancellationToken::new(),
        })
    }
}

/// A process's runtime for playbooks.
pub struct Runtime {
    tokio: tokio::runtime::Runtime,
    host: Arc<Host>,
    limits: Limits,
    lab: Option<Lab>,
    /// The signal that cancelled the run, if one did.
    stopped_by: Arc<OnceLock<StopSignal>>,
    /// Cancelled by a signal that comes once the run is cancelled: the run stops
    /// waiting for the changes still in flight.
    stop_waiting: CancellationToken,
}

impl Runtime {
    /// Starts building a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The token that cancels the run: sleeps and waits end, a busy script stops.
    pub fn cancel_token(&self) -> &CancellationToken {
        self.host.cancel_token()
    }

    /// The resource limits of each script.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Cancels the run when the process gets SIGINT (Ctrl-C) or SIGTERM, remembering
    /// which; a second one stops the wait for the changes still in flight. The handlers
    /// are in place when this returns.
    pub fn cancel_on_signals(&self) -> std::io::Result<()> {
        let mut stops = {
            let _inside = self.tokio.enter();
            stop_signal::listen()?
        };
        let cancel = self.cancel_token().clone();
        let stopped_by = Arc::clone(&self.stopped_by);
        let stop_waiting = self.stop_waiting.clone();
        self.tokio.spawn(async move {
            // The first signal stops the run, letting the changes already sent be
            // answered; the next one abandons them. The rest of the stop is bounded
            // (GRACE, then the logouts' own limit), so later ones need not do more.
            while let Some(signal) = stops.recv().await {
                if cancel.is_cancelled() {
                    stop_waiting.cancel();
                } else {
                    let _ = stopped_by.set(signal);
                    cancel.cancel();
                }
            }
        });
        Ok(())
    }

    /// Sends each SIGINT and SIGTERM the process gets, for a caller whose own thread is
    /// busy elsewhere (the REPL, blocked reading a line). The handlers are in place when
    /// this returns; the channel closes when the runtime shuts down.
    pub fn stop_signals(&self) -> std::io::Result<std::sync::mpsc::Receiver<StopSignal>> {
        let mut stops = {
            let _inside = self.tokio.enter();
            stop_signal::listen()?
        };
        let (tx, rx) = std::sync::mpsc::channel();
        self.tokio.spawn(async move {
            while let Some(signal) = stops.recv().await {
                if tx.send(signal).is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }

    /// The script host: targets, clock, clients and cancellation.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// The lab, when rehearsing.
    pub fn lab(&self) -> Option<&Lab> {
        self.lab.as_ref()
    }

    /// Runs `future` on the runtime, from a thread outside it.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.tokio.block_on(future)
    }

    /// A console that evaluates entry after entry in one scope (the REPL); `import`
    /// looks for files in `base_dir`.
    pub fn console(&self, base_dir: std::path::PathBuf) -> Result<Console, String> {
        Console::new(
            crate::engine::build,
            self.host.clone(),
            self.limits,
            base_dir,
        )
    }

    /// Makes Ctrl-C (SIGINT) stop the evaluation in progress instead of the process, as
    /// the REPL wants. The handler is in place when this returns.
    pub fn interrupt_on_ctrl_c(&self) -> std::io::Result<()> {
        let host = self.host.clone();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let _inside = self.tokio.enter();
            let mut interrupts = signal(SignalKind::interrupt())?;
            self.tokio.spawn(async move {
                while interrupts.recv().await.is_some() {
                    host.interrupt_line();
                }
            });
        }
        #[cfg(not(unix))]
        self.tokio.spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                host.interrupt_line();
            }
        });
        Ok(())
    }

    /// Compiles `file`, checks the targets it names, and runs it to the end on its own
    /// thread. A script that called `fail_run` fails with [`RunError::Marked`]; one
    /// cancelled gets `GRACE` (3 s) to notice before the run gives up on it.
    pub fn run_file(&self, file: &ScriptFile) -> Result<(), RunError> {
        let compiled = self.compile(file)?;
        self.run_compiled(file, compiled)
    }

    /// Compiles `file` with its imports and checks the targets it names, running
    /// nothing yet.
    pub fn compile(&self, file: &ScriptFile) -> Result<Compiled, RunError> {
        let base_dir = file
            .path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        let engine = crate::engine::build(&self.host, self.limits, base_dir);
        let _ = script::modules::take_loaded();
        let ast = file.compile(&engine).map_err(RunError::Compile)?;
        let mut files = vec![FileHash::of(&file.path, file.text.as_bytes())];
        files.extend(script::modules::take_loaded());
        script::preflight::check(self.host.targets(), &ast)
            .map_err(|errs| RunError::Config(file.render_all(&errs)))?;
        Ok(Compiled { engine, ast, files })
    }

    /// Runs what [`Runtime::compile`] made of `file` to the end; see [`Runtime::run_file`].
    pub fn run_compiled(&self, file: &ScriptFile, compiled: Compiled) -> Result<(), RunError> {
        let Compiled { engine, ast, .. } = compiled;
        // Reasons a script gave in an earlier run of this runtime are not this run's.
        self.host.verdict().take();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("script".into())
            .stack_size(crate::script::STACK_SIZE)
            .spawn(move || {
                crate::http::local_io::drive_here();
                let _ = done_tx.send(engine.run_ast(&ast));
                crate::http::local_io::stop_driving();
            })
            .map_err(|err| RunError::Thread(format!("cannot start the script thread: {err}")))?;
        let cancel = self.cancel_token().clone();
        let outcome = self.tokio.block_on(async {
            tokio::pin!(done_rx);
            tokio::select! {
                result = &mut done_rx => result.ok(),
                () = cancel.cancelled() => tokio::time::timeout(GRACE, done_rx).await.ok().and_then(Result::ok),
            }
        });
        self.wait_in_flight();
        let marked = self.host.verdict().take();
        if cancel.is_cancelled() {
            return Err(RunError::Interrupted {
                signal: self.stopped_by.get().copied(),
                marked,
            });
        }
        match outcome {
            Some(Ok(())) if marked.is_empty() => Ok(()),
            Some(Ok(())) => Err(RunError::Marked(marked)),
            Some(Err(err)) => {
                let mut rendered = file.render(&err);
                for reason in &marked {
                    rendered.push_str(&marked_line(reason));
                }
                Err(RunError::Script(rendered))
            }
            None => Err(RunError::Thread(
                "the script thread ended without a result".into(),
            )),
        }
    }

    /// Waits for the changes sent and not yet answered, so their real outcomes are
    /// recorded: a run stopped while one was on its way lets it finish. A signal stops
    /// the wait (the calls stay unknown outcomes). It needs no deadline of its own: each
    /// sending ends within its target's `request_limits.timeout`, answered or not.
    fn wait_in_flight(&self) {
        let in_flight = self.host.calls().in_flight();
        let count = in_flight.count();
        if count == 0 {
            return;
        }
        let changes = match count {
            1 => "1 change".to_owned(),
            n => format!("{n} changes"),
        };
        let cancel = self.cancel_token();
        let again = match (cancel.is_cancelled(), self.stopped_by.get()) {
            (true, Some(StopSignal::Terminate)) => "send SIGTERM again",
            (true, _) => "press Ctrl-C again",
            (false, _) => "press Ctrl-C",
        };
        crate::screen::around(|| {
            eprintln!("waiting for {changes} in flight to be answered; {again} to stop waiting");
        });
        // A signal during the wait of a run not stopped yet stops the run and the wait.
        let stop = if cancel.is_cancelled() {
            self.stop_waiting.clone()
        } else {
            cancel.clone()
        };
        self.tokio.block_on(async {
            tokio::select! {
                () = in_flight.settled() => {}
                () = stop.cancelled() => {}
            }
        });
    }

    /// Logs out of every target, within a bounded time even when the run was stopped
    /// (a stopped run must not leave its logins open on the arrays), and stops the lab.
    pub fn shutdown(self) {
        self.host.close();
        if let Some(lab) = self.lab {
            self.tokio.block_on(lab.shutdown());
        }
        // Blocking work still going (a large file being hashed) must not hold the exit.
        self.tokio.shutdown_timeout(GRACE);
    }
}

/// ` by SIGTERM`, or nothing when no signal stopped the run.
fn by(signal: Option<StopSignal>) -> String {
    signal
        .map(|signal| format!(" by {signal}"))
        .unwrap_or_default()
}

/// One reason given to `fail_run`, as the `error:` line a terminal shows.
pub fn marked_line(reason: &str) -> String {
    format!(
        "error: the playbook marked the run failed: {}\n",
        crate::terminal_text::escape_control(reason)
    )
}

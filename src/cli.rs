//! Command-line definitions and dispatch. The clap structs are plain data; each command's
//! module turns them, plus the target file, into a run.

mod check;
mod doc;
mod lab;
mod playbook;
mod reconcile;
mod repl;
mod run_journal;
mod runs;
mod unknown_flag;
mod watch;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::config::Targets;
use crate::exit_code::ExitCode;
use crate::http::lab::ChaosSpec;
use crate::http::lab::estate::{DEFAULT_APPS, Estate, MAX_APPS, Scenario};
use crate::script::Limits;

/// Rhai playbooks for infrastructure migrations, with a built-in lab of the vendor APIs.
#[derive(Debug, Parser)]
#[command(name = "cutover", version, about, max_term_width = 100)]
pub struct Cli {
    /// Target file naming the systems scripts may reach [default: ./cutover.toml].
    #[arg(long, global = true, env = "CUTOVER_TARGETS", value_name = "FILE")]
    targets: Option<PathBuf>,
    /// More log output: -v info, -vv debug, -vvv trace (or set CUTOVER_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a playbook to the end and exit 0 when it succeeds.
    Run(RunArgs),
    /// Compile a playbook and its imports, and check its calls and target names, without
    /// running it.
    Check(CheckArgs),
    /// List every script function with its signature and documentation.
    Doc(DocArgs),
    /// Serve the simulated vendor APIs on loopback until Ctrl-C.
    Lab(LabArgs),
    /// Evaluate script lines one by one, with history and completion, against the
    /// targets or the lab.
    Repl(ReplArgs),
    /// Run hook scripts' handlers when files arrive or change, until Ctrl-C.
    Watch(WatchArgs),
    /// List the journal's recent runs, or show one run's steps and changes.
    Runs(RunsArgs),
    /// Print shell completions.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// `cutover run`.
#[derive(Debug, Args)]
struct RunArgs {
    /// The playbook (.rhai).
    file: PathBuf,
    /// At the end, write the summary's rows, every mutating call made and the run's
    /// outcome to FILE as JSON.
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// List every change the playbook would make, without sending any: reads are sent,
    /// waits on a planned change return at once, gates are shown and not asked. Writes
    /// no journal.
    #[arg(long, conflicts_with = "resume")]
    plan: bool,
    #[command(flatten)]
    journal: JournalArgs,
    #[command(flatten)]
    rehearsal: RehearsalArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Where `run` journals its steps and mutating calls, and which run it resumes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Journal")]
struct JournalArgs {
    /// The journal: a file, or a PostgreSQL database (`postgres://user@host:port/db`, password in
    /// CUTOVER_JOURNAL_PASSWORD or CUTOVER_JOURNAL_PASSWORD_FILE, TLS with CUTOVER_JOURNAL_CA)
    /// [default: .cutover/journal.db beside the playbook].
    #[arg(long, env = "CUTOVER_JOURNAL", value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Run without a journal (even when CUTOVER_JOURNAL names one): nothing is recorded,
    /// and the run cannot be resumed.
    #[arg(long, conflicts_with = "resume")]
    no_journal: bool,
    /// Resume run ID (or `last`, the newest run of this playbook): done steps return
    /// their recorded results, and no change is sent twice.
    #[arg(long, value_name = "ID|last", value_parser = parse_run_id)]
    resume: Option<RunId>,
    /// With --resume, go on even though the playbook or an import changed since the run
    /// began.
    #[arg(long, requires = "resume")]
    force: bool,
    /// Share the run with every runner started with the same playbook and PostgreSQL
    /// journal: each joins the newest running shared run of the playbook (or begins
    /// one), the items of a top-level `parallel` go to whichever runner leases them, and
    /// a runner that dies has its items taken over.
    #[arg(long, conflicts_with_all = ["no_journal", "force"])]
    runners: bool,
    /// With --runners, the targets this runner can reach (comma-separated): it takes only
    /// items whose `targets` are among them.
    #[arg(
        long,
        requires = "runners",
        value_name = "NAME,…",
        value_delimiter = ','
    )]
    only_targets: Option<Vec<String>>,
    /// With --runners, how long a runner's leases last without renewal; it renews them
    /// every third of that, and a runner silent for that long loses its items.
    #[arg(long, requires = "runners", value_name = "DURATION", default_value = "30s", value_parser = parse_lease)]
    lease: std::time::Duration,
}

fn parse_lease(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text) {
        Ok(lease) if lease >= std::time::Duration::from_secs(1) => Ok(lease),
        Ok(_) => Err("a lease must last at least 1s".to_owned()),
        Err(err) => Err(format!(
            "`{text}` is not a duration ({err}); write it like 30s or 2m"
        )),
    }
}

/// A run named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunId {
    Id(i64),
    /// The newest run of the playbook.
    Last,
}

fn parse_run_id(text: &str) -> Result<RunId, String> {
    if text == "last" {
        return Ok(RunId::Last);
    }
    match text.parse::<i64>() {
        Ok(id) if id > 0 => Ok(RunId::Id(id)),
        _ => Err(format!(
            "`{text}` is not a run id: give the number `cutover runs` shows, or `last`"
        )),
    }
}

/// `cutover runs`.
#[derive(Debug, Args)]
struct RunsArgs {
    /// The journal: a file, or a PostgreSQL database's postgres:// URL [default: ./.cutover/journal.db].
    #[arg(long, global = true, env = "CUTOVER_JOURNAL", value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// How many runs to list, newest first.
    #[arg(long, default_value_t = 20, value_name = "N")]
    limit: usize,
    #[command(subcommand)]
    show: Option<RunsCommand>,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// Every step and every mutating call of one run, in order: the audit trail.
    Show {
        /// The run's id, or `last`.
        #[arg(value_parser = parse_run_id)]
        id: RunId,
    },
}

/// How `run`, `repl` and `watch` set up their runtime: the built-in lab, and the
/// folders scripts may read besides their own.
#[derive(Debug, Args)]
struct RehearsalArgs {
    /// Rehearse against the built-in lab: every target keeps its name but points at the
    /// lab, and each kind also gets a target named `lab`.
    #[arg(long)]
    lab: bool,
    /// With --lab, run the lab's jobs and the script's sleeps N times faster (default
    /// 300 under --lab: one lab hour is 12 s).
    #[arg(long, requires = "lab", value_name = "N", value_parser = parse_speed, allow_negative_numbers = true)]
    speed: Option<f64>,
    /// With --lab, the lab's estate: `happy` (everything succeeds) or `rough` (one
    /// failure of each kind, on different applications).
    #[arg(long, requires = "lab", value_name = "NAME", default_value = "happy", value_parser = Scenario::parse)]
    scenario: Scenario,
    /// With --lab, the number of applications in the lab's wave, 1 to 20000.
    #[arg(long, requires = "lab", value_name = "N", default_value_t = DEFAULT_APPS, value_parser = parse_apps, allow_negative_numbers = true)]
    apps: usize,
    /// With --lab, serve the lab over HTTPS from a CA of its own, which every target
    /// trusts for the run.
    #[arg(long, requires = "lab")]
    tls: bool,
    /// With --lab, the seed of the lab's inventory.
    #[arg(
        long,
        requires = "lab",
        value_name = "N",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    seed: u64,
    /// With --lab, seeded faults on the lab's vendor listeners, e.g.
    /// `rate=0.1,kinds=503,429,reset,slow,apply_then_reset,garbage` (kinds omitted or
    /// `all`: every kind); a summary is printed on stderr at the end.
    #[arg(long, requires = "lab", value_name = "SPEC", value_parser = ChaosSpec::parse)]
    chaos: Option<ChaosSpec>,
    /// Let the script read local files (e.g. disks to upload) under DIR as well as under
    /// its own folder; repeatable.
    #[arg(long, value_name = "DIR")]
    allow_read: Vec<PathBuf>,
    /// Approve every `confirm` gate without asking (needed where no terminal can ask).
    #[arg(long)]
    yes: bool,
}

/// The lab clock's speed under `--lab` unless `--speed` says otherwise: a wave of copies
/// of up to two lab hours then rehearses in well under a minute.
pub const LAB_SPEED: f64 = 300.0;

impl RehearsalArgs {
    /// Builds the runtime over `targets` with `limits`: the lab started when asked, with
    /// the estate and at the speed asked, and the reads allowed.
    fn start(&self, targets: Targets, limits: &LimitArgs) -> Result<crate::Runtime, ExitCode> {
        let mut builder = crate::Runtime::builder()
            .targets(targets)
            .limits(limits.limits())
            .allow_read(self.allow_read.clone())
            .approve_all(self.yes);
        if self.lab {
            builder = builder
                .lab(self.seed)
                .tls(self.tls)
                .estate(Estate::new(self.scenario, self.apps))
                .speed(self.speed.unwrap_or(LAB_SPEED))
                .chaos(self.chaos.clone());
        } else if let Some(speed) = self.speed {
            builder = builder.speed(speed);
        }
        builder
            .build()
            .map_err(|err| fail(ExitCode::Failure, format!("cannot start: {err}")))
    }
}

/// `cutover repl`.
#[derive(Debug, Args)]
struct ReplArgs {
    #[command(flatten)]
    rehearsal: RehearsalArgs,
    /// History file [default: cutover/history in the user's data folder].
    #[arg(long, env = "CUTOVER_HISTORY", value_name = "FILE")]
    history: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// `cutover watch`.
#[derive(Debug, Args)]
struct WatchArgs {
    /// Hook scripts: a .rhai file, or a folder whose *.rhai files are all loaded.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Also hand over files that were already there at start (except those handled
    /// before and unchanged since).
    #[arg(long)]
    initial: bool,
    /// On Ctrl-C or SIGTERM, how long running handlers may take to finish before they
    /// are cancelled.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    stop_timeout: std::time::Duration,
    /// The state file remembering what was handled [default: .cutover/watch.db in the
    /// first hook folder].
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    #[command(flatten)]
    rehearsal: RehearsalArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// `cutover check`.
#[derive(Debug, Args)]
struct CheckArgs {
    /// The playbook (.rhai).
    file: PathBuf,
    /// Check target names as a rehearsal sees them: the target file's and the lab's own
    /// (`lab`, …).
    #[arg(long)]
    lab: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

/// `cutover doc`.
#[derive(Debug, Args)]
struct DocArgs {
    /// Also write Rhai definition files for editors into DIR.
    #[arg(long, value_name = "DIR")]
    definitions: Option<PathBuf>,
}

/// `cutover lab`.
#[derive(Debug, Args)]
struct LabArgs {
    /// Port of the first listener (the next kinds take the following ports); 0 picks free ones.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    port: u16,
    /// Run the lab's jobs N times faster than the wall clock.
    #[arg(long, default_value_t = 1.0, value_name = "N", value_parser = parse_speed, allow_negative_numbers = true)]
    speed: f64,
    /// Seed of the lab's inventory.
    #[arg(
        long,
        default_value_t = 1,
        value_name = "N",
        allow_negative_numbers = true
    )]
    seed: u64,
    /// Write a target file for the lab's listeners to FILE.
    #[arg(long, value_name = "FILE")]
    targets_out: Option<PathBuf>,
    /// The lab's estate: `happy` (everything succeeds) or `rough` (one failure of each
    /// kind, on different applications).
    #[arg(long, value_name = "NAME", default_value = "happy", value_parser = Scenario::parse)]
    scenario: Scenario,
    /// The number of applications in the lab's wave, 1 to 20000.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_APPS, value_parser = parse_apps, allow_negative_numbers = true)]
    apps: usize,
    /// Every PowerStore copy of the estate takes DURATION of lab time (e.g. `30m`) from
    /// its first read, instead of 5 minutes to 2 hours: the wave's shortest possible wall
    /// time is then DURATION divided by --speed (bench/run uses it).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    copy_time: Option<std::time::Duration>,
    /// Seeded faults on every vendor listener, e.g.
    /// `rate=0.1,kinds=503,429,reset,slow,apply_then_reset,garbage` (kinds omitted or
    /// `all`: every kind); recorded in each `/_lab/state`, summed up at exit.
    #[arg(long, value_name = "SPEC", value_parser = ChaosSpec::parse)]
    chaos: Option<ChaosSpec>,
    /// Serve HTTPS from a CA of the lab's own; its PEM goes beside the --targets-out
    /// file (FILE's stem and `-ca.pem`) and every target written names it as `ca_file`.
    #[arg(long)]
    tls: bool,
}

fn parse_apps(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(apps) if (1..=MAX_APPS).contains(&apps) => Ok(apps),
        _ => Err(format!(
            "`{text}` is not a number of applications from 1 to {MAX_APPS}"
        )),
    }
}

/// Script resource limits.
#[derive(Debug, Args)]
#[command(next_help_heading = "Script limits")]
struct LimitArgs {
    /// Stop a script after N operations (0: no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_operations, allow_negative_numbers = true)]
    max_operations: u64,
    /// Deepest nesting of function calls.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_call_levels, allow_negative_numbers = true)]
    max_call_levels: usize,
    /// Longest string in bytes (0: no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_string_size, allow_negative_numbers = true)]
    max_string_size: usize,
    /// Longest array (0: no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_array_size, allow_negative_numbers = true)]
    max_array_size: usize,
    /// Largest map (0: no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_map_size, allow_negative_numbers = true)]
    max_map_size: usize,
    /// Deepest nesting of arrays and maps a script may build, print or encode.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_depth, allow_negative_numbers = true)]
    max_depth: usize,
    /// Bytes of memory one script may hold (0: no limit).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_memory, allow_negative_numbers = true)]
    max_memory: usize,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_operations: self.max_operations,
            max_call_levels: self.max_call_levels,
            max_string_size: self.max_string_size,
            max_array_size: self.max_array_size,
            max_map_size: self.max_map_size,
            max_depth: self.max_depth,
            max_memory: self.max_memory,
        }
    }
}

fn parse_speed(text: &str) -> Result<f64, String> {
    let range = crate::clock::SPEEDS;
    match text.parse::<f64>() {
        Ok(speed) if range.contains(&speed) => Ok(speed),
        _ => Err(format!(
            "`{text}` is not a speed from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

/// Parses `args`, runs the command, and returns how the process should exit.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => {
            let text: Vec<String> = args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let err = unknown_flag::rewrite(err, Cli::command(), &text);
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Success
            };
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let targets = cli.targets.as_deref();
    match &cli.command {
        Command::Run(args) => playbook::run(args, targets, cli.quiet),
        Command::Check(args) => check::run(args, targets),
        Command::Doc(args) => doc::run(args),
        Command::Lab(args) => lab::run(args, targets),
        Command::Repl(args) => repl::run(args, targets),
        Command::Watch(args) => watch::run(args, targets),
        Command::Runs(args) => runs::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "cutover",
                &mut std::io::stdout(),
            );
            ExitCode::Success
        }
    }
}

/// Stops `runtime` (its lab too), then prints on stderr what the lab's chaos did, if
/// it had any: after the lab stopped, so the logouts' faults count too.
fn shut_down(runtime: crate::Runtime) {
    let chaos = runtime.lab().and_then(crate::lab::Lab::chaos);
    runtime.shutdown();
    if let Some(chaos) = chaos {
        eprintln!("{}", chaos.summary_line());
    }
}

/// Prints an error for the operator (escaped, on stderr) and returns `code`.
fn fail(code: ExitCode, message: impl std::fmt::Display) -> ExitCode {
    let text = crate::terminal_text::escape_control(&message.to_string());
    eprintln!("error: {text}");
    code
}

/// Reads a playbook; a file that cannot be read is a usage error.
/// The target file, or exit 2 with what is wrong in it.
fn load_targets(file: Option<&std::path::Path>) -> Result<Targets, ExitCode> {
    Targets::load(file, &crate::vendors::kinds()).map_err(|err| fail(ExitCode::Usage, err))
}

fn read_script(path: &std::path::Path) -> Result<crate::script::ScriptFile, ExitCode> {
    crate::script::ScriptFile::read(path).map_err(|err| {
        fail(
            ExitCode::Usage,
            format!("cannot read `{}`: {err}", path.display()),
        )
    })
}

/// Prints a diagnostic the script host rendered (already escaped) and returns `code`.
fn report(code: ExitCode, rendered: &str) -> ExitCode {
    eprint!("{rendered}");
    code
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    // The platform verifier logs each refused certificate as an error of its own; the
    // request's error says the same with what to do about it.
    let default = match (quiet, verbose) {
        (true, _) => "error,rustls_platform_verifier=off",
        (false, 0) => "warn,cutover::script=info,cutover::view=info,rustls_platform_verifier=off",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("CUTOVER_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Log lines scroll above the live display instead of tearing it.
        .with_writer(|| crate::screen::Stderr)
        .with_ansi(crate::view::colors_wanted())
        .with_target(false)
        .try_init();
}

/// The tokio runtime that owns all network I/O of this process; failing that, the
/// exit code after the error was reported.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("cutover-io")
        .build()
        .map_err(|err| {
            fail(
                ExitCode::Failure,
                format!("cannot start the runtime: {err}"),
            )
        })
}

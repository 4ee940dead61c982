//! How long `cutover watch` takes from a file's creation to its handler's start, with
//! the debounce subtracted, next to `watchexec` run the same way when it is installed.
//!
//! Each tool watches a fresh temporary folder with a 50 ms debounce; the bench creates
//! one file at a time and times until the handler's first line (a Rhai `print`, or
//! watchexec running `echo`) arrives on the watcher's stdout. It prints the median and
//! the 99th percentile. Run it with `cargo build --release && cargo run --release
//! --example watch_latency` (it runs the `cutover` built beside it, or `CUTOVER_BIN`);
//! `WATCHEXEC=/path/to/watchexec` names a watchexec binary (else one on the PATH is
//! used, if any; an empty `WATCHEXEC=` skips it), `SAMPLES=N` the number of files
//! (default 200). With `BENCH_JSON=1` each watcher's figures and every sample also go
//! out as one line of JSON, `json {"watcher", "median_ms", "p99_ms", "samples_ms"}`, for
//! `bench/run`.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark that writes its own files and fails loudly"
)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const DEBOUNCE: Duration = Duration::from_millis(50);
/// Time between two files, so each run is over before the next file appears.
const GAP: Duration = Duration::from_millis(100);

/// A watcher under test, its stdout lines arriving on a channel.
struct Watcher {
    child: Child,
    lines: Receiver<String>,
    /// Kept open: a watcher writing to a closed stderr would fail.
    _errors: Receiver<String>,
}

impl Watcher {
    fn spawn(mut command: Command, ready_on_stderr: Option<&'static str>) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the watcher starts");
        let lines = forward(child.stdout.take().unwrap());
        let errors = forward(child.stderr.take().unwrap());
        match ready_on_stderr {
            Some(marker) => loop {
                let line = errors
                    .recv_timeout(Duration::from_secs(30))
                    .expect("the watcher says it is ready");
                if line.contains(marker) {
                    break;
                }
            },
            // watchexec says nothing when ready; give it a moment to set up its watches.
            None => std::thread::sleep(Duration::from_secs(2)),
        }
        Self {
            child,
            lines,
            _errors: errors,
        }
    }

    /// Creates `count` files in `folder` one by one; returns each one's latency.
    fn measure(&self, folder: &Path, count: usize) -> Vec<Duration> {
        while self.lines.try_recv().is_ok() {}
        (0..count)
            .map(|i| {
                let path = folder.join(format!("file-{i:04}.txt"));
                let created = Instant::now();
                std::fs::write(&path, "x").unwrap();
                self.lines
                    .recv_timeout(Duration::from_secs(10))
                    .expect("the handler ran");
                let latency = created.elapsed().saturating_sub(DEBOUNCE);
                std::thread::sleep(GAP);
                latency
            })
            .collect()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if std::env::var_os("BENCH_JSON").is_some_and(|v| v == "1") {
        let line = serde_json::json!({
            "watcher": name,
            "median_ms": ms(percentile(&samples, 0.5)),
            "p99_ms": ms(percentile(&samples, 0.99)),
            "samples_ms": samples.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
        });
        println!("json {line}");
    }
    println!(
        "{name:<10} n={:<4} median {:>6.1} ms   p99 {:>6.1} ms   (min {:.1}, max {:.1})",
        samples.len(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99)),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
    );
}

fn cutover(dir: &Path, samples: usize) -> Vec<Duration> {
    let incoming = dir.join("in");
    std::fs::create_dir_all(&incoming).unwrap();
    std::fs::write(
        dir.join("bench.rhai"),
        r#"on_file("in/*.txt", #{ debounce: "50ms", settle: 0 }, |e| print(e.name));"#,
    )
    .unwrap();
    let mut command = Command::new(cutover_binary());
    command
        .args(["watch", "bench.rhai", "--state"])
        .arg(dir.join("state.db"))
        .current_dir(dir)
        .env_remove("CUTOVER_TARGETS");
    let watcher = Watcher::spawn(command, Some("watching with"));
    watcher.measure(&incoming, samples)
}

fn watchexec(binary: &Path, dir: &Path, samples: usize) -> Vec<Duration> {
    let incoming = dir.join("in");
    std::fs::create_dir_all(&incoming).unwrap();
    let mut command = Command::new(binary);
    command
        .args(["--postpone", "--debounce", "50ms", "--shell=none", "-w"])
        .arg(&incoming)
        .args(["--", "echo", "ran"])
        .current_dir(dir);
    let watcher = Watcher::spawn(command, None);
    watcher.measure(&incoming, samples)
}

/// `CUTOVER_BIN`, else the `cutover` of the profile this example was built with
/// (`target/release/examples/watch_latency` runs `target/release/cutover`).
fn cutover_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CUTOVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the bench's own path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/PROFILE/examples");
    let binary = profile.join("cutover");
    assert!(
        binary.is_file(),
        "no `{}`: build it first (`cargo build --release`) or set CUTOVER_BIN",
        binary.display()
    );
    binary
}

fn find_watchexec() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WATCHEXEC") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("watchexec"))
        .find(|path| path.is_file())
}

fn main() {
    // Nothing here takes arguments.
    let samples = std::env::var("SAMPLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    println!(
        "file created -> handler started, minus the {} ms debounce ({samples} files, {} ms apart)",
        DEBOUNCE.as_millis(),
        GAP.as_millis()
    );
    let dir = tempfile::tempdir().unwrap();
    report("cutover", cutover(&dir.path().join("cutover"), samples));
    match find_watchexec() {
        Some(binary) => report(
            "watchexec",
            watchexec(&binary, &dir.path().join("watchexec"), samples),
        ),
        None => println!(
            "watchexec   not found: `cargo install watchexec-cli`, then WATCHEXEC=path or PATH"
        ),
    }
}

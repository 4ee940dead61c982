//! Which process runs a run: a run row names its owner (`pid@host`) and how long its
//! lease lasts; the owner renews it while it runs ([`Heartbeat`]). Another process may
//! take a run over only when the lease ran out or, on the same host, its owner is no
//! longer alive, so two processes never run one run at once and a killed process's run
//! can be resumed at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::Journal;

/// How long a lease lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(60);

/// How often a running process renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(15);

/// This process, as a run's owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub host: String,
}

impl Owner {
    /// The running process.
    pub fn this_process() -> Self {
        Self {
            pid: std::process::id(),
            host: host_name(),
        }
    }

    /// `pid@host`, as stored.
    pub fn to_stored(&self) -> String {
        format!("{}@{}", self.pid, self.host)
    }

    /// The owner a stored `pid@host` names.
    pub fn parse(stored: &str) -> Option<Self> {
        let (pid, host) = stored.split_once('@')?;
        Some(Self {
            pid: pid.parse().ok()?,
            host: host.to_owned(),
        })
    }

    /// Whether this owner may still be running its run: it is, unless it is on this host
    /// and its process is gone.
    pub fn may_be_alive(&self) -> bool {
        if self.host != host_name() {
            return true;
        }
        process_exists(self.pid)
    }
}

/// Whether a lease held by `owner` until `until` (ms) keeps others out at `now`.
pub fn holds(owner: &Owner, until: i64, now: SystemTime) -> bool {
    until > super::millis(now) && owner.may_be_alive()
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // Signal 0 checks the process without touching it; EPERM means it exists.
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(err) => err == nix::errno::Errno::EPERM,
    }
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

fn host_name() -> String {
    #[cfg(unix)]
    if let Ok(name) = nix::unistd::gethostname() {
        if let Some(name) = name.to_str().filter(|n| !n.is_empty()) {
            return name.to_owned();
        }
    }
    "localhost".to_owned()
}

/// Renews a lease in the background until dropped.
pub struct Heartbeat {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts renewing `run`'s lease for `owner`. A renewal that fails is logged; the
    /// run goes on, and the lease lasts [`LEASE`] from the last one. When another
    /// process has taken the run over, `lost` is set and renewing stops.
    pub fn start(journal: Arc<Journal>, run: i64, owner: Owner, lost: Arc<AtomicBool>) -> Self {
        Self::every(RENEW_EVERY, move || {
            match journal.renew_lease(run, &owner, LEASE) {
                Ok(true) => true,
                Ok(false) => {
                    tracing::error!(
                        "run {run} was taken over by another process after this one's lease lapsed; this process sends no more changes"
                    );
                    lost.store(true, Ordering::SeqCst);
                    false
                }
                Err(err) => {
                    tracing::warn!("cannot renew the lease of run {run}: {err}");
                    true
                }
            }
        })
    }

    /// Calls `renew` every `period` on a thread of its own until dropped, or until
    /// `renew` answers false.
    pub fn every(period: Duration, mut renew: impl FnMut() -> bool + Send + 'static) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("cutover-lease".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                    if !renew() {
                        break;
                    }
                }
            })
            .map_err(|err| tracing::warn!("cannot start renewing the run's lease: {err}"))
            .ok();
        Self {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

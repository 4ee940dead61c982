//! Crash points for the journal's tests: with `CUTOVER_CRASH_AT=<point>:<operation>:<n>`
//! a debug build kills itself with SIGKILL at the `n`-th time a mutating call of
//! `operation` reaches `point` (`before_send`: its row is written and it is not sent;
//! `after_answer`: its answer came and is not recorded; `after_record`: its outcome is
//! recorded). So a test stops a run exactly where a crash hurts most, without sleeps.
//! Release builds have no crash points.

/// Where in the gate a crash can be asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    BeforeSend,
    AfterAnswer,
    AfterRecord,
}

#[cfg(all(debug_assertions, unix))]
pub fn reached(point: Point, operation: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    let Ok(spec) = std::env::var("CUTOVER_CRASH_AT") else {
        return;
    };
    let mut parts = spec.split(':');
    let name = match point {
        Point::BeforeSend => "before_send",
        Point::AfterAnswer => "after_answer",
        Point::AfterRecord => "after_record",
    };
    let wanted = (
        parts.next(),
        parts.next(),
        parts.next().and_then(|n| n.parse::<usize>().ok()),
    );
    if let (Some(at), Some(op), Some(n)) = wanted {
        if at == name && op == operation && SEEN.fetch_add(1, Ordering::SeqCst) + 1 == n {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        }
    }
}

#[cfg(not(all(debug_assertions, unix)))]
pub fn reached(_point: Point, _operation: &str) {}

//! The per-script memory budget (`--max-memory`): a counting global allocator keeps the
//! live bytes of each thread, and the engine's progress callback stops a script whose
//! thread holds more than its budget. This is the backstop for growth no size limit sees
//! (values nested inside others, `x = [x]` chains, strings built inside a map).
//!
//! Bytes are charged to the thread that allocates and credited to the thread that frees,
//! so a value handed to another thread and freed there stays charged to its maker: a
//! script's count can drift up by what it hands to the HTTP client's threads (request
//! bodies) and down by what they hand it (response bodies), which outweighs it.

// A global allocator cannot be written without `unsafe`: this module is the one place
// allowed it, and it only forwards to `System` after counting.
#![allow(unsafe_code, reason = "a global allocator implements an unsafe trait")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // `const` and without a destructor: readable from inside the allocator, even while
    // the thread is being torn down (then `try_with` fails and nothing is counted).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static BASELINE: Cell<Option<isize>> = const { Cell::new(None) };
}

/// The system allocator, counting the bytes each thread holds.
pub struct Counting;

fn charge(bytes: usize, sign: isize) {
    let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
    let _ = LIVE.try_with(|live| live.set(live.get().wrapping_add(sign.wrapping_mul(bytes))));
}

// SAFETY: every call is forwarded unchanged to `System`; the counting touches only a
// `Cell` of this thread and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            charge(layout.size(), 1);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            charge(layout.size(), 1);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) };
        charge(layout.size(), -1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            charge(layout.size(), -1);
            charge(new_size, 1);
        }
        new
    }
}

/// Bytes this thread holds beyond what it held when its first script operation ran
/// (the REPL keeps one thread: its scope, grown line after line, is counted).
pub fn script_bytes() -> usize {
    let live = LIVE.try_with(Cell::get).unwrap_or(0);
    let baseline = BASELINE
        .try_with(|baseline| {
            let start = baseline.get().unwrap_or(live);
            baseline.set(Some(start));
            start
        })
        .unwrap_or(live);
    usize::try_from(live.saturating_sub(baseline)).unwrap_or(0)
}

/// The budget shown in errors: whole MiB when it is one, bytes otherwise.
pub fn shown(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_counts_what_it_holds() {
        std::thread::spawn(|| {
            let before = script_bytes();
            let held = vec![0_u8; 1 << 20];
            let during = script_bytes();
            drop(held);
            let after = script_bytes();
            assert_eq!(before, 0);
            assert!(during >= 1 << 20, "{during}");
            assert!(after < 1 << 10, "{after}");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn budgets_show_in_mib_when_whole() {
        assert_eq!(shown(64 << 20), "64 MiB");
        assert_eq!(shown(1000), "1000 bytes");
    }
}

//! The operator's view of a run: what each item of the board is doing while the run
//! goes (a live display on a terminal, plain log lines elsewhere), and at the end a
//! summary table and, when asked, a JSON report.

mod duration;
pub mod live;
pub mod plain;
pub mod report;
pub mod summary;

use std::io::IsTerminal;
use std::sync::Arc;

use crate::script::board::{Board, Item, Outcome};

/// How a run shows its board while it goes.
pub enum View {
    /// A live display on stderr, a terminal.
    Live(live::Live),
    /// Log lines (see [`plain`]).
    Plain,
}

impl View {
    /// Starts showing `board`: live when stderr is a terminal that can redraw and the
    /// operator did not ask for quiet (`-q`), plain log lines otherwise.
    pub fn start(board: &Arc<Board>, quiet: bool) -> Self {
        if !quiet && live_terminal() {
            if let Some(live) = live::Live::start(board) {
                return View::Live(live);
            }
        }
        board.observe(Arc::new(plain::Plain::default()));
        View::Plain
    }

    /// Stops showing the board; the live display leaves nothing behind.
    pub fn finish(self) {
        if let View::Live(live) = self {
            live.finish();
        }
    }
}

/// Whether stderr is a terminal a display can be redrawn on (`TERM=dumb` cannot).
fn live_terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |term| term != "dumb")
}

/// Whether the log may colour its lines: stderr is a terminal and `NO_COLOR` is not set
/// (see no-color.org: set and not empty).
pub fn colors_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    std::io::stderr().is_terminal() && !no_color
}

/// The word for how `item` ended, or `unfinished`.
pub fn outcome(item: &Item) -> &'static str {
    item.ended
        .as_ref()
        .map_or("unfinished", |(_, outcome)| outcome.as_str())
}

/// `9 done, 1 failed, 2 cancelled` for the ended ones of `items`; parts that are zero
/// are left out, and nothing ended is an empty string.
pub fn counts<'a>(items: impl Iterator<Item = &'a Item>) -> String {
    let (mut done, mut failed, mut cancelled) = (0, 0, 0);
    for item in items {
        match item.ended.as_ref().map(|(_, outcome)| outcome) {
            Some(Outcome::Done) => done += 1,
            Some(Outcome::Failed(_)) => failed += 1,
            Some(Outcome::Cancelled) => cancelled += 1,
            None => {}
        }
    }
    [(done, "done"), (failed, "failed"), (cancelled, "cancelled")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect::<Vec<_>>()
        .join(", ")
}

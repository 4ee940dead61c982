//! The live display on a terminal: one line per active item (label, step, time so far,
//! the remote object's state and percent), finished items collapsed into one counter
//! line. [`render`] draws the block from the board's items; [`Live`] keeps it on screen
//! with indicatif, redrawn at each change of the board and twice a second for the
//! clocks, and registers it with [`crate::screen`] so prints and log lines scroll above.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::script::board::{Board, Item, Observer};
use crate::script::wait_log::Status;
use crate::terminal_text::one_line;
use crate::view::counts;
use crate::view::duration::short;

/// How often the clocks move when nothing else changes.
const TICK: Duration = Duration::from_millis(500);
/// The shortest time between two redraws (indicatif draws at most 20 a second too).
const FRAME: Duration = Duration::from_millis(50);
/// Widest label and step columns; longer ones are cut.
const LABEL_WIDTH: usize = 24;
const STEP_WIDTH: usize = 16;

/// The block for `items` as of `now`, on a terminal of `rows` × `cols` (0: unknown):
/// active items first, in the order they started, then the counter of finished ones.
/// Items that do not fit above the counter are counted on one line instead.
pub fn render(items: &[Item], now: Instant, rows: usize, cols: usize) -> String {
    let active: Vec<&Item> = items.iter().filter(|i| i.ended.is_none()).collect();
    let finished = counts(items.iter().filter(|i| i.ended.is_some()));
    // One row for the counter, one for the cursor below the block.
    let room = match rows {
        0 => usize::MAX,
        rows => rows.saturating_sub(2).max(1),
    };
    let (shown, hidden) = if active.len() > room {
        active.split_at(room.saturating_sub(1))
    } else {
        (active.as_slice(), &[][..])
    };
    let cells: Vec<[String; 4]> = shown
        .iter()
        .map(|item| {
            let took = now.saturating_duration_since(item.started);
            let remote = item.remote.as_ref().map_or_else(String::new, |reading| {
                format!("{} {}", reading.what, Status(reading))
            });
            [
                cut(&text(&item.label), LABEL_WIDTH),
                cut(&text(item.step.as_deref().unwrap_or("")), STEP_WIDTH),
                short(took),
                text(&remote),
            ]
        })
        .collect();
    let label_width = column(cells.iter().map(|c| c[0].as_str()));
    let step_width = column(cells.iter().map(|c| c[1].as_str()));
    let mut lines: Vec<String> = cells
        .iter()
        .map(|[label, step, took, remote]| {
            let line = format!(
                "{}  {}  {took:>7}  {remote}",
                pad(label, label_width),
                pad(step, step_width)
            );
            line.trim_end().to_owned()
        })
        .collect();
    if !hidden.is_empty() {
        lines.push(format!("… and {} more running", hidden.len()));
    }
    if !finished.is_empty() {
        lines.push(finished);
    }
    lines
        .iter()
        .map(|line| fit(line, cols))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text from outside (a label, a vendor's state) fit for one line of a terminal.
fn text(raw: &str) -> String {
    one_line(raw, 200)
}

/// `text` padded with spaces to `width` columns of the terminal.
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(console::measure_text_width(text));
    format!("{text}{}", " ".repeat(fill))
}

/// The width of a column holding `texts`.
fn column<'a>(texts: impl Iterator<Item = &'a str>) -> usize {
    texts.map(console::measure_text_width).max().unwrap_or(0)
}

fn cut(text: &str, width: usize) -> String {
    console::truncate_str(text, width, "…").into_owned()
}

/// `line` cut to the terminal's width, so it never wraps (a wrapped line would be
/// counted wrong when the block is redrawn).
fn fit(line: &str, cols: usize) -> String {
    match cols {
        0 => line.to_owned(),
        cols => cut(line, cols),
    }
}

/// The live display of one run's board, shown from [`Live::start`] until [`Live::finish`].
/// One thread of its own draws it: an item's thread that changes the board only wakes
/// it, so no script thread ever waits on the terminal for the display.
pub struct Live {
    bar: ProgressBar,
    wake: mpsc::Sender<Wake>,
    drawer: JoinHandle<()>,
}

/// What the drawing thread is woken for.
enum Wake {
    Changed,
    Stop,
}

/// Wakes the drawing thread at each change of the board.
struct Waker(mpsc::Sender<Wake>);

impl Observer for Waker {
    fn changed(&self, _item: &Item) {
        // Once the display is finished nobody listens, and nothing is lost.
        let _ = self.0.send(Wake::Changed);
    }
}

impl Live {
    /// Shows `board` on stderr, which must be a terminal; `None` when the drawing
    /// thread cannot start.
    pub fn start(board: &Arc<Board>) -> Option<Self> {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{msg}") {
            bar.set_style(style);
        }
        let (wake, woken) = mpsc::channel();
        let drawing = (bar.clone(), Arc::clone(board));
        let drawer = std::thread::Builder::new()
            .name("view".into())
            .spawn(move || draw(&drawing.0, &drawing.1, &woken))
            .inspect_err(|err| tracing::debug!("no live display: {err}"))
            .ok()?;
        crate::screen::show(bar.clone());
        board.observe(Arc::new(Waker(wake.clone())));
        Some(Self { bar, wake, drawer })
    }

    /// Takes the display off the screen, leaving nothing of it behind.
    pub fn finish(self) {
        let _ = self.wake.send(Wake::Stop);
        let _ = self.drawer.join();
        crate::screen::hide();
        self.bar.finish_and_clear();
    }
}

/// Draws `board` on `bar` at each change and every [`TICK`] for the clocks, until told
/// to stop. Changes that come within a [`FRAME`] of the last redraw wait for the next
/// one, so hundreds of items reading their jobs never cost a redraw each; a stop is
/// heard at once.
fn draw(bar: &ProgressBar, board: &Board, woken: &mpsc::Receiver<Wake>) {
    let mut next_frame = Instant::now();
    loop {
        match woken.recv_timeout(TICK) {
            Ok(Wake::Changed) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
        loop {
            match woken.recv_timeout(next_frame.saturating_duration_since(Instant::now())) {
                Ok(Wake::Changed) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let items = board.items();
        if items.is_empty() {
            continue;
        }
        let (rows, cols) = console::Term::stderr().size_checked().unwrap_or((0, 0));
        bar.set_message(render(&items, Instant::now(), rows.into(), cols.into()));
        next_frame = Instant::now() + FRAME;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::script::board::{ItemId, Outcome};
    use crate::script::wait_log::Reading;

    /// An item started `ago` seconds before `now`, ended `ended` seconds after its start.
    pub(crate) fn item(
        now: Instant,
        label: &str,
        ago: u64,
        step: Option<&str>,
        remote: Option<Reading>,
        ended: Option<(u64, Outcome)>,
    ) -> Item {
        let started = now - Duration::from_secs(ago);
        Item {
            id: ItemId(0),
            label: label.into(),
            step: step.map(Into::into),
            remote,
            started,
            ended: ended.map(|(took, outcome)| (started + Duration::from_secs(took), outcome)),
        }
    }

    /// An item that ended `took` seconds after it started, with no remote reading.
    pub(crate) fn ended(
        now: Instant,
        label: &str,
        ago: u64,
        step: Option<&str>,
        took: u64,
        outcome: Outcome,
    ) -> Item {
        item(now, label, ago, step, None, Some((took, outcome)))
    }

    /// An item that failed with `error` `took` seconds after it started.
    pub(crate) fn failed(
        now: Instant,
        label: &str,
        ago: u64,
        step: Option<&str>,
        took: u64,
        error: &str,
    ) -> Item {
        ended(now, label, ago, step, took, Outcome::Failed(error.into()))
    }

    fn board(now: Instant) -> Vec<Item> {
        let copy = Reading::new("import session `crm-data`", "Copy_In_Progress", Some(40));
        let sms = Reading::new("migration task `billing`", "MIGRATING", Some(5))
            .in_step(Some("REPLICATE".into()));
        vec![
            item(now, "crm", 75, Some("volumes"), Some(copy), None),
            ended(now, "hr", 30, None, 30, Outcome::Done),
            item(now, "billing", 200, Some("sms"), Some(sms), None),
            item(now, "erp", 9, Some("entities"), None, None),
            failed(now, "mail", 12, Some("ovf"), 4, "broken"),
            ended(now, "web", 3, None, 3, Outcome::Cancelled),
            ended(now, "wiki", 3, None, 2, Outcome::Done),
        ]
    }

    #[test]
    fn active_items_get_a_line_each_and_finished_ones_a_counter() {
        let now = Instant::now();
        assert_eq!(
            render(&board(now), now, 24, 100),
            "crm      volumes    1m 15s  import session `crm-data` Copy_In_Progress 40%\n\
             billing  sms        3m 20s  migration task `billing` MIGRATING (REPLICATE) 5%\n\
             erp      entities       9s\n\
             2 done, 1 failed, 1 cancelled"
        );
    }

    #[test]
    fn lines_are_cut_to_the_terminal_and_what_does_not_fit_is_counted() {
        let now = Instant::now();
        assert_eq!(
            render(&board(now), now, 4, 40),
            "crm  volumes   1m 15s  import session `…\n\
             … and 2 more running\n\
             2 done, 1 failed, 1 cancelled"
        );
    }

    #[test]
    fn a_board_with_only_finished_items_is_its_counter_and_labels_are_escaped() {
        let now = Instant::now();
        let items = [
            ended(now, "a", 3, None, 1, Outcome::Done),
            item(now, "b\x1b[2J", 3, Some("x"), None, None),
        ];
        assert_eq!(render(&items[..1], now, 0, 0), "1 done");
        assert_eq!(render(&items, now, 0, 0), "b\\u{1b}[2J  x       3s\n1 done");
    }
}

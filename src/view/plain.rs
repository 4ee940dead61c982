//! The view when stderr is not a terminal (a pipe, a log file, CI): one log line per
//! change of an item that an operator reading the log afterwards needs (it started,
//! entered a step, its remote object changed state or moved by a tenth, it ended),
//! under the `cutover::view` log target, so the log's timestamps, `-q` and
//! `CUTOVER_LOG` apply to it as to every other line.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::script::board::{Item, ItemId, Observer, Outcome};
use crate::script::wait_log::{Reading, Status};
use crate::terminal_text::one_line;

/// Longest error quoted in an item's last line; the summary has it whole.
const ERROR_SHOWN: usize = 300;

/// What the log last said of one item.
#[derive(Default)]
struct Said {
    step: Option<String>,
    /// The remote object's name, state, step within it, and tenth of its percent.
    remote: Option<(String, String, Option<String>, Option<u32>)>,
    ended: bool,
}

/// Turns each change of the board into the lines worth logging.
#[derive(Default)]
pub struct Plain {
    said: Mutex<HashMap<ItemId, Said>>,
}

impl Plain {
    /// The lines `item`'s latest change is worth; none when nothing that matters moved.
    pub fn lines(&self, item: &Item) -> Vec<String> {
        let mut said = self.said.lock().unwrap_or_else(PoisonError::into_inner);
        let mut lines = Vec::new();
        let label = one_line(&item.label, 200);
        let said = said.entry(item.id).or_insert_with(|| {
            lines.push(format!("`{label}` started"));
            Said::default()
        });
        if said.ended {
            return lines;
        }
        if item.step != said.step {
            said.step.clone_from(&item.step);
            if let Some(step) = &item.step {
                lines.push(format!("`{label}` step `{}`", one_line(step, 200)));
            }
        }
        let remote = item.remote.as_ref().map(key);
        if remote != said.remote {
            said.remote = remote;
            if let Some(reading) = &item.remote {
                let status = Status(reading).to_string();
                lines.push(format!(
                    "`{label}` {} is {}",
                    one_line(&reading.what, 200),
                    one_line(&status, 200)
                ));
            }
        }
        if let Some((_, outcome)) = &item.ended {
            said.ended = true;
            let place = item
                .step
                .as_deref()
                .map(|step| format!(" in step `{}`", one_line(step, 200)))
                .unwrap_or_default();
            lines.push(match outcome {
                Outcome::Done => format!("`{label}` done"),
                Outcome::Cancelled => format!("`{label}` cancelled{place}"),
                Outcome::Failed(error) => {
                    format!("`{label}` failed{place}: {}", one_line(error, ERROR_SHOWN))
                }
            });
        }
        lines
    }
}

/// What of a reading makes a line: a new object, state or step, or another tenth.
fn key(reading: &Reading) -> (String, String, Option<String>, Option<u32>) {
    (
        reading.what.clone(),
        reading.state.clone(),
        reading.step.clone(),
        reading.percent.map(|p| p / 10),
    )
}

impl Observer for Plain {
    fn changed(&self, item: &Item) {
        for line in self.lines(item) {
            tracing::info!(target: "cutover::view", "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::script::board::Board;

    /// Collects what a [`Plain`] would log.
    struct Log(Plain, Mutex<Vec<String>>);

    impl Observer for Log {
        fn changed(&self, item: &Item) {
            let lines = self.0.lines(item);
            self.1.lock().unwrap().extend(lines);
        }
    }

    #[test]
    fn each_change_that_matters_is_one_line() {
        let board = Board::default();
        let log = Arc::new(Log(Plain::default(), Mutex::new(Vec::new())));
        board.observe(log.clone());
        let copy = |percent| Reading::new("import session `crm-data`", "Copy_In_Progress", percent);
        let crm = board.start("crm");
        let hr = board.start("hr\nx");
        board.step(crm, "entities");
        board.step(crm, "entities");
        board.step(crm, "volumes");
        for percent in [0, 4, 9, 10, 19, 35] {
            board.reading(crm, &copy(Some(percent)));
        }
        board.reading(crm, &copy(None));
        board.reading(
            crm,
            &Reading::new("import session `crm-data`", "Ready_For_Cutover", Some(100)),
        );
        board.reading(
            hr,
            &Reading::new("migration task `hr`", "MIGRATING", Some(3)).in_step(Some("SYNC".into())),
        );
        board.reading(
            hr,
            &Reading::new("migration task `hr`", "MIGRATING", Some(3))
                .in_step(Some("CUTOVER".into())),
        );
        board.end(hr, Outcome::Done);
        board.end(
            crm,
            Outcome::Failed("`array1` cutover: 409 Conflict\nbody".into()),
        );
        board.reading(crm, &copy(Some(50)));
        let third = board.start("web");
        board.step(third, "ovf");
        board.end(third, Outcome::Cancelled);
        assert_eq!(
            *log.1.lock().unwrap(),
            [
                "`crm` started",
                "`hr\\u{a}x` started",
                "`crm` step `entities`",
                "`crm` step `volumes`",
                "`crm` import session `crm-data` is Copy_In_Progress 0%",
                "`crm` import session `crm-data` is Copy_In_Progress 10%",
                "`crm` import session `crm-data` is Copy_In_Progress 35%",
                "`crm` import session `crm-data` is Copy_In_Progress",
                "`crm` import session `crm-data` is Ready_For_Cutover 100%",
                "`hr\\u{a}x` migration task `hr` is MIGRATING (SYNC) 3%",
                "`hr\\u{a}x` migration task `hr` is MIGRATING (CUTOVER) 3%",
                "`hr\\u{a}x` done",
                "`crm` failed in step `volumes`: `array1` cutover: 409 Conflict\\u{a}body",
                "`web` started",
                "`web` step `ovf`",
                "`web` cancelled in step `ovf`",
            ]
        );
    }
}

//! The table printed at the end of a run whose board has items: one row per item, in
//! the order they started (application, step reached, outcome, duration, error), and
//! the counter of outcomes, for the operator and the change ticket.

use std::time::Instant;

use crate::script::board::Item;
use crate::terminal_text::one_line;
use crate::view::duration::short;
use crate::view::{counts, outcome};

/// Longest error a row quotes; the report has it whole.
const ERROR_SHOWN: usize = 500;

/// The table of `items` as of `now` (unfinished items count their time up to it).
pub fn table(items: &[Item], now: Instant) -> String {
    let header = ["application", "step", "outcome", "duration", "error"].map(str::to_owned);
    let mut rows = vec![header];
    for item in items {
        let ended = item.ended.as_ref().map_or(now, |(at, _)| *at);
        rows.push([
            one_line(&item.label, 200),
            item.step
                .as_deref()
                .map_or("-".to_owned(), |s| one_line(s, 200)),
            outcome(item).to_owned(),
            short(ended.saturating_duration_since(item.started)),
            item.ended
                .as_ref()
                .and_then(|(_, o)| o.error())
                .map(|e| one_line(e, ERROR_SHOWN))
                .unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| {
            rows.iter()
                .map(|r| console::measure_text_width(&r[c]))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in &rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            let fill = width.saturating_sub(console::measure_text_width(cell));
            line.push_str(&format!("{cell}{}  ", " ".repeat(fill)));
        }
        line.push_str(&row[4]);
        text.push_str(line.trim_end());
        text.push('\n');
    }
    let unfinished = items.iter().filter(|i| i.ended.is_none()).count();
    let mut total = counts(items.iter());
    if unfinished > 0 {
        let sep = if total.is_empty() { "" } else { ", " };
        total.push_str(&format!("{sep}{unfinished} unfinished"));
    }
    text.push_str(&total);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::board::Outcome;
    use crate::view::live::tests::{ended, failed, item};
    use std::time::Duration;

    #[test]
    fn every_item_is_a_row_with_its_error_and_the_outcomes_are_counted() {
        let now = Instant::now();
        let items = [
            ended(now, "crm", 75, Some("volumes"), 62, Outcome::Done),
            failed(
                now,
                "billing-eu",
                80,
                Some("ovf"),
                5,
                "`vcenter` ovf: 400 Bad Request\nbad",
            ),
            ended(now, "hr", 4000, None, 3725, Outcome::Cancelled),
            item(now, "web", 9, Some("sms"), None, None),
        ];
        assert_eq!(
            table(&items, now + Duration::from_millis(300)),
            "application  step     outcome     duration  error\n\
             crm          volumes  done        1m 02s\n\
             billing-eu   ovf      failed      5s        `vcenter` ovf: 400 Bad Request\\u{a}bad\n\
             hr           -        cancelled   1h 02m\n\
             web          sms      unfinished  9s\n\
             1 done, 1 failed, 1 cancelled, 1 unfinished\n"
        );
    }
}

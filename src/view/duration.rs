//! How the view and the summary show a length of time: whole seconds, the way an
//! operator reads a clock (`45s`, `3m 07s`, `1h 02m`).

use std::time::Duration;

/// `took` to the second; past an hour, to the minute.
pub fn short(took: Duration) -> String {
    let secs = took.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_clock() {
        #[track_caller]
        fn case(millis: u64, shown: &str) {
            assert_eq!(short(Duration::from_millis(millis)), shown);
        }
        case(0, "0s");
        case(999, "0s");
        case(45_300, "45s");
        case(60_000, "1m 00s");
        case(187_000, "3m 07s");
        case(3_600_000, "1h 00m");
        case(3_725_000, "1h 02m");
        case(90_000_000, "25h 00m");
    }
}

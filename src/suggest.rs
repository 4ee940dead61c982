//! "Did you mean": the one way a misspelt name (an option, a state, a target, a function,
//! a REPL command) finds the name probably meant.

/// The candidate `word` was probably meant to be: the closest by Damerau-Levenshtein
/// distance, ignoring case, if within two edits (a third of the word, for longer words).
/// A far one would only mislead, so then there is none and callers list what is known
/// instead.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&word, &candidate.to_lowercase());
            (distance, candidate)
        })
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, _)| *distance <= limit)
        .map(|(_, candidate)| candidate)
}

/// The end of a message naming `meant`: "; did you mean `meant`?".
pub fn did_you_mean(meant: &str) -> String {
    format!("; did you mean `{meant}`?")
}

/// `names` as a message lists them: each in backticks, comma-separated.
pub fn quoted<S: std::fmt::Display>(names: impl IntoIterator<Item = S>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_close_names_are_suggested() {
        #[track_caller]
        fn case(word: &str, expected: Option<&str>) {
            let known = ["timeout", "every", "MIGRATE_SUCCESS", "RUNNING", "start"];
            assert_eq!(closest(word, known), expected, "{word}");
        }
        case("timout", Some("timeout"));
        case("strat", Some("start"));
        case("RUNING", Some("RUNNING"));
        case("MIGRATESUCESS", Some("MIGRATE_SUCCESS"));
        case("evry", Some("every"));
        case("DONE", None);
        case("launch_rocket", None);
        case("x", None);
        assert_eq!(closest("a", std::iter::empty()), None);
    }

    #[test]
    fn case_does_not_count_as_a_difference() {
        assert_eq!(closest("runing", ["RUNNING", "FAILED"]), Some("RUNNING"));
    }

    #[test]
    fn longer_words_allow_more_edits() {
        assert_eq!(
            closest("cuttover_sesion", ["cutover_session"]),
            Some("cutover_session")
        );
        assert_eq!(closest("ab", ["xyz"]), None);
    }

    #[test]
    fn the_hint_reads_as_the_end_of_a_message() {
        assert_eq!(did_you_mean("start"), "; did you mean `start`?");
    }
}

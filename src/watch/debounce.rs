//! Trailing-edge debouncing, like watchexec's `throttle_collect`: events for one key
//! are folded together, and the key comes due once it has been quiet for its own quiet
//! time. Time is passed in, so tests drive it without sleeping or touching files.

use std::hash::Hash;
use std::time::{Duration, Instant};

use super::keyed::PerKey;

/// Events waiting for their key to go quiet.
pub type Debouncer<K, V> = PerKey<K, Entry<V>>;

/// A key's folded events and when it comes due.
#[derive(Debug)]
pub struct Entry<V> {
    value: V,
    due: Instant,
}

impl<K: Hash + Eq + Clone, V> PerKey<K, Entry<V>> {
    /// Adds `value` for `key` at `now`: the key comes due `quiet` after its last event.
    /// A key already waiting folds the new value in with `merge`.
    pub fn push(
        &mut self,
        key: K,
        value: V,
        quiet: Duration,
        now: Instant,
        merge: impl FnOnce(&mut V, V),
    ) {
        let due = now + quiet;
        match self.entries.get_mut(&key) {
            Some(entry) => {
                merge(&mut entry.value, value);
                entry.due = due;
            }
            None => {
                self.entries.insert(key, Entry { value, due });
            }
        }
    }

    /// When the next key comes due.
    pub fn next_due(&self) -> Option<Instant> {
        self.entries.values().map(|e| e.due).min()
    }

    /// Takes every key that is due at `now`, earliest first.
    pub fn take_due(&mut self, now: Instant) -> Vec<(K, V)> {
        let due: Vec<K> = self
            .entries
            .iter()
            .filter(|(_, e)| e.due <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let mut taken: Vec<(Instant, K, V)> = due
            .into_iter()
            .filter_map(|k| self.entries.remove(&k).map(|e| (e.due, k, e.value)))
            .collect();
        taken.sort_by_key(|(due, _, _)| *due);
        taken.into_iter().map(|(_, k, v)| (k, v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sum(a: &mut u32, b: u32) {
        *a += b;
    }

    #[test]
    fn a_burst_comes_due_once_after_the_last_event() {
        let t0 = Instant::now();
        let mut d = Debouncer::default();
        for i in 0..100 {
            d.push("a", 1, ms(200), t0 + ms(i), sum);
        }
        assert_eq!(d.next_due(), Some(t0 + ms(299)));
        assert!(d.take_due(t0 + ms(298)).is_empty());
        assert_eq!(d.take_due(t0 + ms(299)), [("a", 100)]);
        assert!(d.is_empty());
    }

    #[test]
    fn each_key_keeps_its_own_quiet_time() {
        let t0 = Instant::now();
        let mut d = Debouncer::default();
        d.push("slow", 1, ms(500), t0, sum);
        d.push("fast", 1, ms(50), t0 + ms(10), sum);
        assert_eq!(d.take_due(t0 + ms(100)), [("fast", 1)]);
        assert_eq!(d.len(), 1);
        d.push("slow", 1, ms(500), t0 + ms(400), sum);
        assert!(d.take_due(t0 + ms(600)).is_empty());
        assert_eq!(d.take_due(t0 + ms(900)), [("slow", 2)]);
    }

    #[test]
    fn due_keys_come_out_earliest_first() {
        let t0 = Instant::now();
        let mut d = Debouncer::default();
        d.push("b", 2, ms(30), t0, sum);
        d.push("a", 1, ms(20), t0, sum);
        d.push("c", 3, ms(10), t0, sum);
        assert_eq!(d.take_due(t0 + ms(30)), [("c", 3), ("a", 1), ("b", 2)]);
    }
}

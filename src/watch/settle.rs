//! Settling: a file is handed over only once its size and modification time have stayed
//! the same for the handler's `settle` time, so a disk image still being copied over the
//! network is never imported half-written. The caller looks at the files; this only
//! decides, from the observations and the time passed in, which ones have settled.

use std::hash::Hash;
use std::time::{Duration, Instant};

use super::keyed::PerKey;
use crate::hook::event::Stat;

/// The shortest and longest gap between two looks at a settling file.
const MIN_INTERVAL: Duration = Duration::from_millis(10);
const MAX_INTERVAL: Duration = Duration::from_secs(1);

/// Files waiting to settle.
pub type Settler<K, V> = PerKey<K, Entry<V>>;

/// A settling file: what it is handed over with and what its looks saw.
#[derive(Debug)]
pub struct Entry<V> {
    value: V,
    settle: Duration,
    seen: Option<Stat>,
    stable_since: Instant,
    next_check: Instant,
}

/// What one look at a settling file decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Observation<V> {
    /// The file stayed the same for its settle time.
    Settled(V, Stat),
    /// The file is gone.
    Gone(V),
    /// Not yet.
    Waiting,
}

/// How often a file settling for `settle` is looked at.
fn interval(settle: Duration) -> Duration {
    (settle / 4).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

impl<K: Hash + Eq + Clone, V> PerKey<K, Entry<V>> {
    /// Starts watching `key` settle. The first look is due at once; the settle time
    /// counts from that look, since nothing is known of the file before it (an event
    /// seen long ago says nothing of writes since).
    pub fn start(&mut self, key: K, value: V, settle: Duration, now: Instant) {
        self.entries.insert(
            key,
            Entry {
                value,
                settle,
                seen: None,
                stable_since: now,
                next_check: now,
            },
        );
    }

    /// Notes a new event for `key` at `now`, which restarts its settle time; `update`
    /// folds the event in. Returns whether `key` was settling.
    pub fn changed(&mut self, key: &K, now: Instant, update: impl FnOnce(&mut V)) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        update(&mut entry.value);
        entry.stable_since = now;
        true
    }

    /// When the next look is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.entries.values().map(|e| e.next_check).min()
    }

    /// The keys due for a look at `now`.
    pub fn due(&self, now: Instant) -> Vec<K> {
        self.entries
            .iter()
            .filter(|(_, e)| e.next_check <= now)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Records a look at `key`'s file (`None`: it is gone) made at `now`. A file has
    /// settled when two looks agree and nothing changed for its settle time.
    pub fn observe(&mut self, key: &K, stat: Option<Stat>, now: Instant) -> Observation<V> {
        let Some(entry) = self.entries.get_mut(key) else {
            return Observation::Waiting;
        };
        let Some(stat) = stat else {
            return self
                .entries
                .remove(key)
                .map_or(Observation::Waiting, |e| Observation::Gone(e.value));
        };
        let same = entry.seen == Some(stat);
        if same && now.duration_since(entry.stable_since) >= entry.settle {
            return self.entries.remove(key).map_or(Observation::Waiting, |e| {
                Observation::Settled(e.value, stat)
            });
        }
        if !same {
            // The first look, or a change: the file is known unchanged from now on.
            entry.stable_since = now;
            entry.seen = Some(stat);
        }
        entry.next_check = now + interval(entry.settle);
        Observation::Waiting
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn stat(size: u64) -> Option<Stat> {
        Some(Stat {
            size,
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(size),
        })
    }

    #[test]
    fn a_growing_file_settles_only_once_it_stops_growing() {
        let t0 = Instant::now();
        let mut s = Settler::default();
        s.start("disk", (), ms(1000), t0);
        assert_eq!(s.due(t0), ["disk"]);
        // Written to every 300 ms for three seconds: never settled meanwhile.
        let mut now = t0;
        for size in 1..=10 {
            assert_eq!(s.observe(&"disk", stat(size), now), Observation::Waiting);
            now += ms(300);
        }
        let last_change = now - ms(300);
        assert_eq!(s.observe(&"disk", stat(10), now), Observation::Waiting);
        let settled = last_change + ms(1000);
        assert_eq!(
            s.observe(&"disk", stat(10), settled),
            Observation::Settled((), stat(10).unwrap())
        );
        assert!(!s.contains(&"disk"));
    }

    #[test]
    fn one_look_is_never_enough() {
        let t0 = Instant::now();
        let mut s = Settler::default();
        s.start("a", (), ms(100), t0);
        // Looked at late (a busy loop): the settle time counts from this first look.
        assert_eq!(s.observe(&"a", stat(1), t0 + ms(500)), Observation::Waiting);
        assert_eq!(s.next_due(), Some(t0 + ms(525)));
        assert_eq!(s.observe(&"a", stat(1), t0 + ms(525)), Observation::Waiting);
        assert_eq!(
            s.observe(&"a", stat(1), t0 + ms(600)),
            Observation::Settled((), stat(1).unwrap())
        );
    }

    #[test]
    fn an_event_restarts_the_settle_time_and_a_vanished_file_is_gone() {
        let t0 = Instant::now();
        let mut s = Settler::default();
        s.start("a", 0, ms(100), t0);
        s.observe(&"a", stat(1), t0);
        assert!(s.changed(&"a", t0 + ms(90), |n| *n += 1));
        assert_eq!(s.observe(&"a", stat(1), t0 + ms(150)), Observation::Waiting);
        assert_eq!(s.observe(&"a", None, t0 + ms(200)), Observation::Gone(1));
        assert!(!s.changed(&"a", t0, |_| {}));
    }
}

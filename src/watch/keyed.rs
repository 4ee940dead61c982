//! What the watcher's per-key waits share: one entry per waiting key, and dropping keys
//! when their handler or file goes away. [`super::debounce`] and [`super::settle`] each
//! add their own timing on top, as methods of their own entry type's [`PerKey`].

use std::collections::HashMap;
use std::hash::Hash;

/// One entry `E` per waiting key `K`.
#[derive(Debug)]
pub struct PerKey<K, E> {
    pub(super) entries: HashMap<K, E>,
}

impl<K, E> Default for PerKey<K, E> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq, E> PerKey<K, E> {
    /// Whether `key` is waiting.
    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// Drops the keys `keep` refuses.
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.entries.retain(|k, _| keep(k));
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many keys are waiting.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is waiting.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

//! How deep arrays and maps nest, measured by a walk that stops at the limit, so a value
//! nested deeper than a serialiser could recurse is refused with an error instead of
//! overflowing the stack.

use rhai::{Array, Dynamic, Map};

use crate::script::error_value::invalid_argument;

/// `Err(max)` when `value` nests arrays and maps more than `max` deep (a scalar is depth
/// 0, `[1]` depth 1). The walk stops `max` levels down, so its own recursion is bounded
/// by the limit, not by the value.
pub fn within(value: &Dynamic, max: usize) -> Result<(), usize> {
    if let Some(array) = value.read_lock::<Array>() {
        items_within(array.iter(), max)
    } else if let Some(map) = value.read_lock::<Map>() {
        items_within(map.values(), max)
    } else {
        Ok(())
    }
}

fn items_within<'a>(items: impl Iterator<Item = &'a Dynamic>, max: usize) -> Result<(), usize> {
    let mut items = items.filter(|v| is_container(v)).peekable();
    if items.peek().is_none() && max > 0 {
        return Ok(());
    }
    let Some(below) = max.checked_sub(1) else {
        return Err(0);
    };
    items.try_for_each(|item| within(item, below).map_err(|_| max))
}

/// The error a function raises for a value nested deeper than `max`.
pub fn too_deep(operation: &str, max: usize) -> Box<rhai::EvalAltResult> {
    invalid_argument(
        operation,
        format!(
            "the value nests arrays and maps more than {max} deep; flatten it, or raise the \
             limit with `--max-depth`"
        ),
    )
}

fn is_container(value: &Dynamic) -> bool {
    value.is_array() || value.is_map()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> Dynamic {
        let mut value = Dynamic::from(1_i64);
        for _ in 0..depth {
            value = Dynamic::from_array(vec![value]);
        }
        value
    }

    #[test]
    fn depth_counts_each_array_and_map() {
        assert_eq!(within(&Dynamic::from(1_i64), 0), Ok(()));
        assert_eq!(within(&nested(3), 3), Ok(()));
        assert_eq!(within(&nested(4), 3), Err(3));
        let mut map = Map::new();
        map.insert("x".into(), nested(2));
        assert_eq!(within(&Dynamic::from_map(map.clone()), 3), Ok(()));
        assert_eq!(within(&Dynamic::from_map(map), 2), Err(2));
    }
}

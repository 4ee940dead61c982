//! Where on a script thread the run is: the `parallel` items and `step`s it runs in,
//! innermost last. Each frame has a key (`crm/volumes`) that names it the same way in
//! every attempt of a run, and counts the mutating calls made in it, so a resumed
//! attempt can line its calls up with those an earlier attempt made there.

use std::cell::RefCell;

use super::CallRow;

/// One item or step a thread runs in.
pub struct Frame {
    key: String,
    /// The item the frame belongs to, if any.
    item: Option<String>,
    /// The step row, for a step.
    step: Option<i64>,
    /// The work item it runs, in a shared run's item.
    work_item: Option<i64>,
    /// Mutating calls made in this frame by this attempt so far.
    calls: i64,
    /// The calls an earlier attempt made in this frame, once read; each is matched with
    /// at most one call of this attempt (`true` once it is).
    earlier: Option<Vec<(CallRow, bool)>>,
}

impl Frame {
    /// The top of the run, outside any item or step.
    fn top() -> Self {
        Self {
            key: String::new(),
            item: None,
            step: None,
            work_item: None,
            calls: 0,
            earlier: None,
        }
    }
}

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// The key of the frame this thread is in; `""` at the top of the run.
pub fn current_key() -> String {
    FRAMES.with(|f| f.borrow().last().map(|f| f.key.clone()).unwrap_or_default())
}

/// The item this thread works for, if any.
pub fn current_item() -> Option<String> {
    FRAMES.with(|f| f.borrow().last().and_then(|f| f.item.clone()))
}

/// `parent/name`, or `name` at the top; a `/` or `#` inside `name` is escaped so keys
/// stay unambiguous.
pub fn child_key(parent: &str, name: &str) -> String {
    let name = name
        .replace('%', "%25")
        .replace('/', "%2F")
        .replace('#', "%23");
    if parent.is_empty() {
        name
    } else {
        format!("{parent}/{name}")
    }
}

/// The work item this thread runs, in a shared run.
pub fn current_work_item() -> Option<i64> {
    FRAMES.with(|f| f.borrow().last().and_then(|f| f.work_item))
}

/// Makes this thread run for `item` (key `key`; work item `work_item` of a shared run)
/// until the guard drops.
pub fn enter_item(key: String, item: String, work_item: Option<i64>) -> FrameGuard {
    push(Frame {
        key,
        item: Some(item),
        step: None,
        work_item,
        calls: 0,
        earlier: None,
    })
}

/// The key of the frame inside occurrence `occurrence` of step `key`: `key` for the
/// first, `key#2` for the second, so what runs inside each occurrence (steps, calls) is
/// told apart from what ran inside another.
pub fn occurrence_key(key: &str, occurrence: i64) -> String {
    if occurrence == 1 {
        key.to_owned()
    } else {
        format!("{key}#{occurrence}")
    }
}

/// Makes this thread run in step row `step` (key `key`) until the guard drops.
pub fn enter_step(key: String, step: Option<i64>) -> FrameGuard {
    let item = current_item();
    push(Frame {
        key,
        item,
        step,
        work_item: current_work_item(),
        calls: 0,
        earlier: None,
    })
}

fn push(frame: Frame) -> FrameGuard {
    crate::thread_stack::push(&FRAMES, frame)
}

/// Lets a later call of this attempt match the earlier call `id` again: the change it
/// was matched with was not settled (nothing was sent), so a retry must meet the same
/// earlier call, not miss it and send.
pub fn release_match(id: i64) {
    FRAMES.with(|frames| {
        if let Some(frame) = frames.borrow_mut().last_mut() {
            for (call, matched) in frame.earlier.iter_mut().flatten() {
                if call.id == id {
                    *matched = false;
                }
            }
        }
    });
}

/// Whether the current frame knows an earlier call not matched yet for which `same`
/// holds, after adding those of `fresh` it did not know: a follower of a shared run
/// reads its leader's calls again as they come.
pub fn knows_unmatched(fresh: Vec<CallRow>, same: impl Fn(&CallRow) -> bool) -> bool {
    FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        if frames.is_empty() {
            frames.push(Frame::top());
        }
        let Some(frame) = frames.last_mut() else {
            return false;
        };
        let earlier = frame.earlier.get_or_insert_with(Vec::new);
        for call in fresh {
            if !earlier.iter().any(|(known, _)| known.id == call.id) {
                earlier.push((call, false));
            }
        }
        earlier.iter().any(|(call, matched)| !matched && same(call))
    })
}

/// Holds a frame; see [`enter_item`] and [`enter_step`].
pub type FrameGuard = crate::thread_stack::Held<Frame>;

/// Where the next mutating call of this thread goes: its frame key, its step row and
/// its place among the frame's calls in this attempt (counted from 1).
pub struct Place {
    pub frame: String,
    pub step: Option<i64>,
    pub seq: i64,
    /// A follower's change its leader made: never sent here.
    pub followed: bool,
    /// A follower's change its leader never made before it ended the run: never sent
    /// here either; the vendor says whether it is in effect.
    pub after_end: bool,
}

/// Counts the next mutating call in the current frame and answers its place, and the
/// first call of the same change an earlier attempt made in this frame that no call of
/// this attempt was matched with yet (the earlier calls are read with `load` the first
/// time).
pub fn next_call<E>(
    load: impl FnOnce(&str) -> Result<Vec<CallRow>, E>,
    same: impl Fn(&CallRow) -> bool,
) -> Result<(Place, Option<CallRow>), E> {
    // The top of a thread outside any frame is the top of the run.
    FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        if frames.is_empty() {
            frames.push(Frame::top());
        }
        let Some(frame) = frames.last_mut() else {
            return Ok((
                Place {
                    frame: String::new(),
                    step: None,
                    seq: 0,
                    followed: false,
                    after_end: false,
                },
                None,
            ));
        };
        frame.calls += 1;
        let place = Place {
            frame: frame.key.clone(),
            step: frame.step,
            seq: frame.calls,
            followed: false,
            after_end: false,
        };
        let earlier = match &mut frame.earlier {
            Some(earlier) => earlier,
            empty => empty.insert(load(&frame.key)?.into_iter().map(|c| (c, false)).collect()),
        };
        // The first earlier call of the same change not matched yet: a resumed attempt
        // that skips a change (its state shows it done) still finds the later ones.
        let earlier = earlier
            .iter_mut()
            .find(|(call, matched)| !matched && same(call))
            .map(|(call, matched)| {
                *matched = true;
                call.clone()
            });
        Ok((place, earlier))
    })
}

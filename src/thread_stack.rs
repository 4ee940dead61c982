//! A stack of values per thread, innermost last, each held for as long as its guard
//! lives: what a script thread is inside of (a wait's deadline, a `parallel` item, a
//! journal frame), which the code it calls reads without being handed it.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::thread::LocalKey;

/// One such stack, declared with `thread_local!`.
pub type Stack<T> = LocalKey<RefCell<Vec<T>>>;

/// Pushes `value` on this thread's `stack` until the guard is dropped.
pub fn push<T>(stack: &'static Stack<T>, value: T) -> Held<T> {
    stack.with(|values| values.borrow_mut().push(value));
    Held(stack, PhantomData)
}

/// The innermost value of this thread's `stack`, if any.
pub fn innermost<T: Clone>(stack: &'static Stack<T>) -> Option<T> {
    stack.with(|values| values.borrow().last().cloned())
}

/// Holds a value on its thread's stack; see [`push`]. Not `Send`: dropped on another
/// thread, it would pop that thread's stack.
#[must_use = "the value holds only while the guard lives"]
pub struct Held<T: 'static>(&'static Stack<T>, PhantomData<*const ()>);

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        self.0.with(|values| values.borrow_mut().pop());
    }
}

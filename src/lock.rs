//! The crate's one way to take a mutex.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, even when a thread panicked while holding it. Every critical section in this
/// crate leaves its data consistent at each step (none panics midway), so a poisoned lock holds
/// good data, and refusing it would turn one panic into many.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

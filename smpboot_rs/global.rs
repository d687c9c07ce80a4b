// SPDX-License-Identifier: GPL-2.0

//! A module-wide object reachable from exported functions.

use super::compat::atomic::{Acquire, Atomic, Full};
use kernel::prelude::*;

/// A pointer to a pinned object installed at module init.
pub(crate) struct Global<T: Sync + 'static>(Atomic<*mut T>);

impl<T: Sync + 'static> Global<T> {
    /// An empty global.
    pub(crate) const fn new() -> Self {
        Self(Atomic::new(core::ptr::null_mut()))
    }

    /// Installs `value`; it is dropped with the returned guard.
    pub(crate) fn install(&'static self, value: Pin<KBox<T>>) -> Result<Installed<T>> {
        // SAFETY: The object is never moved out of its box: only shared
        // references are handed out, and the box is rebuilt to drop it.
        let ptr = KBox::into_raw(unsafe { Pin::into_inner_unchecked(value) });
        if self.0.cmpxchg(core::ptr::null_mut(), ptr, Full).is_err() {
            // SAFETY: `ptr` came from `KBox::into_raw` just above.
            drop(unsafe { KBox::from_raw(ptr) });
            return Err(EBUSY);
        }
        Ok(Installed { global: self })
    }

    /// The installed object.
    ///
    /// # Safety
    ///
    /// The caller runs before the [`Installed`] guard is dropped and does not
    /// keep the reference past it: module code reached from exported
    /// functions (their callers hold a reference on the module, so exit
    /// cannot run) or from callbacks torn down before the guard.
    pub(crate) unsafe fn get(&self) -> Option<&'static T> {
        let ptr = self.0.load(Acquire);
        // SAFETY: A non-null pointer is a live installed object, and by the
        // function's requirement it stays alive while the caller uses it.
        unsafe { ptr.as_ref() }
    }
}

/// Owns the installed object of a [`Global`].
pub(crate) struct Installed<T: Sync + 'static> {
    global: &'static Global<T>,
}

impl<T: Sync + 'static> Drop for Installed<T> {
    fn drop(&mut self) {
        let ptr = self.global.0.xchg(core::ptr::null_mut(), Full);
        if !ptr.is_null() {
            // SAFETY: `ptr` came from `KBox::into_raw` in `install`, and the
            // contract of `get` means no reference to it is in use.
            drop(unsafe { KBox::from_raw(ptr) });
        }
    }
}

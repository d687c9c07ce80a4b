// SPDX-License-Identifier: GPL-2.0

//! Being told when a module is being unloaded.
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)
//! (`register_module_notifier()`, [`include/linux/notifier.h`](srctree/include/linux/notifier.h))
//!
//! A module that keeps callbacks of other modules learns here that one of
//! them goes away: after its exit function, before its code and data are
//! freed, so that what still points into it can be torn down in time.

use kernel::bindings;
use kernel::ffi::{c_int, c_ulong, c_void};
use kernel::prelude::*;
use kernel::types::Opaque;

/// What a [`GoingNotifier`] calls.
pub(crate) trait ModuleGoing: Send + Sync + 'static {
    /// `module` is being unloaded: its exit function has returned and its
    /// memory is still there. Task context; may sleep. Compare `module`, do
    /// not dereference it.
    fn going(&self, module: *mut bindings::module);
}

/// A registered module notifier that calls `T::going`; unregistered on drop.
///
/// # Invariants
///
/// `nb` is registered with `register_module_notifier()` from the end of the
/// initialiser until `PinnedDrop`, with `going_trampoline::<T>` as its call.
#[pin_data(PinnedDrop)]
pub(crate) struct GoingNotifier<T: ModuleGoing> {
    target: T,
    // Last: registering it is the last step of the initialiser.
    #[pin]
    nb: Opaque<bindings::notifier_block>,
}

// SAFETY: The notifier block is only used by the kernel's notifier chain,
// under its own lock; `T: Send + Sync`.
unsafe impl<T: ModuleGoing> Send for GoingNotifier<T> {}
// SAFETY: As above; `&GoingNotifier` gives access to nothing.
unsafe impl<T: ModuleGoing> Sync for GoingNotifier<T> {}

impl<T: ModuleGoing> GoingNotifier<T> {
    /// Registers a notifier that calls `target.going()` for every module
    /// being unloaded, until it is dropped.
    pub(crate) fn new(target: T) -> impl PinInit<Self> {
        pin_init!(Self {
            target,
            nb <- Opaque::ffi_init(|nb: *mut bindings::notifier_block| {
                // SAFETY: `nb` is valid for writes and pinned: it stays there
                // until `PinnedDrop` unregisters it. `target`, initialised
                // before it, is what the trampoline reaches through it.
                // Registering a block not yet on the chain cannot fail.
                unsafe {
                    nb.write(bindings::notifier_block {
                        notifier_call: Some(going_trampoline::<T>),
                        next: core::ptr::null_mut(),
                        priority: 0,
                    });
                    bindings::register_module_notifier(nb);
                }
            }),
        })
    }
}

#[pinned_drop]
impl<T: ModuleGoing> PinnedDrop for GoingNotifier<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Registered by the initialiser (type invariant). Once this
        // returns, the chain neither calls nor reaches the block.
        unsafe { bindings::unregister_module_notifier(self.nb.get()) };
    }
}

/// # Safety
///
/// `nb` is the block of a live `GoingNotifier<T>`; `data` is the module the
/// notification is about.
unsafe extern "C" fn going_trampoline<T: ModuleGoing>(
    nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    if action == bindings::module_state_MODULE_STATE_GOING as c_ulong {
        // SAFETY: By the function's requirement `nb` is inside a live
        // `GoingNotifier<T>`; `Opaque` is transparent.
        let notifier = unsafe {
            &*kernel::container_of!(
                nb.cast::<Opaque<bindings::notifier_block>>(),
                GoingNotifier<T>,
                nb
            )
        };
        notifier.target.going(data.cast());
    }
    bindings::NOTIFY_DONE as c_int
}

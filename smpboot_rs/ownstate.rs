// SPDX-License-Identifier: GPL-2.0

//! A dynamic hotplug state of one's own with one instance, for modules that
//! need their own callbacks (not shared with other users): a
//! [`cpuhp::MultiState`] and its [`cpuhp::Instance`] owned together, so that
//! the instance's `&'static` state needs no module-wide global.
//!
//! # Examples
//!
//! Callbacks for each CPU as it comes online and as it goes offline:
//!
//! ```
//! use crate::cpu::PossibleCpu;
//! use crate::cpuhp::{Callbacks, Stage};
//! use crate::ownstate::OwnState;
//!
//! struct Announce;
//!
//! impl Callbacks for Announce {
//!     fn startup(&self, cpu: PossibleCpu) -> Result {
//!         pr_info!("cpu {} is up\n", cpu.as_u32());
//!         Ok(())
//!     }
//!
//!     fn teardown(&self, cpu: PossibleCpu) -> Result {
//!         pr_info!("cpu {} goes down\n", cpu.as_u32());
//!         Ok(())
//!     }
//! }
//!
//! // `startup()` has run for every online CPU when `new` returns.
//! let state = OwnState::new(Stage::Online, kernel::c_str!("example:online"), Announce)?;
//! pr_info!("hotplug state {}\n", state.number());
//! drop(state); // no `teardown()` calls
//! # Ok::<(), Error>(())
//! ```
//!
//! [`cpuhp::MultiState`]: super::cpuhp::MultiState
//! [`cpuhp::Instance`]: super::cpuhp::Instance

use super::cpuhp::{Callbacks, Instance, MultiState, Stage};
use kernel::prelude::*;
use kernel::str::CStr;

/// A hotplug state with one instance running `T`; on drop the instance is
/// removed (without teardown calls), then the state.
///
/// # Invariants
///
/// `instance` is added to `*state` or not added at all; `state` is boxed, so
/// it does not move, and it is dropped after `instance` is removed.
pub(crate) struct OwnState<T: Callbacks> {
    // Dropped in this order: the instance (removed), then the state.
    instance: Pin<KBox<Instance<T>>>,
    state: KBox<MultiState<T>>,
}

impl<T: Callbacks> OwnState<T> {
    /// Allocates a state of `stage` named `name` and adds an instance
    /// running `target`: [`Callbacks::startup`] runs for every CPU at or
    /// past the state (online CPUs), under the hotplug read lock. Must not
    /// be called from a hotplug callback.
    pub(crate) fn new(stage: Stage, name: &'static CStr, target: T) -> Result<Self> {
        let state = KBox::new(MultiState::new(stage, name)?, GFP_KERNEL)?;
        let instance = KBox::pin_init(Instance::new(target), GFP_KERNEL)?;
        // SAFETY: The state is boxed and lives as long as `Self`, which drops
        // the instance, unlinking it, before the state (field order and the
        // type invariant); the instance never reaches it after that.
        let forever: &'static MultiState<T> =
            unsafe { &*core::ptr::from_ref::<MultiState<T>>(&state) };
        instance.as_ref().add(forever)?;
        // INVARIANT: added to `*state`, both boxed.
        Ok(Self { instance, state })
    }

    /// The callbacks' target.
    pub(crate) fn target(&self) -> &T {
        self.instance.target()
    }

    /// The state number, as listed in `/sys/devices/system/cpu/hotplug/states`.
    pub(crate) fn number(&self) -> i32 {
        self.state.number()
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Pinned high-resolution timers whose callback runs in hard IRQ context.
//!
//! C header: [`include/linux/hrtimer.h`](srctree/include/linux/hrtimer.h)
//!
//! A [`PinnedTimer`] uses `CLOCK_MONOTONIC` in `HRTIMER_MODE_REL_PINNED_HARD`:
//! it fires on the CPU that started it, in hard IRQ context (also on
//! PREEMPT_RT). If that CPU goes offline with the timer armed, the kernel
//! migrates the timer to another CPU (`hrtimers_cpu_dying()`), so users that
//! care about the CPU cancel their timers before the CPU dies. The timer is
//! cancelled on drop, so its callback never runs on freed memory.

use super::compat::atomic::{Acquire, Atomic, Release};
use super::compat::hrtimer::{hrtimer_setup, HRTIMER_NORESTART, HRTIMER_RESTART};
use super::compat::prelude::*;
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What a [`PinnedTimer`] does when it expires.
pub(crate) trait TimerHandler: Send + Sync + 'static {
    /// Called in hard IRQ context on the CPU the timer was started on (or on
    /// the CPU it was migrated to). Returns the nanoseconds until the next
    /// expiry, or `None` to stop. Must not cancel its own timer.
    fn expired(&self) -> Option<u64>;
}

/// A pinned hard-IRQ hrtimer running `T`; cancelled on drop.
///
/// # Invariants
///
/// `timer` was initialised by `hrtimer_setup()` with `trampoline::<T>` as
/// its function, and stays pinned while it may be armed.
#[pin_data(PinnedDrop)]
pub(crate) struct PinnedTimer<T: TimerHandler> {
    #[pin]
    timer: Opaque<bindings::hrtimer>,
    /// Set by [`PinnedTimer::cancel`]; a cancelled timer is not restarted
    /// by [`PinnedTimer::start_here`] until [`PinnedTimer::allow`].
    stopped: Atomic<bool>,
    handler: T,
}

// SAFETY: The hrtimer is used by the kernel under its base lock from any CPU;
// `T: Send + Sync`.
unsafe impl<T: TimerHandler> Send for PinnedTimer<T> {}
// SAFETY: As above; `&PinnedTimer` reaches `&T`, atomics and the hrtimer
// functions, which lock internally.
unsafe impl<T: TimerHandler> Sync for PinnedTimer<T> {}

const MODE: bindings::hrtimer_mode = bindings::hrtimer_mode_HRTIMER_MODE_REL_PINNED_HARD;

impl<T: TimerHandler> PinnedTimer<T> {
    /// A timer, not armed, whose expiries call `handler`.
    pub(crate) fn new(handler: T) -> impl PinInit<Self> {
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes and pinned (the contract of
            // `pin_init_from_closure`); `hrtimer_setup()` initialises the
            // whole hrtimer.
            unsafe {
                core::ptr::addr_of_mut!((*slot).handler).write(handler);
                core::ptr::addr_of_mut!((*slot).stopped).write(Atomic::new(false));
                let timer = Opaque::cast_into(core::ptr::addr_of!((*slot).timer));
                hrtimer_setup(
                    timer,
                    Some(trampoline::<T>),
                    bindings::CLOCK_MONOTONIC as bindings::clockid_t,
                    MODE,
                );
            }
            // INVARIANT: initialised with the trampoline for `T`.
            Ok(())
        };
        // SAFETY: Every field is initialised and the closure cannot fail.
        unsafe { pin_init_from_closure(init) }
    }

    /// The handler.
    pub(crate) fn handler(&self) -> &T {
        &self.handler
    }

    /// Arms the timer to expire in `ns` nanoseconds on the current CPU
    /// (restarting it if armed), unless it was cancelled and not allowed
    /// again. Callers that want a given CPU call this on it (for example
    /// from an IPI or a hotplug callback of that CPU).
    pub(crate) fn start_here(self: Pin<&Self>, ns: u64) {
        if self.stopped.load(Acquire) {
            return;
        }
        let ns = i64::try_from(ns).unwrap_or(i64::MAX);
        // SAFETY: By the type invariant the timer is initialised and pinned.
        unsafe { bindings::hrtimer_start_range_ns(self.timer.get(), ns, 0, MODE) };
    }

    /// Lets [`PinnedTimer::start_here`] arm the timer again after a cancel.
    pub(crate) fn allow(&self) {
        self.stopped.store(false, Release);
    }

    /// Cancels the timer and waits for a running callback to return; until
    /// [`PinnedTimer::allow`], `start_here` does nothing. Must not be called
    /// from the timer's own callback (it would wait for itself).
    pub(crate) fn cancel(&self) {
        self.stopped.store(true, Release);
        // SAFETY: By the type invariant the timer is initialised. A callback
        // that re-arms it while we wait is cancelled again by the loop in
        // `hrtimer_cancel()`.
        unsafe { bindings::hrtimer_cancel(self.timer.get()) };
    }
}

#[pinned_drop]
impl<T: TimerHandler> PinnedDrop for PinnedTimer<T> {
    fn drop(self: Pin<&mut Self>) {
        // After this no callback runs or is queued: the memory may go.
        self.cancel();
    }
}

/// # Safety
///
/// `timer` is the `timer` of a live `PinnedTimer<T>`.
unsafe extern "C" fn trampoline<T: TimerHandler>(
    timer: *mut bindings::hrtimer,
) -> bindings::hrtimer_restart {
    // SAFETY: The kernel calls this only for timers initialised with it,
    // which are inside a `PinnedTimer<T>` (type invariant); that is not
    // dropped while the callback runs (drop cancels, which waits for it).
    let this = unsafe {
        &*kernel::container_of!(
            timer.cast::<Opaque<bindings::hrtimer>>(),
            PinnedTimer<T>,
            timer
        )
    };
    match this.handler.expired() {
        Some(ns) if !this.stopped.load(Acquire) => {
            let ns = i64::try_from(ns).unwrap_or(i64::MAX).max(1);
            // SAFETY: The timer is ours and its callback is running, which
            // is when `hrtimer_forward()` may be called; `ktime_get()` is the
            // time of `CLOCK_MONOTONIC`, as `hrtimer_forward_now()` uses.
            unsafe { bindings::hrtimer_forward(timer, bindings::ktime_get(), ns) };
            HRTIMER_RESTART
        }
        _ => HRTIMER_NORESTART,
    }
}

/// The current `CLOCK_MONOTONIC` time in nanoseconds (`ktime_get()`);
/// callable from any context.
pub(crate) fn now_ns() -> i64 {
    // SAFETY: `ktime_get()` has no preconditions.
    unsafe { bindings::ktime_get() }
}

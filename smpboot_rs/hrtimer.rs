// SPDX-License-Identifier: GPL-2.0

//! Pinned high-resolution timers whose callback runs in hard IRQ context.
//!
//! C header: [`include/linux/hrtimer.h`](srctree/include/linux/hrtimer.h)
//!
//! A [`PinnedTimer`] is the kernel's [`HrTimer`] in `RelativePinnedHardMode`
//! of `CLOCK_MONOTONIC`: it fires on the CPU that started it, in hard IRQ
//! context (also on PREEMPT_RT). If that CPU goes offline with the timer
//! armed, the kernel migrates the timer to another CPU
//! (`hrtimers_cpu_dying()`), so users that care about the CPU cancel their
//! timers before the CPU dies.
//!
//! What it adds to [`HrTimer`]: a long-lived timer started through a shared
//! reference, on whichever CPU calls it (from a hotplug callback or an IPI
//! of that CPU), and cancelled from anywhere. The kernel's safe starts take
//! an `Arc` or a `Pin<KBox>` and return a handle that cancels the timer when
//! dropped; the start through a `Pin<&T>` is `unsafe`, because nothing makes
//! the `T` outlive the timer. Here the timer is cancelled when its
//! `PinnedTimer` is dropped, which a pinned value is before its memory goes,
//! so that start is sound and the API is safe.
//!
//! # Examples
//!
//! A timer that counts its expiries, one a millisecond, on the CPU that
//! starts it:
//!
//! ```
//! use crate::compat::atomic::{Atomic, Relaxed};
//! use crate::compat::time::Delta;
//! use crate::hrtimer::{PinnedTimer, TimerHandler};
//!
//! const PERIOD: Delta = Delta::from_nanos(1_000_000);
//!
//! struct Ticks(Atomic<u64>);
//!
//! impl TimerHandler for Ticks {
//!     fn expired(&self) -> Option<Delta> {
//!         self.0.fetch_add(1, Relaxed);
//!         Some(PERIOD)
//!     }
//! }
//!
//! let timer = KBox::pin_init(PinnedTimer::new(Ticks(Atomic::new(0))), GFP_KERNEL)?;
//! // For another CPU, from an IPI or a hotplug callback that runs there.
//! timer.as_ref().start_here(PERIOD);
//! timer.cancel(); // and waits for a running callback; dropping it does too
//! pr_info!("{} ticks\n", timer.handler().0.load(Relaxed));
//! # Ok::<(), Error>(())
//! ```
//!
//! [`HrTimer`]: super::compat::hrtimer::HrTimer

use super::compat::atomic::{Acquire, Atomic, Release};
use super::compat::hrtimer::{
    impl_has_hr_timer, HasHrTimer, HrTimer, HrTimerCallback, HrTimerCallbackContext,
    HrTimerRestart, RelativePinnedHardMode,
};
use super::compat::time::{Delta, Monotonic};
use kernel::bindings;
use kernel::prelude::*;

/// What a [`PinnedTimer`] does when it expires.
pub(crate) trait TimerHandler: Send + Sync + 'static {
    /// Called in hard IRQ context on the CPU the timer was started on (or on
    /// the CPU it was migrated to). Returns the time until the next expiry,
    /// or `None` to stop. Must not cancel its own timer.
    fn expired(&self) -> Option<Delta>;
}

/// A pinned hard-IRQ hrtimer running `T`; cancelled on drop.
#[pin_data(PinnedDrop)]
pub(crate) struct PinnedTimer<T: TimerHandler> {
    #[pin]
    timer: HrTimer<Self>,
    /// Set by [`PinnedTimer::cancel`]; a cancelled timer is not restarted
    /// by [`PinnedTimer::start_here`] until [`PinnedTimer::allow`].
    stopped: Atomic<bool>,
    handler: T,
}

impl_has_hr_timer! {
    impl{T: TimerHandler} HasHrTimer<Self> for PinnedTimer<T> {
        mode: RelativePinnedHardMode<Monotonic>,
        field: self.timer,
    }
}

impl<T: TimerHandler> PinnedTimer<T> {
    /// A timer, not armed, whose expiries call `handler`.
    pub(crate) fn new(handler: T) -> impl PinInit<Self> {
        pin_init!(Self {
            timer <- HrTimer::new(),
            stopped: Atomic::new(false),
            handler,
        })
    }

    /// The handler.
    pub(crate) fn handler(&self) -> &T {
        &self.handler
    }

    /// Arms the timer to expire after `expires` on the current CPU
    /// (restarting it if armed), unless it was cancelled and not allowed
    /// again. Callers that want a given CPU call this on it (for example
    /// from an IPI or a hotplug callback of that CPU).
    pub(crate) fn start_here(self: Pin<&Self>, expires: Delta) {
        if self.stopped.load(Acquire) {
            return;
        }
        // SAFETY: `self` is a valid `Self`. It lives until the timer is
        // cancelled (a re-arming timer may never fire last): dropping a
        // `PinnedTimer` cancels it, and a pinned value of a `!Unpin` type
        // (its `HrTimer` is) is dropped before its memory is freed or
        // reused. The callback takes `&Self` in hard IRQ on any CPU, which
        // `Self: Sync` allows (`T: Sync`).
        unsafe { <Self as HasHrTimer<Self>>::start(self.get_ref(), expires) };
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
        // SAFETY: `self` is a valid `Self`, so its timer is initialised. A
        // callback that re-arms it while we wait is cancelled again by the
        // loop in `hrtimer_cancel()`. (The kernel cancels only through a
        // start's handle; a `PinnedTimer` keeps none.)
        unsafe {
            bindings::hrtimer_cancel(<Self as HasHrTimer<Self>>::c_timer_ptr(self).cast_mut())
        };
    }
}

impl<T: TimerHandler> HrTimerCallback for PinnedTimer<T> {
    type Pointer<'a> = Pin<&'a Self>;

    fn run(this: Pin<&Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        match this.handler.expired() {
            Some(interval) if !this.stopped.load(Acquire) => {
                // At least 1 ns: forwarding by 0 would not move the expiry.
                ctx.forward_now(interval.max(Delta::from_nanos(1)));
                HrTimerRestart::Restart
            }
            _ => HrTimerRestart::NoRestart,
        }
    }
}

#[pinned_drop]
impl<T: TimerHandler> PinnedDrop for PinnedTimer<T> {
    fn drop(self: Pin<&mut Self>) {
        // After this no callback runs or is queued: the memory may go.
        self.cancel();
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Function calls on other CPUs through inter-processor interrupts.
//!
//! C header: [`include/linux/smp.h`](srctree/include/linux/smp.h)
//!
//! An [`IpiTarget`] owns a handler that [`IpiTarget::send`] runs on a given
//! CPU in hard IRQ context (`smp_call_function_single()`), without waiting
//! for it. The handler's memory must outlive every call in flight: dropping
//! the target first waits for them, by a synchronous call on every online
//! CPU (calls queued to one CPU run in order, and a CPU that goes offline
//! runs what is queued to it before it dies).

use super::cpu::CpuId;
use super::cpuhp::CpusReadGuard;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_void;
use kernel::init::PinInit;
use kernel::prelude::*;

/// What an [`IpiTarget`] runs on the CPU it is sent to.
pub(crate) trait IpiHandler: Send + Sync + 'static {
    /// Called in hard IRQ context (interrupts off) on the target CPU, or on
    /// the sending CPU itself if it sent to itself.
    fn handle(&self);
}

/// A handler that can be run on other CPUs; dropping it waits for the calls
/// in flight.
///
/// # Invariants
///
/// Every call sent with `self.handler` as its argument has run before the
/// memory of `self` is released (see `PinnedDrop`).
#[pin_data(PinnedDrop)]
pub(crate) struct IpiTarget<T: IpiHandler> {
    handler: T,
}

impl<T: IpiHandler> IpiTarget<T> {
    /// A target for `handler`; it must be pinned because in-flight calls
    /// point to it.
    pub(crate) fn new(handler: T) -> impl PinInit<Self> {
        pin_init!(Self { handler })
    }

    /// The handler.
    pub(crate) fn handler(&self) -> &T {
        &self.handler
    }

    /// Runs the handler on `cpu` without waiting (`wait` false) or waits
    /// for it to return (`wait` true). From task context with interrupts
    /// on; may spin while an earlier call of this CPU is in flight.
    /// `ENXIO` if `cpu` is offline (the handler does not run).
    pub(crate) fn send(self: Pin<&Self>, cpu: CpuId, wait: bool) -> Result {
        let info = (&self.handler as *const T).cast_mut().cast::<c_void>();
        // SAFETY: `info` points to a `T`, which `trampoline::<T>` expects,
        // and stays valid until the call has run (type invariant: drop
        // waits for it). The id is a possible CPU below `nr_cpu_ids`.
        to_result(unsafe {
            bindings::smp_call_function_single(
                cpu.as_u32() as _,
                Some(trampoline::<T>),
                info,
                i32::from(wait),
            )
        })
    }
}

#[pinned_drop]
impl<T: IpiHandler> PinnedDrop for IpiTarget<T> {
    fn drop(self: Pin<&mut Self>) {
        wait_for_calls();
    }
}

/// Waits until every cross-CPU call queued before now has run: a
/// synchronous empty call on each online CPU, under the hotplug lock.
pub(crate) fn wait_for_calls() {
    let _hotplug = CpusReadGuard::new();
    for cpu in super::cpu::possible_cpus().filter(|c| c.is_online()) {
        // SAFETY: `noop` ignores its argument; the call waits, so nothing
        // outlives this frame. An offline CPU would just return `-ENXIO`.
        unsafe {
            bindings::smp_call_function_single(
                cpu.as_u32() as _,
                Some(noop),
                core::ptr::null_mut(),
                1,
            )
        };
    }
}

/// # Safety
///
/// Any argument.
unsafe extern "C" fn noop(_info: *mut c_void) {}

/// # Safety
///
/// `info` points to the handler of a live `IpiTarget<T>`.
unsafe extern "C" fn trampoline<T: IpiHandler>(info: *mut c_void) {
    // SAFETY: `send` passes the handler of a target that is not dropped
    // before this call has run (type invariant).
    let handler = unsafe { &*info.cast::<T>() };
    handler.handle();
}

/// Runs `f` on `cpu` in hard IRQ context and waits for it to return
/// (`smp_call_function_single(..., wait = 1)`). From task context with
/// interrupts on. `ENXIO` if `cpu` is offline (`f` does not run).
pub(crate) fn call_on<F: Fn() + Sync>(cpu: CpuId, f: &F) -> Result {
    let info = (f as *const F).cast_mut().cast::<c_void>();
    // SAFETY: `info` points to an `F`, which `call_trampoline::<F>` expects;
    // the call waits, so `f` outlives it. `F: Sync`, as it runs on another
    // CPU.
    to_result(unsafe {
        bindings::smp_call_function_single(cpu.as_u32() as _, Some(call_trampoline::<F>), info, 1)
    })
}

/// # Safety
///
/// `info` points to an `F` that outlives the call.
unsafe extern "C" fn call_trampoline<F: Fn() + Sync>(info: *mut c_void) {
    // SAFETY: By the function's requirement.
    let f = unsafe { &*info.cast::<F>() };
    f();
}

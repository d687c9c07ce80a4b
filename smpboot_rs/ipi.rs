// SPDX-License-Identifier: GPL-2.0

//! Function calls on other CPUs through inter-processor interrupts.
//!
//! C header: [`include/linux/smp.h`](srctree/include/linux/smp.h)
//!
//! [`IpiTargets`] own handlers that [`IpiTargets::send`] runs on a given CPU
//! in hard IRQ context (`smp_call_function_single()`), without waiting for
//! them. The handlers' memory must outlive every call in flight: dropping
//! the set first waits for them, once for the whole set, by a synchronous
//! call on every online CPU (calls queued to one CPU run in order, and a CPU
//! that goes offline runs what is queued to it before it dies).

use super::cpu::CpuId;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_void;
use kernel::prelude::*;

/// What [`IpiTargets`] run on the CPU they are sent to.
pub(crate) trait IpiHandler: Send + Sync + 'static {
    /// Called in hard IRQ context (interrupts off) on the target CPU, or on
    /// the sending CPU itself if it sent to itself.
    fn handle(&self);
}

/// Handlers that can be run on other CPUs; dropping the set waits for the
/// calls in flight, once for all of them.
///
/// One wait per set rather than per handler: a wait is a synchronous call
/// to every online CPU, so a handler per CPU waited for one by one cost N²
/// calls at unload (Documentation/benchmarks.rst, rmmod).
///
/// # Invariants
///
/// The handlers stay at their addresses (the vector is never changed after
/// `new`), and every call sent with one of them as its argument has run
/// before the vector is freed (see `Drop`).
pub(crate) struct IpiTargets<T: IpiHandler> {
    handlers: KVec<T>,
}

impl<T: IpiHandler> IpiTargets<T> {
    /// A set of `handlers`, found later by their index.
    pub(crate) fn new(handlers: KVec<T>) -> Self {
        // INVARIANT: nothing changes the vector from now on.
        Self { handlers }
    }

    /// The handlers.
    pub(crate) fn handlers(&self) -> &[T] {
        &self.handlers
    }

    /// Runs handler `index` on `cpu` without waiting (`wait` false) or waits
    /// for it to return (`wait` true). From task context with interrupts
    /// on; may spin while an earlier call of this CPU is in flight.
    /// `ENOENT` if there is no such handler, `ENXIO` if `cpu` is offline
    /// (the handler does not run).
    pub(crate) fn send(&self, index: usize, cpu: CpuId, wait: bool) -> Result {
        let handler = self.handlers.get(index).ok_or(ENOENT)?;
        let info = (handler as *const T).cast_mut().cast::<c_void>();
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

impl<T: IpiHandler> Drop for IpiTargets<T> {
    fn drop(&mut self) {
        // The vector is freed after this returns (type invariant).
        wait_for_calls();
    }
}

/// Waits until every cross-CPU call queued before now has run: an empty
/// call on every online CPU at once, waited for (`on_each_cpu()`). A CPU
/// that goes offline meanwhile runs its queue before it dies.
fn wait_for_calls() {
    // SAFETY: `noop` ignores its argument and the call waits, so nothing
    // outlives this frame; the online mask is a global that lives forever.
    unsafe {
        bindings::on_each_cpu_cond_mask(
            None,
            Some(noop),
            core::ptr::null_mut(),
            true,
            core::ptr::addr_of!(bindings::__cpu_online_mask),
        )
    };
}

/// # Safety
///
/// Any argument.
unsafe extern "C" fn noop(_info: *mut c_void) {}

/// # Safety
///
/// `info` points to a handler of live `IpiTargets<T>`.
unsafe extern "C" fn trampoline<T: IpiHandler>(info: *mut c_void) {
    // SAFETY: `send` passes a handler of a set that is not freed before
    // this call has run (type invariant).
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

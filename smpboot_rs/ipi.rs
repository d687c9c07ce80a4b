// SPDX-License-Identifier: GPL-2.0

//! Function calls on other CPUs through inter-processor interrupts.
//!
//! C header: [`include/linux/smp.h`](srctree/include/linux/smp.h)
//!
//! [`IpiTargets`] own handlers that [`IpiTargets::send`] runs on a given CPU
//! in hard IRQ context (`smp_call_function_single()`), without waiting for
//! them. The handlers' memory must outlive every call in flight: each
//! handler counts its calls in flight, and dropping the set waits until
//! every count is back to zero.
//!
//! # Examples
//!
//! ```
//! use crate::compat::atomic::{Atomic, Relaxed};
//! use crate::cpu::{self, PossibleCpu};
//! use crate::ipi::{self, IpiHandler, IpiTargets};
//!
//! struct Count(Atomic<u32>);
//!
//! impl IpiHandler for Count {
//!     fn handle(&self) {
//!         self.0.fetch_add(1, Relaxed);
//!     }
//! }
//!
//! let mut handlers = KVec::new();
//! handlers.push(Count(Atomic::new(0)), GFP_KERNEL)?;
//! let targets = IpiTargets::new(handlers)?;
//! let cpu = PossibleCpu::new(1).ok_or(ENODEV)?;
//! // Handler 0 on CPU 1, without waiting (`ENXIO` if CPU 1 is offline).
//! targets.send(0, cpu, false)?;
//! drop(targets); // waits for the call
//!
//! // A closure, waited for.
//! let ran_on = Atomic::new(u32::MAX);
//! ipi::call_on(cpu, &|| ran_on.store(cpu::current_cpu().as_u32(), Relaxed))?;
//! # Ok::<(), Error>(())
//! ```
//!
//! A synchronous call to every CPU (`on_each_cpu()`) is not such a wait:
//! `__flush_smp_call_function_queue()` (kernel/smp.c) runs the synchronous
//! calls of the batch it takes off a CPU's queue before the asynchronous
//! ones, so it can return while an asynchronous call queued before it has
//! yet to run (`tests/smpboot_rs_test_ipi.rs`).

use super::compat::atomic::{Acquire, Atomic, Relaxed, Release};
use super::compat::smp_call_function_single;
use super::cpu::PossibleCpu;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;

/// What [`IpiTargets`] run on the CPU they are sent to.
pub(crate) trait IpiHandler: Send + Sync + 'static {
    /// Called in hard IRQ context (interrupts off) on the target CPU, or on
    /// the sending CPU itself if it sent to itself.
    fn handle(&self);
}

/// A handler and the count of its calls in flight.
struct Entry<T> {
    handler: T,
    /// Calls sent with this entry as their argument that have not made
    /// their last access to it yet.
    in_flight: Atomic<usize>,
}

/// How long [`IpiTargets`]'s drop waits for calls in flight before it
/// reports that it is still waiting: handlers are short hard-IRQ code, so
/// a wait this long means a stuck CPU or a handler that does not return.
const WAIT_REPORT_NS: i64 = 1_000_000_000;

/// Handlers that can be run on other CPUs; dropping the set waits for the
/// calls in flight.
///
/// Each handler counts its own calls in flight, and the drop reads the
/// counts, which costs no IPI: waiting for each handler with a synchronous
/// call to every CPU cost N² calls at unload (Documentation/benchmarks.rst,
/// rmmod).
///
/// # Invariants
///
/// The entries stay at their addresses (the vector is never changed after
/// `new`), and each entry's `in_flight` is at least the number of calls
/// sent with it as their argument that have not finished their last access
/// to it (`trampoline`), so the vector is not freed while one can still
/// touch it (see `Drop`).
pub(crate) struct IpiTargets<T: IpiHandler> {
    entries: KVec<Entry<T>>,
}

impl<T: IpiHandler> IpiTargets<T> {
    /// A set of `handlers`, found later by their index.
    pub(crate) fn new(handlers: KVec<T>) -> Result<Self> {
        let mut entries = KVec::with_capacity(handlers.len(), GFP_KERNEL)?;
        for handler in handlers {
            entries.push(
                Entry {
                    handler,
                    in_flight: Atomic::new(0),
                },
                GFP_KERNEL,
            )?;
        }
        // INVARIANT: nothing changes the vector from now on, and no call is
        // in flight yet.
        Ok(Self { entries })
    }

    /// The handlers, in the order and at the indices given to `new`.
    pub(crate) fn handlers(&self) -> impl ExactSizeIterator<Item = &T> + '_ {
        self.entries.iter().map(|e| &e.handler)
    }

    /// Runs handler `index` on `cpu` without waiting (`wait` false) or waits
    /// for it to return (`wait` true). From task context with interrupts
    /// on; may spin while an earlier call of this CPU is in flight.
    /// `ENOENT` if there is no such handler, `ENXIO` if `cpu` is offline
    /// (the handler does not run).
    pub(crate) fn send(&self, index: usize, cpu: PossibleCpu, wait: bool) -> Result {
        let entry = self.entries.get(index).ok_or(ENOENT)?;
        // INVARIANT: counted before the call is queued, as it may run (and
        // drop the count) before `smp_call_function_single()` returns. The
        // call queues the entry with a full barrier (`llist_add()`), so the
        // decrement follows this increment.
        entry.in_flight.fetch_add(1, Relaxed);
        let info = core::ptr::from_ref(entry).cast_mut().cast::<c_void>();
        // SAFETY: `info` points to an `Entry<T>`, which `trampoline::<T>`
        // expects, and stays valid until the call has made its last access
        // to it: the call is counted in `in_flight`, and the vector is not
        // freed before that count is zero (type invariant). The id is a
        // possible CPU below `nr_cpu_ids`.
        let ret = unsafe {
            smp_call_function_single(cpu.as_u32() as c_int, Some(trampoline::<T>), info, wait)
        };
        if ret != 0 {
            // INVARIANT: an error (`-ENXIO`, offline CPU) means the call was
            // neither run nor queued (`generic_exec_single()`): it is not in
            // flight.
            entry.in_flight.fetch_sub(1, Relaxed);
        }
        to_result(ret)
    }
}

impl<T: IpiHandler> Drop for IpiTargets<T> {
    /// Waits until no call is in flight, spinning: the calls are queued to
    /// their CPUs already and run as soon as those CPUs take the IPI (a CPU
    /// that goes offline runs its queue before it dies), so the wait is
    /// short. From task context with interrupts on, as `send`: a CPU that
    /// spins with interrupts off could be the one the call waits for. A wait
    /// longer than `WAIT_REPORT_NS` is reported, once per handler, and goes
    /// on: freeing the handler would be worse.
    fn drop(&mut self) {
        for (index, entry) in self.entries.iter().enumerate() {
            let mut start = None;
            let mut reported = false;
            // Acquire: pairs with the `Release` decrement of `trampoline`, so
            // that the handler's accesses happen before the vector is freed.
            while entry.in_flight.load(Acquire) != 0 {
                let now = ktime_ns();
                let since = *start.get_or_insert(now);
                if !reported && now - since > WAIT_REPORT_NS {
                    pr_err!(
                        "IpiTargets: handler {index} still has {} call(s) in flight after {} ms\n",
                        entry.in_flight.load(Relaxed),
                        (now - since) / 1_000_000
                    );
                    reported = true;
                }
                core::hint::spin_loop();
            }
        }
        // The vector is freed after this returns (type invariant).
    }
}

/// The monotonic clock (`ktime_get()`), in nanoseconds.
fn ktime_ns() -> i64 {
    // SAFETY: `ktime_get()` may be called from any context once timekeeping
    // is up, long before modules load.
    unsafe { bindings::ktime_get() }
}

/// # Safety
///
/// `info` points to an entry of live `IpiTargets<T>` whose `in_flight`
/// counts this call.
unsafe extern "C" fn trampoline<T: IpiHandler>(info: *mut c_void) {
    // SAFETY: `send` passes an entry of a set that is not freed while the
    // call is counted in the entry's `in_flight` (type invariant), which it
    // is until the decrement below.
    let entry = unsafe { &*info.cast::<Entry<T>>() };
    entry.handler.handle();
    // The last access to the entry: once the count is zero, `Drop` may free
    // it, so `entry` is not used again (as `Arc`'s drop does with its
    // count). `Release`: the handler's accesses happen before the free.
    // What runs after it is this function's return, in module text that an
    // unload frees only after `synchronize_rcu()` (`free_module()`), which
    // waits for this interrupts-off section.
    entry.in_flight.fetch_sub(1, Release);
}

/// Runs `f` on `cpu` in hard IRQ context and waits for it to return
/// (`smp_call_function_single(..., wait = 1)`). From task context with
/// interrupts on. `ENXIO` if `cpu` is offline (`f` does not run).
pub(crate) fn call_on<F: Fn() + Sync>(cpu: PossibleCpu, f: &F) -> Result {
    let info = core::ptr::from_ref(f).cast_mut().cast::<c_void>();
    // SAFETY: `info` points to an `F`, which `call_trampoline::<F>` expects;
    // the call waits, so `f` outlives it. `F: Sync`, as it runs on another
    // CPU.
    to_result(unsafe {
        smp_call_function_single(
            cpu.as_u32() as c_int,
            Some(call_trampoline::<F>),
            info,
            true,
        )
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

// SPDX-License-Identifier: GPL-2.0

//! Possible CPUs (from `cpuid.rs`, which the typed API compiles alone), CPU
//! state, preemption and migration guards, and sleeping. These call the C
//! shim of `smpboot_rs.ko` (`ffi.rs`): a crate that compiles this file also
//! compiles `ffi.rs`, and `cpuid.rs` as `cpuid` (a Rust user: `use
//! smpboot_rs::cpu as cpuid;`).
//!
//! C headers: [`include/linux/cpumask.h`](srctree/include/linux/cpumask.h),
//! [`include/linux/preempt.h`](srctree/include/linux/preempt.h),
//! [`include/linux/sched.h`](srctree/include/linux/sched.h)

use super::compat::cpumask::Cpumask;
// 6.12: `Task::current_raw` (7.x's is inherent).
#[allow(unused_imports)]
use super::compat::prelude::*;
use super::ffi;
use core::marker::PhantomData;
use kernel::bindings;
use kernel::task::Task;

// Each crate uses part of them.
#[allow(unused_imports)]
pub(crate) use super::cpuid::{nr_cpu_ids, possible_cpus, OnlineCpus, PossibleCpu};

/// The mask with only `cpu` set, as the scheduler's affinity calls take it.
pub(crate) fn cpumask_of(cpu: PossibleCpu) -> &'static Cpumask {
    // SAFETY: By the invariant of the `CpuId` a `PossibleCpu` wraps, the id
    // is below `nr_cpu_ids`; `cpumask_of()` returns a pointer into a static
    // table, which nothing writes.
    unsafe { Cpumask::from_raw(ffi::smpboot_rs_cpumask_of(cpu.as_u32())) }
}

/// Preemption disabled for as long as the guard lives.
///
/// Neither `Send` nor `Sync`: it belongs to the task and CPU that made it.
pub(crate) struct PreemptGuard {
    cpu: PossibleCpu,
    _not_send: PhantomData<*mut ()>,
}

impl PreemptGuard {
    /// Disables preemption.
    #[allow(clippy::new_without_default)]
    pub(crate) fn new() -> Self {
        // SAFETY: Balanced by `Drop`. The CPU comes in the same call, one
        // call less for the interrupt handlers that want both.
        let cpu = unsafe { ffi::smpboot_rs_preempt_disable() };
        Self {
            // SAFETY: The CPU we run on is possible and below `nr_cpu_ids`.
            cpu: unsafe { PossibleCpu::new_unchecked(cpu) },
            _not_send: PhantomData,
        }
    }

    /// The CPU this code runs on; stable while the guard lives.
    pub(crate) fn cpu(&self) -> PossibleCpu {
        self.cpu
    }
}

impl Drop for PreemptGuard {
    fn drop(&mut self) {
        // SAFETY: Balances the `preempt_disable()` of `new`.
        unsafe { ffi::smpboot_rs_preempt_enable() };
    }
}

/// Migration disabled for as long as the guard lives: the task may sleep
/// and be preempted, but it stays on its CPU, even while that CPU is dying.
///
/// Every guard must be dropped before the CPU dies: the scheduler warns
/// about a dying CPU with migration-disabled tasks.
pub(crate) struct MigrationGuard(PhantomData<*mut ()>);

impl MigrationGuard {
    /// Disables migration of the current task.
    #[allow(clippy::new_without_default)]
    pub(crate) fn new() -> Self {
        // SAFETY: Balanced by `Drop`; the guard is not `Send`, so the same
        // task enables migration again.
        unsafe { bindings::migrate_disable() };
        Self(PhantomData)
    }
}

impl Drop for MigrationGuard {
    fn drop(&mut self) {
        // SAFETY: Balances the `migrate_disable()` of `new` in the same task.
        unsafe { bindings::migrate_enable() };
    }
}

/// Sleeps for `ms` milliseconds, less if a signal comes
/// (`msleep_interruptible()`): in `TASK_INTERRUPTIBLE`, so a long sleep is
/// no hung task.
pub(crate) fn msleep_interruptible(ms: u32) {
    // SAFETY: Called from task context, which may sleep. The time left is of
    // no use to the callers.
    unsafe { bindings::msleep_interruptible(ms) };
}

/// A reschedule point (`cond_resched()`).
pub(crate) fn cond_resched() {
    // SAFETY: A sleepable context is required; callers are task context.
    unsafe { ffi::smpboot_rs_cond_resched() };
}

/// The CPU the current task runs on, for counting calls on the wrong CPU.
///
/// A snapshot: callers that need it stable hold a [`PreemptGuard`] or a
/// [`MigrationGuard`].
pub(crate) fn current_cpu() -> PossibleCpu {
    // SAFETY: `raw_smp_processor_id()` may be called in any context.
    let cpu = unsafe { ffi::smpboot_rs_raw_smp_processor_id() };
    // SAFETY: The CPU we run on is possible and below `nr_cpu_ids`.
    unsafe { PossibleCpu::new_unchecked(cpu) }
}

/// Whether the current context may be preempted (`preemptible()`).
pub(crate) fn preemptible() -> bool {
    // SAFETY: Reads the current preempt count and IRQ state.
    unsafe { ffi::smpboot_rs_preemptible() }
}

/// Whether the current context may sleep, as far as the kernel can tell
/// (without `CONFIG_PREEMPT_COUNT`, only disabled interrupts show).
pub(crate) fn may_sleep() -> bool {
    // SAFETY: Reads the current preempt count and IRQ state.
    unsafe { ffi::smpboot_rs_may_sleep() }
}

/// Whether the current task's allowed CPUs are exactly `cpu`.
pub(crate) fn current_bound_to(cpu: PossibleCpu) -> bool {
    // SAFETY: `current` is valid in task context, and the test reads its mask.
    unsafe { ffi::smpboot_rs_task_bound_to(Task::current_raw(), cpu.as_u32()) }
}

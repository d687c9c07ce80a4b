// SPDX-License-Identifier: GPL-2.0

//! Possible CPUs and the online CPUs, for the typed API (`client.rs`, where
//! this is `smpboot_rs::cpu`) and for `smpboot_rs.ko` (through `cpu.rs`).
//!
//! Compiled into every Rust user, so it calls only the kernel: no helper of
//! `smpboot_rs.ko` (the C shim's functions are in `cpu.rs`).
//!
//! C headers: [`include/linux/cpumask.h`](srctree/include/linux/cpumask.h),
//! [`include/linux/cpu.h`](srctree/include/linux/cpu.h)

use super::compat::cpu::CpuId;
use super::compat::cpumask::Cpumask;
use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr::addr_of;
use kernel::bindings;
use kernel::error::{code::EINVAL, Error};
use kernel::ffi::c_ulong;

pub(crate) use super::compat::cpu::nr_cpu_ids;

/// Whether `cpu` is set in one of the kernel's global CPU masks: the test
/// of `cpumask_test_cpu()`, in Rust because a raise or a callback makes one
/// or two and an out-of-line call costs more than the test
/// (Documentation/benchmarks.rst, profile).
///
/// The online mask changes under CPU hotplug: as in C, the result is a
/// snapshot unless the caller holds the hotplug lock.
fn mask_has(mask: &Cpumask, cpu: u32) -> bool {
    const WORDS: usize = size_of::<bindings::cpumask>() / size_of::<c_ulong>();
    let word = (cpu / c_ulong::BITS) as usize;
    if word >= WORDS {
        return false;
    }
    // SAFETY: `mask` is a valid `struct cpumask` (the invariant of
    // `Cpumask`), and `word` is inside it. A volatile read, as for
    // `READ_ONCE()`: the online mask changes under us.
    let bits = unsafe {
        addr_of!((*mask.as_raw()).bits)
            .cast::<c_ulong>()
            .add(word)
            .read_volatile()
    };
    bits & (1 << (cpu % c_ulong::BITS)) != 0
}

/// `cpu_possible_mask`.
fn possible_mask() -> &'static Cpumask {
    // SAFETY: The kernel's global masks live as long as the kernel.
    unsafe { Cpumask::from_raw(addr_of!(bindings::__cpu_possible_mask)) }
}

/// `cpu_online_mask`, which CPU hotplug changes.
fn online_mask() -> &'static Cpumask {
    // SAFETY: As for `possible_mask`.
    unsafe { Cpumask::from_raw(addr_of!(bindings::__cpu_online_mask)) }
}

/// A possible CPU: the kernel's [`CpuId`] (an id below [`nr_cpu_ids()`])
/// of a CPU in `cpu_possible_mask`, which is what C smpboot creates threads
/// for. An id below `nr_cpu_ids` may name an impossible CPU where the
/// possible mask has holes.
///
/// # Invariants
///
/// The CPU of `self.0` is in `cpu_possible_mask`.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) struct PossibleCpu(CpuId);

impl PossibleCpu {
    /// Validates a CPU id given by a user or by the hardware.
    pub(crate) fn new(cpu: u32) -> Option<Self> {
        Self::from_cpu_id(CpuId::from_u32(cpu)?)
    }

    /// The possible CPU of a kernel CPU id, if its CPU is possible.
    pub(crate) fn from_cpu_id(cpu: CpuId) -> Option<Self> {
        // INVARIANT: `Self` only if the CPU is possible.
        mask_has(possible_mask(), cpu.as_u32()).then_some(Self(cpu))
    }

    /// A CPU id known to be valid, with no check: one that smpboot_rs.ko
    /// passed to a callback (the typed API's trampolines take one per call
    /// on the thread's path), or the CPU the caller runs on.
    ///
    /// # Safety
    ///
    /// `cpu` is a possible CPU below [`nr_cpu_ids()`], as every `cpu` that
    /// smpboot_rs.ko passes to a callback is (see `abi::ThreadOps`).
    pub(crate) unsafe fn new_unchecked(cpu: u32) -> Self {
        // SAFETY: `cpu < nr_cpu_ids()` by the function's requirement.
        let cpu = unsafe { CpuId::from_u32_unchecked(cpu) };
        // INVARIANT: possible by the function's requirement.
        Self(cpu)
    }

    /// The kernel's CPU id, for its own CPU APIs.
    pub(crate) fn cpu_id(self) -> CpuId {
        self.0
    }

    /// The id as the kernel's `unsigned int`.
    pub(crate) fn as_u32(self) -> u32 {
        self.0.as_u32()
    }

    /// The id as an index into per-CPU arrays of `nr_cpu_ids()` entries.
    pub(crate) fn index(self) -> usize {
        self.as_u32() as usize
    }

    /// Whether the CPU is in `cpu_online_mask`: a snapshot, which may be
    /// stale by the time it is used, unless the caller holds the hotplug
    /// lock ([`OnlineCpus`]).
    pub(crate) fn is_online(self) -> bool {
        mask_has(online_mask(), self.as_u32())
    }
}

impl From<PossibleCpu> for CpuId {
    fn from(cpu: PossibleCpu) -> Self {
        cpu.cpu_id()
    }
}

/// The CPU ids of CPU hotplug's callbacks, which it calls for possible CPUs
/// only: `EINVAL` for any other.
impl TryFrom<CpuId> for PossibleCpu {
    type Error = Error;

    fn try_from(cpu: CpuId) -> Result<Self, Error> {
        Self::from_cpu_id(cpu).ok_or(EINVAL)
    }
}

impl core::fmt::Display for PossibleCpu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.as_u32().fmt(f)
    }
}
super::compat::printable_via_core!(PossibleCpu);

/// Iterates over the possible CPUs.
pub(crate) fn possible_cpus() -> impl Iterator<Item = PossibleCpu> {
    (0..nr_cpu_ids()).filter_map(PossibleCpu::new)
}

/// The online CPUs, held still: the CPU hotplug lock held for reading
/// (`cpus_read_lock()`) for as long as the guard lives, so that no CPU comes
/// up or goes down meanwhile. The Rust form of C's
///
/// ```c
/// cpus_read_lock();
/// for_each_online_cpu(cpu)
///         ...;
/// cpus_read_unlock();
/// ```
///
/// Every CPU that [`OnlineCpus::iter`] yields stays online until the guard
/// is dropped, so work raised on it is not raised on a CPU going down (whose
/// thread would park with it until the CPU returns), and the set is the
/// same from start to end of a walk. Each has the thread of every
/// registration made before: `Registration::wake` and `raise` of it do not
/// fail with `ENOENT` (that holds for a snapshot too, since a CPU gets its
/// threads in the prepare stage, before it is marked online; `ENOENT` is
/// for CPUs that have not come online since the registration).
///
/// Taking it may sleep. Never take it in a [`PerCpuThread`] callback or a
/// CPU hotplug callback: CPU hotplug holds the lock for writing and waits
/// for those callbacks, a deadlock (lockdep reports it).
///
/// Neither `Send` nor `Sync`: the task that took the lock releases it.
///
/// [`PerCpuThread`]: super::PerCpuThread
pub(crate) struct OnlineCpus(PhantomData<*mut ()>);

impl OnlineCpus {
    /// Takes the CPU hotplug lock for reading; may sleep.
    pub(crate) fn lock() -> Self {
        // SAFETY: Balanced by `Drop`, in this task (the guard is not
        // `Send`); callers are in task context, as documented.
        unsafe { bindings::cpus_read_lock() };
        Self(PhantomData)
    }

    /// The online CPUs, in id order; none changes state while `self` lives.
    pub(crate) fn iter(&self) -> impl Iterator<Item = PossibleCpu> + '_ {
        possible_cpus().filter(|c| c.is_online())
    }

    /// Whether `cpu` is online; stable while `self` lives.
    pub(crate) fn contains(&self, cpu: PossibleCpu) -> bool {
        cpu.is_online()
    }
}

impl Drop for OnlineCpus {
    fn drop(&mut self) {
        // SAFETY: Balances the `cpus_read_lock()` of `lock`, in the same task.
        unsafe { bindings::cpus_read_unlock() };
    }
}

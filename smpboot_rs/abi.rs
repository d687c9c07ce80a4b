// SPDX-License-Identifier: GPL-2.0

//! The ABI between `smpboot_rs.ko` and the typed Rust API of
//! `smpboot_rs/client.rs`, which is compiled into each Rust user module
//! (out-of-tree crates cannot depend on each other, so they meet at C calls).
//!
//! Both sides compile this one file. Every callback gets the `ctx` of its
//! registration and a `cpu` that is possible and below `nr_cpu_ids` (the
//! client relies on it). The functions are exported GPL by `smpboot_rs.ko`.
//! Besides the functions, the client reads one structure of
//! `smpboot_rs.ko`'s memory: a registration's [`WakeSlot`]s.

use super::compat::atomic::{Acquire, Atomic, Release};
use super::compat::ARef;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_void};
use kernel::task::Task;

/// A registration's callbacks; the C-ABI twin of `struct smp_hotplug_thread`.
#[repr(C)]
pub(crate) struct ThreadOps {
    /// Whether the thread has work; called in the thread, preemption off.
    pub thread_should_run: unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint) -> bool,
    /// The work; called in the thread when `thread_should_run` was true.
    pub thread_fn: unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint),
    /// Called once per CPU when its thread is created, not in the thread.
    /// A negative errno fails the registration or the CPU's bringup.
    pub create: Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint) -> c_int>,
    /// Called in the thread before its first `thread_fn`.
    pub setup: Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint)>,
    /// Called in the thread when it stops, if it started (where `setup`, if
    /// set, runs).
    pub cleanup: Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint, online: bool)>,
    /// Called in the thread before it parks (CPU going offline).
    pub park: Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint)>,
    /// Called in the thread after it is unparked (CPU back online), if
    /// `park` is set (as in C).
    pub unpark: Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint)>,
    /// Told the task of a CPU's thread when it starts, and null when it is
    /// stopped (`ht->store` of the C API).
    pub store: Option<
        unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint, task: *mut bindings::task_struct),
    >,
    /// Called once when the registration is gone and no callback runs any
    /// more, whoever unregistered it: the owner, or `smpboot_rs.ko` when the
    /// owner was unloaded with it live. Frees what `ctx` points to.
    pub release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

/// What `smpboot_rs_register` takes.
///
/// Each user compiles its own copy of this file: `size` lets
/// `smpboot_rs.ko` refuse a description laid out by another version.
#[repr(C)]
pub(crate) struct ThreadDesc {
    /// `size_of::<ThreadDesc>()` as the user compiled it.
    pub size: usize,
    /// The module whose code the callbacks are; if it is unloaded with the
    /// registration still live, `smpboot_rs.ko` unregisters it first.
    pub owner: *mut bindings::module,
    /// The callbacks; valid until unregistration.
    pub ops: *const ThreadOps,
    /// Passed to every callback; identifies the registration (one
    /// registration per `ctx` at a time).
    pub ctx: *mut c_void,
    /// The threads' name: exactly one `%u` (the CPU) and no other `%`.
    pub thread_comm: *const c_char,
    /// The core does not park or unpark the threads; their owner does.
    pub selfparking: bool,
}

/// A slot from which any context, hard IRQ included, can wake a thread.
///
/// The slot keeps its own reference on the task until it is dropped, so a
/// wake needs no RCU section: whoever can reach the slot keeps it, and so the
/// task, alive (a registration owns its slots, one per CPU id below
/// `nr_cpu_ids`, and waking through a registration that is being
/// unregistered is excluded by the wake ABI). Waking a thread that has
/// exited since is harmless.
///
/// Part of the ABI, its layout that of a pointer: a user of the typed API
/// reaches its registration's slots (`smpboot_rs_wake_slots`) and wakes
/// through them, as C's users wake the task their `ht->store` points to.
///
/// # Invariants
///
/// `task` is null or holds a reference on a task given up by
/// `ARef::into_raw`; once non-null it never changes, and only `Drop` takes
/// the reference back.
#[repr(transparent)]
pub(crate) struct WakeSlot {
    task: Atomic<*mut Task>,
}

// Slots cross from `smpboot_rs.ko` to its users as an array.
const _: () = assert!(core::mem::size_of::<WakeSlot>() == core::mem::size_of::<*mut c_void>());

impl WakeSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Self {
            task: Atomic::new(core::ptr::null_mut()),
        }
    }

    /// Makes `task` the one [`WakeSlot::wake`] wakes, with a reference of
    /// its own; returns false, and changes nothing, if the slot holds a task
    /// already. A parked thread may be published at once: a wakeup leaves
    /// it parked.
    // smpboot_rs.ko's; the typed API only wakes.
    #[allow(dead_code)]
    pub(crate) fn publish(&self, task: &Task) -> bool {
        let task = ARef::into_raw(ARef::from(task));
        // INVARIANT: The slot keeps the reference taken here if it publishes it.
        if self
            .task
            .cmpxchg(core::ptr::null_mut(), task.as_ptr(), Release)
            .is_ok()
        {
            return true;
        }
        // SAFETY: The reference `into_raw` gave up above was not published.
        drop(unsafe { ARef::from_raw(task) });
        false
    }

    /// Wakes the published thread, if any; callable from any context.
    /// Waking a running, parked or exited thread does nothing.
    ///
    /// Returns whether a thread was published.
    pub(crate) fn wake(&self) -> bool {
        let task = self.task.load(Acquire);
        if task.is_null() {
            return false;
        }
        // Not `Task::wake_up()`: 6.12's is not `#[inline]`, so every raise
        // made a call into the kernel crate, which then called
        // `wake_up_process()`; C's raise calls `wake_up_process(tsk)`.
        // SAFETY: A non-null `task` never changes and keeps its reference
        // until `Drop` (type invariant), so the task outlives the borrow of
        // `self`. `Task` is a transparent wrapper of `task_struct`.
        // `wake_up_process()` may be called from any context, on a task in
        // any state.
        unsafe { bindings::wake_up_process(task.cast()) };
        true
    }
}

impl Default for WakeSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for WakeSlot {
    fn drop(&mut self) {
        if let Some(task) = NonNull::new(*self.task.get_mut()) {
            // SAFETY: The slot's reference (type invariant); `&mut self`
            // means no waker uses it any more.
            drop(unsafe { ARef::from_raw(task) });
        }
    }
}

/// An opaque registration.
#[repr(C)]
pub(crate) struct RegistrationHandle {
    _opaque: [u8; 0],
}

// `task_struct` holds empty structs in some configurations; only pointers cross.
#[allow(improper_ctypes)]
extern "C" {
    /// Registers per-CPU threads; on success `*out` is the registration.
    pub(crate) fn smpboot_rs_register(
        desc: *const ThreadDesc,
        out: *mut *mut RegistrationHandle,
    ) -> c_int;
    /// Stops every thread of `reg` and frees it; returns once no callback
    /// runs. Called where it would deadlock or sleep in atomic context (from
    /// one of `reg`'s own threads, or not preemptible), it leaves `reg`
    /// registered until its owner is unloaded, and says so in the log.
    pub(crate) fn smpboot_rs_unregister(reg: *mut RegistrationHandle);
    /// The wake slots of `reg`, one per CPU id below `nr_cpu_ids`: sets
    /// `*nr` to their number and returns the first. They stay valid until
    /// `smpboot_rs_unregister` of `reg` begins, and may be used from any
    /// context until then. A slot is empty until its CPU first has a thread
    /// (a CPU that is not possible never does). For a null `reg`, `*nr` is
    /// 0 and the pointer is dangling.
    pub(crate) fn smpboot_rs_wake_slots(
        reg: *const RegistrationHandle,
        nr: *mut usize,
    ) -> *const WakeSlot;
    /// See `include/smpboot_rs.h`.
    pub(crate) fn smpboot_rs_thread_schedule() -> c_int;
    /// The state of `cpu`'s thread, as `state=` of the sysfs file shows
    /// it: one of the `THREAD_*` values, -ENOENT if that CPU has no thread
    /// (it never came online since the registration, or the registration is
    /// being unregistered), -EINVAL for a CPU out of range. Any context;
    /// not concurrently with, nor after, `smpboot_rs_unregister` of `reg`.
    pub(crate) fn smpboot_rs_thread_state(reg: *const RegistrationHandle, cpu: c_uint) -> c_int;
}

/// `smpboot_rs_thread_state`: created, `setup` not run yet (`state=none`).
pub(crate) const THREAD_CREATED: c_int = 0;
/// Set up and not parked (`state=active`).
pub(crate) const THREAD_ACTIVE: c_int = 1;
/// Parked, its CPU offline (`state=parked`).
pub(crate) const THREAD_PARKED: c_int = 2;
/// Selfparking, left unparked by its owner, its CPU down past
/// `smpboot_rs:online` (`state=held`).
pub(crate) const THREAD_HELD: c_int = 3;

// SPDX-License-Identifier: GPL-2.0

//! The ABI between `smpboot_rs.ko` and the typed Rust API of
//! `smpboot_rs/client.rs`, which is compiled into each Rust user module
//! (out-of-tree crates cannot depend on each other, so they meet at C calls).
//!
//! Both sides compile this one file. Every callback gets the `ctx` of its
//! registration and a `cpu` that is possible and below `nr_cpu_ids` (the
//! client relies on it). The functions are exported GPL by `smpboot_rs.ko`.

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_void};

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
    /// Called in the thread when it stops, if `setup` ran.
    pub cleanup: Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint, online: bool)>,
    /// Called in the thread before it parks (CPU going offline).
    pub park: Option<unsafe extern "C" fn(ctx: *mut c_void, cpu: c_uint)>,
    /// Called in the thread after it is unparked (CPU back online).
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
    /// Wakes the thread of `cpu`, from any context: 0, or -EINVAL for a
    /// CPU out of range, -ENOENT if that CPU never had a thread.
    /// Not concurrently with, nor after, `smpboot_rs_unregister` of `reg`.
    pub(crate) fn smpboot_rs_wake(reg: *const RegistrationHandle, cpu: c_uint) -> c_int;
    /// See `include/smpboot_rs.h`.
    pub(crate) fn smpboot_rs_thread_schedule() -> c_int;
    /// The state of `cpu`'s thread, as `state=` of the sysfs file shows
    /// it: one of the `THREAD_*` values, -ENOENT if that CPU has no thread
    /// (it never came online since the registration, or the registration is
    /// being unregistered), -EINVAL for a CPU out of range. Any context;
    /// the same rule as `smpboot_rs_wake` for `reg`.
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

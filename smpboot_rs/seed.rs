// SPDX-License-Identifier: GPL-2.0

//! `struct smp_hotplug_thread`, the descriptor of the C API, as 6.12 lays it
//! out, and the callbacks that call into it.
//!
//! C header: [`include/linux/smpboot.h`](srctree/include/linux/smpboot.h)
//!
//! The bindings of 6.12 do not include `linux/smpboot.h`; this mirror is
//! checked against the C layout on both sides (`smpboot_rs/shim.c`).

use crate::abi::ThreadOps;
use crate::ffi;
use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint, c_void};

/// `struct smp_hotplug_thread`.
#[repr(C)]
pub(crate) struct SmpHotplugThread {
    pub store: *mut *mut bindings::task_struct,
    pub list: bindings::list_head,
    pub thread_should_run: Option<unsafe extern "C" fn(cpu: c_uint) -> c_int>,
    pub thread_fn: Option<unsafe extern "C" fn(cpu: c_uint)>,
    pub create: Option<unsafe extern "C" fn(cpu: c_uint)>,
    pub setup: Option<unsafe extern "C" fn(cpu: c_uint)>,
    pub cleanup: Option<unsafe extern "C" fn(cpu: c_uint, online: bool)>,
    pub park: Option<unsafe extern "C" fn(cpu: c_uint)>,
    pub unpark: Option<unsafe extern "C" fn(cpu: c_uint)>,
    pub selfparking: bool,
    pub thread_comm: *const c_char,
}

const _: () = assert!(core::mem::size_of::<SmpHotplugThread>() == 96);
const _: () = assert!(core::mem::offset_of!(SmpHotplugThread, thread_should_run) == 24);
const _: () = assert!(core::mem::offset_of!(SmpHotplugThread, selfparking) == 80);
const _: () = assert!(core::mem::offset_of!(SmpHotplugThread, thread_comm) == 88);

/// The callbacks of a C registration: `ctx` is its `struct smp_hotplug_thread`.
pub(crate) static SEED_OPS: ThreadOps = ThreadOps {
    thread_should_run: seed_should_run,
    thread_fn: seed_thread_fn,
    create: Some(seed_create),
    setup: Some(seed_setup),
    cleanup: Some(seed_cleanup),
    park: Some(seed_park),
    unpark: Some(seed_unpark),
    store: Some(seed_store),
    // The descriptor is the C user's.
    release: None,
};

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread`, valid while registered.
unsafe fn ht<'a>(ctx: *mut c_void) -> &'a SmpHotplugThread {
    // SAFETY: By the function's requirement.
    unsafe { &*ctx.cast::<SmpHotplugThread>() }
}

// The callbacks below share one contract: `ctx` is a registered descriptor
// (registration checked that `thread_should_run` and `thread_fn` are set),
// and the C callbacks are called in the contexts `linux/smpboot.h` documents.

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread` (see above).
unsafe extern "C" fn seed_should_run(ctx: *mut c_void, cpu: c_uint) -> bool {
    // SAFETY: See above.
    let ht = unsafe { ht(ctx) };
    // SAFETY: See above.
    ht.thread_should_run.is_some_and(|f| unsafe { f(cpu) } != 0)
}

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread` (see above).
unsafe extern "C" fn seed_thread_fn(ctx: *mut c_void, cpu: c_uint) {
    // SAFETY: See above.
    if let Some(f) = unsafe { ht(ctx) }.thread_fn {
        // SAFETY: See above.
        unsafe { f(cpu) };
    }
}

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread` (see above).
unsafe extern "C" fn seed_create(ctx: *mut c_void, cpu: c_uint) -> c_int {
    // SAFETY: See above.
    if let Some(f) = unsafe { ht(ctx) }.create {
        // SAFETY: See above.
        unsafe { f(cpu) };
    }
    0
}

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread` (see above).
unsafe extern "C" fn seed_setup(ctx: *mut c_void, cpu: c_uint) {
    // SAFETY: See above.
    if let Some(f) = unsafe { ht(ctx) }.setup {
        // SAFETY: See above.
        unsafe { f(cpu) };
    }
}

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread` (see above).
unsafe extern "C" fn seed_cleanup(ctx: *mut c_void, cpu: c_uint, online: bool) {
    // SAFETY: See above.
    if let Some(f) = unsafe { ht(ctx) }.cleanup {
        // SAFETY: See above.
        unsafe { f(cpu, online) };
    }
}

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread` (see above).
unsafe extern "C" fn seed_park(ctx: *mut c_void, cpu: c_uint) {
    // SAFETY: See above.
    if let Some(f) = unsafe { ht(ctx) }.park {
        // SAFETY: See above.
        unsafe { f(cpu) };
    }
}

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread` (see above).
unsafe extern "C" fn seed_unpark(ctx: *mut c_void, cpu: c_uint) {
    // SAFETY: See above.
    if let Some(f) = unsafe { ht(ctx) }.unpark {
        // SAFETY: See above.
        unsafe { f(cpu) };
    }
}

/// # Safety
///
/// `ctx` is a registered `struct smp_hotplug_thread` (see above).
unsafe extern "C" fn seed_store(ctx: *mut c_void, cpu: c_uint, task: *mut bindings::task_struct) {
    // SAFETY: See above.
    let store = unsafe { ht(ctx) }.store;
    if !store.is_null() {
        // SAFETY: `store` is the descriptor's per-CPU pointer and `cpu` a
        // possible CPU, so `per_cpu_ptr()` gives a valid slot.
        unsafe { *ffi::smpboot_rs_percpu_task_slot(store, cpu) = task };
    }
}

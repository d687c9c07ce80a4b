// SPDX-License-Identifier: GPL-2.0

//! The functions `smpboot_rs.ko` exports (GPL, by `smpboot_rs/shim.c`): the
//! C API of `include/smpboot_rs.h` and the ABI of the typed Rust API
//! (`smpboot_rs/abi.rs`). Each checks its raw arguments and calls the core.

use crate::abi::{RegistrationHandle, ThreadDesc, WakeSlot};
use crate::callbacks::Request;
use crate::core::{self as smp, Core, Handle};
use crate::global::Global;
use crate::seed::SmpHotplugThread;
use kernel::bindings;
use kernel::ffi::{c_int, c_uint, c_void};
use kernel::prelude::*;

/// The core, installed by module init.
pub(crate) static CORE: Global<Core> = Global::new();

/// The core, for exported functions and the sysfs file.
pub(crate) fn core() -> Result<&'static Core> {
    // SAFETY: Exported functions run while their caller holds a reference on
    // this module, so the core, dropped at exit, is alive; the sysfs file
    // that also calls this is removed before the core is dropped.
    unsafe { CORE.get() }.ok_or(ENODEV)
}

fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// See `smpboot_rs_register` in `smpboot_rs/abi.rs`: `desc` describes valid
/// callbacks and context, `out` is valid for a write.
#[no_mangle]
pub(crate) unsafe extern "C" fn smpboot_rs_register(
    desc: *const ThreadDesc,
    out: *mut *mut RegistrationHandle,
) -> c_int {
    errno((|| {
        if out.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: By the function's requirement.
        let req = unsafe { Request::from_desc(desc) }?;
        let handle = core()?.register(req)?;
        // SAFETY: By the function's requirement `out` is valid for a write.
        unsafe { *out = handle.cast_mut().cast() };
        Ok(())
    })())
}

/// # Safety
///
/// `reg` came from `smpboot_rs_register` (unknown values are ignored).
#[no_mangle]
pub(crate) unsafe extern "C" fn smpboot_rs_unregister(reg: *mut RegistrationHandle) {
    if let Ok(core) = core() {
        core.unregister(reg.cast_const().cast());
    }
}

/// The registration behind `reg`; `EINVAL` for null. Takes no lock, so it
/// works in hard IRQ context.
///
/// # Safety
///
/// `reg` is null or a live registration from `smpboot_rs_register` whose
/// `smpboot_rs_unregister` has not begun, and stays so for `'a`.
unsafe fn live_handle<'a>(reg: *const RegistrationHandle) -> Result<&'a Handle> {
    if reg.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: By the function's requirement the handle is live for `'a`.
    Ok(unsafe { &*reg.cast::<Handle>() })
}

/// # Safety
///
/// `reg` is a live registration from `smpboot_rs_register` whose
/// `smpboot_rs_unregister` has not begun: unregistration frees it.
#[no_mangle]
pub(crate) unsafe extern "C" fn smpboot_rs_thread_state(
    reg: *const RegistrationHandle,
    cpu: c_uint,
) -> c_int {
    // SAFETY: By the function's requirement.
    unsafe { live_handle(reg) }
        .and_then(|handle| handle.thread_state(cpu))
        .unwrap_or_else(|e| e.to_errno())
}

/// # Safety
///
/// As for `smpboot_rs_thread_state`; `nr` is null or valid for a write.
#[no_mangle]
pub(crate) unsafe extern "C" fn smpboot_rs_wake_slots(
    reg: *const RegistrationHandle,
    nr: *mut usize,
) -> *const WakeSlot {
    // SAFETY: By the function's requirement.
    let slots = unsafe { live_handle(reg) }.map_or(&[][..], Handle::wake_slots);
    if !nr.is_null() {
        // SAFETY: By the function's requirement.
        unsafe { *nr = slots.len() };
    }
    slots.as_ptr()
}

/// See `include/smpboot_rs.h`.
#[no_mangle]
pub(crate) extern "C" fn smpboot_rs_thread_schedule() -> c_int {
    match smp::thread_schedule() {
        Ok(stop) => c_int::from(stop),
        Err(e) => e.to_errno(),
    }
}

/// `smpboot_rs_register_percpu_thread()` of `include/smpboot_rs.h`, which
/// passes the caller's `THIS_MODULE` as `owner`.
///
/// # Safety
///
/// `ht` is a valid descriptor that stays valid until it is unregistered or
/// `owner` is unloaded; its callbacks are code of `owner`.
#[no_mangle]
pub(crate) unsafe extern "C" fn __smpboot_rs_register_percpu_thread(
    ht: *mut SmpHotplugThread,
    owner: *mut bindings::module,
) -> c_int {
    errno((|| {
        // SAFETY: By the function's requirement.
        let req = unsafe { Request::from_seed(ht, owner) }?;
        core()?.register(req).map(drop)
    })())
}

/// # Safety
///
/// `ht` was registered by `smpboot_rs_register_percpu_thread` (unknown
/// descriptors are ignored).
#[no_mangle]
pub(crate) unsafe extern "C" fn smpboot_rs_unregister_percpu_thread(ht: *mut SmpHotplugThread) {
    if let Ok(core) = core() {
        core.unregister_ctx(ht.cast::<c_void>());
    }
}

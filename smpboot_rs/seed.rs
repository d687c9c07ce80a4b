// SPDX-License-Identifier: GPL-2.0

//! `struct smp_hotplug_thread`, the descriptor of the C API, as 6.12 lays it
//! out. The core calls its functions directly (`smpboot_rs/callbacks.rs`).
//!
//! C header: [`include/linux/smpboot.h`](srctree/include/linux/smpboot.h)
//!
//! The bindings of 6.12 do not include `linux/smpboot.h`; this mirror is
//! checked against the C layout on both sides (`smpboot_rs/shim.c`).

use kernel::bindings;
use kernel::ffi::{c_char, c_int, c_uint};

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

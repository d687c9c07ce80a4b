// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C shim (`smpboot_rs/shim.c`), exported by
//! `smpboot_rs.ko` so that user crates that compile the wrapper modules can
//! call them too.
//!
//! Each function is a callable copy of a static inline or macro that has no
//! binding in 6.12; see the C definitions for their contracts.
//!
//! C header: [`smpboot_rs/shim.h`](../smpboot_rs/shim.h)

use kernel::bindings;
use kernel::ffi::c_uint;

// `task_struct` holds empty structs in some configurations; only pointers cross.
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn smpboot_rs_preempt_disable() -> c_uint;
    pub(crate) fn smpboot_rs_preempt_enable();
    pub(crate) fn smpboot_rs_raw_smp_processor_id() -> c_uint;
    pub(crate) fn smpboot_rs_preemptible() -> bool;
    pub(crate) fn smpboot_rs_in_task() -> bool;
    pub(crate) fn smpboot_rs_may_sleep() -> bool;
    pub(crate) fn smpboot_rs_cpumask_of(cpu: c_uint) -> *const bindings::cpumask;
    pub(crate) fn smpboot_rs_task_bound_to(task: *mut bindings::task_struct, cpu: c_uint) -> bool;
    pub(crate) fn smpboot_rs_wait_pass_begin() -> c_uint;
    pub(crate) fn smpboot_rs_wait_pass_running();
    pub(crate) fn smpboot_rs_cond_resched();
    pub(crate) fn smpboot_rs_percpu_task_slot(
        store: *mut *mut bindings::task_struct,
        cpu: c_uint,
    ) -> *mut *mut bindings::task_struct;
}

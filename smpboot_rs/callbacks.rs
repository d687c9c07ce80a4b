// SPDX-License-Identifier: GPL-2.0

//! A registration's user callbacks, callable from safe code.

use crate::abi::{ThreadDesc, ThreadOps};
// 6.12: `CStr::to_bytes` (7.x's `CStr` has it).
#[allow(unused_imports)]
use crate::compat::prelude::*;
use crate::cpu::PossibleCpu;
use crate::ffi;
use crate::kthread::CpuThreadName;
use crate::seed::SmpHotplugThread;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_char, c_uint, c_void};
use kernel::prelude::*;
use kernel::str::{CStr, CString};

/// The callbacks of one registration, by the API it came through.
///
/// # Invariants
///
/// Until the registration is gone, the `ThreadOps` and context of `Ops`, or
/// the descriptor of `Seed`, stay valid, and their functions may be called
/// (with the context) in the contexts the core calls them in; a `Seed`'s
/// `thread_should_run` and `thread_fn` are set.
pub(crate) struct UserCallbacks(Raw);

/// Where a registration's callbacks are.
enum Raw {
    /// A [`ThreadOps`] table and the context every call gets (the typed
    /// Rust API, and any user of `smpboot_rs_register`).
    Ops {
        ops: *const ThreadOps,
        ctx: *mut c_void,
    },
    /// A descriptor of the C API, whose functions are called directly: one
    /// indirect call per callback, as in C.
    Seed(*const SmpHotplugThread),
}

/// [`Raw`], borrowed for a call.
enum Target<'a> {
    Ops(&'a ThreadOps, *mut c_void),
    Seed(&'a SmpHotplugThread),
}

// SAFETY: The C and client ABIs require callbacks callable from any task.
unsafe impl Send for UserCallbacks {}
// SAFETY: As above; the core serialises the callbacks of each CPU.
unsafe impl Sync for UserCallbacks {}

/// A registration request, read from its C description.
pub(crate) struct Request {
    /// The callbacks.
    pub(crate) callbacks: UserCallbacks,
    /// The threads' name format, checked by [`CpuThreadName::new`].
    pub(crate) comm: CString,
    /// The name format before and after its `%u`, for display.
    pub(crate) comm_parts: (KVec<u8>, KVec<u8>),
    /// The core neither parks nor unparks the threads.
    pub(crate) selfparking: bool,
    /// The module the callbacks belong to (compared, never dereferenced).
    pub(crate) owner: *mut bindings::module,
}

impl Request {
    /// Reads and checks a description of `smpboot_rs_register`.
    ///
    /// # Safety
    ///
    /// `desc` is null or points to a valid description of at least `usize`
    /// bytes; if its `size` is that of [`ThreadDesc`], its `ops` and `ctx`
    /// meet the invariants of [`UserCallbacks`] and its `thread_comm` is a
    /// valid string or null.
    pub(crate) unsafe fn from_desc(desc: *const ThreadDesc) -> Result<Self> {
        if desc.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: By the function's requirement `size` is readable.
        let size = unsafe { (*desc).size };
        if size != core::mem::size_of::<ThreadDesc>() {
            pr_err!(
                "registration refused: its description has {} bytes, this smpboot_rs.ko takes {} (rebuild the user against it)\n",
                size,
                core::mem::size_of::<ThreadDesc>()
            );
            return Err(EINVAL);
        }
        // SAFETY: By the function's requirement, with the size checked.
        let desc = unsafe { &*desc };
        if desc.ops.is_null() {
            return Err(EINVAL);
        }
        // INVARIANT: By the function's requirement.
        let callbacks = UserCallbacks(Raw::Ops {
            ops: desc.ops,
            ctx: desc.ctx,
        });
        // SAFETY: By the function's requirement the name is a valid string
        // or null.
        unsafe { Self::new(callbacks, desc.thread_comm, desc.selfparking, desc.owner) }
    }

    /// Reads and checks a descriptor of the C API
    /// (`smpboot_rs_register_percpu_thread()`).
    ///
    /// # Safety
    ///
    /// `ht` is null or a valid descriptor whose `thread_comm` is a valid
    /// string or null, and whose callbacks may be called as
    /// `linux/smpboot.h` documents until it is unregistered (or `owner`,
    /// whose code they are, is unloaded).
    pub(crate) unsafe fn from_seed(
        ht: *const SmpHotplugThread,
        owner: *mut bindings::module,
    ) -> Result<Self> {
        if ht.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: By the function's requirement.
        let desc = unsafe { &*ht };
        if desc.thread_should_run.is_none() || desc.thread_fn.is_none() {
            return Err(EINVAL);
        }
        // INVARIANT: By the function's requirement, with the two callbacks
        // every thread calls checked.
        let callbacks = UserCallbacks(Raw::Seed(ht));
        // SAFETY: By the function's requirement the name is a valid string
        // or null.
        unsafe { Self::new(callbacks, desc.thread_comm, desc.selfparking, owner) }
    }

    /// Reads and checks the name format; the part both APIs share.
    ///
    /// # Safety
    ///
    /// `thread_comm` is null or a valid NUL-terminated string.
    unsafe fn new(
        callbacks: UserCallbacks,
        thread_comm: *const c_char,
        selfparking: bool,
        owner: *mut bindings::module,
    ) -> Result<Self> {
        if thread_comm.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: By the function's requirement, a non-null name is a valid
        // NUL-terminated string.
        let format = unsafe { CStr::from_char_ptr(thread_comm) };
        // Names show in `key=value` lines: no blank, no `=`.
        let bytes = format.to_bytes();
        if bytes.iter().any(|&b| b.is_ascii_whitespace() || b == b'=') {
            return Err(EINVAL);
        }
        let (before_cpu, after_cpu) = CpuThreadName::new(format)?.around_cpu();
        let mut before = KVec::new();
        let mut after = KVec::new();
        before.extend_from_slice(before_cpu, GFP_KERNEL)?;
        after.extend_from_slice(after_cpu, GFP_KERNEL)?;
        Ok(Self {
            callbacks,
            comm: format.to_cstring()?,
            comm_parts: (before, after),
            selfparking,
            owner,
        })
    }
}

impl UserCallbacks {
    fn target(&self) -> Target<'_> {
        match self.0 {
            // SAFETY: By the type invariant `ops` is valid.
            Raw::Ops { ops, ctx } => Target::Ops(unsafe { &*ops }, ctx),
            // SAFETY: By the type invariant `ht` is valid.
            Raw::Seed(ht) => Target::Seed(unsafe { &*ht }),
        }
    }

    /// What identifies the registration: its context, or its C descriptor.
    /// There is one registration per context at a time.
    pub(crate) fn ctx(&self) -> *mut c_void {
        match self.0 {
            Raw::Ops { ctx, .. } => ctx,
            Raw::Seed(ht) => ht.cast_mut().cast(),
        }
    }

    /// Whether this registration was made with `ctx`.
    pub(crate) fn has_ctx(&self, ctx: *mut c_void) -> bool {
        self.ctx() == ctx
    }

    /// Calls the callback of `cpu` that `ops` or `seed` picks, if it is set.
    fn call(
        &self,
        cpu: PossibleCpu,
        ops: impl FnOnce(&ThreadOps) -> Option<unsafe extern "C" fn(*mut c_void, c_uint)>,
        seed: impl FnOnce(&SmpHotplugThread) -> Option<unsafe extern "C" fn(c_uint)>,
    ) {
        let cpu = cpu.as_u32();
        match self.target() {
            Target::Ops(table, ctx) => {
                if let Some(f) = ops(table) {
                    // SAFETY: The type invariant.
                    unsafe { f(ctx, cpu) }
                }
            }
            Target::Seed(ht) => {
                if let Some(f) = seed(ht) {
                    // SAFETY: The type invariant.
                    unsafe { f(cpu) }
                }
            }
        }
    }

    /// `thread_should_run`.
    pub(crate) fn should_run(&self, cpu: PossibleCpu) -> bool {
        let cpu = cpu.as_u32();
        match self.target() {
            // SAFETY: The type invariant.
            Target::Ops(ops, ctx) => unsafe { (ops.thread_should_run)(ctx, cpu) },
            // SAFETY: The type invariant.
            Target::Seed(ht) => ht.thread_should_run.is_some_and(|f| unsafe { f(cpu) } != 0),
        }
    }

    /// `thread_fn`.
    pub(crate) fn run(&self, cpu: PossibleCpu) {
        self.call(cpu, |ops| Some(ops.thread_fn), |ht| ht.thread_fn)
    }

    /// `create`.
    pub(crate) fn create(&self, cpu: PossibleCpu) -> Result {
        let cpu = cpu.as_u32();
        match self.target() {
            Target::Ops(ops, ctx) => match ops.create {
                // SAFETY: The type invariant.
                Some(f) => to_result(unsafe { f(ctx, cpu) }),
                None => Ok(()),
            },
            Target::Seed(ht) => {
                // The C API's `create` cannot fail.
                if let Some(f) = ht.create {
                    // SAFETY: The type invariant.
                    unsafe { f(cpu) }
                }
                Ok(())
            }
        }
    }

    /// `setup`.
    pub(crate) fn setup(&self, cpu: PossibleCpu) {
        self.call(cpu, |ops| ops.setup, |ht| ht.setup)
    }

    /// `cleanup`.
    pub(crate) fn cleanup(&self, cpu: PossibleCpu, online: bool) {
        let cpu = cpu.as_u32();
        match self.target() {
            Target::Ops(ops, ctx) => {
                if let Some(f) = ops.cleanup {
                    // SAFETY: The type invariant.
                    unsafe { f(ctx, cpu, online) }
                }
            }
            Target::Seed(ht) => {
                if let Some(f) = ht.cleanup {
                    // SAFETY: The type invariant.
                    unsafe { f(cpu, online) }
                }
            }
        }
    }

    /// Whether `park` is set. C smpboot's thread without one stays active
    /// for its callbacks while parked, so it gets no `unpark` either.
    pub(crate) fn has_park(&self) -> bool {
        match self.target() {
            Target::Ops(ops, _) => ops.park.is_some(),
            Target::Seed(ht) => ht.park.is_some(),
        }
    }

    /// `park`.
    pub(crate) fn park(&self, cpu: PossibleCpu) {
        self.call(cpu, |ops| ops.park, |ht| ht.park)
    }

    /// `unpark`.
    pub(crate) fn unpark(&self, cpu: PossibleCpu) {
        self.call(cpu, |ops| ops.unpark, |ht| ht.unpark)
    }

    /// `release`: the registration is gone; called once, last. A C
    /// descriptor is its user's: nothing to release.
    pub(crate) fn release(&self) {
        if let Target::Ops(ops, ctx) = self.target() {
            if let Some(f) = ops.release {
                // SAFETY: The type invariant; no callback runs any more.
                unsafe { f(ctx) }
            }
        }
    }

    /// `store`: tells the user the task of `cpu`'s thread (null once stopped).
    pub(crate) fn store(&self, cpu: PossibleCpu, task: *mut bindings::task_struct) {
        let cpu = cpu.as_u32();
        match self.target() {
            Target::Ops(ops, ctx) => {
                if let Some(f) = ops.store {
                    // SAFETY: The type invariant.
                    unsafe { f(ctx, cpu, task) }
                }
            }
            Target::Seed(ht) => {
                if !ht.store.is_null() {
                    // SAFETY: `store` is the descriptor's per-CPU pointer and
                    // `cpu` a possible CPU, so `per_cpu_ptr()` gives a valid
                    // slot, which the C API lets the core write.
                    unsafe { *ffi::smpboot_rs_percpu_task_slot(ht.store, cpu) = task };
                }
            }
        }
    }
}

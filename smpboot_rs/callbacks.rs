// SPDX-License-Identifier: GPL-2.0

//! A registration's user callbacks, callable from safe code.

use crate::abi::{ThreadDesc, ThreadOps};
// 6.12: `CStr::to_bytes` (7.x's `CStr` has it).
#[allow(unused_imports)]
use crate::compat::prelude::*;
use crate::cpu::PossibleCpu;
use crate::kthread::CpuThreadName;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::str::CStr;

/// The callbacks and context of one registration.
///
/// # Invariants
///
/// `ops` and `ctx` stay valid, and the functions of `ops` may be called with
/// `ctx` in the contexts the core calls them in, until the registration is
/// gone; `ops` outlives every `UserCallbacks` made from it.
pub(crate) struct UserCallbacks {
    ops: *const ThreadOps,
    ctx: *mut c_void,
}

// SAFETY: The C and client ABIs require callbacks callable from any task.
unsafe impl Send for UserCallbacks {}
// SAFETY: As above; the core serialises the callbacks of each CPU.
unsafe impl Sync for UserCallbacks {}

/// A registration request, read from its C description.
pub(crate) struct Request {
    /// The callbacks.
    pub(crate) callbacks: UserCallbacks,
    /// The threads' name format.
    pub(crate) comm: CpuThreadName,
    /// The name format before and after its `%u`, for display.
    pub(crate) comm_parts: (KVec<u8>, KVec<u8>),
    /// The core neither parks nor unparks the threads.
    pub(crate) selfparking: bool,
    /// The module the callbacks belong to (compared, never dereferenced).
    pub(crate) owner: *mut bindings::module,
}

impl Request {
    /// Reads and checks a description.
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
        if desc.ops.is_null() || desc.thread_comm.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: By the function's requirement, a non-null name is a valid
        // NUL-terminated string.
        let format = unsafe { CStr::from_char_ptr(desc.thread_comm) };
        // Names show in `key=value` lines: no blank, no `=`.
        let bytes = format.to_bytes();
        if bytes.iter().any(|&b| b.is_ascii_whitespace() || b == b'=') {
            return Err(EINVAL);
        }
        let comm = CpuThreadName::new(format)?;
        let at = CpuThreadName::cpu_conversion(format).ok_or(EINVAL)?;
        let mut before = KVec::new();
        let mut after = KVec::new();
        before.extend_from_slice(bytes.get(..at).unwrap_or_default(), GFP_KERNEL)?;
        after.extend_from_slice(
            bytes.get(at.saturating_add(2)..).unwrap_or_default(),
            GFP_KERNEL,
        )?;
        Ok(Self {
            // INVARIANT: by the function's requirement.
            callbacks: UserCallbacks {
                ops: desc.ops,
                ctx: desc.ctx,
            },
            comm,
            comm_parts: (before, after),
            selfparking: desc.selfparking,
            owner: desc.owner,
        })
    }
}

impl UserCallbacks {
    fn ops(&self) -> &ThreadOps {
        // SAFETY: By the type invariant `ops` is valid.
        unsafe { &*self.ops }
    }

    /// Whether this registration was made with `ctx`.
    pub(crate) fn has_ctx(&self, ctx: *mut c_void) -> bool {
        self.ctx == ctx
    }

    /// `thread_should_run`.
    pub(crate) fn should_run(&self, cpu: PossibleCpu) -> bool {
        // SAFETY: The type invariant.
        unsafe { (self.ops().thread_should_run)(self.ctx, cpu.as_u32()) }
    }

    /// `thread_fn`.
    pub(crate) fn run(&self, cpu: PossibleCpu) {
        // SAFETY: The type invariant.
        unsafe { (self.ops().thread_fn)(self.ctx, cpu.as_u32()) }
    }

    /// `create`.
    pub(crate) fn create(&self, cpu: PossibleCpu) -> Result {
        match self.ops().create {
            // SAFETY: The type invariant.
            Some(f) => to_result(unsafe { f(self.ctx, cpu.as_u32()) }),
            None => Ok(()),
        }
    }

    /// `setup`.
    pub(crate) fn setup(&self, cpu: PossibleCpu) {
        if let Some(f) = self.ops().setup {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32()) }
        }
    }

    /// `cleanup`.
    pub(crate) fn cleanup(&self, cpu: PossibleCpu, online: bool) {
        if let Some(f) = self.ops().cleanup {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32(), online) }
        }
    }

    /// `park`.
    pub(crate) fn park(&self, cpu: PossibleCpu) {
        if let Some(f) = self.ops().park {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32()) }
        }
    }

    /// `unpark`.
    pub(crate) fn unpark(&self, cpu: PossibleCpu) {
        if let Some(f) = self.ops().unpark {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32()) }
        }
    }

    /// `release`: the registration is gone; called once, last.
    pub(crate) fn release(&self) {
        if let Some(f) = self.ops().release {
            // SAFETY: The type invariant; no callback runs any more.
            unsafe { f(self.ctx) }
        }
    }

    /// `store`: tells the user the task of `cpu`'s thread (null once stopped).
    pub(crate) fn store(&self, cpu: PossibleCpu, task: *mut bindings::task_struct) {
        if let Some(f) = self.ops().store {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32(), task) }
        }
    }
}

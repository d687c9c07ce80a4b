// SPDX-License-Identifier: GPL-2.0

//! A registration's user callbacks, callable from safe code.

use crate::abi::{ThreadDesc, ThreadOps};
use crate::cpu::CpuId;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::str::{CStr, CString};

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
    /// The threads' name format, checked by [`Request::from_desc`].
    pub(crate) comm: CString,
    /// The name format before and after its `%u`, for display.
    pub(crate) comm_parts: (KVec<u8>, KVec<u8>),
    /// The core neither parks nor unparks the threads.
    pub(crate) selfparking: bool,
}

impl Request {
    /// Reads and checks a description.
    ///
    /// # Safety
    ///
    /// `desc` points to a valid description whose `ops` and `ctx` meet the
    /// invariants of [`UserCallbacks`] and whose `thread_comm` is a valid
    /// string or null.
    pub(crate) unsafe fn from_desc(desc: *const ThreadDesc) -> Result<Self> {
        if desc.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: By the function's requirement.
        let desc = unsafe { &*desc };
        if desc.ops.is_null() || desc.thread_comm.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: By the function's requirement, a non-null name is a valid
        // NUL-terminated string.
        let comm = unsafe { CStr::from_char_ptr(desc.thread_comm) };
        let at = cpu_conversion(comm).ok_or(EINVAL)?;
        let bytes = comm.as_bytes();
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
            comm: comm.to_cstring()?,
            comm_parts: (before, after),
            selfparking: desc.selfparking,
        })
    }
}

/// Where the one `%u` (the CPU) of a name format is. A format holds no
/// other `%`, and no blank or `=` (names show in `key=value` lines).
fn cpu_conversion(comm: &CStr) -> Option<usize> {
    let bytes = comm.as_bytes();
    let percents = bytes.iter().filter(|&&b| b == b'%').count();
    let bad_char = bytes.iter().any(|&b| b.is_ascii_whitespace() || b == b'=');
    let at = bytes.windows(2).position(|w| w == b"%u")?;
    (percents == 1 && !bad_char).then_some(at)
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
    pub(crate) fn should_run(&self, cpu: CpuId) -> bool {
        // SAFETY: The type invariant.
        unsafe { (self.ops().thread_should_run)(self.ctx, cpu.as_u32()) }
    }

    /// `thread_fn`.
    pub(crate) fn run(&self, cpu: CpuId) {
        // SAFETY: The type invariant.
        unsafe { (self.ops().thread_fn)(self.ctx, cpu.as_u32()) }
    }

    /// `create`.
    pub(crate) fn create(&self, cpu: CpuId) -> Result {
        match self.ops().create {
            // SAFETY: The type invariant.
            Some(f) => to_result(unsafe { f(self.ctx, cpu.as_u32()) }),
            None => Ok(()),
        }
    }

    /// `setup`.
    pub(crate) fn setup(&self, cpu: CpuId) {
        if let Some(f) = self.ops().setup {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32()) }
        }
    }

    /// `cleanup`.
    pub(crate) fn cleanup(&self, cpu: CpuId, online: bool) {
        if let Some(f) = self.ops().cleanup {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32(), online) }
        }
    }

    /// `park`.
    pub(crate) fn park(&self, cpu: CpuId) {
        if let Some(f) = self.ops().park {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32()) }
        }
    }

    /// `unpark`.
    pub(crate) fn unpark(&self, cpu: CpuId) {
        if let Some(f) = self.ops().unpark {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32()) }
        }
    }

    /// `store`: tells the user the task of `cpu`'s thread (null once stopped).
    pub(crate) fn store(&self, cpu: CpuId, task: *mut bindings::task_struct) {
        if let Some(f) = self.ops().store {
            // SAFETY: The type invariant.
            unsafe { f(self.ctx, cpu.as_u32(), task) }
        }
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Kernel threads bound to a CPU: created and not yet started, started,
//! parked, unparked and stopped.
//!
//! C header: [`include/linux/kthread.h`](srctree/include/linux/kthread.h)
//!
//! A thread runs [`ThreadFn::run`] on a value it owns exclusively while it
//! runs; the value comes back to the owner of the handle when the thread is
//! stopped. The thread is a bound kthread but not a per-CPU kthread in the
//! scheduler's sense (`kthread_set_per_cpu()` is not exported): see
//! [`Thread::bind`].

use super::cpu::CpuId;
use super::ffi;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::error::{from_err_ptr, to_result};
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::str::CStr;

/// The body of a thread.
pub(crate) trait ThreadFn: Send + 'static {
    /// Runs in the new thread; returning ends the thread. A thread that can
    /// be stopped returns once [`should_stop`] is true.
    fn run(&mut self);
}

/// Owner of a created kthread and of the value it runs on.
///
/// # Invariants
///
/// `task` was returned by `kthread_create_on_cpu()` for `thread_entry::<T>`
/// with `data` as argument, we hold a reference on it, and it has not been
/// stopped. `data` came from `KBox::into_raw`; while the thread may run, only
/// the thread uses it.
struct Raw<T: ThreadFn> {
    task: NonNull<bindings::task_struct>,
    data: NonNull<T>,
}

// SAFETY: The handle only passes `task` to functions that may be called from
// any task, and `T: Send` lets the value move with it.
unsafe impl<T: ThreadFn> Send for Raw<T> {}
// SAFETY: `&Raw` gives access to no method that touches `data`.
unsafe impl<T: ThreadFn> Sync for Raw<T> {}

impl<T: ThreadFn> Raw<T> {
    /// Stops the thread and returns its value.
    ///
    /// A thread that never ran returns without running [`ThreadFn::run`]; a
    /// parked one is unparked first (by `kthread_stop()` itself).
    fn stop(self) -> KBox<T> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: By the type invariant `task` is a kthread we hold a reference
        // on that was not stopped; `kthread_stop_put()` drops that reference.
        // The thread only returns from `run` once asked to stop, so it is
        // alive until this call.
        unsafe { bindings::kthread_stop_put(this.task.as_ptr()) };
        // SAFETY: The thread has exited, so nothing else uses `data`, which
        // came from `KBox::into_raw`.
        unsafe { KBox::from_raw(this.data.as_ptr()) }
    }
}

impl<T: ThreadFn> Drop for Raw<T> {
    fn drop(&mut self) {
        let raw = Raw {
            task: self.task,
            data: self.data,
        };
        drop(raw.stop());
    }
}

/// # Safety
///
/// `data` is the body passed by `Unstarted::new`, not used by its owner
/// while the thread runs.
unsafe extern "C" fn thread_entry<T: ThreadFn>(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `KBox<T>` pointer passed by `Unstarted::new`; the
    // handle does not touch it until `kthread_stop()` has seen us return.
    let body = unsafe { &mut *data.cast::<T>() };
    body.run();
    0
}

/// A thread created bound to a CPU that has not run yet.
pub(crate) struct Unstarted<T: ThreadFn>(Raw<T>);

impl<T: ThreadFn> Unstarted<T> {
    /// Creates a thread bound to `cpu`, named `name` formatted with the CPU
    /// number (`name` holds exactly one `%u` and no other conversion).
    pub(crate) fn new(body: T, cpu: CpuId, name: &CStr) -> Result<Self> {
        let data = KBox::into_raw(KBox::new(body, GFP_KERNEL)?);
        // SAFETY: `thread_entry::<T>` matches `threadfn`; `data` stays valid
        // until the thread is stopped; `name` is a NUL-terminated format
        // whose only conversion, `%u`, takes the CPU number passed here.
        let task = unsafe {
            bindings::kthread_create_on_cpu(
                Some(thread_entry::<T>),
                data.cast(),
                cpu.as_u32(),
                name.as_char_ptr(),
            )
        };
        let task = match from_err_ptr(task) {
            Ok(task) => task,
            Err(e) => {
                // SAFETY: No thread was created, so `data` is still ours.
                drop(unsafe { KBox::from_raw(data) });
                return Err(e);
            }
        };
        // SAFETY: `task` is a valid task just created; the reference keeps
        // it valid until `kthread_stop_put()`.
        unsafe { ffi::smpboot_rs_get_task_struct(task) };
        // INVARIANT: `task` runs `thread_entry::<T>(data)` once woken, we hold
        // a reference, and both pointers are non-null.
        Ok(Self(Raw {
            // SAFETY: `from_err_ptr` returned a valid, hence non-null, pointer.
            task: unsafe { NonNull::new_unchecked(task) },
            // SAFETY: `KBox::into_raw` never returns null.
            data: unsafe { NonNull::new_unchecked(data) },
        }))
    }

    /// Starts the thread on the CPU it is bound to.
    pub(crate) fn start(self) -> Thread<T> {
        // SAFETY: By the invariant of `Raw` the task is valid.
        unsafe { bindings::wake_up_process(self.0.task.as_ptr()) };
        Thread(self.0)
    }

    /// Starts the thread parked: it parks before running its body, which
    /// runs once [`Thread::unpark`] is called.
    pub(crate) fn start_parked(self) -> Thread<T> {
        let thread = Thread(self.0);
        thread.park_raw();
        thread
    }

    /// Stops the thread, which never ran, and returns its value.
    pub(crate) fn stop(self) -> KBox<T> {
        self.0.stop()
    }
}

/// A started thread.
pub(crate) struct Thread<T: ThreadFn>(Raw<T>);

impl<T: ThreadFn> Thread<T> {
    fn park_raw(&self) {
        // SAFETY: By the invariant of `Raw` the task is a live kthread. The
        // only error is a thread that is already parking, which callers rule
        // out by tracking the parked state.
        unsafe { bindings::kthread_park(self.0.task.as_ptr()) };
    }

    /// Asks the thread to park and waits until it has (the thread sees
    /// [`should_park`] and calls [`parkme`]). The caller must not park a
    /// parked thread.
    pub(crate) fn park(&mut self) {
        self.park_raw();
    }

    /// Lets a parked thread go on.
    pub(crate) fn unpark(&mut self) {
        // SAFETY: By the invariant of `Raw` the task is a live kthread.
        unsafe { bindings::kthread_unpark(self.0.task.as_ptr()) };
    }

    /// Sets the thread's allowed CPUs to exactly `cpu`.
    ///
    /// The scheduler widens the affinity of a bound kthread that is not a
    /// per-CPU kthread when it must move it off a dying CPU, and
    /// `kthread_unpark()` does not bind it again: call this before unparking.
    pub(crate) fn bind(&self, cpu: CpuId) -> Result {
        // SAFETY: The task is live (type invariant) and `as_cpumask` points
        // to a static mask.
        to_result(unsafe { bindings::set_cpus_allowed_ptr(self.0.task.as_ptr(), cpu.as_cpumask()) })
    }

    /// Stops the thread (unparking it if parked) and returns its value once
    /// it has returned from [`ThreadFn::run`].
    pub(crate) fn stop(self) -> KBox<T> {
        self.0.stop()
    }

    /// The thread's pid.
    pub(crate) fn pid(&self) -> i32 {
        // SAFETY: The task is live (type invariant); `pid` is set at fork.
        unsafe { (*self.0.task.as_ptr()).pid }
    }

    /// Whether the thread's allowed CPUs are exactly `cpu`.
    pub(crate) fn is_bound_to(&self, cpu: CpuId) -> bool {
        // SAFETY: The task is live (type invariant); the test reads its mask.
        unsafe { ffi::smpboot_rs_task_bound_to(self.0.task.as_ptr(), cpu.as_u32()) }
    }

    /// The raw task, for C users that keep task pointers (`ht->store`). It
    /// is valid until the thread is stopped.
    pub(crate) fn as_raw_task(&self) -> *mut bindings::task_struct {
        self.0.task.as_ptr()
    }
}

/// A slot from which any context, hard IRQ included, can wake a thread.
///
/// The slot keeps its own reference on the task until it is dropped, so a
/// wake needs no RCU section: whoever can reach the slot keeps it, and so the
/// task, alive (smpboot_rs's registration owns its slots, and waking through
/// a registration that is being unregistered is excluded by the wake ABI).
/// Waking a thread that has exited since is harmless.
///
/// # Invariants
///
/// A non-null `task` is a task we hold a reference on, until `Drop`.
pub(crate) struct WakeSlot {
    task: AtomicPtr<bindings::task_struct>,
}

impl WakeSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Self {
            task: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Makes `thread` the one [`WakeSlot::wake`] wakes; returns false, and
    /// changes nothing, if the slot holds a thread already. Publish only
    /// started threads: waking a thread that never ran would start it on
    /// whichever CPU the scheduler picks.
    pub(crate) fn publish<T: ThreadFn>(&self, thread: &Thread<T>) -> bool {
        let task = thread.as_raw_task();
        // SAFETY: `task` is live; the reference becomes the slot's (invariant).
        unsafe { ffi::smpboot_rs_get_task_struct(task) };
        if self
            .task
            .compare_exchange(
                core::ptr::null_mut(),
                task,
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            return true;
        }
        // SAFETY: The reference taken above was not published.
        unsafe { ffi::smpboot_rs_put_task_struct(task) };
        false
    }

    /// Wakes the published thread, if any; callable from any context.
    /// Waking a running, parked or exited thread does nothing.
    ///
    /// Returns whether a thread was published.
    pub(crate) fn wake(&self) -> bool {
        let task = self.task.load(Ordering::Acquire);
        if task.is_null() {
            return false;
        }
        // SAFETY: We hold a reference on `task` for as long as `self` lives
        // (type invariant). `wake_up_process()` may be called from any
        // context, on a task in any state.
        unsafe { bindings::wake_up_process(task) };
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
        let task = *self.task.get_mut();
        if !task.is_null() {
            // SAFETY: The slot's reference (type invariant); `&mut self`
            // means no waker uses it any more.
            unsafe { ffi::smpboot_rs_put_task_struct(task) };
        }
    }
}

/// Whether the current kthread has been asked to stop.
pub(crate) fn should_stop() -> bool {
    // SAFETY: Only meaningful in a kthread, which all callers are (they run
    // `ThreadFn::run`); it reads a flag of the current task.
    unsafe { bindings::kthread_should_stop() }
}

/// Whether the current kthread has been asked to park.
pub(crate) fn should_park() -> bool {
    // SAFETY: As for `should_stop`.
    unsafe { bindings::kthread_should_park() }
}

/// Parks the current kthread until it is unparked or stopped.
pub(crate) fn parkme() {
    // SAFETY: Called by a kthread from its body, in task context.
    unsafe { bindings::kthread_parkme() };
}

/// Whether the current task is a thread created by [`Unstarted::new`] for
/// the body type `T`.
pub(crate) fn current_runs<T: ThreadFn>() -> bool {
    // SAFETY: `current` is always valid in task context.
    let task = unsafe { ffi::smpboot_rs_current() };
    // SAFETY: `task` is the current task; reading its flags is always valid.
    let is_kthread = unsafe { (*task).flags } & bindings::PF_KTHREAD != 0;
    // SAFETY: `kthread_func()` is valid on any kthread.
    is_kthread && unsafe { bindings::kthread_func(task) } == thread_entry::<T> as *mut c_void
}

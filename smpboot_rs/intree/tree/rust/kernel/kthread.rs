// SPDX-License-Identifier: GPL-2.0

//! Kernel threads bound to a CPU.
//!
//! C header: [`include/linux/kthread.h`](srctree/include/linux/kthread.h)
//!
//! A [`PerCpuThread`] is a kthread that the scheduler treats as per-CPU
//! (`kthread_set_per_cpu()`): it stays on its CPU while that CPU goes down, so
//! it can be parked there, and it runs there again once unparked. It runs
//! [`ThreadFn::run`] on a value that comes back to the owner of the handle
//! when the thread is stopped; what a kthread may only do to itself (check
//! for a stop or park request, park, wait) its body does through the
//! [`CurrentThread`] it is given.

use crate::{
    bindings,
    cpu::CpuId,
    error::from_err_ptr,
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
    str::CStr,
    sync::aref::ARef,
    task::Task,
    types::NotThreadSafe, //
};
use core::{
    marker::PhantomData,
    mem::ManuallyDrop,
    ptr::NonNull, //
};

/// The body of a thread.
pub trait ThreadFn: Send + 'static {
    /// Runs in the new thread, `this`; returning ends the thread.
    ///
    /// A thread that can be stopped returns once
    /// [`CurrentThread::should_stop`] is true, which it may be on entry (a
    /// thread stopped before it was ever unparked).
    fn run(&self, this: &CurrentThread);
}

/// The kthread that runs a [`ThreadFn`], as its body sees it: what a kthread
/// may only do to itself.
///
/// Only [`PerCpuThread`]'s thread entry makes one, for the body it runs;
/// neither `Send` nor `Sync`, it stays in that thread's task context.
pub struct CurrentThread(NotThreadSafe);

impl CurrentThread {
    /// Whether the thread has been asked to stop.
    #[inline]
    pub fn should_stop(&self) -> bool {
        // SAFETY: The current task is a kthread (type invariant of `self`).
        unsafe { bindings::kthread_should_stop() }
    }

    /// Whether the thread has been asked to park.
    #[inline]
    pub fn should_park(&self) -> bool {
        // SAFETY: The current task is a kthread (type invariant of `self`).
        unsafe { bindings::kthread_should_park() }
    }

    /// Parks the thread until it is unparked or stopped. Must be called with
    /// preemption enabled.
    pub fn parkme(&self) {
        // SAFETY: The current task is a kthread in task context (type
        // invariant of `self`).
        unsafe { bindings::kthread_parkme() };
    }

    /// Starts a pass of the thread's wait loop (see [`WaitPass`]).
    #[must_use = "the pass ends when the guard is dropped"]
    #[inline]
    pub fn wait_pass(&self) -> WaitPass<'_> {
        // SAFETY: Marks the current task, a kthread in task context (type
        // invariant of `self`); a wakeup sets it running again.
        unsafe { bindings::set_current_state(bindings::TASK_INTERRUPTIBLE as c_int) };
        // SAFETY: Balanced when the pass ends (`Drop` or `sleep`).
        unsafe { bindings::preempt_disable() };
        // SAFETY: Preemption is disabled, so the id is stable, and it is below
        // `nr_cpu_ids`.
        let cpu = unsafe { CpuId::from_u32_unchecked(bindings::smp_processor_id()) };
        WaitPass {
            cpu,
            _thread: PhantomData,
        }
    }
}

/// The name format of per-CPU threads, such as `c"ksoftirqd/%u"`.
///
/// # Invariants
///
/// The string holds exactly one `%`, followed by `u`: the only argument
/// `kthread_create_on_cpu()` formats it with is the CPU number.
#[derive(Clone, Copy)]
pub struct CpuThreadName<'a>(&'a CStr);

impl<'a> CpuThreadName<'a> {
    /// Checks `format`: [`EINVAL`] unless it holds exactly one `%u` and no
    /// other `%`.
    pub fn new(format: &'a CStr) -> Result<Self> {
        let bytes = format.to_bytes();
        let percents = bytes.iter().filter(|&&b| b == b'%').count();
        if percents != 1 || !bytes.windows(2).any(|w| w == b"%u") {
            return Err(EINVAL);
        }
        // INVARIANT: Checked just above.
        Ok(Self(format))
    }

    /// The format.
    pub fn as_cstr(&self) -> &'a CStr {
        self.0
    }
}

/// # Safety
///
/// `data` is the `KBox<T>` pointer that [`PerCpuThread::new_parked`] passed,
/// freed only after the thread has exited.
unsafe extern "C" fn thread_entry<T: ThreadFn>(data: *mut c_void) -> c_int {
    // SAFETY: By the function's safety requirements `data` is a live `T`;
    // the handle takes only shared references to it meanwhile.
    let body = unsafe { &*data.cast::<T>() };
    // INVARIANT: `kthread()` calls this in the new kthread's task context.
    body.run(&CurrentThread(NotThreadSafe));
    0
}

/// A per-CPU kthread and the value it runs on.
///
/// # Invariants
///
/// - `task` was returned by `kthread_create_on_cpu()` for `thread_entry::<T>`
///   with `body` as its argument, was made per-CPU, and has not been stopped;
///   `task` holds a reference, which only [`PerCpuThread::stop_in_place`]
///   gives up.
/// - `body` came from `KBox::into_raw` and is freed only once the thread has
///   exited; until then the thread and the handle take only shared references
///   to it.
///
/// # Examples
///
/// A thread on CPU 0 that counts the wakeups of its wait loop, the loop of
/// `smpboot_thread_fn()` without its callbacks:
///
/// ```
/// use core::sync::atomic::{AtomicU64, Ordering};
/// use kernel::cpu::CpuId;
/// use kernel::kthread::{CpuThreadName, CurrentThread, PerCpuThread, ThreadFn};
///
/// struct Wakeups(AtomicU64);
///
/// impl ThreadFn for Wakeups {
///     fn run(&self, this: &CurrentThread) {
///         loop {
///             let pass = this.wait_pass();
///             if this.should_stop() {
///                 return;
///             }
///             if this.should_park() {
///                 drop(pass);
///                 this.parkme();
///                 continue;
///             }
///             self.0.fetch_add(1, Ordering::Relaxed);
///             pass.sleep();
///         }
///     }
/// }
///
/// let cpu = CpuId::from_u32(0).ok_or(ENODEV)?;
/// let name = CpuThreadName::new(c"wakeups/%u")?;
/// let thread = PerCpuThread::new_parked(Wakeups(AtomicU64::new(0)), cpu, name)?;
/// assert_eq!(thread.body().0.load(Ordering::Relaxed), 0); // Parked before `run`.
/// thread.unpark();
/// thread.task().wake_up();
/// // Once `stop` returns, `run` has returned. It may not have counted, if
/// // the stop came first.
/// let wakeups = thread.stop();
/// pr_info!("{} wakeups\n", wakeups.0.load(Ordering::Relaxed));
/// # Ok::<(), Error>(())
/// ```
pub struct PerCpuThread<T: ThreadFn> {
    task: ManuallyDrop<ARef<Task>>,
    body: NonNull<T>,
}

// SAFETY: The handle only passes `task` to functions that may be called from
// any task, and `T: Send` lets the body move to the thread and back.
unsafe impl<T: ThreadFn> Send for PerCpuThread<T> {}

// SAFETY: `&PerCpuThread` reaches `task` through functions that may be called
// from any task, concurrently too, and the body only where `T: Sync`.
unsafe impl<T: ThreadFn> Sync for PerCpuThread<T> {}

impl<T: ThreadFn> PerCpuThread<T> {
    /// Creates a per-CPU thread of `cpu`, named by `name` with the CPU number,
    /// and parks it before it runs `body`.
    ///
    /// The thread waits in `TASK_PARKED` until it is unparked: if `cpu` is
    /// offline, until `cpu` has come up and the thread has been unparked.
    pub fn new_parked(body: T, cpu: CpuId, name: CpuThreadName<'_>) -> Result<Self> {
        let body = KBox::into_raw(KBox::new(body, GFP_KERNEL)?);
        // SAFETY: `thread_entry::<T>` matches `threadfn` and `body` stays valid
        // until the thread has exited; `name` is a NUL-terminated format whose
        // only conversion, `%u`, takes the CPU number passed here
        // (`CpuThreadName` invariant).
        let task = unsafe {
            bindings::kthread_create_on_cpu(
                Some(thread_entry::<T>),
                body.cast(),
                cpu.as_u32(),
                name.as_cstr().as_char_ptr(),
            )
        };
        let task = match from_err_ptr(task) {
            Ok(task) => task,
            Err(e) => {
                // SAFETY: No thread was created, so `body` is still ours.
                drop(unsafe { KBox::from_raw(body) });
                return Err(e);
            }
        };
        // SAFETY: `task` was just created and sleeps in `kthread()` until first
        // woken, so it is valid; `Task` is a transparent wrapper of
        // `task_struct`, and the reference lives only for `ARef::from`, which
        // takes a count of its own.
        let task = ARef::from(unsafe { &*task.cast::<Task>() });
        // SAFETY: `task` is a kthread bound to `cpu` by its creation; the cast
        // cannot wrap, as CPU ids are below `nr_cpu_ids`.
        unsafe { bindings::kthread_set_per_cpu(task.as_ptr(), cpu.as_u32() as c_int) };
        // SAFETY: A live kthread that nothing else parks yet. It wakes, parks
        // in `kthread()` before calling `thread_entry`, and `kthread_park()`
        // returns once it has parked.
        unsafe { bindings::kthread_park(task.as_ptr()) };
        // INVARIANT: Just created for `thread_entry::<T>(body)` and made
        // per-CPU; `ARef::from` took the reference.
        Ok(Self {
            task: ManuallyDrop::new(task),
            // SAFETY: `KBox::into_raw` never returns null.
            body: unsafe { NonNull::new_unchecked(body) },
        })
    }

    /// Asks the thread to park and waits until it has (the thread sees
    /// [`CurrentThread::should_park`] and calls [`CurrentThread::parkme`]).
    ///
    /// A thread already asked to park is left alone, with a warning.
    pub fn park(&self) {
        // SAFETY: The task is a live kthread (type invariant). Its only errors
        // (a park already asked for, an exiting thread) are warnings.
        unsafe { bindings::kthread_park(self.task.as_ptr()) };
    }

    /// Lets a parked thread go on; does nothing to one that is not parked.
    pub fn unpark(&self) {
        // SAFETY: The task is a live kthread (type invariant).
        unsafe { bindings::kthread_unpark(self.task.as_ptr()) };
    }

    /// Waits until the thread, asked to park, is off its CPU in
    /// `TASK_PARKED`; false if it was seen in another state.
    pub fn wait_parked(&self) -> bool {
        // SAFETY: The task is live (type invariant); waiting for it to be
        // inactive only reads its scheduler state.
        unsafe { bindings::wait_task_inactive(self.task.as_ptr(), bindings::TASK_PARKED) != 0 }
    }

    /// The body the thread runs on, which the thread may be using: for
    /// bodies whose state is shared safely.
    pub fn body(&self) -> &T
    where
        T: Sync,
    {
        // SAFETY: `body` is valid until the thread has exited, which `self`
        // outlives (type invariant); the thread takes only shared references
        // to it, and `T: Sync`.
        unsafe { self.body.as_ref() }
    }

    /// The thread's task.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Stops the thread (unparking it if parked) and returns its body once
    /// [`ThreadFn::run`] has returned.
    pub fn stop(self) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is not dropped, and not used after this call.
        KBox::into_inner(unsafe { this.stop_in_place() })
    }

    /// Stops the thread and returns its body: the work of [`Self::stop`] and
    /// of `Drop`.
    ///
    /// # Safety
    ///
    /// At most one call per value, which is not used afterwards.
    unsafe fn stop_in_place(&mut self) -> KBox<T> {
        // SAFETY: Taken once (the caller's contract).
        let task = unsafe { ManuallyDrop::take(&mut self.task) };
        // SAFETY: `task` is a kthread that was not stopped (type invariant);
        // `kthread_stop_put()` waits for it to exit and then drops the
        // reference that `into_raw` gives up.
        unsafe { bindings::kthread_stop_put(ARef::into_raw(task).as_ptr().cast()) };
        // SAFETY: The thread has exited, so nothing else uses `body`, which
        // came from `KBox::into_raw`.
        unsafe { KBox::from_raw(self.body.as_ptr()) }
    }
}

impl<T: ThreadFn> Drop for PerCpuThread<T> {
    fn drop(&mut self) {
        // SAFETY: `self` is being dropped and is not used afterwards.
        drop(unsafe { self.stop_in_place() });
    }
}

/// One pass of a kthread's wait loop, as at the top of `smpboot_thread_fn()`:
/// the current task is marked as about to sleep (`TASK_INTERRUPTIBLE`) before
/// the condition it waits for is checked, so that a wakeup in between is not
/// lost, and preemption is disabled while it is checked.
///
/// A kthread starts one with [`CurrentThread::wait_pass`]. Dropped, the pass
/// ends without sleeping: the task is running again and preemptible.
///
/// Neither `Send` nor `Sync`, as the [`CurrentThread`] it borrows.
pub struct WaitPass<'a> {
    cpu: CpuId,
    _thread: PhantomData<&'a CurrentThread>,
}

impl WaitPass<'_> {
    /// The CPU the task runs on; stable during the pass.
    #[inline]
    pub fn cpu(&self) -> CpuId {
        self.cpu
    }

    /// Ends the pass by sleeping until woken; a wakeup since the pass began
    /// makes it return at once.
    #[inline]
    pub fn sleep(self) {
        core::mem::forget(self);
        // SAFETY: Balances the `preempt_disable()` of `wait_pass`. The kernel's
        // loop uses `preempt_enable_no_resched()`, which modules do not get
        // (nor the helpers, built as for modules): a preemption here is only
        // an early switch, the task stays runnable until `schedule()`.
        unsafe { bindings::preempt_enable() };
        // SAFETY: Task context with preemption enabled.
        unsafe { bindings::schedule() };
    }
}

impl Drop for WaitPass<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The current task may always be set running.
        unsafe { bindings::__set_current_state(bindings::TASK_RUNNING as c_int) };
        // SAFETY: Balances the `preempt_disable()` of `wait_pass`.
        unsafe { bindings::preempt_enable() };
    }
}

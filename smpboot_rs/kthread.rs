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

#[cfg(not(MODULE))]
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
#[cfg(MODULE)]
use {
    super::{
        compat::{
            atomic::{Atomic, Full, Relaxed},
            cpu::CpuId,
            prelude::*,
            ARef, NotThreadSafe,
        },
        cpu::{self, PossibleCpu},
        ffi as shim,
    },
    kernel::{
        bindings,
        error::{from_err_ptr, to_result},
        ffi::{c_int, c_void},
        prelude::*,
        str::CStr,
        task::Task,
    },
};

/// The body of a kernel thread.
///
/// The thread runs [`ThreadFn::run`] on a shared reference, so the handle
/// and the thread may both reach the body; state that changes lives in
/// atomics or cells.
pub trait ThreadFn: Send + 'static {
    /// Runs in the new thread, `this`; returning ends the thread.
    ///
    /// A thread that can be stopped returns once
    /// [`CurrentThread::should_stop`] is true, which it may be on entry (a
    /// thread stopped before it was ever unparked).
    fn run(&self, this: &CurrentThread);
}

/// The park and stop requests made to a thread through its [`PerCpuThread`],
/// counted (see [`CurrentThread::request_count`]).
#[cfg(MODULE)]
struct Requests(Atomic<u32>);

#[cfg(MODULE)]
impl Requests {
    const fn new() -> Self {
        Self(Atomic::new(0))
    }

    /// Counts a request that the caller makes next.
    fn add(&self) {
        // What orders the count before the thread's task-state check is the
        // wakeup that ends every request: `try_to_wake_up()` has a full
        // barrier (`smp_mb__after_spinlock()`) before it reads the state.
        // `Full` adds nothing the protocol needs; requests are rare.
        self.0.fetch_add(1, Full);
    }
}

/// What a thread and its handle share.
struct Shared<T> {
    #[cfg(MODULE)]
    requests: Requests,
    body: T,
}

/// The kthread that runs a [`ThreadFn`], as its body sees it: what a kthread
/// may only do to itself.
///
/// Only the thread entry of a [`PerCpuThread`] makes one, for the body it
/// runs; neither `Send` nor `Sync`, it stays in that thread's task context.
///
/// # Invariants
///
/// The current task is the kthread of a [`PerCpuThread`], in task context,
/// running its body.
pub struct CurrentThread {
    /// The thread's requests, valid while it runs its body.
    #[cfg(MODULE)]
    requests: NonNull<Requests>,
    _not_thread_safe: NotThreadSafe,
}

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

    /// The number of park and stop requests made through the thread's
    /// [`PerCpuThread`] so far (wrapping), 0 before the first.
    ///
    /// [`Self::should_park`] and [`Self::should_stop`] are calls, which a wait
    /// loop makes on every pass (`smpboot_thread_fn()` does). A thread that is
    /// parked and stopped only through its handle can read this count
    /// instead, once a pass, and ask only once the count has moved past the
    /// requests it has handled.
    ///
    /// A request is counted before `kthread_park()` or `kthread_stop()` is
    /// called, which then sets the thread's flag and wakes it, with a full
    /// barrier before it reads the thread's state. So a pass that reads the
    /// count after setting its task state (a [`WaitPass`], whose barrier
    /// orders the read) and finds no new request may sleep: a request made
    /// since wakes it. A pass that finds a new request asks, and so does every
    /// later pass until the thread has parked or stopped: the flag may come
    /// just after the count.
    #[cfg(MODULE)]
    #[inline]
    pub fn request_count(&self) -> u32 {
        // SAFETY: The thread runs its body (type invariant), during which its
        // `Shared` and so its requests are valid.
        unsafe { self.requests.as_ref() }.0.load(Relaxed)
    }

    /// Starts a pass of the thread's wait loop (see [`WaitPass`]).
    #[must_use = "the pass ends when the guard is dropped"]
    #[inline]
    pub fn wait_pass(&self) -> WaitPass<'_> {
        #[cfg(MODULE)]
        // SAFETY: One call sets the current task's state (a wakeup sets it
        // running again), disables preemption until the pass ends (`Drop` or
        // `sleep`) and returns the CPU, whose id is below `nr_cpu_ids`.
        let cpu = unsafe { CpuId::from_u32_unchecked(shim::smpboot_rs_wait_pass_begin()) };
        #[cfg(not(MODULE))]
        // SAFETY: Marks the current task, a kthread in task context (type
        // invariant of `self`); a wakeup sets it running again.
        unsafe {
            bindings::set_current_state(bindings::TASK_INTERRUPTIBLE as c_int)
        };
        #[cfg(not(MODULE))]
        // SAFETY: Balanced when the pass ends (`Drop` or `sleep`).
        unsafe {
            bindings::preempt_disable()
        };
        #[cfg(not(MODULE))]
        // SAFETY: Preemption is disabled, so the id is stable, and it is below
        // `nr_cpu_ids`.
        let cpu = unsafe { CpuId::from_u32_unchecked(bindings::smp_processor_id()) };
        WaitPass {
            cpu,
            _thread: PhantomData,
        }
    }

    /// Sets the thread's allowed CPUs to exactly `cpu`, as
    /// [`PerCpuThread::bind`]: a later wakeup brings it back to `cpu` once
    /// the scheduler lets it run there.
    #[cfg(MODULE)]
    pub(crate) fn bind(&self, cpu: PossibleCpu) -> Result {
        let mask = cpu::cpumask_of(cpu).as_raw();
        // SAFETY: `current` is valid in task context; the mask is static.
        to_result(unsafe { bindings::set_cpus_allowed_ptr(Task::current_raw(), mask) })
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
        if Self::cpu_conversion(format).is_none() {
            return Err(EINVAL);
        }
        // INVARIANT: Checked just above.
        Ok(Self(format))
    }

    /// Where the `%u` of `format` is, if it is the only conversion.
    fn cpu_conversion(format: &CStr) -> Option<usize> {
        let bytes = format.to_bytes();
        let at = bytes.windows(2).position(|w| w == b"%u")?;
        (bytes.iter().filter(|&&b| b == b'%').count() == 1).then_some(at)
    }

    /// The format.
    pub fn as_cstr(&self) -> &'a CStr {
        self.0
    }

    /// The text before the `%u` and the text after it.
    #[cfg(MODULE)]
    pub(crate) fn around_cpu(&self) -> (&'a [u8], &'a [u8]) {
        let bytes = self.0.to_bytes();
        let at = Self::cpu_conversion(self.0).unwrap_or(bytes.len());
        let (before, rest) = bytes.split_at(at);
        (before, rest.get(2..).unwrap_or_default())
    }
}

/// # Safety
///
/// `data` is the `KBox<Shared<T>>` pointer that [`PerCpuThread::new_parked`]
/// passed, freed only after the thread has exited.
unsafe extern "C" fn thread_entry<T: ThreadFn>(data: *mut c_void) -> c_int {
    // SAFETY: By the function's safety requirements `data` is a live
    // `Shared<T>`; the handle takes only shared references to it meanwhile.
    let shared = unsafe { &*data.cast::<Shared<T>>() };
    // INVARIANT: `kthread()` calls this in the new kthread's task context, to
    // run its body.
    let this = CurrentThread {
        #[cfg(MODULE)]
        requests: NonNull::from(&shared.requests),
        _not_thread_safe: NotThreadSafe,
    };
    shared.body.run(&this);
    0
}

/// A per-CPU kthread and the value it runs on.
///
/// # Invariants
///
/// - `task` was returned by `kthread_create_on_cpu()` for `thread_entry::<T>`
///   with `shared` as its argument, and has not been stopped; `task` holds a
///   reference, which only `stop_in_place` gives up.
/// - `shared` came from `KBox::into_raw` and is freed only once the thread has
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
    shared: NonNull<Shared<T>>,
}

// SAFETY: The handle only passes `task` to functions that may be called from
// any task, and `T: Send` lets the body move to the thread and back.
unsafe impl<T: ThreadFn> Send for PerCpuThread<T> {}

// SAFETY: `&PerCpuThread` reaches `task` through functions that may be called
// from any task, and of `shared` only what is atomic and, where `T: Sync`,
// the body.
unsafe impl<T: ThreadFn> Sync for PerCpuThread<T> {}

impl<T: ThreadFn> PerCpuThread<T> {
    /// Creates a per-CPU thread of `cpu`, named by `name` with the CPU number,
    /// and parks it before it runs `body`.
    ///
    /// The thread waits in `TASK_PARKED` until it is unparked: if `cpu` is
    /// offline, until `cpu` has come up and the thread has been unparked.
    pub fn new_parked(body: T, cpu: CpuId, name: CpuThreadName<'_>) -> Result<Self> {
        let shared = Shared {
            #[cfg(MODULE)]
            requests: Requests::new(),
            body,
        };
        let shared = KBox::into_raw(KBox::new(shared, GFP_KERNEL)?);
        // SAFETY: `thread_entry::<T>` matches `threadfn` and `shared` stays
        // valid until the thread has exited; `name` is a NUL-terminated format
        // whose only conversion, `%u`, takes the CPU number passed here
        // (`CpuThreadName` invariant).
        let task = unsafe {
            bindings::kthread_create_on_cpu(
                Some(thread_entry::<T>),
                shared.cast(),
                cpu.as_u32(),
                name.as_cstr().as_char_ptr(),
            )
        };
        let task = match from_err_ptr(task) {
            Ok(task) => task,
            Err(e) => {
                // SAFETY: No thread was created, so `shared` is still ours.
                drop(unsafe { KBox::from_raw(shared) });
                return Err(e);
            }
        };
        // SAFETY: `task` was just created and sleeps in `kthread()` until first
        // woken, so it is valid; `Task` is a transparent wrapper of
        // `task_struct`, and the reference lives only for `ARef::from`, which
        // takes a count of its own.
        let task = ARef::from(unsafe { &*task.cast::<Task>() });
        #[cfg(not(MODULE))]
        // SAFETY: `task` is a kthread bound to `cpu` by its creation; the cast
        // cannot wrap, as CPU ids are below `nr_cpu_ids`.
        unsafe {
            bindings::kthread_set_per_cpu(task.as_ptr(), cpu.as_u32() as c_int)
        };
        // SAFETY: A live kthread that nothing else parks yet. It wakes, parks
        // in `kthread()` before calling `thread_entry`, and `kthread_park()`
        // returns once it has parked.
        unsafe { bindings::kthread_park(task.as_ptr()) };
        // INVARIANT: Just created for `thread_entry::<T>(shared)`; `ARef::from`
        // took the reference.
        Ok(Self {
            task: ManuallyDrop::new(task),
            // SAFETY: `KBox::into_raw` never returns null.
            shared: unsafe { NonNull::new_unchecked(shared) },
        })
    }

    /// The thread's requests.
    #[cfg(MODULE)]
    fn requests(&self) -> &Requests {
        // SAFETY: `shared` is valid while `self` is (type invariant), and the
        // projection makes no reference to the body.
        unsafe { &*core::ptr::addr_of!((*self.shared.as_ptr()).requests) }
    }

    /// Asks the thread to park and waits until it has (the thread sees
    /// [`CurrentThread::should_park`] and calls [`CurrentThread::parkme`]).
    ///
    /// A thread already asked to park is left alone, with a warning. Parks
    /// and unparks are the owner's, one at a time: two racing parks may both
    /// wait for the thread's one `parked` completion.
    pub fn park(&self) {
        #[cfg(MODULE)]
        self.requests().add();
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
        // SAFETY: `shared` is valid until the thread has exited, which `self`
        // outlives (type invariant); the thread takes only shared references
        // to it, and `T: Sync`.
        unsafe { &self.shared.as_ref().body }
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
        KBox::into_inner(unsafe { this.stop_in_place() }).body
    }

    /// Stops the thread and returns what it shared with the handle: the work
    /// of [`Self::stop`] and of `Drop`.
    ///
    /// # Safety
    ///
    /// At most one call per value, which is not used afterwards.
    unsafe fn stop_in_place(&mut self) -> KBox<Shared<T>> {
        #[cfg(MODULE)]
        self.requests().add();
        // SAFETY: Taken once (the caller's contract).
        let task = unsafe { ManuallyDrop::take(&mut self.task) };
        // SAFETY: `task` is a kthread that was not stopped (type invariant);
        // `kthread_stop_put()` waits for it to exit and then drops the
        // reference that `into_raw` gives up.
        unsafe { bindings::kthread_stop_put(ARef::into_raw(task).as_ptr().cast()) };
        // SAFETY: The thread has exited, so nothing else uses `shared`, which
        // came from `KBox::into_raw`.
        unsafe { KBox::from_raw(self.shared.as_ptr()) }
    }

    /// Sets the thread's allowed CPUs to exactly `cpu`.
    ///
    /// Built into a module, the thread is a kthread bound to its CPU but not
    /// a per-CPU kthread for the scheduler (`kthread_set_per_cpu()` is not
    /// exported): the scheduler widens its affinity when it must move it off
    /// a CPU that is dying or offline (parking wakes a thread created on an
    /// offline CPU), and `kthread_unpark()` does not bind it again. So the
    /// owner calls this before unparking or stopping.
    ///
    /// A thread already bound to `cpu` is left alone after a lockless test
    /// (`set_cpus_allowed_ptr()` returns early for an equal mask too, but
    /// under the task's locks): a widening racing with the call, by a wakeup
    /// of the thread while `cpu` is not online, may land after it. A thread
    /// that must run on `cpu` checks where it runs, as smpboot_rs's thread
    /// loop does before any callback.
    #[cfg(MODULE)]
    pub(crate) fn bind(&self, cpu: PossibleCpu) -> Result {
        // Most of the time it still is bound: the test spares a CPU's
        // bringup `set_cpus_allowed_ptr()` and the runqueue lock.
        if self.is_bound_to(cpu) {
            return Ok(());
        }
        // SAFETY: The task is live (type invariant) and `cpumask_of` points
        // to a static mask.
        to_result(unsafe {
            bindings::set_cpus_allowed_ptr(self.task.as_ptr(), cpu::cpumask_of(cpu).as_raw())
        })
    }

    /// Whether the thread's allowed CPUs are exactly `cpu`.
    #[cfg(MODULE)]
    pub(crate) fn is_bound_to(&self, cpu: PossibleCpu) -> bool {
        // SAFETY: The task is live (type invariant); the test reads its mask.
        unsafe { shim::smpboot_rs_task_bound_to(self.task.as_ptr(), cpu.as_u32()) }
    }
}

impl<T: ThreadFn> Drop for PerCpuThread<T> {
    fn drop(&mut self) {
        // SAFETY: `self` is being dropped and is not used afterwards.
        drop(unsafe { self.stop_in_place() });
    }
}

/// Calls `f` with the body of the current thread and the thread itself, if
/// the current task, in task context, is the kthread of a [`PerCpuThread`]
/// of body type `T`: for code that the body calls through C, which cannot
/// pass it the [`CurrentThread`]. `None` elsewhere, interrupts included.
#[cfg(MODULE)]
pub(crate) fn with_current<T: ThreadFn, R>(f: impl FnOnce(&T, &CurrentThread) -> R) -> Option<R> {
    // SAFETY: Reads the preempt count.
    if !unsafe { shim::smpboot_rs_in_task() } {
        return None;
    }
    let task = Task::current_raw();
    // SAFETY: `task` is the current task; reading its flags is always valid.
    let is_kthread = unsafe { (*task).flags } & bindings::PF_KTHREAD != 0;
    // SAFETY: `kthread_func()` is valid on any kthread.
    if !is_kthread || unsafe { bindings::kthread_func(task) } != thread_entry::<T> as *mut c_void {
        return None;
    }
    // SAFETY: The current kthread runs `thread_entry::<T>`, whose argument is
    // the live `Shared<T>` of its handle. Code runs in it only while it runs
    // its body (`kthread()` calls `thread_entry` once unparked), and the
    // handle frees it only once `kthread_stop()` has seen `run` return. The
    // thread and the handle hold only shared references to it, and `f`
    // cannot keep the reference past this call.
    let shared = unsafe { &*bindings::kthread_data(task).cast::<Shared<T>>() };
    // INVARIANT: The current task is that thread, in task context, running
    // its body.
    let this = CurrentThread {
        requests: NonNull::from(&shared.requests),
        _not_thread_safe: NotThreadSafe,
    };
    Some(f(&shared.body, &this))
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
        self.end_sleeping();
        // SAFETY: Task context (`CurrentThread`), with the pass's own
        // `preempt_disable()` balanced.
        unsafe { bindings::schedule() };
    }

    /// As [`WaitPass::sleep`], but for `ms` milliseconds at most.
    #[cfg(MODULE)]
    pub(crate) fn sleep_at_most(self, ms: u32) {
        self.end_sleeping();
        // SAFETY: Pure arithmetic on the kernel's HZ.
        let jiffies = unsafe { bindings::__msecs_to_jiffies(ms) };
        // SAFETY: Task context (`CurrentThread`), with the pass's own
        // `preempt_disable()` balanced; the task state was set when the pass
        // began. The remaining time is of no use here.
        unsafe {
            bindings::schedule_timeout(jiffies.try_into().unwrap_or(kernel::ffi::c_long::MAX))
        };
    }

    /// Disables migration for as long as the returned guard lives, keeping
    /// the task on [`WaitPass::cpu`]: the pass has preemption disabled, so
    /// the task cannot move between reading the CPU and pinning it.
    #[cfg(MODULE)]
    pub(crate) fn pin(&self) -> cpu::MigrationGuard {
        cpu::MigrationGuard::new()
    }

    /// Ends the pass with the task still about to sleep: enables preemption.
    ///
    /// With `preempt_enable()`: `smpboot_thread_fn()` uses
    /// `preempt_enable_no_resched()`, which modules do not get (nor the
    /// helpers, built as for modules). A preemption here is only an early
    /// switch, the task stays runnable until `schedule()`.
    #[inline]
    fn end_sleeping(self) {
        core::mem::forget(self);
        #[cfg(MODULE)]
        // SAFETY: Balances the `preempt_disable()` of `wait_pass`.
        unsafe {
            shim::smpboot_rs_preempt_enable()
        };
        #[cfg(not(MODULE))]
        // SAFETY: Balances the `preempt_disable()` of `wait_pass`.
        unsafe {
            bindings::preempt_enable()
        };
    }
}

impl Drop for WaitPass<'_> {
    #[inline]
    fn drop(&mut self) {
        #[cfg(MODULE)]
        // SAFETY: Sets the current task running, which it may always be, then
        // balances the `preempt_disable()` of `wait_pass`: one call for both.
        unsafe {
            shim::smpboot_rs_wait_pass_running()
        };
        #[cfg(not(MODULE))]
        // SAFETY: The current task may always be set running.
        unsafe {
            bindings::__set_current_state(bindings::TASK_RUNNING as c_int)
        };
        #[cfg(not(MODULE))]
        // SAFETY: Balances the `preempt_disable()` of `wait_pass`.
        unsafe {
            bindings::preempt_enable()
        };
    }
}

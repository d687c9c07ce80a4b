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

use super::compat::atomic::{Atomic, Full, Relaxed};
use super::compat::{prelude::*, ARef};
use super::cpu::{self, PossibleCpu};
use super::ffi;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::error::{from_err_ptr, to_result};
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::str::{CStr, CString};
use kernel::task::Task;

/// The body of a thread.
///
/// The thread runs [`ThreadFn::run`] on a shared reference, so that code the
/// thread calls can reach its own body again ([`with_current`]); state that
/// changes lives in cells.
pub(crate) trait ThreadFn: Send + 'static {
    /// Runs in the new thread; returning ends the thread. A thread that can
    /// be stopped returns once [`should_stop`] is true, which it may be on
    /// entry (a thread stopped before its first unpark). `requests` counts
    /// the park and stop requests made through the thread's [`Thread`].
    fn run(&self, requests: &Requests);
}

/// The park and stop requests made to a thread through its [`Thread`],
/// counted.
///
/// [`should_park`] and [`should_stop`] are calls, which a wait loop makes
/// on every pass (the kernel's `smpboot_thread_fn()` does). A thread that is
/// parked and stopped only through its [`Thread`] can read this count
/// instead, once a pass, and ask the kernel only once the count has moved
/// past the requests it has handled.
///
/// A request is counted before the kernel is asked (`kthread_park()`,
/// `kthread_stop()`), which then sets the thread's flag and wakes it, with a
/// full barrier before it reads the thread's state. So a pass that reads the
/// count after setting the task state (a [`WaitPass`], whose barrier orders
/// the read) and finds no new request may sleep: a request made since wakes
/// it. A pass that finds a new request asks the kernel, and so does every
/// later pass until the thread has parked or stopped: the kernel's flag may
/// come just after the count.
///
/// [`WaitPass`]: super::cpu::WaitPass
pub(crate) struct Requests(Atomic<u32>);

impl Requests {
    const fn new() -> Self {
        Self(Atomic::new(0))
    }

    /// The number of requests so far (wrapping); 0 before the first.
    pub(crate) fn count(&self) -> u32 {
        self.0.load(Relaxed)
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

/// What a thread and its handle share: the body and the requests.
struct Shared<T> {
    requests: Requests,
    body: T,
}

/// The name of per-CPU threads: a `printf` format whose only conversion is
/// one `%u`, for the CPU number.
///
/// # Invariants
///
/// The string holds exactly one `%`, followed by `u`.
pub(crate) struct CpuThreadName(CString);

impl CpuThreadName {
    /// Checks `format`: `EINVAL` unless it holds exactly one `%u` and no
    /// other `%` (`kthread_create_on_cpu()` formats it with the CPU only).
    pub(crate) fn new(format: &CStr) -> Result<Self> {
        if Self::cpu_conversion(format).is_none() {
            return Err(EINVAL);
        }
        // INVARIANT: checked just above.
        Ok(Self(format.to_cstring()?))
    }

    /// Where the `%u` of `format` is, if it is the only conversion.
    pub(crate) fn cpu_conversion(format: &CStr) -> Option<usize> {
        let bytes = format.to_bytes();
        let at = bytes.windows(2).position(|w| w == b"%u")?;
        (bytes.iter().filter(|&&b| b == b'%').count() == 1).then_some(at)
    }

    /// The format.
    pub(crate) fn as_cstr(&self) -> &CStr {
        &self.0
    }
}

/// Owner of a created kthread and of the value it runs on.
///
/// # Invariants
///
/// `task` was returned by `kthread_create_on_cpu()` for `thread_entry::<T>`
/// with `data` as argument, and it has not been stopped. `task` holds a
/// reference that only [`Raw::stop_in_place`] takes out, after which the
/// `Raw` is not used. `data` came from `KBox::into_raw` and is freed only
/// once the thread has exited; until then the thread and the handle take
/// only shared references to its `requests`, and only the thread to its
/// `body`.
struct Raw<T: ThreadFn> {
    task: ManuallyDrop<ARef<Task>>,
    data: NonNull<Shared<T>>,
}

// SAFETY: The handle only passes `task` to functions that may be called from
// any task, and `T: Send` lets the value move with it.
unsafe impl<T: ThreadFn> Send for Raw<T> {}
// SAFETY: `&Raw` reaches, of `data`, only the atomic `requests`.
unsafe impl<T: ThreadFn> Sync for Raw<T> {}

impl<T: ThreadFn> Raw<T> {
    /// The thread's requests.
    fn requests(&self) -> &Requests {
        // SAFETY: `data` is valid while `self` is (type invariant), and the
        // projection makes no reference to the `body`, which the thread
        // uses.
        unsafe { &*core::ptr::addr_of!((*self.data.as_ptr()).requests) }
    }

    /// Stops the thread and returns its value.
    ///
    /// A parked thread is unparked first (by `kthread_stop()` itself). One
    /// still in the park it was created in then runs [`ThreadFn::run`],
    /// which sees [`should_stop`] at once (`kthread()` calls the thread
    /// function once its creation park ends, whatever ended it).
    fn stop(self) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is not dropped, and not used after this call.
        KBox::into_inner(unsafe { this.stop_in_place() }).body
    }

    /// Stops the thread and returns its value: the body of [`Raw::stop`] and
    /// of `Drop`.
    ///
    /// # Safety
    ///
    /// At most one call per value (`self.task` has not been taken), and
    /// `self` is not used afterwards (its other field has no drop glue).
    unsafe fn stop_in_place(&mut self) -> KBox<Shared<T>> {
        self.requests().add();
        // SAFETY: Taken once (the caller's contract).
        let task = unsafe { ManuallyDrop::take(&mut self.task) };
        // SAFETY: By the type invariant `task` is a kthread that was not
        // stopped; `kthread_stop_put()` drops the reference `into_raw` gives
        // up. The thread only returns from `run` once asked to stop, so it is
        // alive until this call.
        unsafe { bindings::kthread_stop_put(ARef::into_raw(task).as_ptr().cast()) };
        // SAFETY: The thread has exited, so nothing else uses `data`, which
        // came from `KBox::into_raw`.
        unsafe { KBox::from_raw(self.data.as_ptr()) }
    }
}

impl<T: ThreadFn> Drop for Raw<T> {
    fn drop(&mut self) {
        // SAFETY: `self` is being dropped and is not used afterwards.
        drop(unsafe { self.stop_in_place() });
    }
}

/// # Safety
///
/// `data` is the body passed by `Thread::new_parked`, freed only after the
/// thread has exited.
unsafe extern "C" fn thread_entry<T: ThreadFn>(data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `KBox<Shared<T>>` pointer passed by
    // `new_parked`; the handle frees it only once `kthread_stop()` has seen
    // us return, and takes only shared references to its `requests`
    // meanwhile.
    let shared = unsafe { &*data.cast::<Shared<T>>() };
    shared.body.run(&shared.requests);
    0
}

/// A kthread bound to a CPU, created parked as C smpboot creates its
/// threads: it waits in `TASK_PARKED` (not in the `TASK_UNINTERRUPTIBLE` of
/// a kthread never woken, which the hung-task detector reports) until it is
/// unparked, and runs its body only then.
///
/// # Examples
///
/// A thread on CPU 1 that counts the passes of its wait loop, the loop of
/// `smpboot_thread_fn()` without its callbacks:
///
/// ```
/// use crate::compat::atomic::{Atomic, Relaxed};
/// use crate::cpu::{PossibleCpu, WaitPass};
/// use crate::kthread::{self, CpuThreadName, Requests, Thread, ThreadFn};
///
/// struct Passes(Atomic<u64>);
///
/// impl ThreadFn for Passes {
///     fn run(&self, requests: &Requests) {
///         let mut handled = 0;
///         loop {
///             // Marked as about to sleep before the checks: a wakeup
///             // after them is not lost.
///             let pass = WaitPass::begin();
///             // Parked and stopped only through its `Thread`: the kernel
///             // is asked only when there is a new request.
///             let seen = requests.count();
///             if seen != handled {
///                 if kthread::should_stop() {
///                     pass.keep_running();
///                     return;
///                 }
///                 if kthread::should_park() {
///                     pass.keep_running();
///                     kthread::parkme();
///                     handled = seen;
///                     continue;
///                 }
///             }
///             self.0.fetch_add(1, Relaxed);
///             pass.sleep();
///         }
///     }
/// }
///
/// let cpu = PossibleCpu::new(1).ok_or(ENODEV)?;
/// let name = CpuThreadName::new(kernel::c_str!("passes/%u"))?;
/// let thread = Thread::new_parked(Passes(Atomic::new(0)), cpu, &name)?;
/// // Created on an offline CPU, it may have run elsewhere: bind it again.
/// thread.bind(cpu)?;
/// thread.unpark();
/// thread.wake();
/// let passes = thread.stop(); // `run` has returned
/// pr_info!("{} passes\n", passes.0.load(Relaxed));
/// # Ok::<(), Error>(())
/// ```
pub(crate) struct Thread<T: ThreadFn>(Raw<T>);

impl<T: ThreadFn> Thread<T> {
    /// Creates a thread bound to `cpu`, named by `name` with the CPU number,
    /// and parks it before it runs `body`.
    ///
    /// Parking wakes the new thread once; if `cpu` is offline the scheduler
    /// runs it elsewhere and widens its affinity (it is not a per-CPU kthread
    /// for the scheduler): [`Thread::bind`] it before unparking.
    pub(crate) fn new_parked(body: T, cpu: PossibleCpu, name: &CpuThreadName) -> Result<Self> {
        let shared = Shared {
            requests: Requests::new(),
            body,
        };
        let data = KBox::into_raw(KBox::new(shared, GFP_KERNEL)?);
        // SAFETY: `thread_entry::<T>` matches `threadfn`; `data` stays valid
        // until the thread is stopped; `name` is a NUL-terminated format
        // whose only conversion, `%u`, takes the CPU number passed here
        // (`CpuThreadName` invariant).
        let task = unsafe {
            bindings::kthread_create_on_cpu(
                Some(thread_entry::<T>),
                data.cast(),
                cpu.as_u32(),
                name.as_cstr().as_char_ptr(),
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
        // SAFETY: `task` is a valid task just created, and `Task` is a
        // transparent wrapper of its `task_struct`. The new kthread sleeps in
        // `kthread()` until first woken, so it cannot exit before the
        // reference is taken; the `&Task` lives only for `ARef::from`. The
        // reference keeps the task valid until `kthread_stop_put()`.
        let task = ARef::from(unsafe { &*task.cast::<Task>() });
        // SAFETY: A live kthread that nothing else parks yet. It wakes, parks
        // in `kthread()` before calling `thread_entry`, and `kthread_park()`
        // returns once it is off the CPU in `TASK_PARKED`.
        unsafe { bindings::kthread_park(task.as_ptr()) };
        // INVARIANT: `task` runs `thread_entry::<T>(data)` once unparked.
        Ok(Self(Raw {
            task: ManuallyDrop::new(task),
            // SAFETY: `KBox::into_raw` never returns null.
            data: unsafe { NonNull::new_unchecked(data) },
        }))
    }

    /// Asks the thread to park and waits until it has (the thread sees
    /// [`should_park`] and calls [`parkme`]). Only for threads the caller
    /// knows unparked: parking a parked thread warns.
    pub(crate) fn park(&self) {
        self.0.requests().add();
        // SAFETY: By the invariant of `Raw` the task is a live kthread. The
        // only error, a thread already asked to park, is the caller's to
        // rule out, and harmless.
        unsafe { bindings::kthread_park(self.0.task.as_ptr()) };
    }

    /// Lets a parked thread go on; does nothing to one that is not parked.
    pub(crate) fn unpark(&self) {
        // SAFETY: By the invariant of `Raw` the task is a live kthread.
        unsafe { bindings::kthread_unpark(self.0.task.as_ptr()) };
    }

    /// Wakes the thread if it sleeps in `TASK_INTERRUPTIBLE` or
    /// `TASK_UNINTERRUPTIBLE`; a parked thread stays parked.
    pub(crate) fn wake(&self) {
        self.0.task.wake_up();
    }

    /// Sets the thread's allowed CPUs to exactly `cpu`.
    ///
    /// The scheduler widens the affinity of a bound kthread that is not a
    /// per-CPU kthread when it must move it off a CPU that is dying or
    /// offline, and `kthread_unpark()` does not bind it again: call this
    /// before unparking or stopping.
    ///
    /// A thread already bound to `cpu` is left alone after a lockless test
    /// (`set_cpus_allowed_ptr()` returns early for an equal mask too, but
    /// under the task's locks): a widening racing with the call, by a wakeup
    /// of the thread while `cpu` is not online, may land after it. A thread
    /// that must run on `cpu` checks where it runs, as smpboot_rs's thread
    /// loop does before any callback.
    pub(crate) fn bind(&self, cpu: PossibleCpu) -> Result {
        // Most of the time it still is bound: the test spares a CPU's
        // bringup `set_cpus_allowed_ptr()` and the runqueue lock.
        if self.is_bound_to(cpu) {
            return Ok(());
        }
        // SAFETY: The task is live (type invariant) and `cpumask_of` points
        // to a static mask.
        to_result(unsafe {
            bindings::set_cpus_allowed_ptr(self.0.task.as_ptr(), cpu::cpumask_of(cpu).as_raw())
        })
    }

    /// Stops the thread (unparking it if parked) and returns its value once
    /// it has returned from [`ThreadFn::run`].
    pub(crate) fn stop(self) -> T {
        self.0.stop()
    }

    /// The thread's pid.
    pub(crate) fn pid(&self) -> i32 {
        self.0.task.pid()
    }

    /// Whether the thread's allowed CPUs are exactly `cpu`.
    pub(crate) fn is_bound_to(&self, cpu: PossibleCpu) -> bool {
        // SAFETY: The task is live (type invariant); the test reads its mask.
        unsafe { ffi::smpboot_rs_task_bound_to(self.0.task.as_ptr(), cpu.as_u32()) }
    }

    /// Whether `self` is the current task.
    pub(crate) fn is_current(&self) -> bool {
        core::ptr::eq(self.0.task.as_ptr(), Task::current_raw())
    }

    /// The thread's task.
    pub(crate) fn task(&self) -> &Task {
        &self.0.task
    }

    /// The raw task, for C users that keep task pointers (`ht->store`). It
    /// is valid until the thread is stopped.
    pub(crate) fn as_raw_task(&self) -> *mut bindings::task_struct {
        self.0.task.as_ptr()
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

/// Calls `f` with the body of the current thread if it is a thread created
/// by [`Thread::new_parked`] for the body type `T`, running its body.
pub(crate) fn with_current<T: ThreadFn, R>(f: impl FnOnce(&T) -> R) -> Option<R> {
    let task = Task::current_raw();
    // SAFETY: `task` is the current task; reading its flags is always valid.
    let is_kthread = unsafe { (*task).flags } & bindings::PF_KTHREAD != 0;
    // SAFETY: `kthread_func()` is valid on any kthread.
    if !is_kthread || unsafe { bindings::kthread_func(task) } != thread_entry::<T> as *mut c_void {
        return None;
    }
    // SAFETY: The current kthread runs `thread_entry::<T>`, whose argument is
    // the live `Shared<T>` of its handle, freed only after this thread exits;
    // the thread and the handle hold only shared references to it, and `f`
    // cannot keep the reference past this call.
    let shared = unsafe { &*bindings::kthread_data(task).cast::<Shared<T>>() };
    Some(f(&shared.body))
}

/// Binds the current task to `cpu`, as [`Thread::bind`]: a later wakeup
/// brings it back to `cpu` once the scheduler lets it run there.
pub(crate) fn bind_current(cpu: PossibleCpu) -> Result {
    let mask = cpu::cpumask_of(cpu).as_raw();
    // SAFETY: `current` is valid in task context; the mask is static.
    to_result(unsafe { bindings::set_cpus_allowed_ptr(Task::current_raw(), mask) })
}

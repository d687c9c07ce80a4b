// SPDX-License-Identifier: GPL-2.0

//! Per-CPU hotplug threads: the registration half of `kernel/smpboot.c`.
//!
//! C header: [`include/linux/smpboot.h`](srctree/include/linux/smpboot.h)
//!
//! With `CONFIG_SMPBOOT_RUST` the kernel's `smpboot_register_percpu_thread()`,
//! `smpboot_unregister_percpu_thread()` and the hotplug callbacks of
//! `CPUHP_CREATE_THREADS` and `CPUHP_AP_SMPBOOT_THREADS` are the functions of
//! this module, with the semantics of the C ones: a registration gets a
//! per-CPU kthread for each CPU that is or comes online, created parked,
//! unparked on its CPU once the CPU is up, parked there when it goes down and
//! stopped at unregistration, with the descriptor's callbacks run on the
//! thread's CPU at each step. A selfparking descriptor's threads are parked
//! and unparked by their owner.
//!
//! Rust code registers with [`Registration`], whose [`Callbacks`] are those of
//! the descriptor, each given its CPU; the registration ends when it is
//! dropped.
//!
//! Differences: registration refuses with `-EINVAL` a descriptor without
//! `store`, `thread_should_run`, `thread_fn` or `thread_comm`, or whose
//! `thread_comm` is not a format with exactly one `%u` (C formats it as it
//! is), and with `-EBUSY` one registered already (C corrupts its list). A
//! thread that finds itself off its CPU warns and runs no callback there,
//! where C calls `BUG()`.

mod thread;

use crate::{
    bindings,
    cpu::{
        self,
        CpuId, //
    },
    ffi::{
        c_int,
        c_uint, //
    },
    fmt,
    kthread::{
        CpuThreadName,
        PerCpuThread,
        WaitPass, //
    },
    prelude::*,
    str::CStr,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Release, //
        },
        Arc, //
    }, //
};
use core::ptr::{
    self,
    NonNull, //
};
use thread::{
    CpuCallbacks,
    HotplugThread,
    InThread,
    Status, //
};

/// A registered descriptor, `struct smp_hotplug_thread`.
///
/// # Invariants
///
/// The descriptor is valid from its registration until its unregistration
/// has returned, and nothing else writes it meanwhile; `store`,
/// `thread_should_run`, `thread_fn` and `thread_comm` are set, and each
/// callback keeps the contract of `include/linux/smpboot.h`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Descriptor(NonNull<bindings::smp_hotplug_thread>);

// SAFETY: The descriptor is only read, and stays valid while registered (type
// invariant); its callbacks are only called where `include/linux/smpboot.h`
// says, whichever task holds the wrapper.
unsafe impl Send for Descriptor {}

// SAFETY: As above.
unsafe impl Sync for Descriptor {}

impl Descriptor {
    /// Wraps the descriptor a caller registers.
    ///
    /// # Safety
    ///
    /// `ptr` is valid until its unregistration has returned, and nothing else
    /// writes it meanwhile; each callback keeps the contract of
    /// `include/linux/smpboot.h`.
    unsafe fn from_raw(ptr: *mut bindings::smp_hotplug_thread) -> Result<Self> {
        let this = NonNull::new(ptr).ok_or(EINVAL)?;
        // SAFETY: Valid by the caller's contract.
        let ht = unsafe { this.as_ref() };
        if ht.store.is_null()
            || ht.thread_should_run.is_none()
            || ht.thread_fn.is_none()
            || ht.thread_comm.is_null()
        {
            return Err(EINVAL);
        }
        // INVARIANT: Checked above; the rest is the caller's contract.
        Ok(Self(this))
    }

    fn get(&self) -> &bindings::smp_hotplug_thread {
        // SAFETY: Valid while registered (type invariant), which `self` is.
        unsafe { self.0.as_ref() }
    }

    fn name(&self) -> &CStr {
        // SAFETY: `thread_comm` is a NUL-terminated string (type invariant).
        unsafe { CStr::from_char_ptr(self.get().thread_comm) }
    }

    fn selfparking(&self) -> bool {
        self.get().selfparking
    }

    /// Stores `cpu`'s task where the descriptor's owner reads it, or null.
    ///
    /// # Safety
    ///
    /// Serialised with every other writer of the descriptor's `store`: the
    /// caller holds `SMPBOOT_THREADS`.
    unsafe fn set_task(&self, cpu: CpuId, task: *mut bindings::task_struct) {
        // SAFETY: `store` is a per-CPU variable (type invariant) and `cpu` is
        // below `nr_cpu_ids`; the caller serialises the writes.
        unsafe {
            let slot = bindings::per_cpu_ptr(self.get().store.cast(), cpu.as_u32());
            *slot.cast::<*mut bindings::task_struct>() = task;
        }
    }

    /// Calls the optional callback `f` of the descriptor with `cpu`.
    ///
    /// # Safety
    ///
    /// `f` is one of the descriptor's callbacks (`create`, `setup`, `park`,
    /// `unpark` or `thread_fn`), called where `include/linux/smpboot.h` and
    /// `kernel/smpboot.c` call it for `cpu`.
    unsafe fn call(&self, f: Option<unsafe extern "C" fn(c_uint)>, cpu: CpuId) {
        if let Some(f) = f {
            // SAFETY: The caller's contract.
            unsafe { f(cpu.as_u32()) }
        }
    }
}

/// The callbacks of per-CPU hotplug threads registered from Rust with
/// [`Registration`]: those of `struct smp_hotplug_thread`, each run by the
/// thread of `cpu`, on that CPU.
///
/// They run while CPUs come up and go down, with the hotplug lock held for
/// writing by the task that waits for them: they must not take the hotplug
/// read lock, nor create or drop a [`Registration`].
pub trait Callbacks: Send + Sync + 'static {
    /// Whether the thread of `cpu` has work to do. Called with preemption
    /// disabled: must not sleep.
    fn should_run(&self, cpu: CpuId) -> bool;

    /// Does the work that [`Callbacks::should_run`] found. Returns for the
    /// thread to check again, park or stop.
    fn run(&self, cpu: CpuId);

    /// The thread's first run, before any other callback.
    fn setup(&self, _cpu: CpuId) {}

    /// The thread parks, as `cpu` goes down.
    fn park(&self, _cpu: CpuId) {}

    /// The thread runs again after [`Callbacks::park`], as `cpu` came up.
    fn unpark(&self, _cpu: CpuId) {}

    /// The thread stops (the registration is dropped) after
    /// [`Callbacks::setup`]; `online` whether `cpu` is online.
    fn cleanup(&self, _cpu: CpuId, _online: bool) {}
}

/// What the core keeps of a [`Registration`].
struct RustUser {
    name: &'static CStr,
    callbacks: Arc<dyn Callbacks>,
    /// Each CPU's thread, null before it is created and after it stopped,
    /// indexed by CPU id; written under `SMPBOOT_THREADS`.
    tasks: KVec<Atomic<*mut bindings::task_struct>>,
}

/// Who registered: the callbacks the threads run.
#[derive(Clone)]
enum Owner {
    /// A C user, `smpboot_register_percpu_thread()`.
    C(Descriptor),
    /// A Rust user, [`Registration::new`].
    Rust(Arc<RustUser>),
}

impl Owner {
    fn name(&self) -> &CStr {
        match self {
            Self::C(desc) => desc.name(),
            Self::Rust(user) => user.name,
        }
    }

    fn selfparking(&self) -> bool {
        matches!(self, Self::C(desc) if desc.selfparking())
    }

    fn is_descriptor(&self, ptr: NonNull<bindings::smp_hotplug_thread>) -> bool {
        matches!(self, Self::C(desc) if desc.0 == ptr)
    }

    fn is_user(&self, user: &Arc<RustUser>) -> bool {
        matches!(self, Self::Rust(this) if Arc::ptr_eq(this, user))
    }

    /// Stores `cpu`'s task where the owner reads it, or null.
    ///
    /// # Safety
    ///
    /// The caller holds `SMPBOOT_THREADS`. A task stored lives as long as
    /// the registration's thread of `cpu`, which only the end of the
    /// registration stops.
    unsafe fn set_task(&self, cpu: CpuId, task: *mut bindings::task_struct) {
        match self {
            // SAFETY: The caller's contract.
            Self::C(desc) => unsafe { desc.set_task(cpu, task) },
            Self::Rust(user) => {
                if let Some(slot) = user.tasks.get(cpu.as_u32() as usize) {
                    slot.store(task, Release);
                }
            }
        }
    }
}

/// Per-CPU hotplug threads registered from Rust: a thread for each CPU that
/// is or comes online, running `T`'s [`Callbacks`] as
/// `smpboot_register_percpu_thread()` runs a descriptor's. Dropping it
/// stops the threads, as `smpboot_unregister_percpu_thread()` does, and may
/// sleep: not from one of its own threads, which would wait for itself, nor
/// from a CPU hotplug callback.
///
/// # Invariants
///
/// `user` is registered with the core from `new` until `drop`. The core
/// stores each CPU's task in `user.tasks`, with `Release`, once the thread
/// is created, and clears it only after stopping the thread, which it does
/// only at unregistration: a task read from there lives as long as `self`.
///
/// # Examples
///
/// Work raised for each online CPU and done by that CPU's thread:
///
/// ```
/// use kernel::cpu::CpuId;
/// use kernel::smpboot::{Callbacks, Registration};
/// use kernel::sync::atomic::{Acquire, Atomic, Relaxed, Release};
/// use kernel::time::{delay::fsleep, Delta};
///
/// struct Raised {
///     /// Work for the thread of a CPU, by CPU id.
///     pending: KVec<Atomic<bool>>,
///     /// Work done on another CPU than the thread's.
///     elsewhere: Atomic<u32>,
/// }
///
/// impl Raised {
///     fn pending(&self, cpu: CpuId) -> bool {
///         self.pending.get(cpu.as_u32() as usize).is_some_and(|p| p.load(Acquire))
///     }
///
///     fn set(&self, cpu: CpuId, pending: bool) {
///         if let Some(p) = self.pending.get(cpu.as_u32() as usize) {
///             p.store(pending, Release);
///         }
///     }
/// }
///
/// impl Callbacks for Raised {
///     fn should_run(&self, cpu: CpuId) -> bool {
///         self.pending(cpu)
///     }
///
///     fn run(&self, cpu: CpuId) {
///         if CpuId::current() != cpu {
///             self.elsewhere.fetch_add(1, Relaxed);
///         }
///         self.set(cpu, false);
///     }
/// }
///
/// let mut pending = KVec::new();
/// for _ in CpuId::all() {
///     pending.push(Atomic::new(false), GFP_KERNEL)?;
/// }
/// let raised = Raised { pending, elsewhere: Atomic::new(0) };
/// let threads = Registration::new(c"example/%u", raised)?;
/// let online = || CpuId::all().filter(|cpu| cpu.is_online());
/// for cpu in online() {
///     threads.callbacks().set(cpu, true);
///     threads.wake(cpu);
/// }
/// for _ in 0..500 {
///     if !online().any(|cpu| threads.callbacks().pending(cpu)) {
///         break;
///     }
///     fsleep(Delta::from_millis(10));
/// }
/// // No CPU went down meanwhile (no hotplug runs here).
/// assert!(!online().any(|cpu| threads.callbacks().pending(cpu)));
/// assert_eq!(threads.callbacks().elsewhere.load(Relaxed), 0);
/// // The threads stop.
/// drop(threads);
/// # Ok::<(), Error>(())
/// ```
pub struct Registration<T: Callbacks> {
    user: Arc<RustUser>,
    callbacks: Arc<T>,
}

impl<T: Callbacks> Registration<T> {
    /// Registers per-CPU threads named by `name`, a format with exactly one
    /// `%u` (the CPU), running `callbacks`: starts those of the online CPUs.
    /// May sleep. `EINVAL` for another `name`; the error of a thread that
    /// cannot be created, after stopping those created.
    pub fn new(name: &'static CStr, callbacks: T) -> Result<Self> {
        let callbacks = Arc::new(callbacks, GFP_KERNEL)?;
        let mut tasks = KVec::with_capacity(cpu::nr_cpu_ids() as usize, GFP_KERNEL)?;
        for _ in CpuId::all() {
            tasks.push(Atomic::new(ptr::null_mut()), GFP_KERNEL)?;
        }
        let user = Arc::new(
            RustUser {
                name,
                callbacks: callbacks.clone(),
                tasks,
            },
            GFP_KERNEL,
        )?;
        register(Owner::Rust(user.clone()))?;
        // INVARIANT: registered; `drop` unregisters.
        Ok(Self { user, callbacks })
    }

    /// The callbacks the threads run.
    pub fn callbacks(&self) -> &T {
        &self.callbacks
    }

    /// Wakes the thread of `cpu` if it has one, for work that
    /// [`Callbacks::should_run`] will find. Any context.
    pub fn wake(&self, cpu: CpuId) {
        let task = self
            .user
            .tasks
            .get(cpu.as_u32() as usize)
            .map_or(ptr::null_mut(), |slot| slot.load(Acquire));
        if !task.is_null() {
            // SAFETY: By the type invariant the task lives as long as `self`
            // (the `Acquire` load pairs with the core's `Release` store).
            unsafe { bindings::wake_up_process(task) };
        }
    }
}

impl<T: Callbacks> Drop for Registration<T> {
    fn drop(&mut self) {
        unregister(|owner| owner.is_user(&self.user));
    }
}

/// The name of a thread's status in the listing.
fn status_name(status: Status) -> &'static str {
    match status {
        Status::Created => "created",
        Status::Active => "active",
        Status::Parked => "parked",
    }
}

/// A registration's callbacks for the thread of `cpu`.
struct CpuThread {
    owner: Owner,
    cpu: CpuId,
}

impl CpuCallbacks for CpuThread {
    fn cpu(&self) -> CpuId {
        self.cpu
    }

    fn setup(&self, _at: &InThread<'_>) {
        match &self.owner {
            // SAFETY: The CPU's thread, first run on its CPU, preemptible
            // (`_at`).
            Owner::C(desc) => unsafe { desc.call(desc.get().setup, self.cpu) },
            Owner::Rust(user) => user.callbacks.setup(self.cpu),
        }
    }

    fn thread_should_run(&self, _at: &InThread<'_>, pass: &WaitPass<'_>) -> bool {
        if pass.cpu() != self.cpu {
            return false;
        }
        match &self.owner {
            Owner::C(desc) => desc.get().thread_should_run.is_some_and(|f| {
                // SAFETY: The owner's callback, called as its contract says:
                // in the CPU's thread (`_at`), on the CPU, preemption
                // disabled (`pass`).
                unsafe { f(self.cpu.as_u32()) != 0 }
            }),
            Owner::Rust(user) => user.callbacks.should_run(self.cpu),
        }
    }

    fn thread_fn(&self, _at: &InThread<'_>) {
        match &self.owner {
            // SAFETY: The CPU's thread, active, on its CPU, with work
            // (`thread_should_run`), preemptible (`_at`).
            Owner::C(desc) => unsafe { desc.call(desc.get().thread_fn, self.cpu) },
            Owner::Rust(user) => user.callbacks.run(self.cpu),
        }
    }

    fn has_park(&self) -> bool {
        match &self.owner {
            Owner::C(desc) => desc.get().park.is_some(),
            // A default `park` does nothing, like none.
            Owner::Rust(_) => true,
        }
    }

    fn park(&self, _at: &InThread<'_>) {
        match &self.owner {
            // SAFETY: The CPU's thread, active, parking on its CPU,
            // preemptible (`_at`).
            Owner::C(desc) => unsafe { desc.call(desc.get().park, self.cpu) },
            Owner::Rust(user) => user.callbacks.park(self.cpu),
        }
    }

    fn unpark(&self, _at: &InThread<'_>) {
        match &self.owner {
            // SAFETY: The CPU's thread, unparked on its CPU after `park`,
            // preemptible (`_at`).
            Owner::C(desc) => unsafe { desc.call(desc.get().unpark, self.cpu) },
            Owner::Rust(user) => user.callbacks.unpark(self.cpu),
        }
    }

    fn cleanup(&self, _at: &InThread<'_>, online: bool) {
        match &self.owner {
            Owner::C(desc) => {
                if let Some(f) = desc.get().cleanup {
                    // SAFETY: The CPU's thread as it stops, after its `setup`
                    // (`_at`).
                    unsafe { f(self.cpu.as_u32(), online) }
                }
            }
            Owner::Rust(user) => user.callbacks.cleanup(self.cpu, online),
        }
    }
}

/// A registration and its threads.
struct Registered {
    owner: Owner,
    /// Indexed by CPU id.
    threads: KVec<Option<PerCpuThread<HotplugThread<CpuThread>>>>,
}

impl Registered {
    fn new(owner: Owner) -> Result<Self> {
        let mut threads = KVec::with_capacity(cpu::nr_cpu_ids() as usize, GFP_KERNEL)?;
        for _ in CpuId::all() {
            threads.push(None, GFP_KERNEL)?;
        }
        Ok(Self { owner, threads })
    }

    fn thread(&self, cpu: CpuId) -> Option<&PerCpuThread<HotplugThread<CpuThread>>> {
        self.threads.get(cpu.as_u32() as usize)?.as_ref()
    }

    /// Creates `cpu`'s thread, parked, unless it exists (`__smpboot_create_thread()`).
    fn create_thread(&mut self, cpu: CpuId) -> Result {
        let owner = self.owner.clone();
        let slot = self.threads.get_mut(cpu.as_u32() as usize).ok_or(EINVAL)?;
        if slot.is_some() {
            return Ok(());
        }
        let name = CpuThreadName::new(owner.name())?;
        let body = HotplugThread::new(CpuThread {
            owner: owner.clone(),
            cpu,
        });
        let thread = PerCpuThread::new_parked(body, cpu, name)?;
        // SAFETY: Both callers, registration and the create callback, hold
        // `SMPBOOT_THREADS`; the task is the thread's.
        unsafe { owner.set_task(cpu, thread.task().as_ptr()) };
        let thread = slot.insert(thread);
        let Owner::C(desc) = owner else {
            return Ok(());
        };
        // The create callback may need the thread off the runqueue (the
        // stopper's does).
        if desc.get().create.is_some() {
            let parked = thread.wait_parked();
            if !crate::warn_on!(!parked) {
                // SAFETY: `create`, for `cpu`, with its thread created and
                // parked and `store` filled, from the hotplug control task.
                unsafe { desc.call(desc.get().create, cpu) };
            }
        }
        Ok(())
    }

    fn unpark_thread(&self, cpu: CpuId) {
        if !self.owner.selfparking() {
            if let Some(thread) = self.thread(cpu) {
                thread.unpark();
            }
        }
    }

    fn park_thread(&self, cpu: CpuId) {
        if !self.owner.selfparking() {
            if let Some(thread) = self.thread(cpu) {
                thread.park();
            }
        }
    }
}

impl Drop for Registered {
    /// Stops the threads of every CPU, online or not
    /// (`smpboot_destroy_threads()`).
    fn drop(&mut self) {
        for (cpu, slot) in CpuId::all().zip(self.threads.iter_mut()) {
            if let Some(thread) = slot.take() {
                // The thread ran `cleanup` if it ran `setup`.
                thread.stop();
                // SAFETY: A registration is dropped under `SMPBOOT_THREADS`:
                // by unregistration, or by a registration that failed.
                unsafe { self.owner.set_task(cpu, ptr::null_mut()) };
            }
        }
    }
}

crate::sync::global_lock! {
    // SAFETY: Initialised by `smpboot_threads_init()`, which `sched_init()`
    // calls before any other use: before the early initcalls that make the
    // first registrations, before any CPU comes up, before debugfs.
    unsafe(uninit) static SMPBOOT_THREADS: Mutex<KVec<Registered>> = KVec::new();
}

/// Initialises the registrations' lock.
///
/// # Safety
///
/// Called once, before any other function of this module: by `sched_init()`.
#[no_mangle]
unsafe extern "C" fn smpboot_threads_init() {
    // SAFETY: Called once, before any use (the function's contract).
    unsafe { SMPBOOT_THREADS.init() };
}

fn register(owner: Owner) -> Result {
    // Checked once here, and then at each creation, for the same string.
    CpuThreadName::new(owner.name())?;
    let _hotplug = cpu::cpus_read_lock();
    let mut registrations = SMPBOOT_THREADS.lock();
    if let Owner::C(desc) = &owner {
        if registrations.iter().any(|r| r.owner.is_descriptor(desc.0)) {
            return Err(EBUSY);
        }
    }
    // Room first: once the threads run, nothing may fail.
    registrations.reserve(1, GFP_KERNEL)?;
    let mut registration = Registered::new(owner)?;
    for cpu in CpuId::all().filter(|cpu| cpu.is_online()) {
        // On failure the registration's threads are stopped as it drops.
        registration.create_thread(cpu)?;
        registration.unpark_thread(cpu);
    }
    registrations
        .push_within_capacity(registration)
        .map_err(|_| ENOMEM)
}

/// Unregisters the registration of the owner that `is_it` picks, if any.
fn unregister(is_it: impl Fn(&Owner) -> bool) {
    let _hotplug = cpu::cpus_read_lock();
    let mut registrations = SMPBOOT_THREADS.lock();
    if let Some(i) = registrations.iter().position(|r| is_it(&r.owner)) {
        if let Ok(registration) = registrations.remove(i) {
            // Dropped under the locks, as C stops the threads under them.
            drop(registration);
        }
    }
}

/// Registers a per-CPU hotplug thread: creates and starts its threads on all
/// online CPUs.
///
/// # Safety
///
/// `plug_thread` is valid until `smpboot_unregister_percpu_thread()` has
/// returned for it, and nothing else writes it meanwhile; its callbacks keep
/// the contract of `include/linux/smpboot.h`. Called from task context.
#[export]
pub unsafe extern "C" fn smpboot_register_percpu_thread(
    plug_thread: *mut bindings::smp_hotplug_thread,
) -> c_int {
    // SAFETY: The caller's contract is `Descriptor::from_raw`'s.
    match unsafe { Descriptor::from_raw(plug_thread) }.and_then(|desc| register(Owner::C(desc))) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Unregisters a per-CPU hotplug thread: stops its threads on all CPUs.
///
/// # Safety
///
/// `plug_thread` is null or a descriptor that was passed to
/// `smpboot_register_percpu_thread()`. Called from task context.
#[export]
pub unsafe extern "C" fn smpboot_unregister_percpu_thread(
    plug_thread: *mut bindings::smp_hotplug_thread,
) {
    if let Some(ptr) = NonNull::new(plug_thread) {
        // Only compared with the registered descriptors, never dereferenced:
        // an unknown one is left alone.
        unregister(|owner| owner.is_descriptor(ptr));
    }
}

/// Hotplug callback of `CPUHP_CREATE_THREADS` (prepare stage, on the control
/// CPU): creates `cpu`'s thread of each registration, newest first.
///
/// # Safety
///
/// Called only by CPU hotplug, as the callback of `CPUHP_CREATE_THREADS` for `cpu`.
#[no_mangle]
unsafe extern "C" fn smpboot_create_threads(cpu: c_uint) -> c_int {
    let Some(cpu) = CpuId::from_u32(cpu) else {
        return EINVAL.to_errno();
    };
    let mut registrations = SMPBOOT_THREADS.lock();
    for registration in registrations.iter_mut().rev() {
        if let Err(e) = registration.create_thread(cpu) {
            return e.to_errno();
        }
    }
    0
}

/// Hotplug callback of `CPUHP_AP_SMPBOOT_THREADS` (online stage, on `cpu`):
/// unparks `cpu`'s thread of each registration, newest first.
///
/// # Safety
///
/// Called only by CPU hotplug, as the callback of `CPUHP_AP_SMPBOOT_THREADS` for `cpu`.
#[no_mangle]
unsafe extern "C" fn smpboot_unpark_threads(cpu: c_uint) -> c_int {
    if let Some(cpu) = CpuId::from_u32(cpu) {
        for registration in SMPBOOT_THREADS.lock().iter().rev() {
            registration.unpark_thread(cpu);
        }
    }
    0
}

/// Hotplug teardown of `CPUHP_AP_SMPBOOT_THREADS` (on `cpu`, going down):
/// parks `cpu`'s thread of each registration, oldest first.
///
/// # Safety
///
/// Called only by CPU hotplug, as the callback of `CPUHP_AP_SMPBOOT_THREADS` for `cpu`.
#[no_mangle]
unsafe extern "C" fn smpboot_park_threads(cpu: c_uint) -> c_int {
    if let Some(cpu) = CpuId::from_u32(cpu) {
        for registration in SMPBOOT_THREADS.lock().iter() {
            registration.park_thread(cpu);
        }
    }
    0
}

/// Writes the registrations, oldest first, one line per thread:
/// `<name> cpu=<n> pid=<pid> state=<created|active|parked> selfparking=<0|1>`,
/// where the name is the descriptor's `thread_comm` with its CPU number
/// filled in.
pub fn show(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // Held while formatting: CPU hotplug waits for a reader for that long.
    let registrations = SMPBOOT_THREADS.lock();
    for registration in registrations.iter() {
        // A checked format (`CpuThreadName`): one `%u`.
        let name = registration.owner.name().to_str().unwrap_or("?%u");
        let (prefix, suffix) = name.split_once("%u").unwrap_or((name, ""));
        for cpu in CpuId::all() {
            let Some(thread) = registration.thread(cpu) else {
                continue;
            };
            writeln!(
                f,
                "{}{}{} cpu={} pid={} state={} selfparking={}",
                prefix,
                cpu.as_u32(),
                suffix,
                cpu.as_u32(),
                thread.task().pid(),
                status_name(thread.body().status()),
                u8::from(registration.owner.selfparking()),
            )?;
        }
    }
    Ok(())
}

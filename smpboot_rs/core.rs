// SPDX-License-Identifier: GPL-2.0

//! The registration logic: per-CPU threads that follow CPU hotplug with the
//! semantics of `kernel/smpboot.c` (6.12), on two dynamic hotplug states
//! shared by every registration.
//!
//! - `smpboot_rs:create` (prepare stage, control CPU): creates the thread of
//!   a CPU that comes up, once; it is reused across offline and online.
//! - `smpboot_rs:online` (online stage, on the CPU): starts the thread, or
//!   binds it to its CPU again and unparks it; on the way down, parks it.
//!
//! A thread keeps migration disabled while it is active, so the scheduler
//! leaves it on its dying CPU and the park callback runs there; it enables
//! migration before it parks, as the dying CPU must not keep pinned tasks.

use crate::callbacks::{Request, UserCallbacks};
use crate::cpu::{self, CpuId, MigrationGuard, WaitPass};
use crate::cpuhp::{self, CpusReadGuard, Instance, MultiState, Stage};
use crate::kthread::{self, Thread, Unstarted, WakeSlot};
use core::fmt::Write;
use core::sync::atomic::{AtomicI32, AtomicU64, AtomicU8, Ordering};
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::{new_mutex, Arc, Mutex};

/// What a CPU's thread is doing, as shown in sysfs.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Status {
    /// No thread, or its setup has not run.
    None = 0,
    /// Set up and not parked.
    Active = 1,
    /// Parked after being active.
    Parked = 2,
}

impl Status {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Active,
            2 => Self::Parked,
            _ => Self::None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Active => "active",
            Self::Parked => "parked",
        }
    }
}

/// The counters of one CPU's thread.
#[derive(Default)]
struct CpuStats {
    pid: AtomicI32,
    status: AtomicU8,
    setup: AtomicU64,
    park: AtomicU64,
    unpark: AtomicU64,
    cleanup: AtomicU64,
    runs: AtomicU64,
    wrong_cpu: AtomicU64,
}

/// Counts one more. Each counter has one writer, the CPU's thread, so a
/// plain load and store do: no locked instruction on the loop's path.
fn bump(counter: &AtomicU64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// One CPU's thread, as the hotplug callbacks see it.
enum Slot {
    Empty,
    Created(Unstarted<PerCpuThread>),
    Started {
        thread: Thread<PerCpuThread>,
        parked: bool,
    },
}

/// A registration's threads, as the hotplug callbacks see them.
struct Threads {
    slots: KVec<Slot>,
    /// Set when unregistration stops the threads, before the hotplug
    /// instances are removed: callbacks that still run leave the slots alone.
    stopped: bool,
}

/// One registration, shared by its threads and its hotplug instances.
#[pin_data]
pub(crate) struct Registration {
    id: u64,
    comm: CString,
    comm_parts: (KVec<u8>, KVec<u8>),
    selfparking: bool,
    callbacks: UserCallbacks,
    #[pin]
    threads: Mutex<Threads>,
    stats: KVec<CpuStats>,
    wakers: KVec<WakeSlot>,
}

impl Registration {
    fn cpu_stats(&self, cpu: CpuId) -> Option<&CpuStats> {
        self.stats.get(cpu.index())
    }

    /// Creates `cpu`'s thread unless it exists: prepare-stage startup.
    fn create_thread(this: &Arc<Self>, threads: &mut Threads, cpu: CpuId) -> Result {
        if threads.stopped {
            return Ok(());
        }
        let slot = threads.slots.get_mut(cpu.index()).ok_or(EINVAL)?;
        if !matches!(slot, Slot::Empty) {
            return Ok(());
        }
        let body = PerCpuThread {
            reg: this.clone(),
            cpu,
            status: Status::None,
        };
        let thread = Unstarted::new(body, cpu, &this.comm)?;
        if let Err(e) = this.callbacks.create(cpu) {
            drop(thread.stop());
            return Err(e);
        }
        *slot = Slot::Created(thread);
        Ok(())
    }

    /// Starts, or binds and unparks, `cpu`'s thread: online-stage startup,
    /// on `cpu`.
    fn start_thread(this: &Arc<Self>, cpu: CpuId) -> Result {
        let mut threads = this.threads.lock();
        // A CPU always passes the create state first; this only covers a
        // registration that raced with the CPU between its two states.
        Self::create_thread(this, &mut threads, cpu)?;
        if threads.stopped {
            return Ok(());
        }
        let slot = threads.slots.get_mut(cpu.index()).ok_or(EINVAL)?;
        match core::mem::replace(slot, Slot::Empty) {
            Slot::Empty => Err(EINVAL),
            Slot::Created(thread) => {
                let thread = if this.selfparking {
                    thread.start_parked()
                } else {
                    thread.start()
                };
                this.publish(cpu, &thread);
                *slot = Slot::Started {
                    thread,
                    parked: false,
                };
                Ok(())
            }
            Slot::Started { mut thread, parked } => {
                // Parking may have moved the thread off its dying CPU and
                // widened its affinity; nothing else binds it again.
                let bound = thread.bind(cpu);
                let parked = if parked && bound.is_ok() && !this.selfparking {
                    thread.unpark();
                    false
                } else {
                    parked
                };
                *slot = Slot::Started { thread, parked };
                bound
            }
        }
    }

    /// Parks `cpu`'s thread: online-stage teardown, on `cpu`.
    fn park_thread(&self, cpu: CpuId) -> Result {
        let mut threads = self.threads.lock();
        if let Some(Slot::Started { thread, parked }) = threads.slots.get_mut(cpu.index()) {
            if !*parked && !self.selfparking {
                thread.park();
                *parked = true;
            }
        }
        Ok(())
    }

    fn publish(&self, cpu: CpuId, thread: &Thread<PerCpuThread>) {
        if let Some(stats) = self.cpu_stats(cpu) {
            stats.pid.store(thread.pid(), Ordering::Relaxed);
        }
        if let Some(waker) = self.wakers.get(cpu.index()) {
            waker.publish(thread);
        }
        self.callbacks.store(cpu, thread.as_raw_task());
    }

    /// Wakes the thread of CPU `cpu`; callable from any context. `EINVAL`
    /// if `cpu` is not a possible CPU, `ENOENT` if its thread has not
    /// started.
    ///
    /// Takes the raw id: a published slot is a possible CPU's, so only the
    /// error path checks the id (a shim call less on every raise).
    pub(crate) fn wake(&self, cpu: u32) -> Result {
        let waker = usize::try_from(cpu)
            .ok()
            .and_then(|index| self.wakers.get(index));
        match waker {
            Some(waker) if waker.wake() => Ok(()),
            _ if CpuId::new(cpu).is_some() => Err(ENOENT),
            _ => Err(EINVAL),
        }
    }

    /// Stops every thread, parked and never started ones included, and
    /// keeps the hotplug callbacks from making new ones. Returns when all
    /// callbacks are done.
    ///
    /// This runs before the hotplug instances are removed: an active thread
    /// keeps migration disabled, so a CPU that went down after the online
    /// instance was gone, with its thread not parked, could never finish
    /// going down (the scheduler waits for its pinned tasks).
    fn stop_threads(&self) {
        // No CPU changes state while the threads stop, so `cleanup`'s
        // `online` argument is stable, as in C.
        let _cpus = CpusReadGuard::new();
        let mut threads = self.threads.lock();
        threads.stopped = true;
        for (index, slot) in threads.slots.iter_mut().enumerate() {
            // Slots are indexed by CPU id; only possible CPUs ever have one.
            let Some(cpu) = u32::try_from(index).ok().and_then(CpuId::new) else {
                continue;
            };
            match core::mem::replace(slot, Slot::Empty) {
                Slot::Empty => continue,
                Slot::Created(thread) => drop(thread.stop()),
                Slot::Started { thread, .. } => {
                    self.callbacks.store(cpu, core::ptr::null_mut());
                    drop(thread.stop());
                }
            }
            if let Some(stats) = self.cpu_stats(cpu) {
                stats.pid.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Appends one `key=value` line per possible CPU.
    fn render(&self, out: &mut impl Write) -> core::fmt::Result {
        let before = core::str::from_utf8(&self.comm_parts.0).unwrap_or("?");
        let after = core::str::from_utf8(&self.comm_parts.1).unwrap_or("?");
        for cpu in cpu::possible_cpus() {
            let Some(s) = self.cpu_stats(cpu) else {
                continue;
            };
            writeln!(
                out,
                "reg={} name={}{}{} cpu={} online={} pid={} state={} setup={} park={} unpark={} \
                 cleanup={} runs={} wrong_cpu={}",
                self.id,
                before,
                cpu,
                after,
                cpu,
                u8::from(cpu.is_online()),
                s.pid.load(Ordering::Relaxed),
                Status::from_u8(s.status.load(Ordering::Relaxed)).name(),
                s.setup.load(Ordering::Relaxed),
                s.park.load(Ordering::Relaxed),
                s.unpark.load(Ordering::Relaxed),
                s.cleanup.load(Ordering::Relaxed),
                s.runs.load(Ordering::Relaxed),
                s.wrong_cpu.load(Ordering::Relaxed),
            )?;
        }
        Ok(())
    }
}

/// The body of every thread: the loop of `smpboot_thread_fn`.
struct PerCpuThread {
    reg: Arc<Registration>,
    cpu: CpuId,
    status: Status,
}

impl PerCpuThread {
    fn set_status(&mut self, status: Status) {
        self.status = status;
        if let Some(stats) = self.reg.cpu_stats(self.cpu) {
            stats.status.store(status as u8, Ordering::Relaxed);
        }
    }

    /// Counts a call about to run off the thread's CPU. C smpboot
    /// `BUG_ON`s it; we count it, and the tests require zero.
    fn check_cpu(&self, on: CpuId) {
        if on != self.cpu {
            self.count(|s| &s.wrong_cpu);
        }
    }

    /// As [`Self::check_cpu`], and also counts an affinity other than
    /// exactly the thread's CPU. Checked at setup, park, unpark and cleanup
    /// only. The mask changes only on the hotplug path (the scheduler's
    /// fallback while parked, the online callback's bind): `kthread_bind`
    /// made the thread `PF_NO_SETAFFINITY`. A per-pass check cost two calls
    /// a wakeup (Documentation/benchmarks.rst, profile).
    fn check_cpu_and_affinity(&self, on: CpuId) {
        if on != self.cpu || !cpu::current_bound_to(self.cpu) {
            self.count(|s| &s.wrong_cpu);
        }
    }

    fn count(&self, pick: impl Fn(&CpuStats) -> &AtomicU64) {
        if let Some(stats) = self.reg.cpu_stats(self.cpu) {
            bump(pick(stats));
        }
    }
}

impl kthread::ThreadFn for PerCpuThread {
    fn run(&mut self) {
        let cpu = self.cpu;
        let reg = self.reg.clone();
        let mut pinned = Some(MigrationGuard::new());
        loop {
            let pass = WaitPass::begin();

            // Checked before park: a parked thread of an offline CPU is
            // woken elsewhere to be stopped.
            if kthread::should_stop() {
                pass.keep_running();
                // cleanup mirrors setup.
                if self.status != Status::None {
                    let online = cpu.is_online();
                    if online {
                        self.check_cpu_and_affinity(cpu::current_cpu());
                    }
                    reg.callbacks.cleanup(cpu, online);
                    self.count(|s| &s.cleanup);
                }
                self.set_status(Status::None);
                return;
            }

            if kthread::should_park() {
                pass.keep_running();
                if self.status == Status::Active {
                    self.check_cpu_and_affinity(cpu::current_cpu());
                    reg.callbacks.park(cpu);
                    self.count(|s| &s.park);
                    self.set_status(Status::Parked);
                }
                // A dying CPU must not keep migration-disabled tasks.
                drop(pinned.take());
                kthread::parkme();
                pinned.replace(MigrationGuard::new());
                continue;
            }

            match self.status {
                Status::None => {
                    self.check_cpu_and_affinity(pass.cpu());
                    pass.keep_running();
                    reg.callbacks.setup(cpu);
                    self.count(|s| &s.setup);
                    self.set_status(Status::Active);
                    continue;
                }
                Status::Parked => {
                    self.check_cpu_and_affinity(pass.cpu());
                    pass.keep_running();
                    reg.callbacks.unpark(cpu);
                    self.count(|s| &s.unpark);
                    self.set_status(Status::Active);
                    continue;
                }
                Status::Active => self.check_cpu(pass.cpu()),
            }

            if reg.callbacks.should_run(cpu) {
                pass.keep_running();
                reg.callbacks.run(cpu);
                self.count(|s| &s.runs);
            } else {
                // C uses preempt_enable_no_resched(), which modules cannot:
                // a preemption here only delays the sleep; a wakeup since
                // the pass began keeps us running.
                pass.sleep();
            }
        }
    }
}

/// `smpboot_rs_thread_schedule()`: a preemption point for a long
/// `thread_fn`. Returns whether the thread must return so that parking or
/// stopping can go on; `EINVAL` outside a smpboot_rs thread.
pub(crate) fn thread_schedule() -> Result<bool> {
    if !kthread::current_runs::<PerCpuThread>() {
        return Err(EINVAL);
    }
    // Migration stays disabled: the thread is rescheduled on its CPU.
    cpu::cond_resched();
    Ok(kthread::should_park() || kthread::should_stop())
}

/// Prepare-stage callbacks of one registration.
pub(crate) struct CreateHook(Arc<Registration>);

impl cpuhp::Callbacks for CreateHook {
    fn startup(&self, cpu: CpuId) -> Result {
        let mut threads = self.0.threads.lock();
        Registration::create_thread(&self.0, &mut threads, cpu)
    }

    fn teardown(&self, _cpu: CpuId) -> Result {
        // The thread stays, parked, for the CPU's next bringup.
        Ok(())
    }
}

/// Online-stage callbacks of one registration.
pub(crate) struct OnlineHook(Arc<Registration>);

impl cpuhp::Callbacks for OnlineHook {
    fn startup(&self, cpu: CpuId) -> Result {
        Registration::start_thread(&self.0, cpu)
    }

    fn teardown(&self, cpu: CpuId) -> Result {
        self.0.park_thread(cpu)
    }
}

/// A live registration: its shared part and its two hotplug instances.
pub(crate) struct Handle {
    reg: Arc<Registration>,
    create: Pin<KBox<Instance<CreateHook>>>,
    online: Pin<KBox<Instance<OnlineHook>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl Handle {
    /// Wakes `cpu`'s thread (see [`Registration::wake`]).
    pub(crate) fn wake(&self, cpu: u32) -> Result {
        self.reg.wake(cpu)
    }

    /// Stops the threads, then takes the instances out of the hotplug
    /// states (see [`Registration::stop_threads`] for the order).
    fn shut_down(&self) {
        self.reg.stop_threads();
        self.online.as_ref().remove();
        self.create.as_ref().remove();
    }
}

/// The module-wide part: the two shared hotplug states and the list of
/// registrations.
#[pin_data]
pub(crate) struct Core {
    create_state: MultiState<CreateHook>,
    online_state: MultiState<OnlineHook>,
    #[pin]
    registry: Mutex<KVec<Option<KBox<Handle>>>>,
    next_id: AtomicU64,
}

impl Core {
    /// Allocates the hotplug states.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            create_state: MultiState::new(Stage::Prepare, kernel::c_str!("smpboot_rs:create"))?,
            online_state: MultiState::new(Stage::Online, kernel::c_str!("smpboot_rs:online"))?,
            registry <- new_mutex!(KVec::new(), "smpboot_rs::registry"),
            next_id: AtomicU64::new(1),
        })
    }

    /// Registers per-CPU threads: creates and starts one on every online
    /// CPU, each step under the hotplug read lock. On failure everything
    /// done is undone. Returns the registration's address, its handle.
    pub(crate) fn register(&'static self, req: Request, ctx: *mut c_void) -> Result<*const Handle> {
        let nr = cpu::nr_cpu_ids() as usize;
        let mut slots = KVec::with_capacity(nr, GFP_KERNEL)?;
        let mut stats = KVec::with_capacity(nr, GFP_KERNEL)?;
        let mut wakers = KVec::with_capacity(nr, GFP_KERNEL)?;
        for _ in 0..nr {
            slots.push(Slot::Empty, GFP_KERNEL)?;
            stats.push(CpuStats::default(), GFP_KERNEL)?;
            wakers.push(WakeSlot::new(), GFP_KERNEL)?;
        }
        let reg = Arc::pin_init(
            pin_init!(Registration {
                id: self.next_id.fetch_add(1, Ordering::Relaxed),
                comm: req.comm,
                comm_parts: req.comm_parts,
                selfparking: req.selfparking,
                callbacks: req.callbacks,
                threads <- new_mutex!(Threads { slots, stopped: false }, "smpboot_rs::threads"),
                stats,
                wakers,
            }),
            GFP_KERNEL,
        )?;
        let handle = KBox::new(
            Handle {
                create: KBox::pin_init(Instance::new(CreateHook(reg.clone())), GFP_KERNEL)?,
                online: KBox::pin_init(Instance::new(OnlineHook(reg.clone())), GFP_KERNEL)?,
                reg,
            },
            GFP_KERNEL,
        )?;
        let addr: *const Handle = &*handle;

        // The registry lock keeps a second registration with the same
        // context out until this one is listed. Lock order: registry, then
        // the hotplug lock (taken by `add`), then a registration's threads.
        let mut registry = self.registry.lock();
        if registry
            .iter()
            .flatten()
            .any(|h| h.reg.callbacks.has_ctx(ctx))
        {
            return Err(EBUSY);
        }
        let added = handle
            .create
            .as_ref()
            .add(&self.create_state)
            .and_then(|()| handle.online.as_ref().add(&self.online_state));
        if let Err(e) = added {
            drop(registry);
            // Dropping the handle undoes what was done.
            drop(handle);
            return Err(e);
        }
        pr_info!(
            "registered {} (reg={})\n",
            handle.reg.comm.to_str().unwrap_or("?"),
            handle.reg.id
        );
        match registry.iter_mut().find(|e| e.is_none()) {
            Some(free) => *free = Some(handle),
            None => {
                if let Err(e) = registry.push(Some(handle), GFP_KERNEL) {
                    // `push` dropped the handle, which undoes everything.
                    return Err(e.into());
                }
            }
        }
        Ok(addr)
    }

    /// Unregisters the registration at `addr`: stops all its threads and
    /// returns once every callback is done. Unknown addresses are ignored.
    pub(crate) fn unregister(&self, addr: *const Handle) -> bool {
        let handle = {
            let mut registry = self.registry.lock();
            registry
                .iter_mut()
                .find(|e| e.as_ref().is_some_and(|h| core::ptr::eq(&**h, addr)))
                .and_then(Option::take)
        };
        match handle {
            Some(handle) => {
                let id = handle.reg.id;
                // Dropping the handle stops the threads.
                drop(handle);
                pr_info!("unregistered reg={}\n", id);
                true
            }
            None => false,
        }
    }

    /// The registration made with `ctx`, if any.
    pub(crate) fn find_ctx(&self, ctx: *mut c_void) -> Option<*const Handle> {
        let registry = self.registry.lock();
        let handle = registry
            .iter()
            .flatten()
            .find(|h| h.reg.callbacks.has_ctx(ctx))?;
        Some(&**handle as *const Handle)
    }

    /// Renders `/sys/kernel/smpboot_rs/threads`.
    pub(crate) fn render(&self, out: &mut impl Write) -> core::fmt::Result {
        let registry = self.registry.lock();
        for handle in registry.iter().flatten() {
            handle.reg.render(out)?;
        }
        Ok(())
    }
}

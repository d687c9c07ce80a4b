// SPDX-License-Identifier: GPL-2.0

//! The registration logic: per-CPU threads that follow CPU hotplug with the
//! semantics of `kernel/smpboot.c` (6.12), on two dynamic hotplug states
//! shared by every registration.
//!
//! - `smpboot_rs:create` (prepare stage, control CPU): creates the thread of
//!   a CPU that comes up, once and parked; it is reused across offline and
//!   online.
//! - `smpboot_rs:online` (online stage, on the CPU): binds the thread to its
//!   CPU again and unparks it; on the way down, parks it. A selfparking
//!   thread is its owner's to park: the core only holds one its owner left
//!   unparked while the CPU is down.
//!
//! A thread pins itself (migration disabled) only on its CPU, before any
//! callback, and keeps the pin while active, so the scheduler leaves it on
//! its dying CPU and `park` runs there; it lets go of the pin before it
//! parks, stops or is held, as the dying CPU must not keep pinned tasks
//! (see [`Pinning`]). The thread loop itself is `smpboot_rs/thread.rs`, one
//! source with the in-tree series.

use crate::abi::{self, WakeSlot};
use crate::callbacks::{Request, UserCallbacks};
use crate::compat::atomic::{Acquire, Atomic, Relaxed, Release};
use crate::compat::cpu::CpuId;
// 6.12: `Task::as_ptr` (7.x's is inherent).
#[allow(unused_imports)]
use crate::compat::prelude::*;
use crate::cpu::{self, MigrationGuard, PossibleCpu};
use crate::cpuhp::{self, CpusReadGuard, Instance, MultiState, Stage};
use crate::kthread::{self, CpuThreadName, CurrentThread, PerCpuThread, WaitPass};
use crate::thread::{CpuCallbacks, HotplugThread, InThread, Status};
use core::cell::Cell;
use core::fmt::Write;
use kernel::bindings;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::str::CString;
use kernel::sync::{new_mutex, Arc, Mutex};

/// How long a thread kept off its dying CPU waits before it looks again: a
/// failed offline gives it its CPU back without telling anyone.
const DISPLACED_RETRY_MS: u32 = 10;

/// What the core and a CPU's thread share, and sysfs shows.
struct PerCpu {
    /// Selfparking registrations only: the CPU is not up to
    /// `smpboot_rs:online` (set at creation and by that state's teardown,
    /// cleared by its startup). A thread its owner unparked lets go of its
    /// CPU and waits, as C smpboot's thread of an offline CPU sleeps.
    held: Atomic<bool>,
    pid: Atomic<i32>,
    /// The thread's [`Status`], as `i32`.
    status: Atomic<i32>,
    setup: Atomic<u64>,
    park: Atomic<u64>,
    unpark: Atomic<u64>,
    cleanup: Atomic<u64>,
    runs: Atomic<u64>,
    wrong_cpu: Atomic<u64>,
}

impl PerCpu {
    /// No thread yet.
    fn new() -> Self {
        Self {
            held: Atomic::new(false),
            pid: Atomic::new(0),
            status: Atomic::new(Status::Created as i32),
            setup: Atomic::new(0),
            park: Atomic::new(0),
            unpark: Atomic::new(0),
            cleanup: Atomic::new(0),
            runs: Atomic::new(0),
            wrong_cpu: Atomic::new(0),
        }
    }
}

/// A thread's state as `abi::THREAD_*`, for sysfs and
/// `smpboot_rs_thread_state`.
fn state_code(s: &PerCpu) -> c_int {
    match Status::from_i32(s.status.load(Relaxed)) {
        Status::Created => abi::THREAD_CREATED,
        // Let go of its CPU, which is down past our state.
        Status::Active if s.held.load(Relaxed) => abi::THREAD_HELD,
        Status::Active => abi::THREAD_ACTIVE,
        Status::Parked => abi::THREAD_PARKED,
    }
}

/// Counts one more. Each counter has one writer, the CPU's thread, so a
/// plain load and store do: no locked instruction on the loop's path.
fn bump(counter: &Atomic<u64>) {
    counter.store(counter.load(Relaxed).wrapping_add(1), Relaxed);
}

/// A CPU's thread, as the hotplug callbacks see it.
struct Slot {
    thread: PerCpuThread<HotplugThread<ThreadCallbacks>>,
    /// Parked by the core: since its creation, or since its CPU went down.
    /// Always true for selfparking registrations, whose owner parks.
    parked: bool,
}

/// A registration's threads, as the hotplug callbacks see them.
struct Threads {
    /// Indexed by CPU id.
    slots: KVec<Option<Slot>>,
    /// Set when unregistration stops the threads, before the hotplug
    /// instances are removed: callbacks that still run leave the slots alone.
    stopped: bool,
}

/// One registration, shared by its threads and its hotplug instances.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration {
    id: u64,
    /// The thread name format, checked by [`CpuThreadName::new`].
    comm: CString,
    comm_parts: (KVec<u8>, KVec<u8>),
    selfparking: bool,
    owner: *mut bindings::module,
    callbacks: UserCallbacks,
    /// Registered successfully: `callbacks.release()` is due when it goes.
    listed: Atomic<bool>,
    #[pin]
    threads: Mutex<Threads>,
    per_cpu: KVec<PerCpu>,
    wakers: KVec<WakeSlot>,
}

// SAFETY: `owner` is only compared, never dereferenced; every other field
// is `Send`.
unsafe impl Send for Registration {}
// SAFETY: As above; every other field is `Sync`.
unsafe impl Sync for Registration {}

#[pinned_drop]
impl PinnedDrop for Registration {
    fn drop(self: Pin<&mut Self>) {
        // The last reference: the threads and the hotplug instances are gone.
        // A registration that failed was never the core's to release.
        if self.listed.load(Relaxed) {
            self.callbacks.release();
        }
    }
}

impl Registration {
    fn per_cpu(&self, cpu: PossibleCpu) -> Option<&PerCpu> {
        self.per_cpu.get(cpu.index())
    }

    /// Whether `cpu`'s thread must let go of its CPU. Only selfparking
    /// registrations are ever held: the others skip the load, which the
    /// thread makes on every pass (on 7.x, a call).
    fn held(&self, cpu: PossibleCpu) -> bool {
        self.selfparking && self.per_cpu(cpu).is_some_and(|p| p.held.load(Acquire))
    }

    fn set_held(&self, cpu: PossibleCpu, held: bool) {
        if let Some(p) = self.per_cpu(cpu) {
            p.held.store(held, Release);
        }
    }

    /// Creates `cpu`'s thread unless it exists, parked, as C smpboot does:
    /// `ht->store` is filled before `create(cpu)`, which may refuse.
    ///
    /// The caller holds the hotplug lock (read or write), which serialises
    /// the creations of a CPU's thread. `create` runs without the threads
    /// mutex, which the hotplug path takes under the hotplug state mutex: a
    /// `create` may take that one (to set up a hotplug state of its own).
    fn create_thread(this: &Arc<Self>, cpu: PossibleCpu) -> Result {
        {
            let threads = this.threads.lock();
            let slot = threads.slots.get(cpu.index()).ok_or(EINVAL)?;
            if threads.stopped || slot.is_some() {
                return Ok(());
            }
        }
        let body = HotplugThread::new(ThreadCallbacks {
            reg: this.clone(),
            cpu,
        });
        let name = CpuThreadName::new(&this.comm)?;
        let thread = PerCpuThread::new_parked(body, cpu.cpu_id(), name)?;
        this.callbacks.store(cpu, thread.task().as_ptr());
        if let Err(e) = this.callbacks.create(cpu) {
            drop(thread.stop());
            this.callbacks.store(cpu, core::ptr::null_mut());
            return Err(e);
        }
        let mut threads = this.threads.lock();
        let stopped = threads.stopped;
        // Unregistration runs under the hotplug lock too, so it cannot have
        // begun meanwhile; the check keeps the slots' rule anyway.
        match threads.slots.get_mut(cpu.index()) {
            Some(slot @ None) if !stopped => {
                if this.selfparking {
                    this.set_held(cpu, true);
                }
                if let Some(p) = this.per_cpu(cpu) {
                    p.pid.store(thread.task().pid(), Relaxed);
                }
                if let Some(waker) = this.wakers.get(cpu.index()) {
                    waker.publish(thread.task());
                }
                *slot = Some(Slot {
                    thread,
                    parked: true,
                });
            }
            _ => {
                drop(threads);
                drop(thread.stop());
                this.callbacks.store(cpu, core::ptr::null_mut());
            }
        }
        Ok(())
    }

    /// Lets `cpu`'s thread run: online-stage startup (on `cpu`, in its
    /// hotplug thread) and registration (in the registering task, for the
    /// CPUs already at or past that state). Starting a started thread
    /// changes nothing (a selfparking one is woken for nothing): a CPU that
    /// passes the state while a registration adds its instance is started
    /// by both.
    fn start_thread(this: &Arc<Self>, cpu: PossibleCpu) -> Result {
        // The thread usually exists: a CPU at or past this state passed the
        // create state with the create instance in place (its startup), or
        // before it was added (the registration's catch-up creates it). A
        // CPU that passed the create state before the adding and reaches
        // this one before the catch-up has none yet: creating it here only
        // if need be keeps a start from ever finding an empty slot.
        Self::create_thread(this, cpu)?;
        let mut threads = this.threads.lock();
        if threads.stopped {
            return Ok(());
        }
        let slot = threads
            .slots
            .get_mut(cpu.index())
            .and_then(Option::as_mut)
            .ok_or(EINVAL)?;
        // Parking it, at creation or when its CPU went down, may have run it
        // on another CPU and widened its affinity; nothing else binds it.
        slot.thread.bind(cpu)?;
        if this.selfparking {
            // The owner unparks; a thread it did unpark waits for this.
            this.set_held(cpu, false);
            slot.thread.task().wake_up();
        } else if slot.parked {
            slot.thread.unpark();
            slot.parked = false;
        }
        Ok(())
    }

    /// Parks `cpu`'s thread: online-stage teardown, on `cpu`. A selfparking
    /// thread is its owner's to park; one the owner left unparked is told to
    /// let go of the CPU (a thread that keeps it, sleeping with migration
    /// disabled, would make the CPU wait for it forever before it dies).
    fn park_thread(&self, cpu: PossibleCpu) -> Result {
        let mut threads = self.threads.lock();
        if let Some(Some(slot)) = threads.slots.get_mut(cpu.index()) {
            if self.selfparking {
                self.set_held(cpu, true);
                slot.thread.task().wake_up();
            } else if !slot.parked {
                slot.thread.park();
                slot.parked = true;
            }
        }
        Ok(())
    }

    /// The state of `cpu`'s thread, as sysfs shows it (`abi::THREAD_*`);
    /// `ENOENT` if that CPU has no thread, `EINVAL` if it is no possible
    /// CPU. Any context: atomics only.
    pub(crate) fn thread_state(&self, cpu: u32) -> Result<c_int> {
        let s = PossibleCpu::new(cpu)
            .and_then(|c| self.per_cpu(c))
            .ok_or(EINVAL)?;
        // The pid is set when the thread is published and cleared when it
        // has stopped.
        if s.pid.load(Relaxed) == 0 {
            return Err(ENOENT);
        }
        Ok(state_code(s))
    }

    /// Stops every thread, parked ones included, and keeps the hotplug
    /// callbacks from making new ones; clears `ht->store` after each.
    /// Returns when all callbacks are done.
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
            let Some(slot) = slot.take() else {
                continue;
            };
            // Slots are indexed by CPU id; only possible CPUs ever have one.
            let Some(cpu) = u32::try_from(index).ok().and_then(PossibleCpu::new) else {
                continue;
            };
            // So that a parked thread of an online CPU runs `cleanup` there.
            if cpu.is_online() {
                let _ = slot.thread.bind(cpu);
            }
            drop(slot.thread.stop());
            self.callbacks.store(cpu, core::ptr::null_mut());
            if let Some(p) = self.per_cpu(cpu) {
                p.pid.store(0, Relaxed);
            }
        }
    }

    /// Appends one `key=value` line per possible CPU.
    fn render(&self, out: &mut impl Write) -> core::fmt::Result {
        let before = core::str::from_utf8(&self.comm_parts.0).unwrap_or("?");
        let after = core::str::from_utf8(&self.comm_parts.1).unwrap_or("?");
        for cpu in cpu::possible_cpus() {
            let Some(s) = self.per_cpu(cpu) else {
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
                s.pid.load(Relaxed),
                match state_code(s) {
                    abi::THREAD_ACTIVE => "active",
                    abi::THREAD_PARKED => "parked",
                    abi::THREAD_HELD => "held",
                    _ => "none",
                },
                s.setup.load(Relaxed),
                s.park.load(Relaxed),
                s.unpark.load(Relaxed),
                s.cleanup.load(Relaxed),
                s.runs.load(Relaxed),
                s.wrong_cpu.load(Relaxed),
            )?;
        }
        Ok(())
    }
}

/// A registration's callbacks for the thread of `cpu`, as the thread loop
/// ([`HotplugThread`]) runs them: each call is counted in the CPU's
/// [`PerCpu`] record, which also mirrors the thread's status, for sysfs.
struct ThreadCallbacks {
    reg: Arc<Registration>,
    cpu: PossibleCpu,
}

impl ThreadCallbacks {
    fn count(&self, pick: impl Fn(&PerCpu) -> &Atomic<u64>) {
        if let Some(p) = self.reg.per_cpu(self.cpu) {
            bump(pick(p));
        }
    }

    /// Counts a callback about to run off the thread's CPU, or with allowed
    /// CPUs other than exactly that CPU: the pinning rules exclude both (C
    /// smpboot `BUG_ON`s the first), and the tests require zero. Checked
    /// where a callback other than `should_run`/`thread_fn` runs: the mask
    /// changes only on the hotplug path (`kthread_bind` made the thread
    /// `PF_NO_SETAFFINITY`), and a per-pass check cost two calls a wakeup
    /// (Documentation/benchmarks.rst, profile).
    fn check_cpu_and_affinity(&self) {
        if cpu::current_cpu() != self.cpu || !cpu::current_bound_to(self.cpu) {
            self.count(|s| &s.wrong_cpu);
        }
    }
}

impl CpuCallbacks for ThreadCallbacks {
    fn setup(&self, _at: &InThread<'_>) {
        self.check_cpu_and_affinity();
        self.reg.callbacks.setup(self.cpu);
        self.count(|s| &s.setup);
    }

    fn thread_should_run(&self, _at: &InThread<'_>, pass: &WaitPass<'_>) -> bool {
        if pass.cpu() != self.cpu.cpu_id() {
            self.count(|s| &s.wrong_cpu);
        }
        self.reg.callbacks.should_run(self.cpu)
    }

    fn thread_fn(&self, _at: &InThread<'_>) {
        self.reg.callbacks.run(self.cpu);
        self.count(|s| &s.runs);
    }

    fn has_park(&self) -> bool {
        self.reg.callbacks.has_park()
    }

    fn park(&self, _at: &InThread<'_>) {
        self.check_cpu_and_affinity();
        // The threads file counts calls.
        if self.has_park() {
            self.reg.callbacks.park(self.cpu);
            self.count(|s| &s.park);
        }
    }

    fn unpark(&self, _at: &InThread<'_>) {
        self.check_cpu_and_affinity();
        self.reg.callbacks.unpark(self.cpu);
        self.count(|s| &s.unpark);
    }

    fn cleanup(&self, _at: &InThread<'_>, online: bool) {
        if online {
            self.check_cpu_and_affinity();
        }
        self.reg.callbacks.cleanup(self.cpu, online);
        self.count(|s| &s.cleanup);
    }

    fn possible_cpu(&self) -> PossibleCpu {
        self.cpu
    }

    fn status_changed(&self, status: Status) {
        if let Some(p) = self.reg.per_cpu(self.cpu) {
            p.status.store(status as i32, Relaxed);
        }
    }

    fn held(&self) -> bool {
        self.reg.held(self.cpu)
    }

    fn selfparking(&self) -> bool {
        self.reg.selfparking
    }
}

/// How a module's thread keeps to its CPU, in the loop of [`HotplugThread`].
///
/// The thread is not a per-CPU kthread for the scheduler, which therefore
/// runs it on its CPU only while the CPU is online and not dying, unless
/// the thread has disabled migration. So the loop pins itself (migration
/// disabled) on its CPU before any callback, keeps the pin while active,
/// sleeps included, so that the park request of a dying CPU runs it there,
/// and lets go of it before parking, stopping, or waiting held. A pass that
/// finds itself on another CPU runs no callback: it binds itself again and
/// waits until the scheduler lets it run on its CPU.
pub(crate) struct Pinning {
    cpu: PossibleCpu,
    /// Held while active.
    pin: Option<MigrationGuard>,
    /// Whether the last pass bound the thread again, off its CPU.
    rebound: bool,
}

impl Pinning {
    /// Not pinned yet.
    pub(crate) fn new(cpu: PossibleCpu) -> Self {
        Self {
            cpu,
            pin: None,
            rebound: false,
        }
    }

    pub(crate) fn is_pinned(&self) -> bool {
        self.pin.is_some()
    }

    /// Lets go of the CPU: before parking or waiting held, as a dying CPU
    /// must not keep migration-disabled tasks.
    pub(crate) fn release(&mut self) {
        drop(self.pin.take());
    }

    /// Pins the thread for its stop if it is on its CPU: the core bound it
    /// to its online CPU before stopping it, so it is there unless the CPU
    /// is dying (a hotplug stopped part way).
    pub(crate) fn pin_here(&mut self, pass: &WaitPass<'_>) {
        if self.pin.is_none() && pass.cpu() == self.cpu.cpu_id() {
            self.pin = Some(pass.pin());
        }
    }

    /// Whether `cleanup` runs online: on its CPU, which is online.
    pub(crate) fn online_here(&self) -> bool {
        self.pin.is_some() && self.cpu.is_online()
    }

    /// Returns the pass if the thread is pinned on its CPU, pinning it there
    /// if it may be; otherwise ends the pass and returns `None`, having bound
    /// the thread to its CPU again or, if the last pass did so, waited.
    pub(crate) fn settle<'a>(
        &mut self,
        pass: WaitPass<'a>,
        this: &AtPass<'_>,
    ) -> Option<WaitPass<'a>> {
        let cpu = self.cpu;
        if self.pin.is_some() {
            return Some(pass);
        }
        if pass.cpu() == cpu.cpu_id() && cpu::current_bound_to(cpu) {
            self.pin = Some(pass.pin());
            self.rebound = false;
            return Some(pass);
        }
        if !self.rebound {
            // Back to its CPU if the scheduler allows it there now.
            drop(pass);
            let _ = this.thread().bind(cpu);
            self.rebound = true;
        } else {
            // Kept off its CPU: the CPU is dying (a failed offline gives it
            // back unannounced, so look again soon) or offline (its next
            // startup wakes us).
            self.rebound = false;
            if cpu.is_online() {
                pass.sleep_at_most(DISPLACED_RETRY_MS);
            } else {
                pass.sleep();
            }
        }
        None
    }
}

/// The park and stop requests a module's thread has handled.
///
/// The core parks and stops its threads only through their handles, which
/// count the requests ([`CurrentThread::request_count`]), so a pass asks the
/// kernel only once there is a new one. A selfparking thread's owner parks it
/// directly (`kthread_park()` on the task of `ht->store`): it asks every
/// pass, as C does. From 0: a request made before the loop runs is new.
pub(crate) struct RequestsSeen {
    handled: Cell<u32>,
    every_pass: bool,
}

impl RequestsSeen {
    pub(crate) fn new(selfparking: bool) -> Self {
        Self {
            handled: Cell::new(0),
            every_pass: selfparking,
        }
    }

    /// The thread as a pass that began just before sees it.
    pub(crate) fn at_pass<'a>(&'a self, this: &'a CurrentThread) -> AtPass<'a> {
        let seen = this.request_count();
        AtPass {
            this,
            seen,
            ask: self.every_pass || seen != self.handled.get(),
            handled: &self.handled,
        }
    }
}

/// A module's thread during one pass of its loop: asks for a park or a stop
/// only if there is a request it has not handled (see [`RequestsSeen`]).
pub(crate) struct AtPass<'a> {
    this: &'a CurrentThread,
    seen: u32,
    ask: bool,
    handled: &'a Cell<u32>,
}

impl AtPass<'_> {
    pub(crate) fn thread(&self) -> &CurrentThread {
        self.this
    }

    pub(crate) fn should_stop(&self) -> bool {
        self.ask && self.this.should_stop()
    }

    pub(crate) fn should_park(&self) -> bool {
        self.ask && self.this.should_park()
    }

    /// Parks, then counts the requests seen when the pass began as handled.
    ///
    /// Not a count read now: that could take in a stop whose flag is not set
    /// yet. A park undone and redone before the thread left `parkme` leaves
    /// the count behind, and the passes ask until the next park: slower,
    /// never wrong.
    pub(crate) fn parkme(&self) {
        self.this.parkme();
        self.handled.set(self.seen);
    }
}

/// `smpboot_rs_thread_schedule()`: a preemption point for a long
/// `thread_fn`. Returns whether the thread must return so that parking,
/// stopping or letting go of its CPU can go on; `EINVAL` outside a
/// smpboot_rs thread.
pub(crate) fn thread_schedule() -> Result<bool> {
    let must_yield = kthread::with_current(|t: &HotplugThread<ThreadCallbacks>, this| {
        // Migration stays disabled: the thread is rescheduled on its CPU.
        cpu::cond_resched();
        // Whether `thread_fn` should return so that the thread can park,
        // stop or let go of its CPU.
        this.should_park() || this.should_stop() || t.callbacks().held()
    });
    must_yield.ok_or(EINVAL)
}

/// An instance of one of the core's two hotplug states.
pub(crate) enum Hook {
    /// `smpboot_rs:create`: creates a registration's threads.
    Create(Arc<Registration>),
    /// `smpboot_rs:online`: starts and parks a registration's threads.
    Online(Arc<Registration>),
    /// The core's record of the CPUs at or past the state, indexed by CPU
    /// id. Exact while the hotplug lock is held: every transition, its
    /// rollback included, holds it for writing.
    Reached(KVec<Atomic<bool>>),
}

impl Hook {
    /// A record of the CPUs at or past a state, once added to it.
    fn new_reached() -> Result<Self> {
        let nr = cpu::nr_cpu_ids() as usize;
        let mut cpus = KVec::with_capacity(nr, GFP_KERNEL)?;
        for _ in 0..nr {
            cpus.push(Atomic::new(false), GFP_KERNEL)?;
        }
        Ok(Self::Reached(cpus))
    }

    fn set_reached(cpus: &[Atomic<bool>], cpu: PossibleCpu, reached: bool) {
        if let Some(r) = cpus.get(cpu.index()) {
            r.store(reached, Relaxed);
        }
    }
}

impl cpuhp::Callbacks for Hook {
    fn startup(&self, cpu: CpuId) -> Result {
        let cpu = PossibleCpu::try_from(cpu)?;
        match self {
            Self::Create(reg) => Registration::create_thread(reg, cpu),
            Self::Online(reg) => Registration::start_thread(reg, cpu),
            Self::Reached(cpus) => {
                Self::set_reached(cpus, cpu, true);
                Ok(())
            }
        }
    }

    fn teardown(&self, cpu: CpuId) -> Result {
        let cpu = PossibleCpu::try_from(cpu)?;
        match self {
            // The thread stays, parked, for the CPU's next bringup.
            Self::Create(_) => Ok(()),
            Self::Online(reg) => reg.park_thread(cpu),
            Self::Reached(cpus) => {
                Self::set_reached(cpus, cpu, false);
                Ok(())
            }
        }
    }
}

/// A live registration: its shared part and its two hotplug instances.
pub(crate) struct Handle {
    reg: Arc<Registration>,
    create: Pin<KBox<Instance<Hook>>>,
    online: Pin<KBox<Instance<Hook>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl Handle {
    /// The state of `cpu`'s thread (see [`Registration::thread_state`]).
    pub(crate) fn thread_state(&self, cpu: u32) -> Result<c_int> {
        self.reg.thread_state(cpu)
    }

    /// The wake slots, one per CPU id below `nr_cpu_ids`, for a user to wake
    /// its threads through directly. They live as long as the registration.
    pub(crate) fn wake_slots(&self) -> &[WakeSlot] {
        &self.reg.wakers
    }

    /// Stops the threads, then takes the instances out of the hotplug
    /// states (see [`Registration::stop_threads`] for the order).
    fn shut_down(&self) {
        self.reg.stop_threads();
        self.online.as_ref().remove();
        self.create.as_ref().remove();
    }

    /// Whether the current task is one of this registration's threads.
    fn is_own_thread(&self) -> bool {
        kthread::with_current(|t: &HotplugThread<ThreadCallbacks>, _| {
            Arc::ptr_eq(&t.callbacks().reg, &self.reg)
        })
        .unwrap_or(false)
    }
}

/// The module-wide part: the list of registrations and the two shared
/// hotplug states.
#[pin_data]
pub(crate) struct Core {
    // Dropped first: registrations still listed (a user that never
    // unregistered) leave the hotplug states before the states go.
    #[pin]
    registry: Mutex<KVec<Option<KBox<Handle>>>>,
    /// `Hook::Reached`, added to `create_state` and `online_state` by
    /// [`Core::start`]; removed before the states go.
    create_reached: Pin<KBox<Instance<Hook>>>,
    online_reached: Pin<KBox<Instance<Hook>>>,
    create_state: MultiState<Hook>,
    online_state: MultiState<Hook>,
    next_id: Atomic<u64>,
}

impl Core {
    /// Allocates the hotplug states.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            registry <- new_mutex!(KVec::new(), "smpboot_rs::registry"),
            create_reached: KBox::pin_init(Instance::new(Hook::new_reached()?), GFP_KERNEL)?,
            online_reached: KBox::pin_init(Instance::new(Hook::new_reached()?), GFP_KERNEL)?,
            create_state: MultiState::new(Stage::Prepare, kernel::c_str!("smpboot_rs:create"))?,
            online_state: MultiState::new(Stage::Online, kernel::c_str!("smpboot_rs:online"))?,
            next_id: Atomic::new(1),
        })
    }

    /// Starts following CPUs through both states; before the first
    /// registration.
    pub(crate) fn start(&'static self) -> Result {
        self.create_reached.as_ref().add(&self.create_state)?;
        self.online_reached.as_ref().add(&self.online_state)
    }

    /// Whether `cpu` is at or past the state of `record`, one of the core's
    /// `Hook::Reached` instances. The caller holds the hotplug lock.
    fn reached(record: &Instance<Hook>, _cpus: &CpusReadGuard, cpu: PossibleCpu) -> bool {
        match record.target() {
            Hook::Reached(cpus) => cpus.get(cpu.index()).is_some_and(|r| r.load(Relaxed)),
            Hook::Create(_) | Hook::Online(_) => false,
        }
    }

    /// Creates `reg`'s threads of the CPUs at or past `smpboot_rs:create`,
    /// then starts those of the CPUs at or past `smpboot_rs:online`: the
    /// states' startups ran for them before `reg`'s instances were added.
    /// Every thread is created before any starts, so that a `create` that
    /// fails leaves no thread that ran.
    fn catch_up(&self, reg: &Arc<Registration>) -> Result {
        // Without them every CPU would read as below the states.
        if !self.create_reached.is_added() || !self.online_reached.is_added() {
            return Err(ENODEV);
        }
        let cpus = CpusReadGuard::new();
        cpu::possible_cpus()
            .filter(|&cpu| Self::reached(&self.create_reached, &cpus, cpu))
            .try_for_each(|cpu| Registration::create_thread(reg, cpu))?;
        cpu::possible_cpus()
            .filter(|&cpu| Self::reached(&self.online_reached, &cpus, cpu))
            .try_for_each(|cpu| Registration::start_thread(reg, cpu))
    }

    /// Registers per-CPU threads: adds the registration's instances to both
    /// states, then creates a parked thread for every CPU at or past
    /// `smpboot_rs:create` and starts those of the CPUs at or past
    /// `smpboot_rs:online`, under the hotplug read lock. On failure
    /// everything done is undone. Returns the registration's address, its
    /// handle.
    pub(crate) fn register(&'static self, req: Request) -> Result<*const Handle> {
        let ctx = req.callbacks.ctx();
        let nr = cpu::nr_cpu_ids() as usize;
        let mut slots = KVec::with_capacity(nr, GFP_KERNEL)?;
        let mut per_cpu = KVec::with_capacity(nr, GFP_KERNEL)?;
        let mut wakers = KVec::with_capacity(nr, GFP_KERNEL)?;
        for _ in 0..nr {
            slots.push(None, GFP_KERNEL)?;
            per_cpu.push(PerCpu::new(), GFP_KERNEL)?;
            wakers.push(WakeSlot::new(), GFP_KERNEL)?;
        }
        let reg = Arc::pin_init(
            pin_init!(Registration {
                id: self.next_id.fetch_add(1, Relaxed),
                comm: req.comm,
                comm_parts: req.comm_parts,
                selfparking: req.selfparking,
                owner: req.owner,
                callbacks: req.callbacks,
                listed: Atomic::new(false),
                threads <- new_mutex!(Threads { slots, stopped: false }, "smpboot_rs::threads"),
                per_cpu,
                wakers,
            }),
            GFP_KERNEL,
        )?;
        let handle = KBox::new(
            Handle {
                create: KBox::pin_init(Instance::new(Hook::Create(reg.clone())), GFP_KERNEL)?,
                online: KBox::pin_init(Instance::new(Hook::Online(reg.clone())), GFP_KERNEL)?,
                reg,
            },
            GFP_KERNEL,
        )?;
        let addr: *const Handle = &*handle;

        // The registry lock keeps a second registration with the same
        // context out until this one is listed. Lock order: registry, then
        // the hotplug lock, then a registration's threads.
        let mut registry = self.registry.lock();
        if registry
            .iter()
            .flatten()
            .any(|h| h.reg.callbacks.has_ctx(ctx))
        {
            return Err(EBUSY);
        }
        // A free entry first, so that listing the registration cannot fail.
        let entry = match registry.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                registry.push(None, GFP_KERNEL)?;
                registry.len() - 1
            }
        };
        // Both instances without calls, the threads of the CPUs already
        // past the states created and started from here, as C does. Adding
        // with calls runs each startup under the hotplug state mutex, where
        // C never calls `create(cpu)` (a user's `create` may take that
        // mutex), and runs the online ones in each CPU's hotplug thread,
        // woken and waited for in turn.
        let added = handle
            .create
            .as_ref()
            .add_without_calls(&self.create_state)
            .and_then(|()| handle.online.as_ref().add_without_calls(&self.online_state))
            .and_then(|()| self.catch_up(&handle.reg));
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
        // The entry was reserved above, under the lock held since.
        let free = registry.get_mut(entry).ok_or(EINVAL)?;
        // From now on the registration is the user's to unregister, and its
        // memory ours to release.
        handle.reg.listed.store(true, Relaxed);
        *free = Some(handle);
        Ok(addr)
    }

    /// Unregisters the registration `is_it` picks, if any: stops all its
    /// threads and returns once every callback is done.
    ///
    /// Refused, with a message, where stopping would deadlock (from one of
    /// its own threads: it would wait for itself) or sleep in atomic
    /// context; the registration then stays until its owner is unloaded
    /// ([`Core::module_going`]).
    fn unregister_where(&self, is_it: impl Fn(&Handle) -> bool) {
        if !cpu::may_sleep() {
            pr_err!("unregistration from atomic context refused; the threads stay until their module is unloaded\n");
            return;
        }
        let handle = {
            let mut registry = self.registry.lock();
            let Some(entry) = registry
                .iter_mut()
                .find(|e| e.as_deref().is_some_and(&is_it))
            else {
                return;
            };
            if entry.as_deref().is_some_and(Handle::is_own_thread) {
                pr_err!("a registration cannot unregister itself from its own thread (it would wait for itself); the threads stay until their module is unloaded\n");
                return;
            }
            entry.take()
        };
        if let Some(handle) = handle {
            let id = handle.reg.id;
            // Dropping the handle stops the threads.
            drop(handle);
            pr_info!("unregistered reg={}\n", id);
        }
    }

    /// Unregisters the registration at `addr` (see
    /// [`Core::unregister_where`]); unknown addresses are ignored.
    pub(crate) fn unregister(&self, addr: *const Handle) {
        self.unregister_where(|h| core::ptr::eq(h, addr))
    }

    /// Unregisters the registration made with `ctx`: one lookup, under the
    /// registry lock, so that it cannot pick a registration made since.
    pub(crate) fn unregister_ctx(&self, ctx: *mut c_void) {
        self.unregister_where(|h| h.reg.callbacks.has_ctx(ctx))
    }

    /// `module` is being unloaded: stops the threads of every registration
    /// it still has, before its code goes.
    pub(crate) fn module_going(&self, module: *mut bindings::module) {
        loop {
            let handle = {
                let mut registry = self.registry.lock();
                registry
                    .iter_mut()
                    .find(|e| e.as_deref().is_some_and(|h| h.reg.owner == module))
                    .and_then(Option::take)
            };
            let Some(handle) = handle else {
                return;
            };
            pr_warn!(
                "{} (reg={}) was not unregistered by its module, which is being unloaded: unregistering it\n",
                handle.reg.comm.to_str().unwrap_or("?"),
                handle.reg.id
            );
            drop(handle);
        }
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

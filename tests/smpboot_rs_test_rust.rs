// SPDX-License-Identifier: GPL-2.0

//! A Rust user of smpboot_rs's typed API, for the selftests.
//!
//! Registers per-CPU threads `sbtr/%u` whose callbacks check that they run on
//! their CPU, with their own CPU's state, in the order C smpboot guarantees.
//! Files in `/sys/kernel/smpboot_rs_test_rust/`:
//! - `kick` (write N): queue N items on every online CPU, wake the threads;
//! - `extra` (write N): hold N more registrations (`sbtx/%u`), 0 drops them;
//! - `fail_create_at` (write K): register `sbtf/%u` whose `create` fails on
//!   its K-th call; the result shows in `stats`;
//! - `wrong_drop` (write 1 or 2): register `sbts/%u`, whose own thread
//!   drops it (1), or `sbta/%u`, dropped with preemption disabled (2); both
//!   must be refused without harm and cleaned up when this module unloads;
//! - `fail_create_cpu` (write K): hold `sbtk/%u`, whose `create` fails
//!   for CPU K (bringing K up fails while it is held); 999 drops it;
//! - `thread_states` (read): per possible CPU, `cpu=C state=S wake=W`, S
//!   what `Registration::thread_state` says of `sbtr/C` (`nothread`,
//!   `created`, `active`, `parked`, `held`), W what `Registration::wake`
//!   of `sbtr/C` returned (`ok`, `enoent`, `einval`, `other`);
//! - `pending` (write 1 or 0): hold or drop `sbtp/%u`, whose work is a
//!   `Pending` count; its `run` takes the whole count. Read: `raised=
//!   handled= takes= raise_errors= walks= walk_changed= walk_cpus=`
//!   (walk_cpus: the CPUs of the last walk);
//! - `raise_online` (write MS): under `OnlineCpus`, note the online CPUs,
//!   sleep MS ms, note them again (a change counts in `walk_changed`), and
//!   `raise` one unit on each;
//! - `stats` (read): `key=value` counters (`bad_preempt`: a `should_run`
//!   preemptible, or another callback of `sbtr/%u` not);
//! - `calls` (read): per CPU of `sbtr/%u`, what its callbacks counted
//!   themselves, independently of smpboot_rs's counters: one line
//!   `reg=0 cpu=C state=S creates=.. setup=.. park=.. unpark=..
//!   cleanup_online=.. cleanup_offline=.. runs=..`, S the state the
//!   callbacks left the thread in (`none`, `active`, `parked`), as the C
//!   test module's `calls`; the same lines, prefixed `final: `, go to the
//!   log at unload, after unregistration and before the `exit:` line.

use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{new_mutex, Arc, Mutex};

// The typed API; a user needs only part of it.
#[allow(dead_code)]
#[path = "../smpboot_rs/client.rs"]
mod smpboot_rs;
#[allow(dead_code)]
#[path = "../smpboot_rs/sysfs.rs"]
mod sysfs;
// The guards and the CPU the code runs on: helpers of smpboot_rs.ko that
// the typed API leaves out. They take the typed API's `PossibleCpu` (`cpuid`).
#[allow(dead_code)]
#[path = "../smpboot_rs/cpu.rs"]
mod cpu;
#[allow(dead_code)]
#[path = "../smpboot_rs/ffi.rs"]
mod ffi;
// The kernel series' differences, compiled as part of the typed API.
use smpboot_rs::compat;

use compat::atomic::{Atomic, Relaxed};

use cpu::PossibleCpu;
use smpboot_rs::cpu as cpuid;
use smpboot_rs::cpu::OnlineCpus;
use smpboot_rs::{HasPending, Pending, PerCpuThread, Registration, ThreadState};

module! {
    type: TestModule,
    name: "smpboot_rs_test_rust",
    description: "smpboot_rs selftest: a Rust user of the typed API",
    license: "GPL",
}

struct Counters {
    queued: Atomic<u64>,
    handled: Atomic<u64>,
    wrong_cpu: Atomic<u64>,
    bad_preempt: Atomic<u64>,
    state_errors: Atomic<u64>,
    creates: Atomic<u64>,
    setups: Atomic<u64>,
    cleanups: Atomic<u64>,
    parks: Atomic<u64>,
    unparks: Atomic<u64>,
    wake_errors: Atomic<u64>,
    fail_result: Atomic<i64>,
    fail_creates: Atomic<u64>,
    fail_setups: Atomic<u64>,
    /// The main registration's callbacks, per CPU (indexed by CPU id).
    calls: KVec<CpuCalls>,
}

impl Counters {
    fn new() -> Result<Arc<Self>> {
        let nr = cpu::nr_cpu_ids() as usize;
        let mut calls = KVec::with_capacity(nr, GFP_KERNEL)?;
        for _ in 0..nr {
            calls.push(CpuCalls::new(), GFP_KERNEL)?;
        }
        Ok(Arc::new(
            Self {
                queued: Atomic::new(0),
                handled: Atomic::new(0),
                wrong_cpu: Atomic::new(0),
                bad_preempt: Atomic::new(0),
                state_errors: Atomic::new(0),
                creates: Atomic::new(0),
                setups: Atomic::new(0),
                cleanups: Atomic::new(0),
                parks: Atomic::new(0),
                unparks: Atomic::new(0),
                wake_errors: Atomic::new(0),
                fail_result: Atomic::new(0),
                fail_creates: Atomic::new(0),
                fail_setups: Atomic::new(0),
                calls,
            },
            GFP_KERNEL,
        )?)
    }
}

/// The states the callbacks leave a thread in, as `CpuCalls::state`.
const CALLS_NONE: u32 = 0;
const CALLS_ACTIVE: u32 = 1;
const CALLS_PARKED: u32 = 2;

/// What the main registration's callbacks of one CPU counted.
struct CpuCalls {
    /// `CALLS_NONE` (no thread, or cleaned up), `CALLS_ACTIVE` (set up or
    /// unparked), `CALLS_PARKED`.
    state: Atomic<u32>,
    creates: Atomic<u64>,
    setup: Atomic<u64>,
    park: Atomic<u64>,
    unpark: Atomic<u64>,
    cleanup_online: Atomic<u64>,
    cleanup_offline: Atomic<u64>,
    runs: Atomic<u64>,
}

impl CpuCalls {
    /// Counts a callback in `count` and records the state it leaves.
    fn record(&self, count: &Atomic<u64>, state: Option<u32>) {
        bump(count);
        if let Some(state) = state {
            self.state.store(state, Relaxed);
        }
    }

    fn render(&self, cpu: PossibleCpu, out: &mut impl core::fmt::Write) -> core::fmt::Result {
        let get = |a: &Atomic<u64>| a.load(Relaxed);
        let state = match self.state.load(Relaxed) {
            CALLS_NONE => "none",
            CALLS_ACTIVE => "active",
            CALLS_PARKED => "parked",
            _ => "?",
        };
        writeln!(
            out,
            "reg=0 cpu={} state={} creates={} setup={} park={} unpark={} cleanup_online={} \
             cleanup_offline={} runs={}",
            cpu.as_u32(),
            state,
            get(&self.creates),
            get(&self.setup),
            get(&self.park),
            get(&self.unpark),
            get(&self.cleanup_online),
            get(&self.cleanup_offline),
            get(&self.runs),
        )
    }
}

fn bump(c: &Atomic<u64>) {
    c.fetch_add(1, Relaxed);
}

/// What each CPU's thread owns; the callbacks check they get their own.
struct CpuState {
    cpu: PossibleCpu,
    active: bool,
    set_up: bool,
}

/// The main registration's behaviour.
struct TestThread {
    counters: Arc<Counters>,
    pending: KVec<Atomic<u64>>,
}

impl TestThread {
    fn check(&self, cpu: PossibleCpu, state: &CpuState) {
        if cpu::current_cpu() != cpu {
            bump(&self.counters.wrong_cpu);
        }
        if state.cpu != cpu {
            bump(&self.counters.state_errors);
        }
    }

    /// C smpboot runs every callback but `should_run` preemptible.
    fn check_preemptible(&self) {
        if !cpu::preemptible() {
            bump(&self.counters.bad_preempt);
        }
    }

    fn pending(&self, cpu: PossibleCpu) -> Option<&Atomic<u64>> {
        self.pending.get(cpu.index())
    }

    /// Counts a callback of `cpu` (see `CpuCalls::record`).
    fn record(&self, cpu: PossibleCpu, count: fn(&CpuCalls) -> &Atomic<u64>, state: Option<u32>) {
        if let Some(c) = self.counters.calls.get(cpu.index()) {
            c.record(count(c), state);
        }
    }
}

impl PerCpuThread for TestThread {
    type State = CpuState;
    const NAME: &'static CStr = kernel::c_str!("sbtr/%u");

    fn create(&self, cpu: PossibleCpu) -> Result<CpuState> {
        bump(&self.counters.creates);
        self.check_preemptible();
        self.record(cpu, |c| &c.creates, None);
        Ok(CpuState {
            cpu,
            active: false,
            set_up: false,
        })
    }

    fn should_run(&self, cpu: PossibleCpu, state: &mut CpuState) -> bool {
        if cpu::preemptible() {
            bump(&self.counters.bad_preempt);
        }
        self.check(cpu, state);
        self.pending(cpu).is_some_and(|p| p.load(Relaxed) > 0)
    }

    fn run(&self, cpu: PossibleCpu, state: &mut CpuState) {
        self.check(cpu, state);
        self.check_preemptible();
        if !state.active {
            bump(&self.counters.state_errors);
        }
        self.record(cpu, |c| &c.runs, None);
        if let Some(p) = self.pending(cpu) {
            p.fetch_sub(1, Relaxed);
            bump(&self.counters.handled);
        }
    }

    fn setup(&self, cpu: PossibleCpu, state: &mut CpuState) {
        self.check(cpu, state);
        self.check_preemptible();
        if state.set_up {
            bump(&self.counters.state_errors);
        }
        state.set_up = true;
        state.active = true;
        bump(&self.counters.setups);
        self.record(cpu, |c| &c.setup, Some(CALLS_ACTIVE));
    }

    fn cleanup(&self, cpu: PossibleCpu, state: &mut CpuState, online: bool) {
        self.check_preemptible();
        // `online`: on its CPU, which is online. An active thread of an
        // online CPU is on it; a parked one may be kept off a dying CPU.
        if online {
            self.check(cpu, state);
        }
        if !state.set_up
            || (online && !cpu.is_online())
            || (!online && state.active && cpu.is_online())
        {
            bump(&self.counters.state_errors);
        }
        bump(&self.counters.cleanups);
        if online {
            self.record(cpu, |c| &c.cleanup_online, Some(CALLS_NONE));
        } else {
            self.record(cpu, |c| &c.cleanup_offline, Some(CALLS_NONE));
        }
    }

    fn park(&self, cpu: PossibleCpu, state: &mut CpuState) {
        self.check(cpu, state);
        self.check_preemptible();
        if !state.active {
            bump(&self.counters.state_errors);
        }
        state.active = false;
        bump(&self.counters.parks);
        self.record(cpu, |c| &c.park, Some(CALLS_PARKED));
    }

    fn unpark(&self, cpu: PossibleCpu, state: &mut CpuState) {
        self.check(cpu, state);
        self.check_preemptible();
        if state.active {
            bump(&self.counters.state_errors);
        }
        state.active = true;
        bump(&self.counters.unparks);
        self.record(cpu, |c| &c.unpark, Some(CALLS_ACTIVE));
    }
}

/// Defines a registration type whose threads only sleep, named `$name`.
macro_rules! idle_thread {
    ($(#[$doc:meta])* $ty:ident, $name:literal) => {
        $(#[$doc])*
        struct $ty;

        impl PerCpuThread for $ty {
            type State = ();
            const NAME: &'static CStr = kernel::c_str!($name);

            fn create(&self, _cpu: PossibleCpu) -> Result {
                Ok(())
            }

            fn should_run(&self, _cpu: PossibleCpu, _state: &mut ()) -> bool {
                false
            }

            fn run(&self, _cpu: PossibleCpu, _state: &mut ()) {}
        }
    };
}

idle_thread!(
    /// The extra registrations.
    ExtraThread,
    "sbtx/%u"
);

/// A registration whose `create` fails on its `fail_at`-th call.
struct FailingThread {
    counters: Arc<Counters>,
    fail_at: u64,
}

impl PerCpuThread for FailingThread {
    type State = ();
    const NAME: &'static CStr = kernel::c_str!("sbtf/%u");

    fn create(&self, _cpu: PossibleCpu) -> Result {
        let calls = self.counters.fail_creates.fetch_add(1, Relaxed) + 1;
        if calls == self.fail_at {
            Err(ENOMEM)
        } else {
            Ok(())
        }
    }

    fn should_run(&self, _cpu: PossibleCpu, _state: &mut ()) -> bool {
        false
    }

    fn run(&self, _cpu: PossibleCpu, _state: &mut ()) {}

    fn setup(&self, _cpu: PossibleCpu, _state: &mut ()) {
        bump(&self.counters.fail_setups);
    }
}

/// Holds a registration that its own thread drops.
type SelfDropHolder = Arc<Mutex<Option<Registration<SelfDropThread>>>>;

/// A registration whose thread drops it, once: unregistering from one's
/// own thread would wait for itself.
struct SelfDropThread {
    holder: SelfDropHolder,
    armed: Atomic<bool>,
}

impl PerCpuThread for SelfDropThread {
    type State = ();
    const NAME: &'static CStr = kernel::c_str!("sbts/%u");

    fn create(&self, _cpu: PossibleCpu) -> Result {
        Ok(())
    }

    fn should_run(&self, _cpu: PossibleCpu, _state: &mut ()) -> bool {
        self.armed.xchg(false, Relaxed)
    }

    fn run(&self, _cpu: PossibleCpu, _state: &mut ()) {
        let taken = self.holder.lock().take();
        if taken.is_none() {
            // Ran before the registration was stored: wait for a wake.
            self.armed.store(true, Relaxed);
        }
        drop(taken);
    }
}

idle_thread!(
    /// A registration dropped with preemption disabled.
    AtomicDropThread,
    "sbta/%u"
);

struct WrongDropFile;

impl sysfs::FileOps for WrongDropFile {
    fn show(&self, _out: &mut KVec<u8>) -> Result {
        Err(EINVAL)
    }

    fn store(&self, input: &[u8]) -> Result {
        match parse_u64(input)? {
            1 => {
                let holder: SelfDropHolder = Arc::pin_init(
                    new_mutex!(None, "smpboot_rs_test_rust::self_drop"),
                    GFP_KERNEL,
                )?;
                let reg = Registration::new(SelfDropThread {
                    holder: holder.clone(),
                    armed: Atomic::new(false),
                })?;
                reg.thread().armed.store(true, Relaxed);
                *holder.lock() = Some(reg);
                for cpu in cpu::possible_cpus().filter(|c| c.is_online()) {
                    if let Some(reg) = holder.lock().as_ref() {
                        let _ = reg.wake(cpu);
                    }
                }
                Ok(())
            }
            2 => {
                let reg = Registration::new(AtomicDropThread)?;
                let _atomic = cpu::PreemptGuard::new();
                drop(reg);
                Ok(())
            }
            _ => Err(EINVAL),
        }
    }
}

impl CpuCalls {
    fn new() -> Self {
        Self {
            state: Atomic::new(CALLS_NONE),
            creates: Atomic::new(0),
            setup: Atomic::new(0),
            park: Atomic::new(0),
            unpark: Atomic::new(0),
            cleanup_online: Atomic::new(0),
            cleanup_offline: Atomic::new(0),
            runs: Atomic::new(0),
        }
    }
}

/// What `sbtp/%u` and `raise_online` counted.
struct PendingCounters {
    raised: Atomic<u64>,
    handled: Atomic<u64>,
    takes: Atomic<u64>,
    raise_errors: Atomic<u64>,
    walks: Atomic<u64>,
    walk_changed: Atomic<u64>,
    walk_cpus: Atomic<u64>,
}

/// A registration whose work is a `Pending` count.
struct PendingThread {
    work: Pending,
    counters: Arc<PendingCounters>,
}

impl PerCpuThread for PendingThread {
    type State = ();
    const NAME: &'static CStr = kernel::c_str!("sbtp/%u");

    fn create(&self, _cpu: PossibleCpu) -> Result {
        Ok(())
    }

    fn should_run(&self, cpu: PossibleCpu, _state: &mut ()) -> bool {
        self.work.is_pending(cpu)
    }

    fn run(&self, cpu: PossibleCpu, _state: &mut ()) {
        let units = self.work.take(cpu);
        self.counters.handled.fetch_add(units, Relaxed);
        bump(&self.counters.takes);
    }
}

impl HasPending for PendingThread {
    fn pending(&self) -> &Pending {
        &self.work
    }
}

/// The online CPUs as a bit mask (the test VMs have at most 64 CPUs).
fn online_mask(online: &OnlineCpus) -> u64 {
    online
        .iter()
        .filter(|c| c.as_u32() < 64)
        .fold(0, |m, c| m | 1 << c.as_u32())
}

struct PendingFile(Arc<Control>);

impl sysfs::FileOps for PendingFile {
    fn show(&self, out: &mut KVec<u8>) -> Result {
        let c = &self.0.pending_counters;
        let get = |a: &Atomic<u64>| a.load(Relaxed);
        use core::fmt::Write;
        writeln!(
            sysfs::Text(out),
            "raised={} handled={} takes={} raise_errors={} walks={} walk_changed={} walk_cpus={}",
            get(&c.raised),
            get(&c.handled),
            get(&c.takes),
            get(&c.raise_errors),
            get(&c.walks),
            get(&c.walk_changed),
            get(&c.walk_cpus),
        )
        .map_err(|_| ENOMEM)
    }

    fn store(&self, input: &[u8]) -> Result {
        let mut held = self.0.pending.lock();
        match parse_u64(input)? {
            0 => *held = None,
            1 if held.is_none() => {
                *held = Some(Registration::new(PendingThread {
                    work: Pending::new()?,
                    counters: self.0.pending_counters.clone(),
                })?)
            }
            1 => return Err(EBUSY),
            _ => return Err(EINVAL),
        }
        Ok(())
    }
}

struct RaiseOnlineFile(Arc<Control>);

impl sysfs::FileOps for RaiseOnlineFile {
    fn show(&self, _out: &mut KVec<u8>) -> Result {
        Err(EINVAL)
    }

    fn store(&self, input: &[u8]) -> Result {
        let ms = u32::try_from(parse_u64(input)?).map_err(|_| ERANGE)?;
        let held = self.0.pending.lock();
        let reg = held.as_ref().ok_or(ENODEV)?;
        let c = &self.0.pending_counters;
        let online = OnlineCpus::lock();
        let before = online_mask(&online);
        // A hotplug operation started meanwhile waits for the guard.
        cpu::msleep_interruptible(ms);
        if online_mask(&online) != before {
            bump(&c.walk_changed);
        }
        let mut cpus = 0;
        for cpu in online.iter() {
            if reg.raise(cpu, 1).is_err() {
                bump(&c.raise_errors);
            }
            bump(&c.raised);
            cpus += 1;
        }
        drop(online);
        bump(&c.walks);
        c.walk_cpus.store(cpus, Relaxed);
        Ok(())
    }
}

struct ThreadStatesFile(Arc<Control>);

impl sysfs::FileOps for ThreadStatesFile {
    fn show(&self, out: &mut KVec<u8>) -> Result {
        use core::fmt::Write;
        for cpu in cpu::possible_cpus() {
            let state = match self.0.main.thread_state(cpu) {
                None => "nothread",
                Some(ThreadState::Created) => "created",
                Some(ThreadState::Active) => "active",
                Some(ThreadState::Parked) => "parked",
                Some(ThreadState::Held) => "held",
            };
            // A wake with nothing queued: the thread finds no work.
            let wake = match self.0.main.wake(cpu) {
                Ok(()) => "ok",
                Err(e) if e == ENOENT => "enoent",
                Err(e) if e == EINVAL => "einval",
                Err(_) => "other",
            };
            writeln!(sysfs::Text(out), "cpu={cpu} state={state} wake={wake}")
                .map_err(|_| ENOMEM)?;
        }
        Ok(())
    }
}

#[pin_data]
struct Control {
    main: Registration<TestThread>,
    #[pin]
    failing_cpu: Mutex<Option<Registration<FailCpuThread>>>,
    #[pin]
    extras: Mutex<KVec<Registration<ExtraThread>>>,
    #[pin]
    pending: Mutex<Option<Registration<PendingThread>>>,
    pending_counters: Arc<PendingCounters>,
}

fn parse_u64(input: &[u8]) -> Result<u64> {
    let text = sysfs::input_text(input).ok_or(EINVAL)?;
    text.parse::<u64>().map_err(|_| EINVAL)
}

struct KickFile(Arc<Control>);

impl sysfs::FileOps for KickFile {
    fn show(&self, _out: &mut KVec<u8>) -> Result {
        Err(EINVAL)
    }

    fn store(&self, input: &[u8]) -> Result {
        let n = parse_u64(input)?;
        let thread = self.0.main.thread();
        for cpu in cpu::possible_cpus().filter(|c| c.is_online()) {
            if let Some(p) = thread.pending(cpu) {
                p.fetch_add(n, Relaxed);
                thread.counters.queued.fetch_add(n, Relaxed);
            }
            if self.0.main.wake(cpu).is_err() {
                bump(&thread.counters.wake_errors);
            }
        }
        Ok(())
    }
}

struct ExtraFile(Arc<Control>);

impl sysfs::FileOps for ExtraFile {
    fn show(&self, out: &mut KVec<u8>) -> Result {
        let n = self.0.extras.lock().len();
        use core::fmt::Write;
        writeln!(sysfs::Text(out), "{n}").map_err(|_| ENOMEM)
    }

    fn store(&self, input: &[u8]) -> Result {
        let n = usize::try_from(parse_u64(input)?).map_err(|_| ERANGE)?;
        if n > 64 {
            return Err(ERANGE);
        }
        let mut extras = self.0.extras.lock();
        if n >= extras.len() {
            // Keeps the ones there are: a sweep adds one and drops it again.
            while extras.len() < n {
                extras.push(Registration::new(ExtraThread)?, GFP_KERNEL)?;
            }
            return Ok(());
        }
        // 6.12's KVec cannot truncate: keep the first `n`, drop the rest.
        let mut kept = KVec::with_capacity(n, GFP_KERNEL)?;
        for (i, reg) in core::mem::take(&mut *extras).into_iter().enumerate() {
            if i < n {
                kept.push(reg, GFP_KERNEL)?;
            }
        }
        *extras = kept;
        Ok(())
    }
}

/// A registration whose `create` fails for one CPU.
struct FailCpuThread {
    cpu: u64,
}

impl PerCpuThread for FailCpuThread {
    type State = ();
    const NAME: &'static CStr = kernel::c_str!("sbtk/%u");

    fn create(&self, cpu: PossibleCpu) -> Result {
        if u64::from(cpu.as_u32()) == self.cpu {
            Err(ENOMEM)
        } else {
            Ok(())
        }
    }

    fn should_run(&self, _cpu: PossibleCpu, _state: &mut ()) -> bool {
        false
    }

    fn run(&self, _cpu: PossibleCpu, _state: &mut ()) {}
}

struct FailCpuFile(Arc<Control>);

impl sysfs::FileOps for FailCpuFile {
    fn show(&self, _out: &mut KVec<u8>) -> Result {
        Err(EINVAL)
    }

    fn store(&self, input: &[u8]) -> Result {
        let cpu = parse_u64(input)?;
        let mut held = self.0.failing_cpu.lock();
        *held = None;
        if cpu != 999 {
            *held = Some(Registration::new(FailCpuThread { cpu })?);
        }
        Ok(())
    }
}

struct FailFile(Arc<Counters>);

impl sysfs::FileOps for FailFile {
    fn show(&self, _out: &mut KVec<u8>) -> Result {
        Err(EINVAL)
    }

    fn store(&self, input: &[u8]) -> Result {
        let fail_at = parse_u64(input)?;
        self.0.fail_creates.store(0, Relaxed);
        self.0.fail_setups.store(0, Relaxed);
        let result = Registration::new(FailingThread {
            counters: self.0.clone(),
            fail_at,
        });
        let errno = match result {
            Ok(reg) => {
                drop(reg);
                0
            }
            Err(e) => e.to_errno(),
        };
        self.0.fail_result.store(errno.into(), Relaxed);
        Ok(())
    }
}

struct StatsFile(Arc<Counters>);

impl Counters {
    fn render(&self, out: &mut impl core::fmt::Write) -> core::fmt::Result {
        let c = self;
        let get = |a: &Atomic<u64>| a.load(Relaxed);
        writeln!(
            out,
            "queued={} handled={} wrong_cpu={} bad_preempt={} state_errors={} creates={} setups={} \
             cleanups={} parks={} unparks={} wake_errors={} fail_result={} fail_creates={} fail_setups={}",
            get(&c.queued),
            get(&c.handled),
            get(&c.wrong_cpu),
            get(&c.bad_preempt),
            get(&c.state_errors),
            get(&c.creates),
            get(&c.setups),
            get(&c.cleanups),
            get(&c.parks),
            get(&c.unparks),
            get(&c.wake_errors),
            c.fail_result.load(Relaxed),
            get(&c.fail_creates),
            get(&c.fail_setups),
        )
    }
}

impl sysfs::FileOps for StatsFile {
    fn show(&self, out: &mut KVec<u8>) -> Result {
        self.0.render(&mut sysfs::Text(out)).map_err(|_| ENOMEM)
    }
}

struct CallsFile(Arc<Counters>);

impl sysfs::FileOps for CallsFile {
    fn show(&self, out: &mut KVec<u8>) -> Result {
        for cpu in cpu::possible_cpus() {
            if let Some(c) = self.0.calls.get(cpu.index()) {
                c.render(cpu, &mut sysfs::Text(out)).map_err(|_| ENOMEM)?;
            }
        }
        Ok(())
    }
}

struct TestModule {
    parts: Option<Parts>,
    counters: Arc<Counters>,
}

struct Parts {
    // Files go first, then the directory, then the registrations.
    _kick: Pin<KBox<sysfs::File<KickFile>>>,
    _extra: Pin<KBox<sysfs::File<ExtraFile>>>,
    _fail: Pin<KBox<sysfs::File<FailFile>>>,
    _wrong_drop: Pin<KBox<sysfs::File<WrongDropFile>>>,
    _fail_cpu: Pin<KBox<sysfs::File<FailCpuFile>>>,
    _stats: Pin<KBox<sysfs::File<StatsFile>>>,
    _calls: Pin<KBox<sysfs::File<CallsFile>>>,
    _thread_states: Pin<KBox<sysfs::File<ThreadStatesFile>>>,
    _pending: Pin<KBox<sysfs::File<PendingFile>>>,
    _raise_online: Pin<KBox<sysfs::File<RaiseOnlineFile>>>,
    _dir: sysfs::Dir,
    _control: Arc<Control>,
}

impl kernel::Module for TestModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let counters = Counters::new()?;
        let nr = cpu::nr_cpu_ids() as usize;
        let mut pending = KVec::with_capacity(nr, GFP_KERNEL)?;
        for _ in 0..nr {
            pending.push(Atomic::new(0), GFP_KERNEL)?;
        }
        let main = Registration::new(TestThread {
            counters: counters.clone(),
            pending,
        })?;
        let pending_counters = Arc::new(
            PendingCounters {
                raised: Atomic::new(0),
                handled: Atomic::new(0),
                takes: Atomic::new(0),
                raise_errors: Atomic::new(0),
                walks: Atomic::new(0),
                walk_changed: Atomic::new(0),
                walk_cpus: Atomic::new(0),
            },
            GFP_KERNEL,
        )?;
        let control = Arc::pin_init(
            pin_init!(Control {
                main,
                extras <- new_mutex!(KVec::new(), "smpboot_rs_test_rust::extras"),
                failing_cpu <- new_mutex!(None, "smpboot_rs_test_rust::failing_cpu"),
                pending <- new_mutex!(None, "smpboot_rs_test_rust::pending"),
                pending_counters,
            }),
            GFP_KERNEL,
        )?;
        let dir = sysfs::Dir::new(kernel::c_str!("smpboot_rs_test_rust"))?;
        let parts = Parts {
            _kick: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("kick"),
                    sysfs::MODE_WRITE,
                    KickFile(control.clone()),
                ),
                GFP_KERNEL,
            )?,
            _extra: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("extra"),
                    sysfs::MODE_READ_WRITE,
                    ExtraFile(control.clone()),
                ),
                GFP_KERNEL,
            )?,
            _fail: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("fail_create_at"),
                    sysfs::MODE_WRITE,
                    FailFile(counters.clone()),
                ),
                GFP_KERNEL,
            )?,
            _wrong_drop: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("wrong_drop"),
                    sysfs::MODE_WRITE,
                    WrongDropFile,
                ),
                GFP_KERNEL,
            )?,
            _fail_cpu: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("fail_create_cpu"),
                    sysfs::MODE_WRITE,
                    FailCpuFile(control.clone()),
                ),
                GFP_KERNEL,
            )?,
            _stats: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("stats"),
                    sysfs::MODE_READ,
                    StatsFile(counters.clone()),
                ),
                GFP_KERNEL,
            )?,
            _calls: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("calls"),
                    sysfs::MODE_READ,
                    CallsFile(counters.clone()),
                ),
                GFP_KERNEL,
            )?,
            _thread_states: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("thread_states"),
                    sysfs::MODE_READ,
                    ThreadStatesFile(control.clone()),
                ),
                GFP_KERNEL,
            )?,
            _pending: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("pending"),
                    sysfs::MODE_READ_WRITE,
                    PendingFile(control.clone()),
                ),
                GFP_KERNEL,
            )?,
            _raise_online: KBox::pin_init(
                sysfs::File::new(
                    &dir,
                    kernel::c_str!("raise_online"),
                    sysfs::MODE_WRITE,
                    RaiseOnlineFile(control.clone()),
                ),
                GFP_KERNEL,
            )?,
            _dir: dir,
            _control: control,
        };
        Ok(Self {
            parts: Some(parts),
            counters,
        })
    }
}

impl Drop for TestModule {
    fn drop(&mut self) {
        // Unregister first, so that the report includes cleanup.
        drop(self.parts.take());
        for cpu in cpu::possible_cpus() {
            let mut line = KVec::new();
            if let Some(c) = self.counters.calls.get(cpu.index()) {
                let _ = c.render(cpu, &mut sysfs::Text(&mut line));
                pr_info!("final: {}", core::str::from_utf8(&line).unwrap_or("?\n"));
            }
        }
        let mut text = KVec::new();
        let _ = self.counters.render(&mut sysfs::Text(&mut text));
        pr_info!("exit: {}", core::str::from_utf8(&text).unwrap_or("?\n"));
    }
}

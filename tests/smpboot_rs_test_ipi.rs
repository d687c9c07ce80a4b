// SPDX-License-Identifier: GPL-2.0

//! A selftest of `smpboot_rs/ipi.rs`: dropping an `IpiTargets` set waits
//! for every asynchronous call in flight to one of its handlers.
//!
//! `__flush_smp_call_function_queue()` (kernel/smp.c) runs the synchronous
//! calls of the batch it takes off a CPU's queue before the others, so a
//! synchronous call queued after an asynchronous one may return first. Each
//! of [`ROUNDS`] rounds sends, from the loading task on CPU `S` to CPU `T`:
//!
//! 1. `hold`, an asynchronous call that keeps `T`'s interrupts off until the
//!    probe is sent and [`HOLD_AFTER_NS`] more, so that what follows queues
//!    up on `T` and is taken as one batch;
//! 2. `slow`, an asynchronous call (`smp_call_function_single_async()`,
//!    with the test's own csd) that spins [`SLOW_NS`];
//! 3. the probe: handler 0 of a freshly allocated `IpiTargets`, sent
//!    without waiting; the set is dropped at once.
//!
//! A drop that only waits for a synchronous call of its own returns as soon
//! as `T` has run that call, first in the batch; the set is freed and the
//! probe runs [`SLOW_NS`] later on freed memory: KASAN reports it, and the
//! probe counts itself `late`. Loading fails (`EIO`) unless every probe ran
//! before its set's drop returned, with the scenario as planned (no `hold`
//! timed out). The summary line is `smpboot_rs_test_ipi: rounds=...`.

use core::ptr::null_mut;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;

// The wrappers under test and the kernel series' differences; the test
// uses part of them.
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "../smpboot_rs/compat.rs"]
mod compat;
use compat::atomic::{Acquire, Atomic, Relaxed, Release};
#[allow(dead_code)]
#[path = "../smpboot_rs/cpu.rs"]
mod cpu;
#[allow(dead_code)]
#[path = "../smpboot_rs/cpuid.rs"]
mod cpuid;
#[allow(dead_code)]
#[path = "../smpboot_rs/ffi.rs"]
mod ffi;
#[allow(dead_code)]
#[path = "../smpboot_rs/ipi.rs"]
mod ipi;

module! {
    type: IpiTest,
    name: "smpboot_rs_test_ipi",
    description: "smpboot_rs selftest: IpiTargets waits for its calls in flight",
    license: "GPL",
}

/// Rounds of the scenario.
const ROUNDS: u32 = 10;
/// How long `hold` keeps `T` busy after the probe is sent: enough for the
/// sender to queue the drop's own calls, if any.
const HOLD_AFTER_NS: i64 = 100_000_000;
/// The longest `hold` spins in all, whatever happens.
const HOLD_MAX_NS: i64 = 1_000_000_000;
/// How long `slow`, queued on `T` ahead of the probe, spins.
const SLOW_NS: i64 = 100_000_000;
/// How long the task waits for a call to start or to finish before it
/// reports it (and goes on waiting for it to finish).
const WAIT_NS: i64 = 10_000_000_000;
/// What the probe's memory holds while it is live.
const MAGIC: u64 = 0x1b1_7a26_e75a_11fe;

/// Set by `hold` once it runs on `T`.
static HOLDING: Atomic<bool> = Atomic::new(false);
/// Set by the task once the probe is sent: `hold` ends `HOLD_AFTER_NS` later.
static SENT: Atomic<bool> = Atomic::new(false);
/// Set by the task once the probe's set is dropped (freed).
static DROPPED: Atomic<bool> = Atomic::new(false);
/// `hold` calls that ended, and those of them that gave up waiting for `SENT`.
static HOLDS_DONE: Atomic<u32> = Atomic::new(0);
static HOLD_TIMEOUTS: Atomic<u32> = Atomic::new(0);
/// `slow` calls that ended.
static SLOWS_DONE: Atomic<u32> = Atomic::new(0);
/// Probe calls that ran, those that ran after their set was dropped, and
/// those that found something else than `MAGIC` in their memory.
static PROBES_RAN: Atomic<u32> = Atomic::new(0);
static PROBES_LATE: Atomic<u32> = Atomic::new(0);
static PROBES_BAD: Atomic<u32> = Atomic::new(0);

/// The monotonic clock (`ktime_get()`), in nanoseconds.
fn now() -> i64 {
    // SAFETY: `ktime_get()` may be called from any context once timekeeping
    // is up, long before modules load.
    unsafe { bindings::ktime_get() }
}

/// The probe: a handler in a set that the test drops at once.
struct Probe {
    magic: u64,
}

impl ipi::IpiHandler for Probe {
    fn handle(&self) {
        // The access that KASAN checks: a read of the set's memory.
        if self.magic != MAGIC {
            PROBES_BAD.fetch_add(1, Relaxed);
        }
        if DROPPED.load(Acquire) {
            PROBES_LATE.fetch_add(1, Relaxed);
        }
        PROBES_RAN.fetch_add(1, Release);
    }
}

/// Keeps the CPU it runs on busy, interrupts off, until the probe is sent
/// and `HOLD_AFTER_NS` more (at most `HOLD_MAX_NS` in all).
///
/// # Safety
///
/// Any argument; called by the kernel in hard IRQ context.
unsafe extern "C" fn hold(_info: *mut c_void) {
    HOLDING.store(true, Release);
    let start = now();
    let mut sent_at = None;
    loop {
        let t = now();
        if t - start > HOLD_MAX_NS {
            HOLD_TIMEOUTS.fetch_add(1, Relaxed);
            break;
        }
        match sent_at {
            None if SENT.load(Acquire) => sent_at = Some(t),
            Some(s) if t - s > HOLD_AFTER_NS => break,
            _ => {}
        }
        core::hint::spin_loop();
    }
    HOLDS_DONE.fetch_add(1, Release);
}

/// Spins `SLOW_NS`, interrupts off.
///
/// # Safety
///
/// Any argument; called by the kernel in hard IRQ context.
unsafe extern "C" fn slow(_info: *mut c_void) {
    let start = now();
    while now() - start < SLOW_NS {
        core::hint::spin_loop();
    }
    SLOWS_DONE.fetch_add(1, Release);
}

/// Sleeps until `count` reaches `target`, reporting every `WAIT_NS` that
/// it is still waiting: the module's code and the csd must outlive every
/// call sent, so there is no giving up.
fn wait_for(what: &str, count: &Atomic<u32>, target: u32) {
    let mut deadline = now() + WAIT_NS;
    while count.load(Acquire) < target {
        if now() > deadline {
            pr_err!("still waiting for {what}\n");
            deadline = now() + WAIT_NS;
        }
        // SAFETY: Task context, no lock held.
        unsafe { bindings::msleep(1) };
    }
}

/// Calls sent so far, of each kind.
#[derive(Default)]
struct Sent {
    holds: u32,
    slows: u32,
    probes: u32,
}

/// One round of the scenario, counting the calls it sends in `sent`; how
/// long the drop took, or `Err` if the round could not be set up.
fn round(
    s: cpu::PossibleCpu,
    t: cpu::PossibleCpu,
    csd: *mut bindings::call_single_data_t,
    sent: &mut Sent,
) -> Result<i64> {
    HOLDING.store(false, Relaxed);
    SENT.store(false, Relaxed);
    DROPPED.store(false, Relaxed);
    let mut probe = KVec::new();
    probe.push(Probe { magic: MAGIC }, GFP_KERNEL)?;
    let targets = ipi::IpiTargets::new(probe)?;

    // SAFETY: `hold` ignores its argument; it is module code, which
    // outlives the call (`settle` waits for it before the module can go).
    to_result(unsafe {
        compat::smp_call_function_single(t.as_u32() as c_int, Some(hold), null_mut(), false)
    })?;
    sent.holds += 1;
    let start = now();
    while !HOLDING.load(Acquire) {
        if now() - start > WAIT_NS {
            pr_err!("hold did not start on CPU {t} (sent from {s})\n");
            return Err(EBUSY);
        }
        core::hint::spin_loop();
    }
    // SAFETY: `csd` is the test's, initialised with `slow` (which ignores
    // its argument) and not in flight: the previous round waited for its
    // call to end. It outlives this call (`settle` waits before it goes).
    to_result(unsafe { bindings::smp_call_function_single_async(t.as_u32() as c_int, csd) })?;
    sent.slows += 1;
    targets.send(0, t, false)?;
    sent.probes += 1;
    SENT.store(true, Release);
    let before = now();
    drop(targets);
    let took = now() - before;
    DROPPED.store(true, Release);
    Ok(took)
}

/// Waits for every call sent so far to end.
fn settle(sent: &Sent) {
    wait_for("hold", &HOLDS_DONE, sent.holds);
    wait_for("slow", &SLOWS_DONE, sent.slows);
    wait_for("the probe", &PROBES_RAN, sent.probes);
}

struct IpiTest;

impl kernel::Module for IpiTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let _stay = cpu::MigrationGuard::new();
        let s = cpu::current_cpu();
        let Some(t) = cpu::possible_cpus().find(|c| *c != s && c.is_online()) else {
            pr_err!("needs two online CPUs\n");
            return Err(ENODEV);
        };
        let csd = KBox::into_raw(KBox::new(
            bindings::call_single_data_t {
                func: Some(slow),
                ..Default::default()
            },
            GFP_KERNEL,
        )?);
        let (mut rounds, mut min_ns, mut max_ns) = (0u32, i64::MAX, 0i64);
        let mut result = Ok(());
        let mut sent = Sent::default();
        while rounds < ROUNDS {
            let r = round(s, t, csd, &mut sent);
            settle(&sent);
            match r {
                Ok(ns) => {
                    min_ns = min_ns.min(ns);
                    max_ns = max_ns.max(ns);
                    rounds += 1;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // SAFETY: From `KBox::into_raw` above; `settle` waited for its
        // last call to end, so the kernel holds no pointer to it.
        drop(unsafe { KBox::from_raw(csd) });
        let (ran, late, bad, timeouts) = (
            PROBES_RAN.load(Relaxed),
            PROBES_LATE.load(Relaxed),
            PROBES_BAD.load(Relaxed),
            HOLD_TIMEOUTS.load(Relaxed),
        );
        pr_info!(
            "rounds={rounds} cpus={s}->{t} probes_ran={ran} late={late} bad_magic={bad} \
             hold_timeouts={timeouts} drop_us_min={} drop_us_max={}\n",
            min_ns / 1000,
            max_ns / 1000
        );
        result?;
        if late != 0 || bad != 0 || ran != ROUNDS || timeouts != 0 {
            pr_err!("FAIL: a probe ran after its set was dropped, or the scenario did not hold\n");
            return Err(EIO);
        }
        pr_info!("PASS: every probe ran before its set's drop returned\n");
        Ok(Self)
    }
}

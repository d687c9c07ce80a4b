// SPDX-License-Identifier: GPL-2.0

//! A ksoftirqd look-alike on smpboot_rs, in safe Rust.
//!
//! Per-CPU threads `ksoftirqd_rs/%u` handle per-CPU pending work in four
//! "vectors", after `kernel/softirq.c`: work is raised from any context
//! (hard IRQ included) on a CPU's queue, which wakes that CPU's thread only
//! if the CPU had nothing pending (`wakeup_softirqd()`); the thread handles
//! it in batches bounded by 2 ms and 10 restarts (`__do_softirq()`'s
//! `MAX_SOFTIRQ_TIME` and `MAX_SOFTIRQ_RESTART`). Producers: a pinned
//! hard-IRQ hrtimer on every online CPU and IPIs to other CPUs. When a CPU
//! dies, its pending work moves to a live CPU (`takeover_tasklets()`).
//! Files in `/sys/kernel/ksoftirqd_rs/`: `raise`, `ipi`, `timer`, `reset`
//! (root only), `stats` and `latency` (the wakeup latency histogram). See
//! `Documentation/ksoftirqd_rs.rst`.

use core::fmt::Write;
use core::num::IntErrorKind;
use kernel::alloc::VVec;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{new_mutex, Arc, Mutex};

// The typed smpboot_rs API and the wrappers; the sample uses part of them.
#[allow(dead_code, unreachable_pub)]
#[path = "../smpboot_rs/cpuhp.rs"]
mod cpuhp;
#[allow(dead_code)]
#[path = "../smpboot_rs/hrtimer.rs"]
mod hrtimer;
#[allow(dead_code)]
#[path = "../smpboot_rs/ipi.rs"]
mod ipi;
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

use compat::atomic::{Acquire, Atomic, Full, Relaxed, Release};
use compat::cpu::CpuId;
use compat::time::{ClockSource, Delta, Monotonic};

use cpu::{PossibleCpu, PreemptGuard};
use smpboot_rs::cpu as cpuid;
use smpboot_rs::{PerCpuThread, Registration};

module! {
    type: KsoftirqdRs,
    name: "ksoftirqd_rs",
    description: "smpboot_rs sample: a ksoftirqd look-alike in safe Rust",
    license: "GPL",
}

/// Vectors of work, like the softirq numbers.
const NR_VECS: usize = 4;
/// Longest batch before the thread yields (`MAX_SOFTIRQ_TIME`, 2 ms).
const MAX_BATCH_NS: i64 = 2_000_000;
/// Passes over the vectors in one batch (`MAX_SOFTIRQ_RESTART`).
const MAX_RESTART: u32 = 10;
/// Items of one vector handled per pass.
const CHUNK: u64 = 256;
/// Largest count of one `raise` or `ipi` write.
const MAX_COUNT: u64 = 1_000_000;
/// Timer period bounds, in microseconds (0 is off).
const MIN_PERIOD_US: u64 = 100;
const MAX_PERIOD_US: u64 = 1_000_000;
/// Buckets of the wakeup latency histogram: 8 per power of two.
const NR_BUCKETS: usize = 256;

/// The histogram bucket of `ns`: `ns` itself below 16, then 8 buckets per
/// power of two (the top three bits), the last one open-ended.
fn bucket(ns: u64) -> usize {
    if ns < 16 {
        return ns as usize;
    }
    let msb = 63 - ns.leading_zeros();
    let idx = (msb as usize - 2) * 8 + ((ns >> (msb - 3)) & 7) as usize;
    idx.min(NR_BUCKETS - 1)
}

/// The smallest value of bucket `idx`.
fn bucket_floor(idx: usize) -> u64 {
    if idx < 16 {
        return idx as u64;
    }
    (8 + (idx % 8) as u64) << (idx / 8 - 1)
}

/// One CPU's queue and counters; every field is an atomic, so raising works
/// in any context (no lock is IRQ-safe in 6.12's Rust). Cache-line aligned:
/// no two CPUs' queues share a line.
#[repr(align(64))]
struct CpuWork {
    /// Items queued per vector.
    queued: [Atomic<u64>; NR_VECS],
    /// Items raised and not yet handled: the wake gate (may dip below zero
    /// while a raise is half done, see `Softirqd::raise`).
    pending: Atomic<i64>,
    raised: Atomic<u64>,
    processed: Atomic<u64>,
    migrated_in: Atomic<u64>,
    batches: Atomic<u64>,
    wrong_cpu: Atomic<u64>,
    max_batch_ns: Atomic<u64>,
    /// Items handled per vector.
    per_vec: [Atomic<u64>; NR_VECS],
    /// A mix of what the handlers saw, so that they do something.
    checksum: Atomic<u64>,
    ticks: Atomic<u64>,
    tick_wrong_cpu: Atomic<u64>,
    ipis: Atomic<u64>,
    ipi_wrong_cpu: Atomic<u64>,
    /// Rotates the vector of timer and IPI raises.
    next_vec: Atomic<u64>,
    /// `ktime_get()` of the last raise that found nothing pending (0: none
    /// since the thread last started a batch).
    raise_ts: Atomic<i64>,
    /// Wakeup latencies (raise to start of handling), by `bucket()`.
    latency: [Atomic<u64>; NR_BUCKETS],
}

impl Default for CpuWork {
    fn default() -> Self {
        Self {
            queued: core::array::from_fn(|_| Atomic::new(0)),
            pending: Atomic::new(0),
            raised: Atomic::new(0),
            processed: Atomic::new(0),
            migrated_in: Atomic::new(0),
            batches: Atomic::new(0),
            wrong_cpu: Atomic::new(0),
            max_batch_ns: Atomic::new(0),
            per_vec: core::array::from_fn(|_| Atomic::new(0)),
            checksum: Atomic::new(0),
            ticks: Atomic::new(0),
            tick_wrong_cpu: Atomic::new(0),
            ipis: Atomic::new(0),
            ipi_wrong_cpu: Atomic::new(0),
            next_vec: Atomic::new(0),
            raise_ts: Atomic::new(0),
            latency: core::array::from_fn(|_| Atomic::new(0)),
        }
    }
}

fn add(c: &Atomic<u64>, n: u64) {
    c.fetch_add(n, Relaxed);
}

fn get(c: &Atomic<u64>) -> u64 {
    c.load(Relaxed)
}

/// Takes up to `max` items from a queue.
fn take(queued: &Atomic<u64>, max: u64) -> u64 {
    let mut q = queued.load(Relaxed);
    while q > 0 {
        let n = q.min(max);
        match queued.cmpxchg(q, q - n, Relaxed) {
            Ok(_) => return n,
            Err(now) => q = now,
        }
    }
    0
}

/// Xors `mix` into `c`, atomically (C's `atomic64_xor()`, which 7.x's
/// Rust `Atomic` lacks).
fn xor(c: &Atomic<u64>, mix: u64) {
    let mut v = c.load(Relaxed);
    while let Err(now) = c.cmpxchg(v, v ^ mix, Relaxed) {
        v = now;
    }
}

/// The handlers of the vectors: each gets the number of its items and
/// returns a value mixed into the CPU's checksum.
fn handle_vec(vec: usize, n: u64, cpu: PossibleCpu) -> u64 {
    match vec {
        0 => n,
        1 => n.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        2 => (0..n.min(64)).fold(u64::from(cpu.as_u32()), |a, i| a.rotate_left(5) ^ i),
        _ => n << 1,
    }
}

/// The threads' behaviour and the per-CPU queues.
///
/// The queues are one vmalloc'd array: C keeps them in static per-CPU
/// memory, which 6.12's Rust cannot declare, and kmalloc would round the
/// array up to a power of two (64 kB for 16 CPUs' 36 kB; see
/// Documentation/benchmarks.rst, memory) where vmalloc takes whole pages.
struct Softirqd {
    cpus: VVec<CpuWork>,
}

impl Softirqd {
    fn work(&self, cpu: PossibleCpu) -> Option<&CpuWork> {
        self.cpus.get(cpu.index())
    }

    /// Queues `n` items of `vec` on `cpu`; true if the CPU had nothing
    /// pending, so its thread must be woken (`wakeup_softirqd()`).
    ///
    /// The item goes into the queue before `pending` counts it, so
    /// `pending` never exceeds what is queued; the thread may take an item
    /// before it is counted (then `pending` dips below zero), and the wake
    /// is due when `pending` goes from zero or less to more than zero.
    fn raise(&self, cpu: PossibleCpu, vec: usize, n: u64) -> bool {
        let (Some(w), Some(q)) = (
            self.work(cpu),
            self.work(cpu).and_then(|w| w.queued.get(vec)),
        ) else {
            return false;
        };
        if n == 0 {
            return false;
        }
        q.fetch_add(n, Relaxed);
        add(&w.raised, n);
        // Nothing pending: this raise is the one that wakes the thread.
        if w.pending.load(Acquire) <= 0 {
            w.raise_ts.store(Monotonic::ktime_get(), Release);
        }
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let before = w.pending.fetch_add(n, Full);
        before <= 0 && before.saturating_add(n) > 0
    }

    /// Moves everything queued on the dead `from` to `to`
    /// (`takeover_tasklets()`); true if `to` must be woken.
    fn take_over(&self, from: PossibleCpu, to: PossibleCpu) -> bool {
        let (Some(src), Some(dst)) = (self.work(from), self.work(to)) else {
            return false;
        };
        let mut moved = 0u64;
        for (s, d) in src.queued.iter().zip(dst.queued.iter()) {
            let n = s.xchg(0, Relaxed);
            d.fetch_add(n, Relaxed);
            moved += n;
        }
        if moved == 0 {
            return false;
        }
        let n = i64::try_from(moved).unwrap_or(i64::MAX);
        src.pending.fetch_sub(n, Full);
        add(&dst.migrated_in, moved);
        let before = dst.pending.fetch_add(n, Full);
        before <= 0 && before.saturating_add(n) > 0
    }
}

impl PerCpuThread for Softirqd {
    type State = ();
    const NAME: &'static CStr = kernel::c_str!("ksoftirqd_rs/%u");

    fn create(&self, _cpu: PossibleCpu) -> Result {
        Ok(())
    }

    /// `ksoftirqd_should_run()`: this CPU has pending work.
    fn should_run(&self, cpu: PossibleCpu, _state: &mut ()) -> bool {
        self.work(cpu).is_some_and(|w| w.pending.load(Acquire) > 0)
    }

    /// `run_ksoftirqd()` + `__do_softirq()`: one bounded batch.
    fn run(&self, cpu: PossibleCpu, _state: &mut ()) {
        let Some(w) = self.work(cpu) else {
            return;
        };
        // The clock first: handling starts here. Both samples then read the
        // CPU, an inline load in C and a call here.
        let start = Monotonic::ktime_get();
        let on = cpu::current_cpu();
        let raised_at = w.raise_ts.xchg(0, Full);
        if raised_at > 0 {
            let ns = u64::try_from(start.saturating_sub(raised_at)).unwrap_or(0);
            if let Some(b) = w.latency.get(bucket(ns)) {
                add(b, 1);
            }
        }
        let mut handled = 0u64;
        // The handlers' mixes of the batch, published once at its end as
        // `processed` is.
        let mut mix = 0u64;
        let mut restart = MAX_RESTART;
        // One compare a pass, as C's subtract-and-compare, where a saturating
        // subtraction took six instructions and a register.
        let deadline = start.saturating_add(MAX_BATCH_NS);
        loop {
            let mut pass = 0u64;
            // Over a constant range, which compiles as C's pass does: an
            // enumerated zip of the two arrays kept its iterator on the
            // stack and an overflow check per vector
            // (Documentation/benchmarks.rst, throughput).
            for vec in 0..NR_VECS {
                let (Some(q), Some(done)) = (w.queued.get(vec), w.per_vec.get(vec)) else {
                    continue;
                };
                let n = take(q, CHUNK);
                if n == 0 {
                    continue;
                }
                mix ^= handle_vec(vec, n, cpu);
                add(done, n);
                // At most NR_VECS * CHUNK.
                pass = pass.wrapping_add(n);
            }
            w.pending
                .fetch_sub(i64::try_from(pass).unwrap_or(i64::MAX), Full);
            // C's u64 arithmetic: an item count cannot reach 2^64.
            handled = handled.wrapping_add(pass);
            restart -= 1;
            if w.pending.load(Acquire) <= 0 || restart == 0 || Monotonic::ktime_get() >= deadline {
                break;
            }
        }
        let took = u64::try_from(Monotonic::ktime_get().saturating_sub(start)).unwrap_or(0);
        xor(&w.checksum, mix);
        add(&w.processed, handled);
        if on != cpu {
            add(&w.wrong_cpu, handled);
        }
        add(&w.batches, 1);
        // Only this thread writes it (and a reset, which may lose to it), as
        // in C.
        if took > get(&w.max_batch_ns) {
            w.max_batch_ns.store(took, Relaxed);
        }
        // Work left: yield now if a reschedule is due, as run_ksoftirqd()
        // does with cond_resched(). There is no need to wake ourselves as it
        // does: the smpboot_rs loop calls should_run again before it sleeps,
        // and it is still true. Not thread_schedule(): returning next is
        // what lets a park or stop in, and its answer costs six calls where
        // this is one (Documentation/benchmarks.rst, throughput).
        if w.pending.load(Acquire) > 0 {
            cpu::cond_resched();
        }
    }
}

/// The registration and the timer period: what every producer reaches.
struct Sample {
    reg: Registration<Softirqd>,
    /// The timer period in nanoseconds; 0 is off.
    period_ns: Atomic<u64>,
}

impl Sample {
    fn work(&self, cpu: PossibleCpu) -> Option<&CpuWork> {
        self.reg.thread().work(cpu)
    }

    /// `raise_softirq()`: queues `n` items of `vec` on `cpu` and wakes its
    /// thread if the CPU had nothing pending. Any context.
    fn raise(&self, cpu: PossibleCpu, vec: usize, n: u64) {
        if self.reg.thread().raise(cpu, vec, n) {
            // ENOENT: the thread has not started yet; it checks should_run
            // when it does.
            let _ = self.reg.wake(cpu);
        }
    }

    /// Raises one item on the current CPU, on the next vector; for
    /// interrupt handlers that expect to run on `expected`.
    fn raise_here(
        &self,
        expected: PossibleCpu,
        ticks: impl Fn(&CpuWork) -> (&Atomic<u64>, &Atomic<u64>),
    ) {
        let here = PreemptGuard::new().cpu();
        let Some(w) = self.work(here) else {
            return;
        };
        let (count, wrong) = ticks(w);
        add(count, 1);
        if here != expected {
            add(wrong, 1);
        }
        let vec = (w.next_vec.fetch_add(1, Relaxed) % NR_VECS as u64) as usize;
        self.raise(here, vec, 1);
    }
}

/// A CPU's periodic producer (hard-IRQ hrtimer callback).
struct Tick {
    cpu: PossibleCpu,
    sample: Arc<Sample>,
}

impl hrtimer::TimerHandler for Tick {
    fn expired(&self) -> Option<Delta> {
        self.sample
            .raise_here(self.cpu, |w| (&w.ticks, &w.tick_wrong_cpu));
        timer_period(self.sample.period_ns.load(Relaxed))
    }
}

/// The timers' period for `period_ns`; `None` when they are off (0).
fn timer_period(ns: u64) -> Option<Delta> {
    i64::try_from(ns)
        .ok()
        .filter(|&ns| ns > 0)
        .map(Delta::from_nanos)
}

/// A cross-CPU producer: the IPI handler raises one item on its CPU.
struct Kick {
    cpu: PossibleCpu,
    sample: Arc<Sample>,
}

impl ipi::IpiHandler for Kick {
    fn handle(&self) {
        self.sample
            .raise_here(self.cpu, |w| (&w.ipis, &w.ipi_wrong_cpu));
    }
}

type Timer = Pin<KBox<hrtimer::PinnedTimer<Tick>>>;
/// Per-CPU producers, found by CPU.
struct Producers {
    timers: KVec<Timer>,
    kicks: ipi::IpiTargets<Kick>,
}

impl Producers {
    fn timer(&self, cpu: PossibleCpu) -> Option<&Timer> {
        self.timers.iter().find(|t| t.handler().cpu == cpu)
    }

    /// Sends `cpu`'s IPI producer to it, without waiting.
    fn kick(&self, cpu: PossibleCpu) -> Result {
        match self.kicks.handlers().position(|k| k.cpu == cpu) {
            Some(index) => self.kicks.send(index, cpu, false),
            None => Ok(()),
        }
    }

    /// Starts `cpu`'s timer if the period is set; runs on `cpu`.
    fn start_timer_here(&self, cpu: PossibleCpu, period_ns: u64) {
        if let Some(t) = self.timer(cpu) {
            t.allow();
            if let Some(period) = timer_period(period_ns) {
                t.as_ref().start_here(period);
            }
        }
    }
}

/// Online-stage hotplug callbacks: a CPU's timer runs only while it is up.
struct TimerHotplug {
    sample: Arc<Sample>,
    producers: Arc<Producers>,
}

impl cpuhp::Callbacks for TimerHotplug {
    fn startup(&self, cpu: CpuId) -> Result {
        let cpu = PossibleCpu::try_from(cpu)?;
        // Runs on `cpu` (its hotplug thread), where a pinned timer must start.
        let period = self.sample.period_ns.load(Relaxed);
        self.producers.start_timer_here(cpu, period);
        Ok(())
    }

    fn teardown(&self, cpu: CpuId) -> Result {
        let cpu = PossibleCpu::try_from(cpu)?;
        // Cancelled before the CPU dies, so the kernel never migrates it.
        if let Some(t) = self.producers.timer(cpu) {
            t.cancel();
        }
        Ok(())
    }
}

/// Prepare-stage hotplug callbacks: the takeover of a dead CPU's work.
struct Takeover {
    sample: Arc<Sample>,
}

impl cpuhp::Callbacks for Takeover {
    fn startup(&self, _cpu: CpuId) -> Result {
        Ok(())
    }

    fn teardown(&self, cpu: CpuId) -> Result {
        // `cpu` is dead: an error here could not bring it back. The kernel
        // calls back for possible CPUs only.
        let Ok(cpu) = PossibleCpu::try_from(cpu) else {
            pr_warn!("takeover: CPU {} is not possible\n", cpu.as_u32());
            return Ok(());
        };
        // After `cpu` is dead, on the control CPU: move its work here.
        let here = PreemptGuard::new().cpu();
        if here != cpu && self.sample.reg.thread().take_over(cpu, here) {
            let _ = self.sample.reg.wake(here);
        }
        Ok(())
    }
}

/// What the files share.
#[pin_data]
struct Control {
    sample: Arc<Sample>,
    producers: Arc<Producers>,
    /// Serialises `timer` writes.
    #[pin]
    timer_lock: Mutex<()>,
}

/// The blank-separated words of a whole write, taken in order.
///
/// Each file's handler takes its words through these calls, which are not
/// inlined: the splitting inlined at each of the eleven places that take a
/// word or look for one more was 1.5 kB of the release text
/// (Documentation/benchmarks.rst, the sample made smaller).
struct Words<'a>(core::str::SplitAsciiWhitespace<'a>);

impl<'a> Words<'a> {
    /// `EINVAL` for blank or non-UTF-8 input.
    #[inline(never)]
    fn new(input: &'a [u8]) -> Result<Self> {
        Ok(Self(
            sysfs::input_text(input)
                .ok_or(EINVAL)?
                .split_ascii_whitespace(),
        ))
    }

    /// The next word; `EINVAL` if there is none.
    #[inline(never)]
    fn word(&mut self) -> Result<&'a str> {
        self.0.next().ok_or(EINVAL)
    }

    /// The next word as a decimal number (see [`number`]).
    #[inline(never)]
    fn number(&mut self) -> Result<u64> {
        number(self.word()?)
    }

    /// `EINVAL` if a word is left.
    #[inline(never)]
    fn end(mut self) -> Result {
        match self.0.next() {
            Some(_) => Err(EINVAL),
            None => Ok(()),
        }
    }
}

/// A decimal number; `ERANGE` if it overflows, `EINVAL` if it is not one.
fn number(word: &str) -> Result<u64> {
    word.parse::<u64>().map_err(|e| match e.kind() {
        IntErrorKind::PosOverflow => ERANGE,
        _ => EINVAL,
    })
}

/// A write of `0` alone (`reset`, `latency`; C's `ks_expect_zero()`):
/// `EINVAL` otherwise, `ERANGE` for a number that overflows.
fn expect_zero(input: &[u8]) -> Result {
    let mut w = Words::new(input)?;
    if w.number()? != 0 {
        return Err(EINVAL);
    }
    w.end()
}

fn in_range(n: u64, lo: u64, hi: u64) -> Result<u64> {
    if (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(ERANGE)
    }
}

/// The files of `/sys/kernel/ksoftirqd_rs/`, one handler each: C's
/// attribute group. One file type for all of them keeps one copy of the
/// sysfs glue in the module (Documentation/benchmarks.rst, the sample made
/// smaller).
#[derive(Clone, Copy)]
enum FileKind {
    Raise,
    Ipi,
    Timer,
    Reset,
    Stats,
    Latency,
}

/// Name, mode and handler of each file, created in this order.
const FILES: [(&CStr, u16, FileKind); 6] = [
    (kernel::c_str!("raise"), sysfs::MODE_WRITE, FileKind::Raise),
    (kernel::c_str!("ipi"), sysfs::MODE_WRITE, FileKind::Ipi),
    (
        kernel::c_str!("timer"),
        sysfs::MODE_READ_WRITE,
        FileKind::Timer,
    ),
    (kernel::c_str!("reset"), sysfs::MODE_WRITE, FileKind::Reset),
    (kernel::c_str!("stats"), sysfs::MODE_READ, FileKind::Stats),
    (
        kernel::c_str!("latency"),
        sysfs::MODE_READ_WRITE,
        FileKind::Latency,
    ),
];

/// One file of [`FILES`].
struct SampleFile {
    control: Arc<Control>,
    kind: FileKind,
}

impl sysfs::FileOps for SampleFile {
    fn show(&self, out: &mut KVec<u8>) -> Result {
        let c = &*self.control;
        let mut text = sysfs::Text(out);
        match self.kind {
            FileKind::Timer => writeln!(text, "{}", c.sample.period_ns.load(Relaxed) / 1000),
            FileKind::Stats => c.render_stats(&mut text),
            FileKind::Latency => c.render_latency(&mut text),
            FileKind::Raise | FileKind::Ipi | FileKind::Reset => return Err(EINVAL),
        }
        .map_err(|_| ENOMEM)
    }

    fn store(&self, input: &[u8]) -> Result {
        let c = &*self.control;
        match self.kind {
            FileKind::Raise => c.store_raise(input),
            FileKind::Ipi => c.store_ipi(input),
            FileKind::Timer => c.store_timer(input),
            FileKind::Reset => c.store_reset(input),
            FileKind::Latency => c.store_latency(input),
            FileKind::Stats => Err(EINVAL),
        }
    }
}

impl Control {
    /// `raise`: `<cpu> <count>` or `all <count>`, queued from here on the
    /// CPU's queue (vectors in turn).
    fn store_raise(&self, input: &[u8]) -> Result {
        let mut w = Words::new(input)?;
        let target = w.word()?;
        let count = in_range(w.number()?, 1, MAX_COUNT)?;
        w.end()?;
        let sample = &self.sample;
        let raise_on = |c: PossibleCpu| {
            for vec in 0..NR_VECS {
                let share =
                    count / NR_VECS as u64 + u64::from((vec as u64) < count % NR_VECS as u64);
                sample.raise(c, vec, share);
            }
        };
        // No CPU comes or goes while we queue. Straight from the CPU mask,
        // as the C build does: a list allocated per write slowed `raise`
        // (see Documentation/benchmarks.rst, throughput).
        let _hotplug = cpuhp::CpusReadGuard::new();
        if target == "all" {
            cpu::possible_cpus()
                .filter(|c| c.is_online())
                .for_each(raise_on);
        } else {
            let id = u32::try_from(number(target)?).map_err(|_| EINVAL)?;
            let c = PossibleCpu::new(id).ok_or(EINVAL)?;
            if !c.is_online() {
                return Err(EINVAL);
            }
            raise_on(c);
        }
        Ok(())
    }

    /// `ipi`: `<count>` IPIs round-robin to the other online CPUs (to this
    /// one if it is alone), each raising one item on the CPU it runs on.
    fn store_ipi(&self, input: &[u8]) -> Result {
        let mut w = Words::new(input)?;
        let count = in_range(w.number()?, 1, MAX_COUNT)?;
        w.end()?;
        let _hotplug = cpuhp::CpusReadGuard::new();
        let me = cpu::current_cpu();
        let mut targets = KVec::new();
        for c in cpu::possible_cpus().filter(|c| c.is_online() && *c != me) {
            targets.push(c, GFP_KERNEL)?;
        }
        if targets.is_empty() {
            targets.push(me, GFP_KERNEL)?;
        }
        for (i, c) in (0..count).zip(targets.iter().cycle()) {
            self.producers.kick(*c)?;
            if i % 64 == 63 {
                cpu::cond_resched();
            }
        }
        Ok(())
    }

    /// `timer`: the period in microseconds of every online CPU's timer; 0
    /// off.
    fn store_timer(&self, input: &[u8]) -> Result {
        let mut w = Words::new(input)?;
        let us = w.number()?;
        w.end()?;
        if us != 0 {
            in_range(us, MIN_PERIOD_US, MAX_PERIOD_US)?;
        }
        let ns = us * 1000;
        let _serial = self.timer_lock.lock();
        let _hotplug = cpuhp::CpusReadGuard::new();
        self.sample.period_ns.store(ns, Relaxed);
        let producers = &self.producers;
        for t in producers.timers.iter() {
            if ns == 0 {
                t.cancel();
            } else if t.handler().cpu.is_online() {
                // A pinned timer starts on the CPU that arms it.
                let cpu = t.handler().cpu;
                ipi::call_on(cpu, &|| producers.start_timer_here(cpu, ns))?;
            }
        }
        Ok(())
    }

    /// `reset` (write 0): zeroes the counters; what is still pending stays
    /// counted as raised, so that processed + pending == raised holds.
    fn store_reset(&self, input: &[u8]) -> Result {
        expect_zero(input)?;
        for c in cpu::possible_cpus() {
            if let Some(w) = self.sample.work(c) {
                let pending = w.pending.load(Acquire).max(0);
                w.raised.store(pending as u64, Relaxed);
                for counter in [
                    &w.processed,
                    &w.migrated_in,
                    &w.batches,
                    &w.wrong_cpu,
                    &w.max_batch_ns,
                    &w.ticks,
                    &w.tick_wrong_cpu,
                    &w.ipis,
                    &w.ipi_wrong_cpu,
                ] {
                    counter.store(0, Relaxed);
                }
                for counter in w.per_vec.iter() {
                    counter.store(0, Relaxed);
                }
            }
        }
        Ok(())
    }

    /// `latency`: one line `<floor_ns> <count>` per non-empty bucket, summed
    /// over the CPUs.
    fn render_latency(&self, out: &mut impl Write) -> core::fmt::Result {
        for idx in 0..NR_BUCKETS {
            let mut n = 0u64;
            for c in cpu::possible_cpus() {
                if let Some(b) = self.sample.work(c).and_then(|w| w.latency.get(idx)) {
                    n += get(b);
                }
            }
            if n > 0 {
                writeln!(out, "{} {}", bucket_floor(idx), n)?;
            }
        }
        Ok(())
    }

    /// `latency` (write 0): clears the histogram.
    fn store_latency(&self, input: &[u8]) -> Result {
        expect_zero(input)?;
        for c in cpu::possible_cpus() {
            if let Some(w) = self.sample.work(c) {
                w.raise_ts.store(0, Relaxed);
                for b in w.latency.iter() {
                    b.store(0, Relaxed);
                }
            }
        }
        Ok(())
    }

    /// `stats`: one line per possible CPU.
    fn render_stats(&self, out: &mut impl Write) -> core::fmt::Result {
        for c in cpu::possible_cpus() {
            let Some(w) = self.sample.work(c) else {
                continue;
            };
            write!(
                out,
                "cpu={} online={} raised={} processed={} migrated_in={} pending={} batches={} \
                 wrong_cpu={} max_batch_ns={} ticks={} tick_wrong_cpu={} ipis={} ipi_wrong_cpu={}",
                c,
                u8::from(c.is_online()),
                get(&w.raised),
                get(&w.processed),
                get(&w.migrated_in),
                w.pending.load(Relaxed).max(0),
                get(&w.batches),
                get(&w.wrong_cpu),
                get(&w.max_batch_ns),
                get(&w.ticks),
                get(&w.tick_wrong_cpu),
                get(&w.ipis),
                get(&w.ipi_wrong_cpu),
            )?;
            for (i, v) in w.per_vec.iter().enumerate() {
                write!(out, " vec{}={}", i, get(v))?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

struct Parts {
    // Dropped in this order: files (no more writes), the directory, the
    // hotplug states (no more callbacks), then the producers and the
    // registration when their last reference goes.
    _files: KVec<Pin<KBox<sysfs::File<SampleFile>>>>,
    _dir: sysfs::Dir,
    _timer_state: cpuhp::OwnState<TimerHotplug>,
    _takeover_state: cpuhp::OwnState<Takeover>,
    control: Arc<Control>,
}

struct KsoftirqdRs {
    parts: Option<Parts>,
}

impl kernel::Module for KsoftirqdRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let nr = cpu::nr_cpu_ids() as usize;
        let mut cpus = VVec::with_capacity(nr, GFP_KERNEL)?;
        for _ in 0..nr {
            cpus.push(CpuWork::default(), GFP_KERNEL)?;
        }
        let sample = Arc::new(
            Sample {
                reg: Registration::new(Softirqd { cpus })?,
                period_ns: Atomic::new(0),
            },
            GFP_KERNEL,
        )?;
        let mut timers = KVec::new();
        let mut kicks = KVec::new();
        for cpu in cpu::possible_cpus() {
            let tick = Tick {
                cpu,
                sample: sample.clone(),
            };
            timers.push(
                KBox::pin_init(hrtimer::PinnedTimer::new(tick), GFP_KERNEL)?,
                GFP_KERNEL,
            )?;
            let kick = Kick {
                cpu,
                sample: sample.clone(),
            };
            kicks.push(kick, GFP_KERNEL)?;
        }
        let producers = Arc::new(
            Producers {
                timers,
                kicks: ipi::IpiTargets::new(kicks)?,
            },
            GFP_KERNEL,
        )?;
        let takeover_state = cpuhp::OwnState::new(
            cpuhp::Stage::Prepare,
            kernel::c_str!("ksoftirqd_rs:dead"),
            Takeover {
                sample: sample.clone(),
            },
        )?;
        let timer_state = cpuhp::OwnState::new(
            cpuhp::Stage::Online,
            kernel::c_str!("ksoftirqd_rs:online"),
            TimerHotplug {
                sample: sample.clone(),
                producers: producers.clone(),
            },
        )?;
        let control = Arc::pin_init(
            pin_init!(Control {
                sample,
                producers,
                timer_lock <- new_mutex!((), "ksoftirqd_rs::timer"),
            }),
            GFP_KERNEL,
        )?;
        let dir = sysfs::Dir::new(kernel::c_str!("ksoftirqd_rs"))?;
        let mut files = KVec::with_capacity(FILES.len(), GFP_KERNEL)?;
        for (name, mode, kind) in FILES {
            let file = SampleFile {
                control: control.clone(),
                kind,
            };
            files.push(
                KBox::pin_init(sysfs::File::new(&dir, name, mode, file), GFP_KERNEL)?,
                GFP_KERNEL,
            )?;
        }
        let parts = Parts {
            _files: files,
            _dir: dir,
            _timer_state: timer_state,
            _takeover_state: takeover_state,
            control,
        };
        pr_info!(
            "ready: /sys/kernel/ksoftirqd_rs/ (per-CPU data: {} bytes)\n",
            core::mem::size_of::<CpuWork>()
        );
        Ok(Self { parts: Some(parts) })
    }
}

impl Drop for KsoftirqdRs {
    fn drop(&mut self) {
        let Some(parts) = self.parts.take() else {
            return;
        };
        // Stop the timers before anything goes; each is cancelled again
        // when freed.
        let control = parts.control.clone();
        control.sample.period_ns.store(0, Relaxed);
        for t in control.producers.timers.iter() {
            t.cancel();
        }
        drop(parts);
        let (mut raised, mut processed, mut pending) = (0u64, 0u64, 0i64);
        for c in cpu::possible_cpus() {
            if let Some(w) = control.sample.work(c) {
                raised += get(&w.raised);
                processed += get(&w.processed);
                pending += w.pending.load(Relaxed);
            }
        }
        pr_info!("exit: raised={raised} processed={processed} pending={pending}\n");
    }
}

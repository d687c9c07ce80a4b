// SPDX-License-Identifier: GPL-2.0

//! The typed Rust API of smpboot_rs, for Rust modules that own per-CPU
//! threads.
//!
//! Out-of-tree crates cannot depend on each other, so a user module compiles
//! this file into itself and calls `smpboot_rs.ko` through the functions it
//! exports (`smpboot_rs/abi.rs`), and reads nothing else of it but a
//! registration's wake slots (their layout is part of that ABI); `smpboot_rs.ko`
//! must be loaded first, and cannot be unloaded while a user is. A module of
//! one's own starts from `samples/template/`; the Documentation's examples
//! (`Documentation/smpboot_rs.rst`, "Rust API") are compiled by `make
//! check`, this one is not.
//!
//! ```ignore
//! #[path = "smpboot_rs_src/smpboot_rs/client.rs"] // samples/template's link
//! mod smpboot_rs;
//! use smpboot_rs::{cpu::PossibleCpu, PerCpuThread, Registration};
//!
//! struct Hello;
//!
//! impl PerCpuThread for Hello {
//!     type State = u64; // runs so far, owned by each CPU's thread
//!     const NAME: &'static CStr = kernel::c_str!("hello/%u");
//!
//!     fn create(&self, _cpu: PossibleCpu) -> Result<u64> {
//!         Ok(0)
//!     }
//!     fn should_run(&self, _cpu: PossibleCpu, _runs: &mut u64) -> bool {
//!         false // woken by Registration::wake
//!     }
//!     fn run(&self, cpu: PossibleCpu, runs: &mut u64) {
//!         *runs += 1;
//!         pr_info!("cpu {cpu}: run {runs}\n");
//!     }
//! }
//!
//! let threads = Registration::new(Hello)?; // a thread on every online CPU
//! threads.wake(cpu)?;                        // from any context
//! drop(threads);                             // stops them all
//! ```

#[path = "abi.rs"]
mod abi;
// Possible CPUs and the online CPUs. Only this part of `cpu.rs`, which calls
// helpers of smpboot_rs.ko: the typed API calls smpboot_rs.ko only through
// the functions of `abi.rs`.
#[allow(dead_code)]
#[path = "cpuid.rs"]
pub(crate) mod cpu;
// The kernel series' differences, for this file and `cpu` (and for the
// crate's other shared files: a file may be a module only once).
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "compat.rs"]
pub(crate) mod compat;

use compat::atomic::{Acquire, Atomic, Full, Relaxed};
use core::cell::UnsafeCell;
use core::ptr::NonNull;
// 7.x: `CStr::as_char_ptr` (6.12's `CStr` has it).
#[allow(unused_imports)]
use compat::prelude::*;
use cpu::PossibleCpu;
use kernel::error::to_result;
use kernel::ffi::{c_int, c_uint, c_void};
use kernel::prelude::*;
use kernel::str::CStr;

/// The behaviour of a registration's threads, with the semantics of
/// `struct smp_hotplug_thread`. Every method but `create` runs in the thread
/// of `cpu`, on `cpu` (but `cleanup` of an offline CPU), one at a time, and
/// gets that thread's own state.
pub(crate) trait PerCpuThread: Send + Sync + Sized + 'static {
    /// The state each CPU's thread owns.
    type State: Send;

    /// The threads' name: exactly one `%u` (the CPU), no other `%`.
    const NAME: &'static CStr;

    /// Makes the state of `cpu`'s thread when the thread is created (once
    /// per CPU, outside the thread). An error fails the registration, or
    /// the CPU's bringup.
    fn create(&self, cpu: PossibleCpu) -> Result<Self::State>;

    /// Whether there is work; called with preemption disabled.
    fn should_run(&self, cpu: PossibleCpu, state: &mut Self::State) -> bool;

    /// Does the work; called when `should_run` was true.
    fn run(&self, cpu: PossibleCpu, state: &mut Self::State);

    /// Called before the first `run`.
    fn setup(&self, _cpu: PossibleCpu, _state: &mut Self::State) {}

    /// Called when the thread stops, if `setup` ran; `online` tells whether
    /// this runs on `cpu`, which is online (if not, it runs on another CPU).
    fn cleanup(&self, _cpu: PossibleCpu, _state: &mut Self::State, _online: bool) {}

    /// Called before the thread parks, its CPU going offline.
    fn park(&self, _cpu: PossibleCpu, _state: &mut Self::State) {}

    /// Called after the thread is unparked, its CPU back online.
    fn unpark(&self, _cpu: PossibleCpu, _state: &mut Self::State) {}
}

/// A CPU's state, handed to one callback at a time.
struct StateCell<S>(UnsafeCell<Option<S>>);

// SAFETY: smpboot_rs.ko calls the callbacks of one CPU one at a time
// (`create` before the thread starts, the others in the thread), so each
// cell is used by one task at a time; `S: Send` lets it move between them.
unsafe impl<S: Send> Sync for StateCell<S> {}

/// What the callbacks' context points to.
struct Shared<T: PerCpuThread> {
    thread: T,
    states: KVec<StateCell<T::State>>,
}

impl<T: PerCpuThread> Shared<T> {
    const OPS: abi::ThreadOps = abi::ThreadOps {
        thread_should_run: Self::should_run,
        thread_fn: Self::run,
        create: Some(Self::create),
        setup: Some(Self::setup),
        cleanup: Some(Self::cleanup),
        park: Some(Self::park),
        unpark: Some(Self::unpark),
        store: None,
        release: Some(Self::release),
    };

    /// Calls `f` with the thread and the state of `cpu`.
    ///
    /// # Safety
    ///
    /// `ctx` is the `Shared<T>` of a live registration and the caller is one
    /// of its callbacks for `cpu`, which smpboot_rs.ko serialises; `cpu` is
    /// a possible CPU, as smpboot_rs.ko guarantees (`abi`).
    unsafe fn with<R>(
        ctx: *mut c_void,
        cpu: c_uint,
        f: impl FnOnce(&T, PossibleCpu, &mut Option<T::State>) -> R,
    ) -> Option<R> {
        // SAFETY: By the function's requirement `ctx` is a live `Shared<T>`.
        let shared = unsafe { &*ctx.cast::<Self>() };
        // SAFETY: `cpu` is possible (function's requirement).
        let cpu = unsafe { PossibleCpu::new_unchecked(cpu) };
        let cell = shared.states.get(cpu.index())?;
        // SAFETY: Callbacks for `cpu` do not overlap (requirement), so this
        // is the only reference to the cell's contents.
        Some(f(&shared.thread, cpu, unsafe { &mut *cell.0.get() }))
    }

    /// # Safety
    ///
    /// Called by smpboot_rs.ko with this registration's context, one
    /// callback of a CPU at a time.
    unsafe extern "C" fn create(ctx: *mut c_void, cpu: c_uint) -> c_int {
        // SAFETY: smpboot_rs.ko passes our context and a possible CPU, and
        // serialises callbacks.
        let made: Option<Result> = unsafe {
            Self::with(ctx, cpu, |t, cpu, slot| {
                *slot = Some(t.create(cpu)?);
                Ok(())
            })
        };
        match made {
            Some(Ok(())) => 0,
            Some(Err(e)) => e.to_errno(),
            None => EINVAL.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by smpboot_rs.ko once, with this registration's context, when
    /// no callback runs any more.
    unsafe extern "C" fn release(ctx: *mut c_void) {
        // SAFETY: `ctx` came from `KBox::into_raw` in `Registration::new`,
        // and smpboot_rs.ko owns it from registration to this call.
        drop(unsafe { KBox::from_raw(ctx.cast::<Self>()) });
    }

    /// # Safety
    ///
    /// Called by smpboot_rs.ko with this registration's context, one
    /// callback of a CPU at a time.
    unsafe extern "C" fn should_run(ctx: *mut c_void, cpu: c_uint) -> bool {
        // SAFETY: As for `create`.
        unsafe {
            Self::with(ctx, cpu, |t, cpu, s| {
                s.as_mut().is_some_and(|s| t.should_run(cpu, s))
            })
        }
        .unwrap_or(false)
    }

    /// # Safety
    ///
    /// Called by smpboot_rs.ko with this registration's context, one
    /// callback of a CPU at a time.
    unsafe extern "C" fn run(ctx: *mut c_void, cpu: c_uint) {
        // SAFETY: As for `create`.
        unsafe { Self::with(ctx, cpu, |t, cpu, s| s.as_mut().map(|s| t.run(cpu, s))) };
    }

    /// # Safety
    ///
    /// Called by smpboot_rs.ko with this registration's context, one
    /// callback of a CPU at a time.
    unsafe extern "C" fn setup(ctx: *mut c_void, cpu: c_uint) {
        // SAFETY: As for `create`.
        unsafe { Self::with(ctx, cpu, |t, cpu, s| s.as_mut().map(|s| t.setup(cpu, s))) };
    }

    /// # Safety
    ///
    /// Called by smpboot_rs.ko with this registration's context, one
    /// callback of a CPU at a time.
    unsafe extern "C" fn cleanup(ctx: *mut c_void, cpu: c_uint, online: bool) {
        // SAFETY: As for `create`.
        unsafe {
            Self::with(ctx, cpu, |t, cpu, s| {
                s.as_mut().map(|s| t.cleanup(cpu, s, online))
            })
        };
    }

    /// # Safety
    ///
    /// Called by smpboot_rs.ko with this registration's context, one
    /// callback of a CPU at a time.
    unsafe extern "C" fn park(ctx: *mut c_void, cpu: c_uint) {
        // SAFETY: As for `create`.
        unsafe { Self::with(ctx, cpu, |t, cpu, s| s.as_mut().map(|s| t.park(cpu, s))) };
    }

    /// # Safety
    ///
    /// Called by smpboot_rs.ko with this registration's context, one
    /// callback of a CPU at a time.
    unsafe extern "C" fn unpark(ctx: *mut c_void, cpu: c_uint) {
        // SAFETY: As for `create`.
        unsafe { Self::with(ctx, cpu, |t, cpu, s| s.as_mut().map(|s| t.unpark(cpu, s))) };
    }
}

/// Per-CPU threads running `T`; unregistered (every thread stopped, every
/// callback returned) on drop.
///
/// # Invariants
///
/// `handle` is the live registration of smpboot_rs.ko whose context is
/// `shared`, made with `Shared::<T>::OPS`. `shared` came from
/// `KBox::into_raw`; smpboot_rs.ko owns it and frees it (`OPS.release`)
/// once the registration is gone, which is not before `self` is dropped
/// (or its module unloaded). `wakers` are the registration's wake slots,
/// valid as long as `handle` is.
pub(crate) struct Registration<T: PerCpuThread> {
    handle: NonNull<abi::RegistrationHandle>,
    shared: NonNull<Shared<T>>,
    wakers: NonNull<[abi::WakeSlot]>,
}

// SAFETY: The handle may be used from any task, and the wake slots (atomics
// of smpboot_rs.ko that live as long as the handle) from any context;
// `T: Send + Sync`.
unsafe impl<T: PerCpuThread> Send for Registration<T> {}
// SAFETY: `&Registration` only wakes threads (through the slots' atomics)
// and reaches `&T`.
unsafe impl<T: PerCpuThread> Sync for Registration<T> {}

impl<T: PerCpuThread> Registration<T> {
    /// Registers `thread`: creates and starts a thread on every online CPU
    /// (and on each CPU that comes online later).
    pub(crate) fn new(thread: T) -> Result<Self> {
        let nr = cpu::nr_cpu_ids() as usize;
        let mut states = KVec::with_capacity(nr, GFP_KERNEL)?;
        for _ in 0..nr {
            states.push(StateCell(UnsafeCell::new(None)), GFP_KERNEL)?;
        }
        let shared = KBox::into_raw(KBox::new(Shared { thread, states }, GFP_KERNEL)?);
        let desc = abi::ThreadDesc {
            size: core::mem::size_of::<abi::ThreadDesc>(),
            // The user crate's own module: smpboot_rs.ko unregisters what it
            // leaks (`mem::forget`) when it is unloaded.
            owner: compat::this_module_ptr!(),
            ops: &Shared::<T>::OPS,
            ctx: shared.cast(),
            thread_comm: T::NAME.as_char_ptr(),
            selfparking: false,
        };
        let mut handle = core::ptr::null_mut();
        // SAFETY: `OPS` takes a `Shared<T>` as context, which `shared` is, and
        // frees it in `release`; the name is static; `handle` is valid for a
        // write.
        let registered = to_result(unsafe { abi::smpboot_rs_register(&desc, &mut handle) });
        match (registered, NonNull::new(handle)) {
            (Ok(()), Some(handle)) => {
                let mut nr = 0;
                // SAFETY: `handle` is live; `nr` is valid for a write.
                let first = unsafe { abi::smpboot_rs_wake_slots(handle.as_ptr(), &mut nr) };
                let wakers = NonNull::new(first.cast_mut()).map_or(
                    NonNull::slice_from_raw_parts(NonNull::dangling(), 0),
                    |first| NonNull::slice_from_raw_parts(first, nr),
                );
                Ok(Self {
                    // INVARIANT: registered with `shared` as context, and
                    // `wakers` are its slots.
                    handle,
                    // SAFETY: `KBox::into_raw` never returns null.
                    shared: unsafe { NonNull::new_unchecked(shared) },
                    wakers,
                })
            }
            (result, _) => {
                // SAFETY: Not registered: `shared` is still ours.
                drop(unsafe { KBox::from_raw(shared) });
                result.and(Err(EINVAL))
            }
        }
    }

    /// The threads' behaviour.
    pub(crate) fn thread(&self) -> &T {
        // SAFETY: Live until the registration is gone (type invariant).
        &unsafe { self.shared.as_ref() }.thread
    }

    /// Wakes `cpu`'s thread so that it checks `should_run`; callable from
    /// any context, hard IRQ included. `ENOENT` if that CPU never had a
    /// thread (it has not come online since the registration).
    ///
    /// Wakes through the registration's slot for `cpu` (the task of its
    /// thread), with no call into smpboot_rs.ko: what C's users do with
    /// the task `ht->store` gave them.
    pub(crate) fn wake(&self, cpu: PossibleCpu) -> Result {
        // SAFETY: The slots live as long as the registration (type
        // invariant), which outlives the borrow of `self`.
        let wakers = unsafe { self.wakers.as_ref() };
        match wakers.get(cpu.index()) {
            Some(slot) if slot.wake() => Ok(()),
            Some(_) => Err(ENOENT),
            None => Err(EINVAL),
        }
    }
}

/// The state of a CPU's thread (see [`Registration::thread_state`]).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum ThreadState {
    /// Created, parked, `setup` not run yet (sysfs: `none`).
    Created,
    /// Set up, not parked: it runs the callbacks (`active`).
    Active,
    /// Parked: its CPU is offline, or going (`parked`).
    Parked,
    /// Selfparking thread left unparked by its owner, its CPU down past
    /// `smpboot_rs:online` (`held`).
    Held,
}

impl<T: PerCpuThread> Registration<T> {
    /// The state of `cpu`'s thread, as `state=` of
    /// `/sys/kernel/smpboot_rs/threads` shows it; `None` if that CPU has no
    /// thread (it has not come online since the registration). Any context.
    /// A snapshot: the thread may change state at once, unless the caller
    /// holds [`cpu::OnlineCpus`] (then an online CPU's thread stays
    /// `Active`, once it has run `setup`).
    pub(crate) fn thread_state(&self, cpu: PossibleCpu) -> Option<ThreadState> {
        // SAFETY: The handle is live (type invariant).
        match unsafe { abi::smpboot_rs_thread_state(self.handle.as_ptr(), cpu.as_u32()) } {
            abi::THREAD_CREATED => Some(ThreadState::Created),
            abi::THREAD_ACTIVE => Some(ThreadState::Active),
            abi::THREAD_PARKED => Some(ThreadState::Parked),
            abi::THREAD_HELD => Some(ThreadState::Held),
            _ => None,
        }
    }
}

impl<T: PerCpuThread> Drop for Registration<T> {
    /// Unregisters: returns once no callback runs. Dropped in one of its
    /// own callbacks (it would wait for itself) or in atomic context, it
    /// leaves the registration in place until the module is unloaded, and
    /// says so in the kernel log. Either way smpboot_rs.ko frees `shared`.
    fn drop(&mut self) {
        // SAFETY: The handle is live (type invariant) and not used again.
        unsafe { abi::smpboot_rs_unregister(self.handle.as_ptr()) };
    }
}

/// Work pending on each CPU, counted, with the wake that goes with it: the
/// pattern of ksoftirqd's pending mask (`raise_softirq()` marks and wakes,
/// `ksoftirqd_should_run()` reads, `__do_softirq()` takes), so that a user
/// does not write it again.
///
/// The thread's behaviour holds one and implements [`HasPending`];
/// producers call [`Registration::raise`]; `should_run` returns
/// [`Pending::is_pending`] and `run` handles what [`Pending::take`] returns.
/// No unit of work is lost or handled twice: every unit raised is in the
/// count of exactly one `take`, on the thread of the CPU it was raised on.
/// Units raised on a CPU that goes offline wait for it to come back: there
/// is no takeover by a live CPU (the ksoftirqd sample has one, in a hotplug
/// callback, with its own queues). Raises coalesce: a thread woken by
/// several raises may take them all in one `run` (see "Wakeups" in
/// Documentation/smpboot_rs.rst).
pub(crate) struct Pending {
    counts: KVec<Atomic<u64>>,
}

impl Pending {
    /// Nothing pending on any CPU.
    pub(crate) fn new() -> Result<Self> {
        let nr = cpu::nr_cpu_ids() as usize;
        let mut counts = KVec::with_capacity(nr, GFP_KERNEL)?;
        for _ in 0..nr {
            counts.push(Atomic::new(0), GFP_KERNEL)?;
        }
        Ok(Self { counts })
    }

    fn count(&self, cpu: PossibleCpu) -> Option<&Atomic<u64>> {
        self.counts.get(cpu.index())
    }

    /// Adds `n` units to `cpu`'s count, from any context; true if it was
    /// zero, when `cpu`'s thread needs a wake (the first raise after a
    /// `take` wakes it; the later ones find it due to run anyway).
    pub(crate) fn add(&self, cpu: PossibleCpu, n: u64) -> bool {
        // Full, as C's `atomic_fetch_add()`; its release half is what
        // matters: what the producer wrote before the raise is seen by the
        // `take` that counts it.
        n > 0 && self.count(cpu).is_some_and(|c| c.fetch_add(n, Full) == 0)
    }

    /// Whether `cpu` has work pending: `should_run`'s answer.
    pub(crate) fn is_pending(&self, cpu: PossibleCpu) -> bool {
        self.count(cpu).is_some_and(|c| c.load(Relaxed) > 0)
    }

    /// Takes every unit pending on `cpu` and returns how many (0 if none):
    /// what `run` handles. Units raised after it wake the thread again.
    pub(crate) fn take(&self, cpu: PossibleCpu) -> u64 {
        // Acquire: pairs with the producers' `add`.
        self.count(cpu).map_or(0, |c| c.xchg(0, Acquire))
    }
}

/// A [`PerCpuThread`] whose work is counted in a [`Pending`], which
/// [`Registration::raise`] adds to.
pub(crate) trait HasPending: PerCpuThread {
    /// The count of the threads' work.
    fn pending(&self) -> &Pending;
}

impl<T: HasPending> Registration<T> {
    /// Raises `n` units of work on `cpu` and wakes its thread if the CPU
    /// had none pending; any context, hard IRQ included. The units are
    /// counted whatever the result: `ENOENT` (the CPU has not come online
    /// since the registration) means its thread takes them when it starts.
    pub(crate) fn raise(&self, cpu: PossibleCpu, n: u64) -> Result {
        if self.thread().pending().add(cpu, n) {
            self.wake(cpu)
        } else {
            Ok(())
        }
    }
}

/// A preemption point for a long [`PerCpuThread::run`] (see
/// `smpboot_rs_thread_schedule()`): true when `run` should return so that
/// the thread can park or stop. `EINVAL` outside a smpboot_rs thread.
pub(crate) fn thread_schedule() -> Result<bool> {
    // SAFETY: Callable from any task.
    let ret = unsafe { abi::smpboot_rs_thread_schedule() };
    to_result(ret.min(0))?;
    Ok(ret > 0)
}

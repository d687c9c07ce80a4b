// SPDX-License-Identifier: GPL-2.0

//! The thread of one CPU of a per-CPU hotplug thread registration: the loop of
//! `smpboot_thread_fn()`.
//!
//! C header: [`include/linux/smpboot.h`](srctree/include/linux/smpboot.h)
//!
//! The thread runs its registration's callbacks for its CPU as
//! `kernel/smpboot.c` does: `setup` once, before any other; `thread_fn`
//! whenever `thread_should_run`, asked with preemption disabled, says so;
//! `park` before the thread parks and `unpark` when it runs again, both only
//! for registrations that have `park`; `cleanup` when it stops, once `setup`
//! ran. All of them on the thread's CPU, except `cleanup` when that CPU is
//! offline.

#[cfg(not(MODULE))]
use crate::{
    cpu::CpuId,
    kthread::{
        CurrentThread,
        ThreadFn,
        WaitPass, //
    },
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
};
use core::marker::PhantomData;
#[cfg(MODULE)]
use {
    super::{
        compat::atomic::{Atomic, Relaxed},
        core::{Pinning, RequestsSeen},
        cpu::PossibleCpu,
    },
    crate::kthread::{CurrentThread, ThreadFn, WaitPass},
};

/// What a CPU's thread has done, as its callbacks saw it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(i32)]
pub(super) enum Status {
    /// `setup` has not run.
    Created = 0,
    /// `setup` ran, and the thread has not parked since it last ran.
    Active = 1,
    /// Parked after being active, whether or not `park` ran.
    Parked = 2,
}

impl Status {
    /// The status that `status as i32` gave.
    pub(super) fn from_i32(v: i32) -> Self {
        match v {
            1 => Self::Active,
            2 => Self::Parked,
            _ => Self::Created,
        }
    }
}

/// Proof that the caller is the thread of a CPU, in the loop of
/// [`HotplugThread`], at a point where `kernel/smpboot.c` calls the callback
/// the proof is passed to: on the thread's CPU, preemptible, except for
/// `cleanup` of an offline CPU.
///
/// Only the loop makes one; neither `Send` nor `Sync`.
pub(super) struct InThread<'a>(PhantomData<&'a CurrentThread>);

/// A registration's callbacks, as the thread of one CPU runs them: those of
/// `struct smp_hotplug_thread`, with their CPU.
pub(super) trait CpuCallbacks: Send + Sync + 'static {
    /// The CPU whose thread runs the callbacks.
    #[cfg(not(MODULE))]
    fn cpu(&self) -> CpuId;

    /// `setup`: the thread's first run on its CPU.
    fn setup(&self, at: &InThread<'_>);

    /// `thread_should_run`, with preemption disabled as `pass` proves, on the
    /// thread's CPU.
    fn thread_should_run(&self, at: &InThread<'_>, pass: &WaitPass<'_>) -> bool;

    /// `thread_fn`, once `thread_should_run` said so.
    fn thread_fn(&self, at: &InThread<'_>);

    /// Whether the registration has `park`: `unpark` runs only where `park`
    /// ran.
    fn has_park(&self) -> bool;

    /// The thread is about to park, active: runs `park`, if the registration
    /// has one.
    fn park(&self, at: &InThread<'_>);

    /// `unpark`: the thread runs again after `park`.
    fn unpark(&self, at: &InThread<'_>);

    /// `cleanup`: the thread stops, after `setup`; `online` whether its CPU is
    /// online, and the thread on it.
    fn cleanup(&self, at: &InThread<'_>, online: bool);

    /// The CPU, possible.
    #[cfg(MODULE)]
    fn possible_cpu(&self) -> PossibleCpu;

    /// The thread's status has changed to `status`.
    #[cfg(MODULE)]
    fn status_changed(&self, status: Status);

    /// Whether the thread must let go of its CPU and wait (see [`Pinning`]).
    #[cfg(MODULE)]
    fn held(&self) -> bool;

    /// Whether the thread's owner parks it, not the core: it asks for a park
    /// on every pass (see [`RequestsSeen`]).
    #[cfg(MODULE)]
    fn selfparking(&self) -> bool;
}

/// The body of a CPU's thread: `smpboot_thread_fn()`.
pub(super) struct HotplugThread<C> {
    callbacks: C,
    /// Written by the thread only.
    status: Atomic<i32>,
}

impl<C: CpuCallbacks> HotplugThread<C> {
    /// The body of the thread that runs `callbacks`, before its `setup`.
    pub(super) fn new(callbacks: C) -> Self {
        Self {
            callbacks,
            status: Atomic::new(Status::Created as i32),
        }
    }

    /// The callbacks the thread runs.
    #[cfg(MODULE)]
    pub(super) fn callbacks(&self) -> &C {
        &self.callbacks
    }

    /// What the thread has done, as its callbacks saw it.
    pub(super) fn status(&self) -> Status {
        Status::from_i32(self.status.load(Relaxed))
    }

    fn set_status(&self, status: Status) {
        self.status.store(status as i32, Relaxed);
        #[cfg(MODULE)]
        self.callbacks.status_changed(status);
    }
}

impl<C: CpuCallbacks> ThreadFn for HotplugThread<C> {
    fn run(&self, this: &CurrentThread) {
        #[cfg(not(MODULE))]
        let cpu = self.callbacks.cpu();
        let at = InThread(PhantomData);
        #[cfg(MODULE)]
        // A module's thread is not per-CPU for the scheduler: it keeps itself
        // on its CPU (see `Pinning`).
        let mut pinning = Pinning::new(self.callbacks.possible_cpu());
        #[cfg(MODULE)]
        let requests = RequestsSeen::new(self.callbacks.selfparking());
        loop {
            let pass = this.wait_pass();
            #[cfg(MODULE)]
            // The module's core counts the requests it makes: a pass asks the
            // kernel only when there is one it has not handled.
            let this = &requests.at_pass(this);
            // Checked before park: a parked thread of an offline CPU is woken
            // elsewhere to be stopped.
            if this.should_stop() {
                #[cfg(MODULE)]
                pinning.pin_here(&pass);
                drop(pass);
                // `cleanup` mirrors `setup`.
                if self.status() != Status::Created {
                    #[cfg(not(MODULE))]
                    let online = cpu.is_online();
                    #[cfg(MODULE)]
                    let online = pinning.online_here();
                    self.callbacks.cleanup(&at, online);
                    self.set_status(Status::Created);
                }
                return;
            }
            if this.should_park() {
                drop(pass);
                if self.status() == Status::Active {
                    #[cfg(not(MODULE))]
                    // C smpboot BUG()s off its CPU; this thread warns and
                    // parks without the callback.
                    let on_cpu = !crate::warn_on!(CpuId::current() != cpu);
                    #[cfg(MODULE)]
                    // A selfparking thread its owner parks while held (its
                    // CPU going or gone down) parks without the callback,
                    // and stays active for its callbacks.
                    let on_cpu = pinning.is_pinned();
                    if on_cpu {
                        self.callbacks.park(&at);
                        self.set_status(Status::Parked);
                    }
                }
                #[cfg(MODULE)]
                // A dying CPU must not keep migration-disabled tasks.
                pinning.release();
                this.parkme();
                // It may have been woken to stop.
                continue;
            }
            #[cfg(MODULE)]
            // Its CPU is down past the core's online state.
            if self.callbacks.held() {
                pinning.release();
                pass.sleep();
                continue;
            }
            #[cfg(MODULE)]
            // Not pinned on its CPU yet: no callback runs off it.
            let Some(pass) = pinning.settle(pass, this) else {
                continue;
            };
            #[cfg(not(MODULE))]
            // Off its CPU, where C smpboot BUG()s: no callback runs there.
            if crate::warn_on!(pass.cpu() != cpu) {
                pass.sleep();
                continue;
            }
            match self.status() {
                Status::Created => {
                    drop(pass);
                    self.callbacks.setup(&at);
                    self.set_status(Status::Active);
                }
                Status::Parked => {
                    drop(pass);
                    // As C: `unpark` only where `park` ran.
                    if self.callbacks.has_park() {
                        self.callbacks.unpark(&at);
                    }
                    self.set_status(Status::Active);
                }
                Status::Active if self.callbacks.thread_should_run(&at, &pass) => {
                    drop(pass);
                    self.callbacks.thread_fn(&at);
                }
                Status::Active => pass.sleep(),
            }
        }
    }
}

// SPDX-License-Identifier: GPL-2.0

//! A module of your own on smpboot_rs's typed API: a thread `hello_rs/N` on
//! every CPU, which logs the work it is given.
//!
//! At load it raises one unit of work on every online CPU; each thread logs
//! `hello_rs: cpu N: 1 unit(s), 1 in all`. At unload the threads stop.

use kernel::prelude::*;
use kernel::str::CStr;

// The typed API, compiled into this module (out-of-tree crates cannot
// depend on each other); `smpboot_rs_src` is the Makefile's link to the
// smpboot_rs tree. This module uses part of it.
#[allow(dead_code)]
#[path = "smpboot_rs_src/smpboot_rs/client.rs"]
mod smpboot_rs;

use smpboot_rs::cpu::{OnlineCpus, PossibleCpu};
use smpboot_rs::{HasPending, Pending, PerCpuThread, Registration};

module! {
    type: Hello,
    name: "hello_rs",
    description: "A per-CPU thread on every CPU, on smpboot_rs",
    license: "GPL",
}

/// The threads' behaviour: work counted per CPU.
struct HelloThread {
    work: Pending,
}

impl PerCpuThread for HelloThread {
    /// Units handled so far, owned by each CPU's thread.
    type State = u64;
    const NAME: &'static CStr = kernel::c_str!("hello_rs/%u");

    fn create(&self, _cpu: PossibleCpu) -> Result<u64> {
        Ok(0)
    }

    fn should_run(&self, cpu: PossibleCpu, _handled: &mut u64) -> bool {
        self.work.is_pending(cpu)
    }

    fn run(&self, cpu: PossibleCpu, handled: &mut u64) {
        let units = self.work.take(cpu);
        *handled += units;
        pr_info!("cpu {cpu}: {units} unit(s), {} in all\n", *handled);
    }

    fn park(&self, cpu: PossibleCpu, handled: &mut u64) {
        pr_info!("cpu {cpu}: going offline after {} unit(s)\n", *handled);
    }
}

impl HasPending for HelloThread {
    fn pending(&self) -> &Pending {
        &self.work
    }
}

struct Hello {
    _threads: Registration<HelloThread>,
}

impl kernel::Module for Hello {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let threads = Registration::new(HelloThread {
            work: Pending::new()?,
        })?;
        // No CPU comes or goes while the guard lives, so every CPU it
        // yields has its thread.
        let online = OnlineCpus::lock();
        for cpu in online.iter() {
            threads.raise(cpu, 1)?;
        }
        drop(online);
        Ok(Self { _threads: threads })
    }
}

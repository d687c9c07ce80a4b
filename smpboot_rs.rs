// SPDX-License-Identifier: GPL-2.0

//! smpboot_rs: per-CPU hotplug threads for Rust and C kernel code.
//!
//! A reimplementation of the registration API of `kernel/smpboot.c` as an
//! out-of-tree module for Linux 6.12 and 7.x: a registration gets one
//! kthread per CPU, created and started when the CPU comes online, parked
//! when it goes offline, unparked when it returns and stopped at
//! unregistration, with the user's callbacks called at each step on the
//! thread's own CPU.
//!
//! Users: C modules through `include/smpboot_rs.h`; Rust modules through the
//! typed API of `smpboot_rs/client.rs`. State: `/sys/kernel/smpboot_rs/threads`.
//! Design: `Documentation/smpboot_rs.rst`.

use kernel::prelude::*;

// Shared with user crates, which each use part of it.
#[allow(dead_code)]
#[path = "smpboot_rs/abi.rs"]
mod abi;
#[path = "smpboot_rs/callbacks.rs"]
mod callbacks;
#[path = "smpboot_rs/core.rs"]
mod core;
// The kernel series' differences; shared, each crate uses part of it.
#[allow(dead_code, unused_imports, unused_macros)]
#[path = "smpboot_rs/compat.rs"]
mod compat;
// Shared with user crates, which each use part of it.
#[allow(dead_code)]
#[path = "smpboot_rs/cpu.rs"]
mod cpu;
// Shared with user crates, which each use part of it.
#[allow(dead_code)]
#[path = "smpboot_rs/cpuid.rs"]
mod cpuid;
// Shared with user crates, which each use part of it, and one source with
// the in-tree series' `rust/kernel/cpuhp.rs`, which is this file less its
// `#[cfg(MODULE)]` items (scripts/intree-source); its API is `pub` as the
// kernel crate's.
#[allow(dead_code, unreachable_pub)]
#[path = "smpboot_rs/cpuhp.rs"]
mod cpuhp;
#[path = "smpboot_rs/exports.rs"]
mod exports;
#[path = "smpboot_rs/ffi.rs"]
mod ffi;
#[path = "smpboot_rs/global.rs"]
mod global;
#[path = "smpboot_rs/module_going.rs"]
mod module_going;
// One source with the in-tree series' `rust/kernel/kthread.rs`, which is this
// file less its `#[cfg(MODULE)]` items (scripts/intree-source). Built into a
// module, a `PerCpuThread` is not per-CPU for the scheduler: see its `bind`.
// Its API is `pub` as the kernel crate's; parts only the kernel uses are dead
// code here.
#[allow(dead_code, unreachable_pub)]
#[path = "smpboot_rs/kthread.rs"]
mod kthread;
// KUnit tests of the pure logic and of cpuhp, where the kernel has
// `#[kunit_tests]` (6.15 and later); they run at insmod on a kernel with
// CONFIG_KUNIT=y.
#[cfg(not(smpboot_rs_backports))]
#[path = "smpboot_rs/kunit.rs"]
mod kunit;
#[path = "smpboot_rs/seed.rs"]
mod seed;
// Shared with user crates, which each use part of it.
#[allow(dead_code)]
#[path = "smpboot_rs/sysfs.rs"]
mod sysfs;
// One source with the in-tree series' `rust/kernel/smpboot/thread.rs`, which
// is this file less its `#[cfg(MODULE)]` items (scripts/intree-source).
#[path = "smpboot_rs/thread.rs"]
mod thread;

module! {
    type: SmpbootRs,
    name: "smpboot_rs",
    description: "Per-CPU hotplug threads (smpboot) for Rust and C kernel code",
    license: "GPL",
}

/// `/sys/kernel/smpboot_rs/threads`: one line per registration and CPU.
struct ThreadsFile;

impl sysfs::FileOps for ThreadsFile {
    fn show(&self, out: &mut KVec<u8>) -> Result {
        exports::core()?
            .render(&mut sysfs::Text(out))
            .map_err(|_| ENOMEM)
    }
}

/// Unregisters what a module being unloaded left registered.
struct UnloadCleanup;

impl module_going::ModuleGoing for UnloadCleanup {
    fn going(&self, module: *mut kernel::bindings::module) {
        if let Ok(core) = exports::core() {
            core.module_going(module);
        }
    }
}

struct SmpbootRs {
    // Dropped in this order: the file, its directory, the notifier, then
    // the core.
    _threads: Pin<KBox<sysfs::File<ThreadsFile>>>,
    _dir: sysfs::Dir,
    _unload_cleanup: Pin<KBox<module_going::GoingNotifier<UnloadCleanup>>>,
    _core: global::Installed<core::Core>,
}

impl kernel::Module for SmpbootRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let core = exports::CORE.install(KBox::pin_init(core::Core::new(), GFP_KERNEL)?)?;
        exports::core()?.start()?;
        let unload_cleanup =
            KBox::pin_init(module_going::GoingNotifier::new(UnloadCleanup), GFP_KERNEL)?;
        let dir = sysfs::Dir::new(kernel::c_str!("smpboot_rs"))?;
        let threads = KBox::pin_init(
            sysfs::File::new(
                &dir,
                kernel::c_str!("threads"),
                sysfs::MODE_READ,
                ThreadsFile,
            ),
            GFP_KERNEL,
        )?;
        pr_info!("ready: /sys/kernel/smpboot_rs/threads\n");
        Ok(Self {
            _threads: threads,
            _dir: dir,
            _unload_cleanup: unload_cleanup,
            _core: core,
        })
    }
}

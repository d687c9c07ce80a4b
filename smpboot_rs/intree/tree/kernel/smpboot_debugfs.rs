// SPDX-License-Identifier: GPL-2.0

//! `smpboot/threads` in debugfs: the per-CPU hotplug threads of every
//! registration, as `rust/kernel/smpboot.rs` has them, one line per thread.

use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*,
    smpboot, //
};

module! {
    type: SmpbootDebugfs,
    name: "smpboot_debugfs",
    description: "debugfs listing of the per-CPU hotplug threads of the Rust smpboot",
    license: "GPL",
}

struct SmpbootDebugfs {
    // Dropped in this order: the file, then its directory.
    _threads: Pin<KBox<File<()>>>,
    _dir: Dir,
}

impl kernel::Module for SmpbootDebugfs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let dir = Dir::new(c"smpboot");
        let threads = KBox::pin_init(
            dir.read_callback_file(c"threads", (), &|(), f| smpboot::show(f)),
            GFP_KERNEL,
        )?;
        Ok(Self {
            _threads: threads,
            _dir: dir,
        })
    }
}

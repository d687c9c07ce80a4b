// SPDX-License-Identifier: GPL-2.0

//! A Rust user of the in-tree smpboot (`kernel::smpboot::Registration`, on
//! kernels with the series of `scripts/series`), for `intree.sh`: one
//! registration whose callbacks count, per CPU, how often each ran, and how
//! often one ran off its thread's CPU. Built only where the kernel has
//! `CONFIG_SMPBOOT_RUST`.
//!
//! `/sys/kernel/debug/smpboot_rs_test_intree/calls` has a line per CPU id:
//! `cpu=N setup=.. park=.. unpark=.. run=.. run_parked=.. cleanup_online=..
//! cleanup_offline=.. wrong_cpu=..`, `run_parked` counting runs between a
//! `park` and the next `unpark`. Writing `raise N` raises work for CPU
//! N's thread (`Registration::wake()`), which `run` does; writing
//! `unregister` unregisters (the threads stop and run `cleanup`), and the
//! counts stay to be read.

use kernel::{
    cpu::{self, CpuId},
    debugfs::{Dir, File},
    fmt,
    prelude::*,
    smpboot::{Callbacks, Registration},
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        new_mutex, Arc, Mutex,
    },
    uaccess::UserSliceReader,
};

module! {
    type: IntreeTest,
    name: "smpboot_rs_test_intree",
    description: "smpboot_rs selftest: a Rust user of the in-tree smpboot",
    license: "GPL",
}

/// The calls of one CPU's thread.
struct Calls {
    setup: Atomic<u32>,
    park: Atomic<u32>,
    unpark: Atomic<u32>,
    run: Atomic<u32>,
    run_parked: Atomic<u32>,
    cleanup_online: Atomic<u32>,
    cleanup_offline: Atomic<u32>,
    wrong_cpu: Atomic<u32>,
    /// Work raised for the thread, not yet run.
    pending: Atomic<bool>,
    /// Between `park` and `unpark`; only the thread reads and writes it.
    parked: Atomic<bool>,
}

impl Calls {
    fn new() -> Self {
        Self {
            setup: Atomic::new(0),
            park: Atomic::new(0),
            unpark: Atomic::new(0),
            run: Atomic::new(0),
            run_parked: Atomic::new(0),
            cleanup_online: Atomic::new(0),
            cleanup_offline: Atomic::new(0),
            wrong_cpu: Atomic::new(0),
            pending: Atomic::new(false),
            parked: Atomic::new(false),
        }
    }
}

/// The calls of every CPU's thread, by CPU id.
struct Record(KVec<Calls>);

impl Record {
    fn new() -> Result<Arc<Self>> {
        let mut calls = KVec::with_capacity(cpu::nr_cpu_ids() as usize, GFP_KERNEL)?;
        for _ in CpuId::all() {
            calls.push(Calls::new(), GFP_KERNEL)?;
        }
        Ok(Arc::new(Self(calls), GFP_KERNEL)?)
    }

    fn calls(&self, cpu: CpuId) -> Option<&Calls> {
        self.0.get(cpu.as_u32() as usize)
    }

    /// Counts a call for `cpu`'s thread; `on_cpu`: it must run on `cpu`.
    fn count(&self, cpu: CpuId, on_cpu: bool, pick: impl Fn(&Calls) -> &Atomic<u32>) {
        if let Some(calls) = self.calls(cpu) {
            pick(calls).fetch_add(1, Relaxed);
            if on_cpu && CpuId::current() != cpu {
                calls.wrong_cpu.fetch_add(1, Relaxed);
            }
        }
    }

    fn set_parked(&self, cpu: CpuId, parked: bool) {
        if let Some(calls) = self.calls(cpu) {
            calls.parked.store(parked, Relaxed);
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (cpu, c) in CpuId::all().zip(self.0.iter()) {
            writeln!(
                f,
                "cpu={} setup={} park={} unpark={} run={} run_parked={} cleanup_online={} \
                 cleanup_offline={} wrong_cpu={}",
                cpu.as_u32(),
                c.setup.load(Relaxed),
                c.park.load(Relaxed),
                c.unpark.load(Relaxed),
                c.run.load(Relaxed),
                c.run_parked.load(Relaxed),
                c.cleanup_online.load(Relaxed),
                c.cleanup_offline.load(Relaxed),
                c.wrong_cpu.load(Relaxed),
            )?;
        }
        Ok(())
    }
}

/// The registration's callbacks: the work raised through the file, and the
/// hotplug steps.
struct Recorder(Arc<Record>);

impl Callbacks for Recorder {
    fn should_run(&self, cpu: CpuId) -> bool {
        self.0.calls(cpu).is_some_and(|c| c.pending.load(Acquire))
    }

    fn run(&self, cpu: CpuId) {
        if let Some(calls) = self.0.calls(cpu) {
            calls.pending.store(false, Relaxed);
            if calls.parked.load(Relaxed) {
                calls.run_parked.fetch_add(1, Relaxed);
            }
        }
        self.0.count(cpu, true, |c| &c.run);
    }

    fn setup(&self, cpu: CpuId) {
        self.0.count(cpu, true, |c| &c.setup);
    }

    fn park(&self, cpu: CpuId) {
        self.0.count(cpu, true, |c| &c.park);
        self.0.set_parked(cpu, true);
    }

    fn unpark(&self, cpu: CpuId) {
        self.0.set_parked(cpu, false);
        self.0.count(cpu, true, |c| &c.unpark);
    }

    fn cleanup(&self, cpu: CpuId, online: bool) {
        // The thread of an offline CPU stops wherever it runs.
        if online {
            self.0.count(cpu, true, |c| &c.cleanup_online);
        } else {
            self.0.count(cpu, false, |c| &c.cleanup_offline);
        }
    }
}

/// What the `calls` file reads and writes.
#[pin_data]
struct Control {
    record: Arc<Record>,
    /// Taken out (unregistered) by `unregister`.
    #[pin]
    threads: Mutex<Option<Registration<Recorder>>>,
}

impl Control {
    /// `raise N` or `unregister`, written to the file.
    fn command(&self, reader: &mut UserSliceReader) -> Result {
        let mut buf = [0u8; 24];
        let len = reader.len();
        let text = buf.get_mut(..len).ok_or(EINVAL)?;
        reader.read_slice(text)?;
        let command = core::str::from_utf8(text).map_err(|_| EINVAL)?.trim();
        if command == "unregister" {
            // Dropped after the mutex is released: stopping waits for the
            // threads' callbacks.
            let threads = self.threads.lock().take();
            drop(threads);
            return Ok(());
        }
        let cpu = command
            .strip_prefix("raise ")
            .and_then(|n| n.parse().ok())
            .and_then(CpuId::from_u32)
            .ok_or(EINVAL)?;
        let calls = self.record.calls(cpu).ok_or(EINVAL)?;
        let threads = self.threads.lock();
        let threads = threads.as_ref().ok_or(ENODEV)?;
        calls.pending.store(true, Release);
        threads.wake(cpu);
        Ok(())
    }
}

struct IntreeTest {
    // Dropped in this order: the file (and with it the registration), then
    // its directory.
    _calls: Pin<KBox<File<Control>>>,
    _dir: Dir,
}

impl kernel::Module for IntreeTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let record = Record::new()?;
        let threads = Registration::new(c"sbti/%u", Recorder(record.clone()))?;
        let dir = Dir::new(c"smpboot_rs_test_intree");
        let control = pin_init!(Control {
            record,
            threads <- new_mutex!(Some(threads)),
        });
        let calls = KBox::pin_init(
            dir.read_write_callback_file(
                c"calls",
                control,
                &|c: &Control, f| c.record.write(f),
                &|c: &Control, reader: &mut UserSliceReader| c.command(reader),
            ),
            GFP_KERNEL,
        )?;
        Ok(Self {
            _calls: calls,
            _dir: dir,
        })
    }
}

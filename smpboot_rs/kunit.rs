// SPDX-License-Identifier: GPL-2.0

//! KUnit tests: of the pure logic, what a registration's description must be
//! (ABI size, callbacks, thread name) and how sysfs input is read; and of a
//! hotplug state's failed add, rolled back with failing teardowns.
//!
//! They run when `smpboot_rs.ko` is loaded on a kernel with `CONFIG_KUNIT=y`
//! (7.x: `#[kunit_tests]` came in 6.15) and report in KTAP, in the kernel log
//! and in `/sys/kernel/debug/kunit/smpboot_rs/results`; the `kunit` selftest
//! relays them to `make check`.

#[kernel::macros::kunit_tests(smpboot_rs)]
mod tests {
    use crate::abi::{ThreadDesc, ThreadOps};
    use crate::callbacks::Request;
    use crate::compat::atomic::{Atomic, Relaxed};
    use crate::compat::cpu::CpuId;
    use crate::cpuhp::{Callbacks, OwnState, Stage};
    use crate::cpuid::OnlineCpus;
    use crate::kthread::CpuThreadName;
    use crate::seed::SmpHotplugThread;
    use crate::sysfs::input_text;
    use core::ptr::{null, null_mut};
    use kernel::ffi::{c_int, c_uint, c_void};
    use kernel::prelude::*;
    use kernel::str::CStr;
    use kernel::sync::Arc;

    extern "C" fn no_work(_ctx: *mut c_void, _cpu: c_uint) -> bool {
        false
    }

    extern "C" fn no_fn(_ctx: *mut c_void, _cpu: c_uint) {}

    static OPS: ThreadOps = ThreadOps {
        thread_should_run: no_work,
        thread_fn: no_fn,
        create: None,
        setup: None,
        cleanup: None,
        park: None,
        unpark: None,
        store: None,
        release: None,
    };

    /// A description as a user would give it, named `name`.
    fn desc(name: &CStr) -> ThreadDesc {
        ThreadDesc {
            size: core::mem::size_of::<ThreadDesc>(),
            owner: null_mut(),
            ops: &OPS,
            ctx: null_mut(),
            thread_comm: name.as_char_ptr(),
            selfparking: false,
        }
    }

    /// What `Request::from_desc` makes of `desc`.
    fn request(desc: &ThreadDesc) -> Result<Request> {
        // SAFETY: `desc` is a whole description; `OPS` is static and its
        // functions never touch `ctx`; `thread_comm` is null or a string
        // that outlives the call.
        unsafe { Request::from_desc(desc) }
    }

    #[test]
    fn thread_name_has_one_cpu_conversion() -> Result {
        let around = |format| CpuThreadName::new(format).map(|name| name.around_cpu());
        assert!(around(c"ksoftirqd/%u")? == (&b"ksoftirqd/"[..], &b""[..]));
        assert!(around(c"%u")? == (&b""[..], &b""[..]));
        assert!(around(c"a%u-b")? == (&b"a"[..], &b"-b"[..]));
        for refused in [
            c"ksoftirqd",
            c"a/%u/%u",
            c"a/%d",
            c"a/%d/%u",
            c"100%%/%u",
            c"%",
            c"",
        ] {
            assert!(CpuThreadName::new(refused).is_err());
        }
        Ok(())
    }

    #[test]
    fn description_is_checked() -> Result {
        let good = desc(c"k/%u-x");
        let req = request(&good)?;
        assert!(req.comm_parts.0.as_slice() == b"k/");
        assert!(req.comm_parts.1.as_slice() == b"-x");
        assert!(!req.selfparking);

        let selfparking = ThreadDesc {
            selfparking: true,
            ..desc(c"k/%u")
        };
        assert!(request(&selfparking)?.selfparking);

        // SAFETY: null is allowed.
        assert!(unsafe { Request::from_desc(null()) }.is_err());
        let other_abi = ThreadDesc {
            size: core::mem::size_of::<ThreadDesc>() - 1,
            ..desc(c"k/%u")
        };
        assert!(matches!(request(&other_abi), Err(e) if e == EINVAL));
        let no_ops = ThreadDesc {
            ops: null(),
            ..desc(c"k/%u")
        };
        assert!(matches!(request(&no_ops), Err(e) if e == EINVAL));
        let no_name = ThreadDesc {
            thread_comm: null(),
            ..desc(c"k/%u")
        };
        assert!(matches!(request(&no_name), Err(e) if e == EINVAL));
        // Names show in the `key=value` lines of the threads file.
        for refused in [c"k %u", c"k=%u", c"k\t%u", c"k/%d"] {
            assert!(matches!(request(&desc(refused)), Err(e) if e == EINVAL));
        }
        Ok(())
    }

    extern "C" fn seed_no_work(_cpu: c_uint) -> c_int {
        0
    }

    extern "C" fn seed_no_fn(_cpu: c_uint) {}

    /// A C API descriptor as a user would give it, named `name`.
    fn seed(name: &CStr) -> SmpHotplugThread {
        SmpHotplugThread {
            store: null_mut(),
            list: kernel::bindings::list_head {
                next: null_mut(),
                prev: null_mut(),
            },
            thread_should_run: Some(seed_no_work),
            thread_fn: Some(seed_no_fn),
            create: None,
            setup: None,
            cleanup: None,
            park: None,
            unpark: None,
            selfparking: false,
            thread_comm: name.as_char_ptr(),
        }
    }

    /// What `Request::from_seed` makes of `ht`.
    fn seed_request(ht: &SmpHotplugThread) -> Result<Request> {
        // SAFETY: `ht` is a whole descriptor whose functions do nothing;
        // `thread_comm` is null or a string that outlives the call.
        unsafe { Request::from_seed(ht, null_mut()) }
    }

    #[test]
    fn c_descriptor_is_checked() -> Result {
        let good = seed(c"k/%u-x");
        let req = seed_request(&good)?;
        assert!(req.comm_parts.0.as_slice() == b"k/");
        assert!(req.comm_parts.1.as_slice() == b"-x");
        assert!(!req.selfparking);
        // The descriptor identifies the registration.
        assert!(req
            .callbacks
            .has_ctx(core::ptr::from_ref(&good).cast_mut().cast()));

        let selfparking = SmpHotplugThread {
            selfparking: true,
            ..seed(c"k/%u")
        };
        assert!(seed_request(&selfparking)?.selfparking);

        // SAFETY: null is allowed.
        assert!(unsafe { Request::from_seed(null(), null_mut()) }.is_err());
        let no_should_run = SmpHotplugThread {
            thread_should_run: None,
            ..seed(c"k/%u")
        };
        assert!(matches!(seed_request(&no_should_run), Err(e) if e == EINVAL));
        let no_fn = SmpHotplugThread {
            thread_fn: None,
            ..seed(c"k/%u")
        };
        assert!(matches!(seed_request(&no_fn), Err(e) if e == EINVAL));
        let no_name = SmpHotplugThread {
            thread_comm: null(),
            ..seed(c"k/%u")
        };
        assert!(matches!(seed_request(&no_name), Err(e) if e == EINVAL));
        for refused in [c"k %u", c"k/%d", c"k/%u/%u"] {
            assert!(matches!(seed_request(&seed(refused)), Err(e) if e == EINVAL));
        }
        Ok(())
    }

    #[test]
    fn sysfs_input_is_trimmed_text() {
        assert_eq!(input_text(b"1\n"), Some("1"));
        assert_eq!(input_text(b"  stop \n"), Some("stop"));
        assert_eq!(input_text(b""), None);
        assert_eq!(input_text(b"\n"), None);
        assert_eq!(input_text(b"\xff\n"), None);
        assert_eq!(input_text(b" \t\n"), None);
        assert_eq!(input_text(b"\t1 2\r\n"), Some("1 2"));
        // Non-ASCII blanks are not blanks, as for kstrtoul().
        assert_eq!(input_text("\u{a0}1".as_bytes()), Some("\u{a0}1"));
    }

    /// Hotplug callbacks that fail the second startup and every teardown,
    /// counting the calls.
    struct FailingTeardowns {
        startups: Arc<Atomic<u32>>,
        teardowns: Arc<Atomic<u32>>,
    }

    impl Callbacks for FailingTeardowns {
        fn startup(&self, _cpu: CpuId) -> Result {
            if self.startups.fetch_add(1, Relaxed) == 1 {
                return Err(ENODEV);
            }
            Ok(())
        }

        fn teardown(&self, _cpu: CpuId) -> Result {
            self.teardowns.fetch_add(1, Relaxed);
            Err(EIO)
        }
    }

    /// The kernel rolls a failed add back with teardowns it `BUG()`s on if
    /// they fail: the add fails with the startup's error, and the one CPU
    /// started is torn down. (Without `cpuhp.rs` ignoring the error there,
    /// the test's thread dies in the `BUG()` holding the hotplug locks.)
    #[test]
    fn failed_add_rolls_back_despite_failing_teardowns() -> Result {
        let online = OnlineCpus::lock().iter().count();
        let startups = Arc::new(Atomic::new(0), GFP_KERNEL)?;
        let teardowns = Arc::new(Atomic::new(0), GFP_KERNEL)?;
        let state = OwnState::new(
            Stage::Online,
            c"smpboot_rs:kunit",
            FailingTeardowns {
                startups: startups.clone(),
                teardowns: teardowns.clone(),
            },
        );
        if online == 1 {
            // One startup, which does not fail: nothing to roll back.
            assert!(state.is_ok());
            return Ok(());
        }
        assert!(matches!(state, Err(e) if e == ENODEV));
        assert_eq!(startups.load(Relaxed), 2);
        assert_eq!(teardowns.load(Relaxed), 1);
        Ok(())
    }
}

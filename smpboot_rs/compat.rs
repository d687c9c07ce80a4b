// SPDX-License-Identifier: GPL-2.0

//! The one place that tells the kernel series apart.
//!
//! smpboot_rs is written against 7.x's `rust/kernel/`. On 6.12 (where
//! `smpboot_rs/kernel_series.mk` sets `--cfg smpboot_rs_backports`) this module
//! supplies, with 7.x's names and signatures, what 6.12 lacks or names
//! differently; on 7.x it re-exports the kernel's own. Code that uses an item
//! of 7.x that 6.12 lacks imports it from here (usually `use
//! compat::prelude::*;` for the extension traits) and reads the same on both.
//!
//! Like the other shared files, this one is compiled into each crate that
//! includes a file using it: as a module of the crate root, or of
//! `client.rs` in crates of the typed API (a file is a module only once).

/// Traits and functions to glob-import, so that 7.x's methods resolve on both
/// series.
pub(crate) mod prelude {
    #[cfg(smpboot_rs_backports)]
    pub(crate) use super::backports::{CStrExt, OpaqueExt, TaskExt};
    #[cfg(smpboot_rs_backports)]
    pub(crate) use kernel::init::pin_init_from_closure;

    #[cfg(not(smpboot_rs_backports))]
    pub(crate) use kernel::str::CStrExt;
    #[cfg(not(smpboot_rs_backports))]
    pub(crate) use pin_init::pin_init_from_closure;
}

/// `ARef`, in `kernel::sync::aref` on 7.x.
#[cfg(not(smpboot_rs_backports))]
pub(crate) use kernel::sync::aref::ARef;
/// `ARef`, in `kernel::types` on 6.12.
#[cfg(smpboot_rs_backports)]
pub(crate) use kernel::types::ARef;

/// `NotThreadSafe`, which 6.12 lacks: the same definition as 7.x's.
#[cfg(smpboot_rs_backports)]
#[allow(non_upper_case_globals)]
pub(crate) const NotThreadSafe: NotThreadSafe = core::marker::PhantomData;
/// `NotThreadSafe`, which 6.12 lacks: the same definition as 7.x's.
#[cfg(smpboot_rs_backports)]
pub(crate) type NotThreadSafe = core::marker::PhantomData<*mut ()>;
/// `NotThreadSafe`, a marker that makes a type neither `Send` nor `Sync`.
#[cfg(not(smpboot_rs_backports))]
pub(crate) use kernel::types::NotThreadSafe;

/// 7.x's `kernel::sync::atomic`: atomics of the kernel's memory model
/// (LKMM), the only one for Rust code in the kernel. 6.12 has none.
pub(crate) mod atomic {
    #[cfg(smpboot_rs_backports)]
    pub(crate) use super::backports::atomic::{Acquire, Atomic, Full, Relaxed, Release};
    #[cfg(not(smpboot_rs_backports))]
    pub(crate) use kernel::sync::atomic::{Acquire, Atomic, Full, Relaxed, Release};
}

/// 7.x's `kernel::cpumask::Cpumask`, which 6.12 lacks.
pub(crate) mod cpumask {
    #[cfg(smpboot_rs_backports)]
    pub(crate) use super::backports::cpumask::Cpumask;
    #[cfg(not(smpboot_rs_backports))]
    pub(crate) use kernel::cpumask::Cpumask;
}

/// 7.x's `kernel::cpu`: the kernel's CPU id and `nr_cpu_ids()`, which 6.12
/// lacks.
pub(crate) mod cpu {
    #[cfg(smpboot_rs_backports)]
    pub(crate) use super::backports::cpu::{nr_cpu_ids, CpuId};
    #[cfg(not(smpboot_rs_backports))]
    pub(crate) use kernel::cpu::{nr_cpu_ids, CpuId};
}

/// Makes a type with a `core::fmt::Display` printable with `{}` by `pr_*!`,
/// which on 7.x takes `kernel::fmt::Display` (on 6.12, `core`'s).
macro_rules! printable_via_core {
    ($type:ty) => {
        #[cfg(not(smpboot_rs_backports))]
        impl kernel::fmt::Display for $type {
            fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
                core::fmt::Display::fmt(self, f)
            }
        }
    };
}
pub(crate) use printable_via_core;

/// 7.x's `kernel::time`, as far as its hrtimers need it. 6.12 has none.
pub(crate) mod time {
    #[cfg(smpboot_rs_backports)]
    pub(crate) use super::backports::time::{ClockSource, Delta, Monotonic};
    #[cfg(not(smpboot_rs_backports))]
    pub(crate) use kernel::time::{ClockSource, Delta, Monotonic};
}

/// 7.x's `kernel::time::hrtimer`, which 6.12 lacks.
pub(crate) mod hrtimer {
    #[cfg(smpboot_rs_backports)]
    pub(crate) use super::backports::hrtimer::{
        impl_has_hr_timer, HasHrTimer, HrTimer, HrTimerCallback, HrTimerCallbackContext,
        HrTimerRestart, RelativePinnedHardMode,
    };
    #[cfg(not(smpboot_rs_backports))]
    pub(crate) use kernel::impl_has_hr_timer;
    #[cfg(not(smpboot_rs_backports))]
    pub(crate) use kernel::time::hrtimer::{
        HasHrTimer, HrTimer, HrTimerCallback, HrTimerCallbackContext, HrTimerRestart,
        RelativePinnedHardMode,
    };
}

/// `smp_call_function_single()`, whose `wait` is a `bool` since 6.13.
#[cfg(not(smpboot_rs_backports))]
pub(crate) use kernel::bindings::smp_call_function_single;

/// `smp_call_function_single()` with 6.13's `bool` `wait`.
///
/// # Safety
///
/// As for the C function: `func` may run on `cpuid` with `info` until the
/// call returns (with `wait`) or until `func` returns (without).
#[cfg(smpboot_rs_backports)]
pub(crate) unsafe fn smp_call_function_single(
    cpuid: kernel::ffi::c_int,
    func: kernel::bindings::smp_call_func_t,
    info: *mut kernel::ffi::c_void,
    wait: bool,
) -> kernel::ffi::c_int {
    // SAFETY: The caller's contract is the C function's.
    unsafe { kernel::bindings::smp_call_function_single(cpuid, func, info, wait.into()) }
}

/// The attribute argument of a `struct bin_attribute`'s `read` and `write`:
/// `const` since 6.16.
#[cfg(smpboot_rs_backports)]
pub(crate) type BinAttributeArg = *mut kernel::bindings::bin_attribute;
/// The attribute argument of a `struct bin_attribute`'s `read` and `write`:
/// `const` since 6.16.
#[cfg(not(smpboot_rs_backports))]
pub(crate) type BinAttributeArg = *const kernel::bindings::bin_attribute;

/// The `struct module` of the crate that expands it (its `THIS_MODULE`),
/// as a `*mut bindings::module`. 7.x keeps `THIS_MODULE` in the crate's
/// `kernel::ModuleMetadata`, 6.12 in a static at the crate root.
macro_rules! this_module_ptr {
    () => {{
        #[cfg(smpboot_rs_backports)]
        let module = crate::THIS_MODULE.as_ptr();
        #[cfg(not(smpboot_rs_backports))]
        let module = <crate::LocalModule as kernel::ModuleMetadata>::THIS_MODULE.as_ptr();
        module
    }};
}
pub(crate) use this_module_ptr;

#[cfg(smpboot_rs_backports)]
mod backports {
    use kernel::bindings;
    use kernel::str::CStr;
    use kernel::task::Task;
    use kernel::types::Opaque;

    /// 7.x's `CStr` is `core::ffi::CStr`: what it has and 6.12's lacks.
    pub(crate) trait CStrExt {
        /// The bytes before the terminating NUL (`core::ffi::CStr::to_bytes`).
        fn to_bytes(&self) -> &[u8];
    }

    impl CStrExt for CStr {
        fn to_bytes(&self) -> &[u8] {
            self.as_bytes()
        }
    }

    /// `Opaque::cast_into`, 6.12's `Opaque::raw_get`.
    pub(crate) trait OpaqueExt<T> {
        /// Gets the inner pointer from a pointer to the `Opaque`.
        fn cast_into(this: *const Self) -> *mut T;
    }

    impl<T> OpaqueExt<T> for Opaque<T> {
        fn cast_into(this: *const Self) -> *mut T {
            Opaque::raw_get(this)
        }
    }

    /// 7.x's `kernel::cpu`, as far as smpboot_rs uses it.
    pub(crate) mod cpu {
        use kernel::bindings;

        /// The number of CPU ids the kernel may use (`nr_cpu_ids`). Unlike
        /// 7.x's, only where `nr_cpu_ids` is a variable: neither
        /// `CONFIG_FORCE_NR_CPUS` nor `NR_CPUS` 1 (a constant there).
        #[inline]
        pub(crate) fn nr_cpu_ids() -> u32 {
            // SAFETY: `nr_cpu_ids` is set once during early boot, before any
            // module loads, and only read afterwards.
            unsafe { bindings::nr_cpu_ids }
        }

        /// A CPU id.
        ///
        /// # Invariants
        ///
        /// `self.0 < nr_cpu_ids()`.
        #[derive(Copy, Clone, PartialEq, Eq, Debug)]
        pub(crate) struct CpuId(u32);

        impl CpuId {
            /// A CPU id, not checked.
            ///
            /// # Safety
            ///
            /// `id < nr_cpu_ids()`.
            #[inline]
            pub(crate) unsafe fn from_u32_unchecked(id: u32) -> Self {
                debug_assert!(id < nr_cpu_ids());
                // INVARIANT: by the function's requirement.
                Self(id)
            }

            /// A CPU id, if `id < nr_cpu_ids()`.
            pub(crate) fn from_u32(id: u32) -> Option<Self> {
                // INVARIANT: checked here.
                (id < nr_cpu_ids()).then_some(Self(id))
            }

            /// The CPU number.
            #[inline]
            pub(crate) fn as_u32(&self) -> u32 {
                self.0
            }
        }

        impl From<CpuId> for u32 {
            fn from(id: CpuId) -> Self {
                id.as_u32()
            }
        }
    }

    /// 7.x's `kernel::sync::atomic`, as far as smpboot_rs uses it: 7.x's
    /// names, orderings and signatures over `core`'s atomics, each ordering
    /// as the `core` one of the same name, and `Full` as `SeqCst`. That is
    /// weaker than LKMM in two ways that smpboot_rs does not rely on: a
    /// `SeqCst` read-modify-write does not order other accesses as the
    /// `smp_mb()`s around a `Full` one do (only its acquire and release
    /// halves are used), and a `Relaxed` load does not order the accesses
    /// that depend on its value as `READ_ONCE()` does (no relaxed load of a
    /// pointer is dereferenced). As in LKMM, a failed `cmpxchg` orders
    /// nothing.
    pub(crate) mod atomic {
        use core::cell::UnsafeCell;
        use core::mem::{align_of, size_of};
        use core::sync::atomic::{
            AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize,
            Ordering as CoreOrdering,
        };

        /// The ordering of an operation: a type, so that an ordering the
        /// operation does not take fails to compile, as on 7.x.
        pub(crate) trait Ordering: Copy {
            /// The `core` ordering of the operation.
            const CORE: CoreOrdering;
        }
        /// An ordering a load takes.
        pub(crate) trait AcquireOrRelaxed: Ordering {}
        /// An ordering a store takes.
        pub(crate) trait ReleaseOrRelaxed: Ordering {}

        /// No ordering: `READ_ONCE()`, `WRITE_ONCE()`, `atomic_*_relaxed()`.
        #[derive(Clone, Copy)]
        pub(crate) struct Relaxed;
        /// Later accesses stay after the load: `smp_load_acquire()`.
        #[derive(Clone, Copy)]
        pub(crate) struct Acquire;
        /// Earlier accesses stay before the store: `smp_store_release()`.
        #[derive(Clone, Copy)]
        pub(crate) struct Release;
        /// Fully ordered, as between two `smp_mb()` (here `SeqCst`: see the
        /// module).
        #[derive(Clone, Copy)]
        pub(crate) struct Full;

        impl Ordering for Relaxed {
            const CORE: CoreOrdering = CoreOrdering::Relaxed;
        }
        impl Ordering for Acquire {
            const CORE: CoreOrdering = CoreOrdering::Acquire;
        }
        impl Ordering for Release {
            const CORE: CoreOrdering = CoreOrdering::Release;
        }
        impl Ordering for Full {
            const CORE: CoreOrdering = CoreOrdering::SeqCst;
        }
        impl AcquireOrRelaxed for Relaxed {}
        impl AcquireOrRelaxed for Acquire {}
        impl ReleaseOrRelaxed for Relaxed {}
        impl ReleaseOrRelaxed for Release {}

        /// A type with an atomic in `core` (7.x: `AtomicType`).
        ///
        /// # Safety
        ///
        /// [`Self::Core`] has the size, alignment and bit validity of `Self`,
        /// and its operations are atomic.
        pub(crate) unsafe trait AtomicType: Copy {
            /// `core`'s atomic of `Self`.
            type Core: Sync;
            /// `load`.
            fn load(a: &Self::Core, o: CoreOrdering) -> Self;
            /// `store`.
            fn store(a: &Self::Core, v: Self, o: CoreOrdering);
            /// `swap`.
            fn swap(a: &Self::Core, v: Self, o: CoreOrdering) -> Self;
            /// `compare_exchange`, with a relaxed failure.
            fn compare_exchange(
                a: &Self::Core,
                old: Self,
                new: Self,
                o: CoreOrdering,
            ) -> Result<Self, Self>;
        }

        /// A type whose atomic adds, wrapping (7.x: `AtomicAdd`).
        pub(crate) trait AtomicAdd: AtomicType {
            /// `fetch_add`.
            fn fetch_add(a: &Self::Core, v: Self, o: CoreOrdering) -> Self;
            /// `fetch_sub`.
            fn fetch_sub(a: &Self::Core, v: Self, o: CoreOrdering) -> Self;
        }

        /// Implements [`AtomicType`] for `$t` with `core`'s `$core`.
        macro_rules! atomic_type {
            ($t:ty, $core:ty $(, $param:ident)?) => {
                // SAFETY: `core` gives its atomic of a type the type's size
                // and bit validity; the alignments are asserted equal.
                unsafe impl$(<$param>)? AtomicType for $t {
                    type Core = $core;
                    #[inline(always)]
                    fn load(a: &Self::Core, o: CoreOrdering) -> Self {
                        a.load(o)
                    }
                    #[inline(always)]
                    fn store(a: &Self::Core, v: Self, o: CoreOrdering) {
                        a.store(v, o)
                    }
                    #[inline(always)]
                    fn swap(a: &Self::Core, v: Self, o: CoreOrdering) -> Self {
                        a.swap(v, o)
                    }
                    #[inline(always)]
                    fn compare_exchange(
                        a: &Self::Core,
                        old: Self,
                        new: Self,
                        o: CoreOrdering,
                    ) -> Result<Self, Self> {
                        a.compare_exchange(old, new, o, CoreOrdering::Relaxed)
                    }
                }
            };
        }

        /// Implements [`AtomicType`] and [`AtomicAdd`] for the integer `$t`.
        macro_rules! atomic_integer {
            ($t:ty, $core:ty) => {
                const _: () = assert!(
                    size_of::<$t>() == size_of::<$core>()
                        && align_of::<$t>() == align_of::<$core>()
                );
                atomic_type!($t, $core);
                impl AtomicAdd for $t {
                    #[inline(always)]
                    fn fetch_add(a: &Self::Core, v: Self, o: CoreOrdering) -> Self {
                        a.fetch_add(v, o)
                    }
                    #[inline(always)]
                    fn fetch_sub(a: &Self::Core, v: Self, o: CoreOrdering) -> Self {
                        a.fetch_sub(v, o)
                    }
                }
            };
        }

        const _: () = assert!(
            size_of::<bool>() == size_of::<AtomicBool>()
                && align_of::<bool>() == align_of::<AtomicBool>()
                && size_of::<*mut ()>() == size_of::<AtomicPtr<()>>()
                && align_of::<*mut ()>() == align_of::<AtomicPtr<()>>()
        );
        atomic_type!(bool, AtomicBool);
        atomic_type!(*mut T, AtomicPtr<T>, T);
        atomic_integer!(i32, AtomicI32);
        atomic_integer!(i64, AtomicI64);
        atomic_integer!(u32, AtomicU32);
        atomic_integer!(u64, AtomicU64);
        atomic_integer!(usize, AtomicUsize);

        /// A value of `T` that execution contexts share, accessed atomically.
        ///
        /// # Invariants
        ///
        /// `self.0` is accessed only as a `T::Core`, or through `&mut self`.
        #[repr(transparent)]
        pub(crate) struct Atomic<T: AtomicType>(UnsafeCell<T>);

        // SAFETY: Shared accesses are atomic (type invariant); what `T`
        // points to, if it is a pointer, is its users' to synchronise, as
        // for `core`'s atomics.
        unsafe impl<T: AtomicType> Sync for Atomic<T> {}
        // SAFETY: As above.
        unsafe impl<T: AtomicType> Send for Atomic<T> {}

        impl<T: AtomicType> Atomic<T> {
            /// An atomic holding `v`.
            pub(crate) const fn new(v: T) -> Self {
                Self(UnsafeCell::new(v))
            }

            #[inline(always)]
            fn core(&self) -> &T::Core {
                // SAFETY: `T::Core` has the layout and bit validity of `T`
                // (`AtomicType`), and every shared access is as a `T::Core`
                // (type invariant).
                unsafe { &*self.0.get().cast::<T::Core>() }
            }

            /// The value, through exclusive access.
            pub(crate) fn get_mut(&mut self) -> &mut T {
                self.0.get_mut()
            }

            /// Loads the value (`atomic_read()`, `READ_ONCE()`, with
            /// [`Acquire`] `smp_load_acquire()`).
            #[inline(always)]
            pub(crate) fn load<O: AcquireOrRelaxed>(&self, _: O) -> T {
                T::load(self.core(), O::CORE)
            }

            /// Stores `v` (`atomic_set()`, `WRITE_ONCE()`, with [`Release`]
            /// `smp_store_release()`).
            #[inline(always)]
            pub(crate) fn store<O: ReleaseOrRelaxed>(&self, v: T, _: O) {
                T::store(self.core(), v, O::CORE)
            }

            /// Stores `v` and returns the old value (`atomic_xchg()`).
            #[inline(always)]
            pub(crate) fn xchg<O: Ordering>(&self, v: T, _: O) -> T {
                T::swap(self.core(), v, O::CORE)
            }

            /// Stores `new` if the value is `old` (`atomic_try_cmpxchg()`):
            /// `Ok(old)` if it did, else `Err` with the value, ordered only
            /// on success.
            #[inline(always)]
            pub(crate) fn cmpxchg<O: Ordering>(&self, old: T, new: T, _: O) -> Result<T, T> {
                T::compare_exchange(self.core(), old, new, O::CORE)
            }
        }

        impl<T: AtomicAdd> Atomic<T> {
            /// Adds `v`, wrapping, and returns the old value
            /// (`atomic_fetch_add()`).
            #[inline(always)]
            pub(crate) fn fetch_add<O: Ordering>(&self, v: T, _: O) -> T {
                T::fetch_add(self.core(), v, O::CORE)
            }

            /// Subtracts `v`, wrapping, and returns the old value
            /// (`atomic_fetch_sub()`).
            #[inline(always)]
            pub(crate) fn fetch_sub<O: Ordering>(&self, v: T, _: O) -> T {
                T::fetch_sub(self.core(), v, O::CORE)
            }
        }
    }

    /// 7.x's `kernel::time`, as far as its hrtimers need it.
    pub(crate) mod time {
        use kernel::bindings;

        /// A clock that timers can use.
        ///
        /// # Safety
        ///
        /// `ktime_get()` returns a value in `0..=KTIME_MAX`.
        pub(crate) unsafe trait ClockSource {
            /// The clock's `clockid_t`.
            const ID: bindings::clockid_t;

            /// The clock's current time.
            fn ktime_get() -> bindings::ktime_t;
        }

        /// `CLOCK_MONOTONIC`.
        pub(crate) struct Monotonic;

        // SAFETY: `ktime_get()` returns a value in `0..=KTIME_MAX`.
        unsafe impl ClockSource for Monotonic {
            const ID: bindings::clockid_t = bindings::CLOCK_MONOTONIC as bindings::clockid_t;

            fn ktime_get() -> bindings::ktime_t {
                // SAFETY: `ktime_get()` may be called outside NMI context.
                unsafe { bindings::ktime_get() }
            }
        }

        /// A span of time, in nanoseconds.
        #[derive(Copy, Clone, PartialEq, PartialOrd, Eq, Ord, Debug)]
        pub(crate) struct Delta {
            value: i64,
        }

        impl Delta {
            /// A span of `nanos` nanoseconds.
            #[inline]
            pub(crate) const fn from_nanos(nanos: i64) -> Self {
                Self { value: nanos }
            }

            /// The span in nanoseconds.
            #[inline]
            pub(crate) const fn as_nanos(self) -> i64 {
                self.value
            }
        }
    }

    /// 7.x's `kernel::time::hrtimer`, as far as smpboot_rs uses it: a timer
    /// in a struct, relative, pinned to its CPU and expiring in hard IRQ
    /// context, whose callback gets a pinned shared reference
    /// (`Pin<&T>`).
    pub(crate) mod hrtimer {
        use super::time::{ClockSource, Delta};
        use core::marker::PhantomData;
        use core::pin::Pin;
        use core::ptr::NonNull;
        use kernel::bindings;
        use kernel::prelude::*;
        use kernel::types::Opaque;

        /// A timer backed by a C `struct hrtimer`.
        ///
        /// # Invariants
        ///
        /// `self.timer` is initialised by `hrtimer_setup()`.
        #[pin_data]
        #[repr(C)]
        pub(crate) struct HrTimer<T> {
            #[pin]
            timer: Opaque<bindings::hrtimer>,
            _t: PhantomData<T>,
        }

        // SAFETY: An `HrTimer` may be moved to and dropped on other threads.
        unsafe impl<T> Send for HrTimer<T> {}

        // SAFETY: Timer operations lock on the C side.
        unsafe impl<T> Sync for HrTimer<T> {}

        impl<T> HrTimer<T> {
            /// An initialiser of a timer, not armed.
            pub(crate) fn new() -> impl PinInit<Self>
            where
                T: HrTimerCallback,
                T: HasHrTimer<T>,
            {
                pin_init!(Self {
                    // INVARIANT: `hrtimer_setup()` initialises `timer` below.
                    timer <- Opaque::ffi_init(move |place: *mut bindings::hrtimer| {
                        // SAFETY: `place` is valid for writes and not armed.
                        unsafe {
                            hrtimer_setup(
                                place,
                                Some(T::Pointer::run),
                                <<T as HasHrTimer<T>>::TimerMode as HrTimerMode>::Clock::ID,
                                <T as HasHrTimer<T>>::TimerMode::C_MODE,
                            );
                        }
                    }),
                    _t: PhantomData,
                })
            }

            /// The `struct hrtimer` of the timer at `this`.
            ///
            /// # Safety
            ///
            /// `this` points to an allocation of at least the size of `Self`.
            unsafe fn raw_get(this: *const Self) -> *mut bindings::hrtimer {
                // SAFETY: The projection stays inside the allocation, by the
                // function's requirement.
                Opaque::raw_get(unsafe { core::ptr::addr_of!((*this).timer) })
            }
        }

        /// `hrtimer_setup()` of 6.13: `hrtimer_init()` and the callback.
        ///
        /// # Safety
        ///
        /// `timer` is valid for writes and not armed.
        unsafe fn hrtimer_setup(
            timer: *mut bindings::hrtimer,
            function: Option<
                unsafe extern "C" fn(*mut bindings::hrtimer) -> bindings::hrtimer_restart,
            >,
            clock_id: bindings::clockid_t,
            mode: bindings::hrtimer_mode,
        ) {
            // SAFETY: `timer` is valid for writes and not armed (the
            // caller's contract); `hrtimer_init()` initialises all of it,
            // `function` included, so the store after it is what
            // `hrtimer_setup()` does.
            unsafe {
                bindings::hrtimer_init(timer, clock_id, mode);
                (*timer).function = function;
            }
        }

        /// Implemented by structs that contain an [`HrTimer`]; use
        /// [`impl_has_hr_timer`].
        ///
        /// # Safety
        ///
        /// Both methods use the same `HrTimer<T>` field of `Self`.
        pub(crate) unsafe trait HasHrTimer<T> {
            /// How the timer is started.
            type TimerMode: HrTimerMode;

            /// The [`HrTimer`] within `Self`.
            ///
            /// # Safety
            ///
            /// `this` is a valid pointer.
            unsafe fn raw_get_timer(this: *const Self) -> *const HrTimer<T>;

            /// The `Self` that contains the [`HrTimer`] at `ptr`.
            ///
            /// # Safety
            ///
            /// `ptr` points to the [`HrTimer`] field of a `Self`.
            unsafe fn timer_container_of(ptr: *mut HrTimer<T>) -> *mut Self
            where
                Self: Sized;

            /// The `struct hrtimer` within `Self`.
            ///
            /// # Safety
            ///
            /// `this` is a valid pointer.
            unsafe fn c_timer_ptr(this: *const Self) -> *const bindings::hrtimer {
                // SAFETY: `this` is a valid pointer to a `Self`.
                let timer_ptr = unsafe { Self::raw_get_timer(this) };
                // SAFETY: `timer_ptr` points to an `HrTimer` in `Self`.
                unsafe { HrTimer::raw_get(timer_ptr) }
            }

            /// Starts the timer in the `Self` at `this`, restarting it if it
            /// is armed.
            ///
            /// # Safety
            ///
            /// - `this` points to a valid `Self`.
            /// - The `Self` lives until the timer fires or is cancelled.
            unsafe fn start(this: *const Self, expires: <Self::TimerMode as HrTimerMode>::Expires) {
                // SAFETY: `this` is a valid `Self`, by the function's
                // requirement.
                unsafe {
                    bindings::hrtimer_start_range_ns(
                        Self::c_timer_ptr(this).cast_mut(),
                        expires.as_nanos(),
                        0,
                        <Self::TimerMode as HrTimerMode>::C_MODE,
                    );
                }
            }
        }

        /// Implements [`HasHrTimer`] for a struct with an [`HrTimer`]
        /// field. Unlike 7.x's, it names `HasHrTimer` and `HrTimer` as the
        /// caller has them in scope: this module is at a different path in
        /// each crate, so `$crate` cannot name it.
        macro_rules! impl_has_hr_timer {
            (
                impl$({$($generics:tt)*})?
                    HasHrTimer<$timer_type:ty>
                    for $self:ty
                {
                    mode : $mode:ty,
                    field : self.$field:ident $(,)?
                }
                $($rest:tt)*
            ) => {
                // SAFETY: `raw_get_timer` compiles only if the field has the
                // right type, and both methods use it.
                unsafe impl$(<$($generics)*>)? HasHrTimer<$timer_type> for $self {
                    type TimerMode = $mode;

                    #[inline]
                    unsafe fn raw_get_timer(this: *const Self) -> *const HrTimer<$timer_type> {
                        // SAFETY: The caller promises that the pointer is
                        // not dangling.
                        unsafe { ::core::ptr::addr_of!((*this).$field) }
                    }

                    #[inline]
                    unsafe fn timer_container_of(ptr: *mut HrTimer<$timer_type>) -> *mut Self {
                        // SAFETY: The caller promises that `ptr` points to
                        // the field in a `$timer_type`.
                        unsafe { ::kernel::container_of!(ptr, $timer_type, $field).cast_mut() }
                    }
                }
            };
        }
        pub(crate) use impl_has_hr_timer;

        /// How a timer interprets its expiry.
        pub(crate) trait HrTimerMode {
            /// The C `hrtimer_mode`.
            const C_MODE: bindings::hrtimer_mode;
            /// The timer's clock.
            type Clock: ClockSource;
            /// The type of the expiry.
            type Expires: HrTimerExpires;
        }

        /// Relative expiry, pinned to the CPU, in hard IRQ context.
        pub(crate) struct RelativePinnedHardMode<C: ClockSource>(PhantomData<C>);

        impl<C: ClockSource> HrTimerMode for RelativePinnedHardMode<C> {
            const C_MODE: bindings::hrtimer_mode =
                bindings::hrtimer_mode_HRTIMER_MODE_REL_PINNED_HARD;
            type Clock = C;
            type Expires = Delta;
        }

        /// An expiry, as the `ktime_t` of the C functions.
        pub(crate) trait HrTimerExpires {
            /// The expiry in nanoseconds.
            fn as_nanos(&self) -> i64;
        }

        impl HrTimerExpires for Delta {
            #[inline]
            fn as_nanos(&self) -> i64 {
                Delta::as_nanos(*self)
            }
        }

        /// The C callback of a pointer type to a struct with a timer.
        pub(crate) trait RawHrTimerCallback {
            /// What [`HrTimerCallback::run`] gets.
            type CallbackTarget<'a>;

            /// The timer's C callback.
            ///
            /// # Safety
            ///
            /// Only the hrtimer subsystem calls it, with the timer that was
            /// started.
            unsafe extern "C" fn run(this: *mut bindings::hrtimer) -> bindings::hrtimer_restart;
        }

        /// Implemented by structs that are the target of a timer callback.
        pub(crate) trait HrTimerCallback {
            /// The pointer type whose [`RawHrTimerCallback::run`] runs.
            type Pointer<'a>: RawHrTimerCallback;

            /// Called when the timer expires.
            fn run(
                this: <Self::Pointer<'_> as RawHrTimerCallback>::CallbackTarget<'_>,
                ctx: HrTimerCallbackContext<'_, Self>,
            ) -> HrTimerRestart
            where
                Self: Sized,
                Self: HasHrTimer<Self>;
        }

        impl<'a, T> RawHrTimerCallback for Pin<&'a T>
        where
            T: HasHrTimer<T>,
            T: HrTimerCallback<Pointer<'a> = Self>,
        {
            type CallbackTarget<'b> = Self;

            unsafe extern "C" fn run(ptr: *mut bindings::hrtimer) -> bindings::hrtimer_restart {
                // `HrTimer` is `repr(C)`, its `struct hrtimer` first.
                let timer_ptr = ptr.cast::<HrTimer<T>>();
                // SAFETY: By the function's requirement, `timer_ptr` points
                // to the `HrTimer<T>` in a `T`.
                let receiver_ptr = unsafe { T::timer_container_of(timer_ptr) };
                // SAFETY: Whoever started the timer through a `Pin<&T>`
                // keeps the `T` alive until the timer is cancelled, which
                // waits for this callback; the `T` is pinned.
                let receiver = unsafe { Pin::new_unchecked(&*receiver_ptr) };
                // SAFETY: This is the timer's callback, and `timer_ptr`
                // points to the timer.
                let context = unsafe { HrTimerCallbackContext::from_raw(timer_ptr) };
                T::run(receiver, context).into_c()
            }
        }

        /// What a timer callback may do to its own timer.
        ///
        /// # Invariants
        ///
        /// It exists only within the callback of the live timer at
        /// `self.0`.
        pub(crate) struct HrTimerCallbackContext<'a, T: HasHrTimer<T>>(
            NonNull<HrTimer<T>>,
            PhantomData<&'a ()>,
        );

        impl<'a, T: HasHrTimer<T>> HrTimerCallbackContext<'a, T> {
            /// The context of the callback of `timer`.
            ///
            /// # Safety
            ///
            /// Called in [`RawHrTimerCallback::run`] with its valid timer;
            /// the result does not outlive that call.
            unsafe fn from_raw(timer: *mut HrTimer<T>) -> Self {
                // INVARIANT: By the function's requirement.
                // SAFETY: `timer` is valid, so not null.
                Self(unsafe { NonNull::new_unchecked(timer) }, PhantomData)
            }

            /// Forwards the timer's expiry by whole `duration`s until it is
            /// after the clock's current time; returns how many.
            pub(crate) fn forward_now(&mut self, duration: Delta) -> u64 {
                let now = <<T as HasHrTimer<T>>::TimerMode as HrTimerMode>::Clock::ktime_get();
                // SAFETY: We are in the timer's callback, where
                // `hrtimer_forward()` may be called, and `self.0` is the
                // live timer (type invariant).
                unsafe {
                    bindings::hrtimer_forward(
                        HrTimer::raw_get(self.0.as_ptr()),
                        now,
                        duration.as_nanos(),
                    )
                }
            }
        }

        /// Whether a timer restarts after its callback.
        #[derive(Copy, Clone, PartialEq, Eq, Debug)]
        #[repr(u32)]
        pub(crate) enum HrTimerRestart {
            /// The timer is not restarted.
            NoRestart = bindings::hrtimer_restart_HRTIMER_NORESTART,
            /// The timer is restarted.
            Restart = bindings::hrtimer_restart_HRTIMER_RESTART,
        }

        impl HrTimerRestart {
            fn into_c(self) -> bindings::hrtimer_restart {
                self as bindings::hrtimer_restart
            }
        }
    }

    /// 7.x's `kernel::cpumask`, as far as smpboot_rs uses it.
    pub(crate) mod cpumask {
        use kernel::bindings;
        use kernel::types::Opaque;

        /// A `struct cpumask`.
        ///
        /// # Invariants
        ///
        /// `self.0` is a valid `struct cpumask`, for as long as the
        /// reference the caller of [`Cpumask::from_raw`] chose.
        #[repr(transparent)]
        pub(crate) struct Cpumask(Opaque<bindings::cpumask>);

        impl Cpumask {
            /// The mask at `ptr`.
            ///
            /// # Safety
            ///
            /// `ptr` is valid for reading for `'a`.
            pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::cpumask) -> &'a Self {
                // INVARIANT: By the function's requirement.
                // SAFETY: `Cpumask` is a transparent wrapper of the C type,
                // valid for `'a` by the function's requirement.
                unsafe { &*ptr.cast() }
            }

            /// The raw `struct cpumask` pointer.
            pub(crate) fn as_raw(&self) -> *mut bindings::cpumask {
                core::ptr::from_ref(self).cast_mut().cast()
            }
        }
    }

    /// What 7.x's `Task` has and 6.12's lacks.
    pub(crate) trait TaskExt {
        /// A raw pointer to the current task (`Task::current_raw`).
        fn current_raw() -> *mut bindings::task_struct;
        /// A raw pointer to the task (`Task::as_ptr`).
        fn as_ptr(&self) -> *mut bindings::task_struct;
    }

    impl TaskExt for Task {
        #[inline]
        fn current_raw() -> *mut bindings::task_struct {
            // SAFETY: Getting the current pointer is always safe.
            unsafe { bindings::get_current() }
        }

        #[inline]
        fn as_ptr(&self) -> *mut bindings::task_struct {
            // CAST: `Task` is a transparent wrapper of an `Opaque` of the
            // `task_struct`, which has its layout.
            core::ptr::from_ref(self).cast_mut().cast()
        }
    }
}

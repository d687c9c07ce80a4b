// SPDX-License-Identifier: GPL-2.0

//! Dynamic CPU hotplug states.
//!
//! C header: [`include/linux/cpuhotplug.h`](srctree/include/linux/cpuhotplug.h)
//!
//! A dynamic state is allocated at run time in one of two ranges: 20 states
//! in the prepare stage and 40 in the online stage, for the whole kernel. A
//! [`MultiState`] is one of them in its multi-instance form, shared by any
//! number of [`Instance`]s, so users scale without using up states. An
//! [`OwnState`] is a state with one instance, both owned together.
//!
//! Contexts, from `kernel/cpu.c`:
//! - [`Stage::Prepare`]: callbacks run on the control CPU and may sleep. A
//!   failed startup is rolled back. Teardown runs after the CPU is dead and
//!   must not fail.
//! - [`Stage::Online`]: callbacks run in the CPU's hotplug thread, on that
//!   CPU, and may sleep. Startup and teardown may fail and are rolled back.
//!   Teardown runs after the scheduler has deactivated the CPU.
//!
//! Callbacks run with the hotplug lock held (for writing during a CPU's
//! hotplug, for reading while an instance is added with calls): they must
//! not take the hotplug read lock nor add or remove states or instances.
//!
//! The kernel keeps a state's callbacks and an instance's node, not a
//! reference to the code that owns them. A loadable module must drop its
//! states and instances before it is unloaded: one it leaks (with
//! `KBox::leak()`, as a built-in user may keep a state for good) outlives
//! the module's code and data.

#[cfg(not(MODULE))]
use crate::{
    bindings,
    container_of,
    cpu::CpuId,
    error::to_result,
    ffi::{
        c_int,
        c_uint, //
    },
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        new_mutex,
        Mutex, //
    },
    types::Opaque, //
};
use core::marker::PhantomData;
#[cfg(MODULE)]
use {
    super::compat::{
        atomic::{Atomic, Relaxed},
        cpu::CpuId,
    },
    kernel::{
        bindings, container_of,
        error::to_result,
        ffi::{c_int, c_uint},
        prelude::*,
        str::CStr,
        sync::{new_mutex, Mutex},
        types::Opaque,
    },
};

/// Where in the hotplug sequence a state sits.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Stage {
    /// `CPUHP_BP_PREPARE_DYN`: before the CPU runs, on the control CPU.
    Prepare,
    /// `CPUHP_AP_ONLINE_DYN`: on the CPU itself, once it runs tasks.
    Online,
}

/// The callbacks of the instances of a [`MultiState`].
///
/// # Examples
///
/// An add whose second startup fails is rolled back on the first CPU,
/// although its teardown fails too:
///
/// ```
/// use kernel::cpu::{self, CpuId};
/// use kernel::cpuhp::{Callbacks, OwnState, Stage};
/// use kernel::sync::atomic::{Atomic, Relaxed};
///
/// struct Refusing(Atomic<u32>);
///
/// impl Callbacks for Refusing {
///     fn startup(&self, _cpu: CpuId) -> Result {
///         if self.0.fetch_add(1, Relaxed) == 1 {
///             return Err(ENODEV);
///         }
///         Ok(())
///     }
///
///     fn teardown(&self, _cpu: CpuId) -> Result {
///         Err(EIO)
///     }
/// }
///
/// let online = {
///     let _hotplug = cpu::cpus_read_lock();
///     CpuId::all().filter(|cpu| cpu.is_online()).count()
/// };
/// let state = OwnState::new(Stage::Online, c"example:refused", Refusing(Atomic::new(0)));
/// // With one CPU online, the first startup is the only one.
/// assert!(matches!(state, Err(e) if e == ENODEV) || online == 1);
/// # Ok::<(), Error>(())
/// ```
pub trait Callbacks: Send + Sync + 'static {
    /// Called for `cpu` when it comes up through the state, and for every CPU
    /// at or past the state when the instance is added with
    /// [`Instance::add`].
    fn startup(&self, cpu: CpuId) -> Result;

    /// Called for `cpu` when it goes down through the state, and when a
    /// failure rolls a startup back.
    ///
    /// A teardown that undoes a startup, and one after a prepare-stage CPU
    /// is dead, must not fail: the kernel warns, or, while it rolls back a
    /// failed [`Instance::add`], where it would `BUG()`, the error is logged
    /// and ignored.
    fn teardown(&self, cpu: CpuId) -> Result;
}

/// A dynamic multi-instance hotplug state; removed on drop.
///
/// # Invariants
///
/// `state` was allocated by `__cpuhp_setup_state()` as a multi-instance state
/// whose callbacks are the trampolines for `T`.
pub struct MultiState<T: Callbacks> {
    state: c_int,
    _callbacks: PhantomData<fn(&T)>,
}

impl<T: Callbacks> MultiState<T> {
    /// Allocates a state of `stage`; `name` shows in
    /// `/sys/devices/system/cpu/hotplug/states`.
    pub fn new(stage: Stage, name: &'static CStr) -> Result<Self> {
        let first = match stage {
            Stage::Prepare => bindings::cpuhp_state_CPUHP_BP_PREPARE_DYN,
            Stage::Online => bindings::cpuhp_state_CPUHP_AP_ONLINE_DYN,
        };
        // SAFETY: A multi-instance state stores its callbacks in the
        // `multi` member of a union and calls them with the instance node,
        // which is how `cpuhp_setup_state_multi()` casts them too; the
        // trampolines have that signature. `name` is static. No instance
        // exists yet, so there is nothing to invoke.
        let state = unsafe {
            bindings::__cpuhp_setup_state(
                first,
                name.as_char_ptr(),
                false,
                Some(core::mem::transmute::<
                    unsafe extern "C" fn(c_uint, *mut bindings::hlist_node) -> c_int,
                    unsafe extern "C" fn(c_uint) -> c_int,
                >(startup_trampoline::<T>)),
                Some(core::mem::transmute::<
                    unsafe extern "C" fn(c_uint, *mut bindings::hlist_node) -> c_int,
                    unsafe extern "C" fn(c_uint) -> c_int,
                >(teardown_trampoline::<T>)),
                true,
            )
        };
        to_result(state)?;
        // INVARIANT: a dynamic setup returns the state number, > 0.
        Ok(Self {
            state,
            _callbacks: PhantomData,
        })
    }

    /// The state number, as listed in `/sys/devices/system/cpu/hotplug/states`.
    pub fn number(&self) -> i32 {
        self.state
    }
}

impl<T: Callbacks> Drop for MultiState<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `state` is ours. No instance is left
        // in it: instances are added through a `&'static` borrow of the
        // state, and a value borrowed for `'static` is never dropped but by
        // unsafe code that made the borrow, which removes the instances
        // first (`OwnState`, or a module's states at exit).
        unsafe { bindings::__cpuhp_remove_state(self.state, false) };
    }
}

/// An instance of a [`MultiState`]: its callbacks run with `target`.
///
/// # Examples
///
/// A state kept for good, as a built-in user keeps the one it allocates at
/// boot, with an instance that tasks add and remove as they please:
///
/// ```
/// use kernel::cpu::CpuId;
/// use kernel::cpuhp::{Callbacks, Instance, MultiState, Stage};
/// use kernel::sync::atomic::{Atomic, Relaxed};
/// use kernel::sync::{Arc, Completion};
/// use kernel::workqueue;
///
/// struct Quiet;
///
/// impl Callbacks for Quiet {
///     fn startup(&self, _cpu: CpuId) -> Result {
///         Ok(())
///     }
///
///     fn teardown(&self, _cpu: CpuId) -> Result {
///         Ok(())
///     }
/// }
///
/// // Kept for good: each run of this example uses up one of the 40
/// // dynamic states of the online stage.
/// let state: &'static MultiState<Quiet> = KBox::leak(KBox::new(
///     MultiState::new(Stage::Online, c"example:instances")?,
///     GFP_KERNEL,
/// )?);
/// let instance = Arc::new(KBox::pin_init(Instance::new(Quiet), GFP_KERNEL)?, GFP_KERNEL)?;
/// let removed = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
/// let added = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
/// // The adds and removals that took effect.
/// let counts = Arc::new((Atomic::new(0u32), Atomic::new(0u32)), GFP_KERNEL)?;
///
/// // One task removes while two add: each call acts on the instance as the
/// // others left it. The other tasks are long-running work.
/// let (remover, removed_all, removals) = (instance.clone(), removed.clone(), counts.clone());
/// workqueue::system_long().try_spawn(GFP_KERNEL, move || {
///     for _ in 0..20_000 {
///         if Pin::as_ref(&remover).remove() {
///             removals.1.fetch_add(1, Relaxed);
///         }
///     }
///     removed_all.complete_all();
/// })?;
/// let (adder, added_all, adds) = (instance.clone(), added.clone(), counts.clone());
/// workqueue::system_long().try_spawn(GFP_KERNEL, move || {
///     for _ in 0..20_000 {
///         // `EBUSY` while the instance is added.
///         if Pin::as_ref(&adder).add_without_calls(state).is_ok() {
///             adds.0.fetch_add(1, Relaxed);
///         }
///     }
///     added_all.complete_all();
/// })?;
/// for _ in 0..20_000 {
///     if Pin::as_ref(&instance).add_without_calls(state).is_ok() {
///         counts.0.fetch_add(1, Relaxed);
///     }
/// }
/// removed.wait_for_completion();
/// added.wait_for_completion();
///
/// if Pin::as_ref(&instance).remove() {
///     counts.1.fetch_add(1, Relaxed);
/// }
/// assert!(!instance.is_added());
/// // Each add took effect once, and was undone once.
/// assert_eq!(counts.0.load(Relaxed), counts.1.load(Relaxed));
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// While `added` is non-zero, `node` is linked in the instance list of the
/// state numbered `added`, whose trampolines are those for `T`; while it is
/// zero and `linking` is not held, `node` is not linked and is unhashed
/// (`pprev` null). `node` is linked and unlinked, and `added` changed, only
/// with `linking` held.
#[pin_data(PinnedDrop)]
pub struct Instance<T: Callbacks> {
    #[pin]
    node: Opaque<bindings::hlist_node>,
    /// Serializes adding and removing: the kernel requires it for a node.
    /// Taken before the hotplug lock.
    #[pin]
    linking: Mutex<()>,
    added: Atomic<i32>,
    target: T,
}

// SAFETY: The kernel links and unlinks the node under its hotplug state mutex
// and walks the list under it or under the hotplug write lock; this type
// only hands the node to the kernel, and resets it once unlinked, with
// `linking` held; the teardown trampoline reads it as its SAFETY comment
// says. `T: Send + Sync`.
unsafe impl<T: Callbacks> Send for Instance<T> {}
// SAFETY: As above; `&Instance` reaches `&T`, the atomic `added` and the
// mutex `linking`.
unsafe impl<T: Callbacks> Sync for Instance<T> {}

impl<T: Callbacks> Instance<T> {
    /// An instance, not yet added, whose callbacks run with `target`.
    pub fn new(target: T) -> impl PinInit<Self> {
        pin_init!(Self {
            node: Opaque::new(UNHASHED),
            linking <- new_mutex!(()),
            added: Atomic::new(0),
            target,
        })
    }

    /// The callbacks' target.
    pub fn target(&self) -> &T {
        &self.target
    }

    /// Whether the instance is added to a state: not yet while
    /// [`Self::add`] calls [`Callbacks::startup`].
    pub fn is_added(&self) -> bool {
        self.added.load(Relaxed) != 0
    }

    /// Adds the instance to `state`, calling [`Callbacks::startup`] for every
    /// CPU at or past the state, under the hotplug read lock. If one fails,
    /// the kernel tears down the CPUs done so far, the instance is not added
    /// and the error is returned. An instance is added to one state only:
    /// `EBUSY` if it is added already. Any task may add and remove an
    /// instance, one at a time; no callback of its state may.
    pub fn add(self: Pin<&Self>, state: &'static MultiState<T>) -> Result {
        self.link(state, true)
    }

    /// Adds the instance to `state` without calling [`Callbacks::startup`]:
    /// the callbacks run from the next CPU that passes the state on. The
    /// caller brings the CPUs already at or past it up to date itself, and
    /// copes with a CPU that changes state before it takes the hotplug lock
    /// to do so (whose callbacks then run already). The calls [`Self::add`]
    /// makes run under the hotplug state mutex, and an online-stage state's
    /// each in the CPU's hotplug thread, which the adding task wakes and
    /// waits for in turn.
    pub fn add_without_calls(self: Pin<&Self>, state: &'static MultiState<T>) -> Result {
        self.link(state, false)
    }

    fn link(self: Pin<&Self>, state: &'static MultiState<T>, invoke: bool) -> Result {
        let _linking = self.linking.lock();
        if self.added.load(Relaxed) != 0 {
            return Err(EBUSY);
        }
        // SAFETY: `node` is pinned and not linked: `added` is 0 and
        // `linking` is held (it is unhashed too, which the teardown
        // trampoline relies on). `PinnedDrop` unlinks it before it goes
        // away, and `state` is never dropped (`'static`).
        to_result(unsafe {
            bindings::__cpuhp_state_add_instance(state.state, self.node.get(), invoke)
        })?;
        // INVARIANT: linked in `state`, under `linking`.
        self.added.store(state.state, Relaxed);
        Ok(())
    }

    /// Removes the instance from its state, if added, without calling
    /// [`Callbacks::teardown`]; afterwards no callback runs for it. Returns
    /// whether it was added.
    pub fn remove(self: Pin<&Self>) -> bool {
        let _linking = self.linking.lock();
        let state = self.added.load(Relaxed);
        if state != 0 {
            // INVARIANT: about to be unlinked, under `linking`.
            self.added.store(0, Relaxed);
            // SAFETY: By the type invariant `node` was linked in `state`, and
            // `linking` is held. The kernel unlinks it under its state mutex,
            // after which no callback can reach it.
            unsafe { bindings::__cpuhp_state_remove_instance(state, self.node.get(), false) };
            // INVARIANT: unhashed again (`hlist_del()` poisons `pprev`).
            // SAFETY: Unlinked, and `linking` is held: nothing else
            // reaches the node.
            unsafe { self.node.get().write(UNHASHED) };
        }
        state != 0
    }
}

#[pinned_drop]
impl<T: Callbacks> PinnedDrop for Instance<T> {
    fn drop(self: Pin<&mut Self>) {
        let _ = self.as_ref().remove();
    }
}

/// A dynamic hotplug state of one's own, with one instance running `T`, for
/// callbacks not shared with other users; on drop the instance is removed
/// (without teardown calls), then the state.
///
/// # Examples
///
/// Counting the CPUs at or past a state of the online stage:
///
/// ```
/// use kernel::cpu::CpuId;
/// use kernel::cpuhp::{Callbacks, OwnState, Stage};
/// use kernel::sync::atomic::{Atomic, Relaxed};
///
/// struct CpusUp(Atomic<u32>);
///
/// impl Callbacks for CpusUp {
///     fn startup(&self, _cpu: CpuId) -> Result {
///         self.0.fetch_add(1, Relaxed);
///         Ok(())
///     }
///
///     fn teardown(&self, _cpu: CpuId) -> Result {
///         self.0.fetch_sub(1, Relaxed);
///         Ok(())
///     }
/// }
///
/// // `startup()` has run for every online CPU when `new` returns.
/// let state = OwnState::new(Stage::Online, c"example:up", CpusUp(Atomic::new(0)))?;
/// let online = CpuId::all().filter(|cpu| cpu.is_online()).count();
/// // No CPU came up or went down meanwhile (no hotplug runs here).
/// assert_eq!(state.target().0.load(Relaxed) as usize, online);
/// // Removed, without `teardown()` calls.
/// drop(state);
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `instance` is added to `*state` or not added at all; `state` is boxed, so
/// it does not move, and it is dropped after `instance` is removed.
pub struct OwnState<T: Callbacks> {
    // Dropped in this order: the instance (removed), then the state.
    instance: Pin<KBox<Instance<T>>>,
    state: KBox<MultiState<T>>,
}

impl<T: Callbacks> OwnState<T> {
    /// Allocates a state of `stage` named `name` and adds an instance
    /// running `target`: [`Callbacks::startup`] runs for every CPU at or
    /// past the state, under the hotplug read lock. Must not be called from
    /// a hotplug callback.
    pub fn new(stage: Stage, name: &'static CStr, target: T) -> Result<Self> {
        let state = KBox::new(MultiState::new(stage, name)?, GFP_KERNEL)?;
        let instance = KBox::pin_init(Instance::new(target), GFP_KERNEL)?;
        // SAFETY: The state is boxed and lives as long as `Self`, which drops
        // the instance, unlinking it, before the state (field order and the
        // type invariant); the instance never reaches it after that.
        let forever: &'static MultiState<T> =
            unsafe { &*core::ptr::from_ref::<MultiState<T>>(&state) };
        instance.as_ref().add(forever)?;
        // INVARIANT: added to `*state`, both boxed.
        Ok(Self { instance, state })
    }

    /// The callbacks' target.
    pub fn target(&self) -> &T {
        self.instance.target()
    }

    /// The state number, as listed in `/sys/devices/system/cpu/hotplug/states`.
    pub fn number(&self) -> i32 {
        self.state.number()
    }
}

/// A node in no list, as `INIT_HLIST_NODE()` leaves it.
const UNHASHED: bindings::hlist_node = bindings::hlist_node {
    next: core::ptr::null_mut(),
    pprev: core::ptr::null_mut(),
};

/// Finds the instance of a node, and the CPU id.
///
/// # Safety
///
/// `node` is the `node` of an `Instance<T>` added to the calling state, or
/// being added to it with calls (the kernel calls back before it links the
/// node), which stays alive for `'a`.
unsafe fn instance<'a, T: Callbacks>(
    cpu: c_uint,
    node: *mut bindings::hlist_node,
) -> Option<(&'a T, CpuId)> {
    // SAFETY: By the function's requirement, `node` is inside a live
    // `Instance<T>` (alive while linked, and while `add` runs); `Opaque` is
    // transparent.
    let inst = unsafe {
        &*container_of!(
            node.cast::<Opaque<bindings::hlist_node>>(),
            Instance<T>,
            node
        )
    };
    Some((&inst.target, CpuId::from_u32(cpu)?))
}

/// # Safety
///
/// `node` is the node of an `Instance<T>` added to the calling state, or being
/// added to it with calls.
unsafe extern "C" fn startup_trampoline<T: Callbacks>(
    cpu: c_uint,
    node: *mut bindings::hlist_node,
) -> c_int {
    // SAFETY: The kernel passes the nodes of the state's instances, or the
    // node being added, which are all `Instance<T>` (type invariant of
    // `MultiState`).
    match unsafe { instance::<T>(cpu, node) } {
        Some((target, cpu)) => match target.startup(cpu) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        },
        None => EINVAL.to_errno(),
    }
}

/// # Safety
///
/// As for `startup_trampoline`.
unsafe extern "C" fn teardown_trampoline<T: Callbacks>(
    cpu: c_uint,
    node: *mut bindings::hlist_node,
) -> c_int {
    // SAFETY: By the function's requirement `node` is valid. `pprev` is
    // written only by `hlist_add_head()` and `hlist_del()` of this node or a
    // neighbour, under the hotplug state mutex (which every add and remove
    // takes, and an add holds while its calls run, also those it waits for
    // in a CPU's hotplug thread), and by `Instance` with `linking` held while
    // the node is unreachable. A CPU's hotplug calls back under the hotplug
    // write lock, which excludes all of them.
    let rolling_back_add = unsafe { (*node).pprev }.is_null();
    // SAFETY: As for `startup_trampoline`.
    let torn_down = match unsafe { instance::<T>(cpu, node) } {
        Some((target, cpu)) => target.teardown(cpu),
        None => Err(EINVAL),
    };
    match torn_down {
        Ok(()) => 0,
        // Instances are removed, and states removed, without calls, so only
        // a CPU's hotplug tears a linked node down. An unlinked one is in
        // the rollback of the `add` that would link it (with `linking` held,
        // no other add of it runs), where the kernel `BUG()`s on an error.
        // (`added` cannot tell: it is 0 while `remove` unlinks the node.)
        Err(e) if rolling_back_add => {
            pr_warn!("cpuhp: teardown of CPU {cpu} failed ({e:?}) rolling back an add; ignored\n");
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// The CPU hotplug lock held for reading: no CPU changes state while it
/// lives. Never take it in a hotplug callback (the lock is held for writing
/// there).
#[cfg(MODULE)]
pub(crate) struct CpusReadGuard(PhantomData<*mut ()>);

#[cfg(MODULE)]
impl CpusReadGuard {
    /// Takes `cpus_read_lock()`.
    #[allow(clippy::new_without_default)]
    pub(crate) fn new() -> Self {
        // SAFETY: Balanced by `Drop`; may sleep, as callers can.
        unsafe { bindings::cpus_read_lock() };
        Self(PhantomData)
    }
}

#[cfg(MODULE)]
impl Drop for CpusReadGuard {
    fn drop(&mut self) {
        // SAFETY: Balances `new`.
        unsafe { bindings::cpus_read_unlock() };
    }
}

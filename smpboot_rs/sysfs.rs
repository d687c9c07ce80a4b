// SPDX-License-Identifier: GPL-2.0

//! Text files under `/sys/kernel/<dir>/` whose reads and writes are handled
//! in Rust.
//!
//! C header: [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h)
//!
//! Files are sysfs binary attributes of size 0, so a file is not limited to
//! one page: it is rendered whole on each `read()` and served from the
//! reader's offset. kernfs caps a `read()` at a page, so a longer file is
//! read across renderings (no per-open snapshot: sysfs gives binary
//! attributes no open or release hook). A write is taken whole, from offset 0, and at most
//! [`MAX_WRITE`] bytes long; anything else is rejected with `-EINVAL` before
//! [`FileOps::store`] sees it, so an overlong write changes nothing.

use super::compat::prelude::*;
use super::compat::BinAttributeArg;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::error::Error;
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::types::Opaque;

/// The longest write a file accepts, in bytes.
pub(crate) const MAX_WRITE: usize = 64;

/// Read-only for everyone.
pub(crate) const MODE_READ: u16 = 0o444;
/// Readable by everyone, writable by root only.
pub(crate) const MODE_READ_WRITE: u16 = 0o644;
/// Writable by root only.
pub(crate) const MODE_WRITE: u16 = 0o200;

/// A directory `/sys/kernel/<name>/`; removed, with what is left in it, on drop.
///
/// # Invariants
///
/// `kobj` is a kobject we hold a reference on.
pub(crate) struct Dir {
    kobj: NonNull<bindings::kobject>,
}

// SAFETY: A kobject reference may be used and dropped from any task.
unsafe impl Send for Dir {}
// SAFETY: `&Dir` only gives out the pointer to take more references.
unsafe impl Sync for Dir {}

impl Dir {
    /// Creates `/sys/kernel/<name>/`.
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: `kernel_kobj` is set up at boot; `name` is NUL-terminated
        // and copied by the kernel.
        let kobj =
            unsafe { bindings::kobject_create_and_add(name.as_char_ptr(), bindings::kernel_kobj) };
        // INVARIANT: a non-null result carries one reference for us.
        Ok(Self {
            kobj: NonNull::new(kobj).ok_or(ENOMEM)?,
        })
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold a reference.
        unsafe { bindings::kobject_put(self.kobj.as_ptr()) };
    }
}

/// The behaviour of a [`File`].
pub(crate) trait FileOps: Send + Sync + 'static {
    /// Renders the whole file into `out`.
    fn show(&self, out: &mut KVec<u8>) -> Result;

    /// Takes a write of `input` (without length checks left to do). Files
    /// that are not writable never get here.
    fn store(&self, input: &[u8]) -> Result {
        let _ = input;
        Err(EINVAL)
    }
}

/// The lock class of every file's active references (lockdep needs a key
/// in static memory); `attribute.key` exists with lockdep only.
#[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
struct StaticKey(Opaque<bindings::lock_class_key>);
// SAFETY: The key is only handed to lockdep, which does its own locking.
#[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
unsafe impl Sync for StaticKey {}
#[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
static FILE_KEY: StaticKey = StaticKey(Opaque::new(
    // SAFETY: An all-zero `lock_class_key` is its unregistered static state.
    unsafe { core::mem::zeroed() },
));

/// A file in a [`Dir`]; removed on drop, after which no callback runs.
///
/// # Invariants
///
/// `attr` is a bin attribute created in `kobj`, on which we hold a
/// reference, whose callbacks are the trampolines for `T`.
#[pin_data(PinnedDrop)]
pub(crate) struct File<T: FileOps> {
    #[pin]
    attr: Opaque<bindings::bin_attribute>,
    kobj: NonNull<bindings::kobject>,
    ops: T,
}

// SAFETY: The kobject and attribute are used by the kernel from any task, and
// `T: Send + Sync`.
unsafe impl<T: FileOps> Send for File<T> {}
// SAFETY: As above; `&File` only reaches `&T`.
unsafe impl<T: FileOps> Sync for File<T> {}

impl<T: FileOps> File<T> {
    /// Creates the file `name` with `mode` in `dir`.
    pub(crate) fn new<'a>(
        dir: &'a Dir,
        name: &'static CStr,
        mode: u16,
        ops: T,
    ) -> impl PinInit<Self, Error> + 'a {
        let init = move |slot: *mut Self| {
            // SAFETY: `slot` is valid for writes and pinned (the contract of
            // `pin_init_from_closure`).
            unsafe {
                core::ptr::addr_of_mut!((*slot).ops).write(ops);
                core::ptr::addr_of_mut!((*slot).kobj).write(dir.kobj);
                let attr = Opaque::cast_into(core::ptr::addr_of!((*slot).attr));
                attr.write(core::mem::zeroed());
                (*attr).attr.name = name.as_char_ptr();
                (*attr).attr.mode = mode;
                #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
                {
                    (*attr).attr.key = FILE_KEY.0.get();
                }
                (*attr).read = Some(read_trampoline::<T>);
                if mode & 0o222 != 0 {
                    (*attr).write = Some(write_trampoline::<T>);
                }
                bindings::kobject_get(dir.kobj.as_ptr());
                let ret = bindings::sysfs_create_bin_file(dir.kobj.as_ptr(), attr);
                if ret != 0 {
                    bindings::kobject_put(dir.kobj.as_ptr());
                    core::ptr::drop_in_place(core::ptr::addr_of_mut!((*slot).ops));
                    return Err(Error::from_errno(ret));
                }
            }
            // INVARIANT: the attribute is created and we hold a reference.
            Ok(())
        };
        // SAFETY: On success every field is initialised; on failure nothing
        // is left behind (the reference is dropped, `ops` dropped).
        unsafe { pin_init_from_closure(init) }
    }
}

#[pinned_drop]
impl<T: FileOps> PinnedDrop for File<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the attribute exists in `kobj`.
        // Removal waits for callbacks in progress and blocks new ones.
        unsafe {
            bindings::sysfs_remove_bin_file(self.kobj.as_ptr(), self.attr.get());
            bindings::kobject_put(self.kobj.as_ptr());
        }
    }
}

/// # Safety
///
/// `attr` is the `attr` of a live `File<T>`.
unsafe fn file<'a, T: FileOps>(attr: *const bindings::bin_attribute) -> &'a File<T> {
    // SAFETY: By the requirement `attr` is inside a `File<T>`, which is not
    // dropped while a callback runs (removal waits for them).
    unsafe {
        &*kernel::container_of!(
            attr.cast_mut().cast::<Opaque<bindings::bin_attribute>>(),
            File<T>,
            attr
        )
    }
}

/// # Safety
///
/// `attr` is the attribute of a live `File<T>`; `buf` holds `count` bytes.
unsafe extern "C" fn read_trampoline<T: FileOps>(
    _file: *mut bindings::file,
    _kobj: *mut bindings::kobject,
    attr: BinAttributeArg,
    buf: *mut c_char,
    off: bindings::loff_t,
    count: usize,
) -> isize {
    // SAFETY: The kernel calls this with the attribute of a created `File<T>`.
    let file = unsafe { file::<T>(attr) };
    let mut out = KVec::new();
    if let Err(e) = file.ops.show(&mut out) {
        return e.to_errno() as isize;
    }
    let Ok(off) = usize::try_from(off) else {
        return EINVAL.to_errno() as isize;
    };
    let Some(rest) = out.get(off..) else {
        return 0;
    };
    let n = rest.len().min(count);
    // SAFETY: The kernel gives a buffer of `count` bytes; `n <= count`.
    unsafe { core::ptr::copy_nonoverlapping(rest.as_ptr(), buf.cast::<u8>(), n) };
    n as isize
}

/// # Safety
///
/// `attr` is the attribute of a live `File<T>`; `buf` holds `count` bytes.
unsafe extern "C" fn write_trampoline<T: FileOps>(
    _file: *mut bindings::file,
    _kobj: *mut bindings::kobject,
    attr: BinAttributeArg,
    buf: *mut c_char,
    off: bindings::loff_t,
    count: usize,
) -> isize {
    // A long write reaches us in page-sized pieces: refuse it whole.
    if off != 0 || count > MAX_WRITE {
        return EINVAL.to_errno() as isize;
    }
    // SAFETY: The kernel calls this with the attribute of a created `File<T>`
    // and a buffer of `count` bytes.
    let (file, input) = unsafe {
        (
            file::<T>(attr),
            core::slice::from_raw_parts(buf.cast::<u8>(), count),
        )
    };
    match file.ops.store(input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// Parses a whole write as text: surrounding ASCII blanks (the trailing
/// newline of `echo` among them) are allowed; `None` for blank or non-UTF-8
/// input. ASCII blanks only, the only ones `kstrto*()` knows: `str::trim()`
/// would bring in core's Unicode whitespace tables (336 bytes of the
/// sample's release text).
pub(crate) fn input_text(input: &[u8]) -> Option<&str> {
    let start = input.iter().position(|b| !b.is_ascii_whitespace())?;
    let end = input.iter().rposition(|b| !b.is_ascii_whitespace())?;
    core::str::from_utf8(input.get(start..=end)?).ok()
}

/// A `core::fmt::Write` sink that appends to a file's rendering.
pub(crate) struct Text<'a>(pub &'a mut KVec<u8>);

impl core::fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| core::fmt::Error)
    }
}

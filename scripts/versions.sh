# SPDX-License-Identifier: GPL-2.0
# The one place where smpboot_rs pins its toolchain and test-kernel source.
#
# Sourced by scripts/setup and scripts/kernel-build. The kernel tree's Rust
# metadata is locked to the rustc that built it, and bindgen/clang shape the
# generated bindings, so the exact versions in use are part of the kernel
# cache key.

# The kernel series smpboot_rs is built and tested on, in the order `make
# check` runs them. KVER=SERIES (make variable or environment) picks one;
# without it `make check` runs on each, every other entry point on the first.
SMPBOOT_RS_KVERS="6.12 7.3"

# smpboot_rs_kver SERIES: set what differs between the kernel series:
#
# SMPBOOT_RS_DEB_SERIES: Debian bookworm packages that shape the build
# output, one series a line: "PACKAGE[,PACKAGE...]=VERSION-GLOB". The
# packages of a line come from one Debian source and are installed at one
# version. scripts/setup keeps an installed version that matches the glob and
# otherwise installs the newest one the archive has, so a security update that
# replaces a version does not stop anyone; it stops and asks for an edit here
# only when the archive has no version of the series left. A glob without a
# wildcard is an exact pin. To reproduce an old run, pin in the environment
# instead of editing:
#   SMPBOOT_RS_PINS="rustc-web=1.96.0+dfsg1-1~deb12u2 linux-source-6.12=6.12.117-1~deb12u1"
# pins the line of each package named (its whole line, at that version).
#
# SMPBOOT_RS_KERNEL_PKG: the Debian package of the kernel source tarball.
# Bookworm's own (6.12) is one of the series and installed like them. A newer
# one is SMPBOOT_RS_FETCHED_SERIES ("PACKAGE=VERSION-GLOB", pinned the same
# way) from SMPBOOT_RS_KERNEL_SUITE, a suite of the Debian mirror the system
# already uses: fetched into the cache with an apt configuration of its own
# and never installed, the system's apt sources untouched.
#
# LLVM: kbuild's LLVM= for the series (7.3 needs LLVM >= 17). 7.3's is the
# LLVM of Debian's rustc (22), so that its kernels can inline the C helpers
# into Rust (CONFIG_RUST_INLINE_HELPERS, in 7.3.config), which needs clang
# and rustc on one LLVM major: without it every kernel::sync::atomic
# operation is a call (Documentation/benchmarks.rst).
# SMPBOOT_RS_LIBCLANG_PATH: the libclang its bindgen loads. With two LLVMs
# installed, bindgen would load the newest one and the 6.12 build would fail
# ("libclang version 22 does not match Clang's 14").
# SMPBOOT_RS_BINDGEN_VERSION: bindgen-cli from crates.io, `cargo install
# --locked` into a root of its own per version (6.12's keeps the usual one).
smpboot_rs_kver() {
	local rust="rustc-web,rust-web-src,rust-web-clippy,rustfmt-web=1.96.*"
	SMPBOOT_RS_KVER=$1
	case $1 in
	6.12)
		SMPBOOT_RS_DEB_SERIES="
$rust
clang,lld,llvm,libclang-dev=1:14.*
linux-source-6.12=6.12.*
"
		SMPBOOT_RS_KERNEL_PKG=linux-source-6.12
		SMPBOOT_RS_FETCHED_SERIES=
		SMPBOOT_RS_KERNEL_SUITE=
		SMPBOOT_RS_LLVM=1
		SMPBOOT_RS_LIBCLANG_PATH=/usr/lib/llvm-14/lib
		SMPBOOT_RS_BINDGEN_VERSION=0.69.5
		SMPBOOT_RS_BINDGEN="${CARGO_HOME:-$HOME/.cargo}/bin/bindgen"
		;;
	7.3)
		SMPBOOT_RS_DEB_SERIES="
$rust
clang-22,lld-22,llvm-22=1:22.*
"
		SMPBOOT_RS_KERNEL_PKG=linux-source-7.3
		SMPBOOT_RS_FETCHED_SERIES="linux-source-7.3=7.3.*"
		SMPBOOT_RS_KERNEL_SUITE=trixie-backports
		SMPBOOT_RS_LLVM=-22
		SMPBOOT_RS_LIBCLANG_PATH=/usr/lib/llvm-22/lib
		SMPBOOT_RS_BINDGEN_VERSION=0.72.1
		SMPBOOT_RS_BINDGEN="$SMPBOOT_RS_CACHE/tools/bindgen-$SMPBOOT_RS_BINDGEN_VERSION/bin/bindgen"
		;;
	*)
		echo "smpboot_rs: unknown kernel series KVER=$1 (have: $SMPBOOT_RS_KVERS)" >&2
		return 1
		;;
	esac
	export LIBCLANG_PATH=$SMPBOOT_RS_LIBCLANG_PATH
}

# Build and VM helpers whose version does not change what is built; taken as
# Debian ships them (pinning these would only break on every security update).
SMPBOOT_RS_DEBS="flex bison libelf-dev libssl-dev bc cpio kmod make
qemu-system-x86 busybox-static xz-utils python3 python3-matplotlib gcc libc6-dev rsync"

# The Debian toolchain, not the rustup one that may come first on PATH (it has
# no rust-src and a different version from the one the kernel was built with).
SMPBOOT_RS_RUSTC=/usr/bin/rustc
SMPBOOT_RS_RUSTDOC=/usr/bin/rustdoc
SMPBOOT_RS_RUSTFMT=/usr/bin/rustfmt
SMPBOOT_RS_CLIPPY_DRIVER=/usr/bin/clippy-driver

# Where built kernels are cached, outside the repo, so that later runs and CI
# on the same machine reuse them.
SMPBOOT_RS_CACHE="${SMPBOOT_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smpboot_rs}"

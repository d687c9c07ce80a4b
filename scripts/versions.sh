# SPDX-License-Identifier: GPL-2.0
# The one place where smpboot_rs pins its toolchain and test-kernel source.
#
# Sourced by scripts/setup and scripts/kernel-build. The kernel tree's Rust
# metadata is locked to the rustc that built it, and bindgen/clang shape the
# generated bindings, so the exact versions in use are part of the kernel
# cache key.

# Debian bookworm packages that shape the build output, one series a line:
# "PACKAGE[,PACKAGE...]=VERSION-GLOB". The packages of a line come from one
# Debian source and are installed at one version. scripts/setup keeps an
# installed version that matches the glob and otherwise installs the newest
# one the archive has, so a security update that replaces a version does not
# stop anyone; it stops and asks for an edit here only when the archive has
# no version of the series left. A glob without a wildcard is an exact pin.
# To reproduce an old run, pin in the environment instead of editing:
#   SMPBOOT_RS_PINS="rustc-web=1.96.0+dfsg1-1~deb12u2 linux-source-6.12=6.12.117-1~deb12u1"
# pins the line of each package named (its whole line, at that version).
SMPBOOT_RS_DEB_SERIES="
rustc-web,rust-web-src,rust-web-clippy,rustfmt-web=1.96.*
clang,lld,llvm,libclang-dev=1:14.*
linux-source-6.12=6.12.*
"

# Build and VM helpers whose version does not change what is built; taken as
# Debian ships them (pinning these would only break on every security update).
SMPBOOT_RS_DEBS="flex bison libelf-dev libssl-dev bc cpio kmod make
qemu-system-x86 busybox-static xz-utils python3 python3-matplotlib gcc libc6-dev rsync"

# bindgen-cli from crates.io, installed with `cargo install --locked`.
SMPBOOT_RS_BINDGEN_VERSION=0.69.5

# The Debian toolchain, not the rustup one that may come first on PATH (it has
# no rust-src and a different version from the one the kernel was built with).
SMPBOOT_RS_RUSTC=/usr/bin/rustc
SMPBOOT_RS_RUSTDOC=/usr/bin/rustdoc
SMPBOOT_RS_RUSTFMT=/usr/bin/rustfmt
SMPBOOT_RS_CLIPPY_DRIVER=/usr/bin/clippy-driver
SMPBOOT_RS_BINDGEN="${CARGO_HOME:-$HOME/.cargo}/bin/bindgen"

# The kernel source tarball that linux-source-6.12 installs.
SMPBOOT_RS_KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz

# Where built kernels are cached, outside the repo, so that later runs and CI
# on the same machine reuse them.
SMPBOOT_RS_CACHE="${SMPBOOT_RS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smpboot_rs}"

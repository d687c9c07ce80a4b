# SPDX-License-Identifier: GPL-2.0
#
# smpboot_rs: out-of-tree build, test and demo entry points.
#
#   make [KVER=6.12|7.3] [KDIR=/path/to/linux] [LLVM=1] [CLIPPY=1]   build every module
#   make KVER=7.3 KFLAVOR=intree-debug   ... against the in-tree kernel (scripts/series)
#   make modules_install | clean | rust-analyzer     as for any external module
#   make print-kdir   the kernel tree the modules are built against
#   make lint      clippy (kernel lints) + rustfmt --check + the series' checkpatch
#                  (7.3) + the mutants apply; fails on any warning
#   make examples  build samples/template from a copy and Documentation's code examples
#   make run       boot a VM, load the modules, offline/online CPUs, show it
#   make check     setup + build + lint + the selftest suite in a VM
#   make check-quick   setup + build + lint + the core semantics suite (minutes)
#   make bench     ksoftirqd_rs vs ksoftirqd_c on the release kernel (scripts/bench)
#   make mutants   the suites' mutation score (scripts/mutants; MUTANTS="id ..." for some)
#
# Without KDIR the cached debug test kernel of the series KVER (default 6.12;
# `make check` runs each series) is used (built on first use, see
# scripts/kernel-build) with the toolchain it was built with. With KDIR, the
# tree must have CONFIG_RUST=y and be built with the rustc on your PATH;
# LLVM=1 and CLIPPY=1 given here pass through to kbuild.

SHELL := /bin/bash
TOP := $(CURDIR)
HOSTCC ?= gcc

# What installs the toolchain and the kernel source (SETUP=true to skip).
SETUP ?= $(TOP)/scripts/setup
# The cached kernel the modules are built against, without KDIR: debug, or
# intree-debug (KVER=7.3 with the in-tree series, scripts/series).
KFLAVOR ?= debug

ifeq ($(origin KDIR),undefined)
# Expanded when a recipe runs, after `setup`: the cache key hashes the
# toolchain, which setup may install or change on a fresh machine.
KDIR = $(shell KVER=$(KVER) $(TOP)/scripts/kernel-build $(KFLAVOR) --print-kdir)
KMAKE_ARGS = $(shell KVER=$(KVER) && . $(TOP)/scripts/lib.sh && smpboot_rs_kmake_args)
DEFAULT_KDIR := 1
endif
KMAKE = $(MAKE) -C $(KDIR) M=$(TOP) $(KMAKE_ARGS)

.PHONY: all modules modules_install clean rust-analyzer lint run check check-quick bench mutants kernel setup tools print-kdir FORCE

all: modules tools

# Guest-side test tools: static, so that they run in the busybox initramfs.
tools: tests/tools/bench

tests/tools/bench: tests/tools/bench.c
	$(HOSTCC) -static -O2 -Wall -Wextra -Werror -o $@ $<

ifdef DEFAULT_KDIR
kernel: setup
	@KVER=$(KVER) $(TOP)/scripts/kernel-build $(KFLAVOR) >/dev/null
else
kernel:
endif

# The kernel tree the modules are built against.
print-kdir: $(if $(DEFAULT_KDIR),setup)
	@echo $(KDIR)

modules: kernel
	@. $(TOP)/scripts/lib.sh && smpboot_rs_build_for $(KDIR)
	+$(KMAKE) modules

modules_install: kernel
	+$(KMAKE) modules_install

rust-analyzer: kernel
	@$(TOP)/scripts/rust-analyzer $(KDIR)

clean:
	@if [ -f "$(KDIR)/Makefile" ]; then $(KMAKE) clean; \
		$(MAKE) -C $(KDIR) M=$(TOP)/samples/template $(KMAKE_ARGS) clean; fi
	@rm -f samples/template/smpboot_rs_src
	@rm -f rust-project.json tests/tools/bench .smpboot_rs-built-for
	@# Rust bitcode of CONFIG_RUST_INLINE_HELPERS builds, which kbuild's
	@# clean leaves (7.3).
	@find . -name .git -prune -o -name '*.bc' -type f -exec rm -f {} +

lint: kernel
	@$(TOP)/scripts/lint $(KDIR) $(KMAKE_ARGS)

setup:
	@$(SETUP)

# samples/template from a copy outside the tree, and every code example of
# Documentation/ (scripts/build-examples; part of check).
examples: modules
	@$(TOP)/scripts/build-examples

run: setup modules
	@$(TOP)/scripts/run-demo

check:
	@$(TOP)/scripts/check

check-quick:
	@$(TOP)/scripts/check --quick

# Not part of check: boots the release kernel (built on first use) twice.
bench: setup tools
	@$(TOP)/scripts/bench $(BENCH_ARGS)

# Not part of check: each mutant of scripts/mutants.list against the suite
# cases that must catch it, one VM at a time (about an hour).
mutants: kernel tools
	@$(TOP)/scripts/mutants $(MUTANTS)

.PHONY: print-kmake-args examples

# The make arguments of the toolchain the modules are built with (the
# cached kernel's; empty with KDIR): for builds against the same kernel,
# e.g. samples/template.
print-kmake-args: $(if $(DEFAULT_KDIR),setup)
	@echo $(KMAKE_ARGS)

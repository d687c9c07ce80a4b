# SPDX-License-Identifier: GPL-2.0
#
# Included by each Kbuild whose Rust crates compile smpboot_rs's sources
# (smpboot_rs.ko with samples/ and tests/, a user's module from
# samples/template): on 6.12, `--cfg smpboot_rs_backports` tells
# smpboot_rs/compat.rs to supply what rust/kernel/ gained by 7.x.
ifeq ($(VERSION).$(PATCHLEVEL),6.12)
subdir-rustflags-y += --cfg smpboot_rs_backports
else ifneq ($(VERSION),7)
$(error smpboot_rs builds against Linux 6.12 or 7.x, not $(VERSION).$(PATCHLEVEL))
endif

// SPDX-License-Identifier: GPL-2.0
/*
 * The C test user of smpboot_rs_test_c.c on the kernel's own
 * smpboot_register_percpu_thread(): C smpboot, or the Rust smpboot of the
 * in-tree series (scripts/series). For scripts/selftests/kernel_smpboot.sh.
 */
#define SMPBOOT_RS_TEST_KERNEL_API
#include "smpboot_rs_test_c.c"

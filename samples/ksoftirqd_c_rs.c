// SPDX-License-Identifier: GPL-2.0
/*
 * samples/ksoftirqd_c.c built on smpboot_rs's C API (include/smpboot_rs.h)
 * instead of the kernel's smpboot: sysfs /sys/kernel/ksoftirqd_c_rs/,
 * threads ksoftirqd_crs/%u. Needs smpboot_rs.ko loaded first.
 */
#define KSOFTIRQD_C_USE_SMPBOOT_RS
#include "ksoftirqd_c.c"

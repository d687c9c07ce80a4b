// SPDX-License-Identifier: GPL-2.0
/*
 * warn_test: a module that loads fine but WARNs once at init. scripts/check
 * loads it in a VM to prove that scripts/vm-run fails a run whose kernel log
 * has a splat even when the command itself succeeds.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static int __init warn_test_init(void)
{
	WARN_ON(1);
	return 0;
}

static void __exit warn_test_exit(void)
{
}

module_init(warn_test_init);
module_exit(warn_test_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("smpboot_rs test harness: WARN_ON(1) once at init");

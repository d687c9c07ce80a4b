// SPDX-License-Identifier: GPL-2.0
/*
 * splat_test: a module that loads fine and provokes kernel splats, so that
 * scripts/check can prove that scripts/vm-run fails a run for every class
 * of splat it claims to catch, even when the command itself succeeds. One
 * guest provokes them all, one after the other: kind= at load, or a write
 * of a kind to /sys/module/splat_test/parameters/provoke afterwards (each
 * write logs "provoking: KIND" first).
 *
 *   warn        WARN_ON(1)
 *   bug         BUG() in a kthread (the kthread dies, the write succeeds)
 *   oops        a NULL pointer write in a kthread
 *   uaf         a read after kfree() (KASAN)
 *   leak        16 kB that kmemleak reports as unreferenced (at vm-run's scan)
 *   lockdep     two mutexes taken in both orders
 *   hung        a kthread in TASK_UNINTERRUPTIBLE for hold_s seconds
 *   softlockup  a kthread busy for hold_s seconds with preemption off
 *   rcu_stall   a kthread busy for hold_s seconds in an RCU read section,
 *               preemption off, with a grace period requested inside it
 *   dump_stack  dump_stack(): a call trace that is no allocation failure
 *
 * The guest shortens the detectors' timeouts for hung, softlockup and
 * rcu_stall (tests/harness/splat_rows). A kthread kind pins the module:
 * its thread may never end. rcu_stall is refused (-EBUSY) while the grace
 * period it asked for is pending.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/kmemleak.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

enum splat_kind {
	SPLAT_WARN, SPLAT_BUG, SPLAT_OOPS, SPLAT_UAF, SPLAT_LEAK, SPLAT_LOCKDEP,
	SPLAT_HUNG, SPLAT_SOFTLOCKUP, SPLAT_RCU_STALL, SPLAT_DUMP_STACK,
};

static const char *const splat_kinds[] = {
	[SPLAT_WARN] = "warn",
	[SPLAT_BUG] = "bug",
	[SPLAT_OOPS] = "oops",
	[SPLAT_UAF] = "uaf",
	[SPLAT_LEAK] = "leak",
	[SPLAT_LOCKDEP] = "lockdep",
	[SPLAT_HUNG] = "hung",
	[SPLAT_SOFTLOCKUP] = "softlockup",
	[SPLAT_RCU_STALL] = "rcu_stall",
	[SPLAT_DUMP_STACK] = "dump_stack",
};

static char *kind = "";
module_param(kind, charp, 0444);
MODULE_PARM_DESC(kind, "the splat to provoke at load (see the source); none if empty");
static unsigned int hold_s = 25;
module_param(hold_s, uint, 0644);
MODULE_PARM_DESC(hold_s, "how long hung, softlockup and rcu_stall last, in seconds");

static DEFINE_MUTEX(lock_a);
static DEFINE_MUTEX(lock_b);
static struct rcu_head stalled_gp;
static atomic_t stalled_gp_pending;

static void stalled_gp_done(struct rcu_head *head)
{
	atomic_set(&stalled_gp_pending, 0);
}

/*
 * A plain spin on the clock for hold_s seconds. Not mdelay(): on a CPU with
 * TPAUSE or MWAITX (QEMU's -cpu max) it waits in those, and a soft-lockup
 * run once went unreported.
 */
static void busy(void)
{
	u64 end = ktime_get_mono_fast_ns() + (u64)hold_s * NSEC_PER_SEC;

	while (ktime_get_mono_fast_ns() < end)
		cpu_relax();
}

static int splat_thread(void *data)
{
	enum splat_kind k = (uintptr_t)data;

	if (k == SPLAT_BUG) {
		BUG();
	} else if (k == SPLAT_OOPS) {
		int *volatile nowhere = NULL;

		*nowhere = 1;
	} else if (k == SPLAT_HUNG) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		schedule_timeout(hold_s * HZ);
	} else if (k == SPLAT_SOFTLOCKUP) {
		preempt_disable();
		busy();
		preempt_enable();
	} else if (k == SPLAT_RCU_STALL) {
		rcu_read_lock();
		preempt_disable();
		/*
		 * A stall is reported only while a grace period waits: an idle
		 * guest may ask for none during the busy loop, so ask here.
		 */
		call_rcu_hurry(&stalled_gp, stalled_gp_done);
		busy();
		preempt_enable();
		rcu_read_unlock();
	}
	/* For the guest to wait for, before it provokes the next kind. */
	pr_info("done: %s\n", splat_kinds[k]);
	return 0;
}

static int provoke(const char *name)
{
	int k = sysfs_match_string(splat_kinds, name);

	if (k < 0)
		return k;
	pr_info("provoking: %s\n", splat_kinds[k]);
	if (k == SPLAT_WARN) {
		WARN_ON(1);
	} else if (k == SPLAT_UAF) {
		char *p = kmalloc(32, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		kfree(p);
		OPTIMIZER_HIDE_VAR(p);
		pr_info("read after free: %d\n", READ_ONCE(p[0]));
	} else if (k == SPLAT_LEAK) {
		unsigned long pages = __get_free_pages(GFP_KERNEL, 2);

		/*
		 * kmemleak reports an object that a scan finds with fewer
		 * references than its min_count. A dropped kmalloc() is missed
		 * while a stale copy of its pointer is scanned (a reused stack
		 * page, say): of 8 such objects one CI run saw none reported,
		 * reruns 2 and 5. Pages, which kmemleak does not track,
		 * registered with a min_count no stale copy reaches, are
		 * reported every time.
		 */
		if (!pages)
			return -ENOMEM;
		kmemleak_alloc((void *)pages, 4 * PAGE_SIZE, INT_MAX, GFP_KERNEL);
	} else if (k == SPLAT_LOCKDEP) {
		mutex_lock(&lock_a);
		mutex_lock(&lock_b);
		mutex_unlock(&lock_b);
		mutex_unlock(&lock_a);
		mutex_lock(&lock_b);
		mutex_lock(&lock_a);
		mutex_unlock(&lock_a);
		mutex_unlock(&lock_b);
	} else if (k == SPLAT_DUMP_STACK) {
		dump_stack();
	} else {
		struct task_struct *t;

		/* One rcu_head: not queued again before its grace period ends. */
		if (k == SPLAT_RCU_STALL && atomic_cmpxchg(&stalled_gp_pending, 0, 1))
			return -EBUSY;
		/* The thread may never end (BUG, oops): never unloaded. */
		__module_get(THIS_MODULE);
		t = kthread_run(splat_thread, (void *)(uintptr_t)k, "splat_test");
		if (IS_ERR(t)) {
			module_put(THIS_MODULE);
			if (k == SPLAT_RCU_STALL)
				atomic_set(&stalled_gp_pending, 0);
			return PTR_ERR(t);
		}
	}
	return 0;
}

static int provoke_set(const char *val, const struct kernel_param *kp)
{
	return provoke(val);
}

static const struct kernel_param_ops provoke_ops = {
	.set = provoke_set,
};
module_param_cb(provoke, &provoke_ops, NULL, 0200);
MODULE_PARM_DESC(provoke, "write a kind to provoke it now");

static int __init splat_test_init(void)
{
	return *kind ? provoke(kind) : 0;
}

/* Unloadable unless a kthread kind has pinned it. */
static void __exit splat_test_exit(void)
{
	rcu_barrier(); /* stalled_gp_done */
}

module_init(splat_test_init);
module_exit(splat_test_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("smpboot_rs test harness: provokes kernel splats");

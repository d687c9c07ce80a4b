// SPDX-License-Identifier: GPL-2.0
/*
 * A C user of smpboot_rs's seed API, for the selftests.
 *
 * Registers nr_regs per-CPU threads "sbtc<N>/%u" whose callbacks check that
 * they run on their thread's CPU (and thread_should_run with preemption off)
 * and count what they see. Parameters under /sys/module/smpboot_rs_test_c/:
 *   kick (write N): queue N work items on every online CPU of every
 *        registration and wake the threads through ht->store;
 *   handled, queued, wrong_cpu, bad_preempt, schedule_stops (read);
 *   long_work_ms (load time): each work item runs this long, calling
 *        smpboot_rs_thread_schedule() and returning early when it says so;
 *   selfparking (load time): register selfparking threads, which this
 *        module unparks on the online CPUs and parks again before unload.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smpboot.h>
#include "../include/smpboot_rs.h"

#define MAX_REGS 64

static unsigned int nr_regs = 1;
module_param(nr_regs, uint, 0444);
MODULE_PARM_DESC(nr_regs, "registrations to make (1..64)");
static unsigned int long_work_ms;
module_param(long_work_ms, uint, 0444);
MODULE_PARM_DESC(long_work_ms, "each work item runs this long, calling smpboot_rs_thread_schedule()");
static int schedule_outside;
module_param(schedule_outside, int, 0444);
MODULE_PARM_DESC(schedule_outside, "smpboot_rs_thread_schedule() called from insmod (expect -EINVAL)");
static bool selfparking;
module_param(selfparking, bool, 0444);
static char *comm;
module_param(comm, charp, 0444);
MODULE_PARM_DESC(comm, "thread name format of registration 0 (default sbtc0/%u)");

static atomic_long_t handled, queued, wrong_cpu, bad_preempt, schedule_stops, creates;

struct test_reg {
	struct smp_hotplug_thread ht;
	struct task_struct *__percpu *store;
	atomic_t __percpu *pending;
	char comm[24];
};

static struct test_reg *regs;
static unsigned int registered;

/* Each callback learns its registration from the CPU's task pointer. */
static struct test_reg *reg_of_current(unsigned int cpu)
{
	unsigned int i;

	for (i = 0; i < registered; i++)
		if (*per_cpu_ptr(regs[i].store, cpu) == current)
			return &regs[i];
	return NULL;
}

static void check_cpu(unsigned int cpu)
{
	if (raw_smp_processor_id() != cpu)
		atomic_long_inc(&wrong_cpu);
}

static int test_should_run(unsigned int cpu)
{
	struct test_reg *r = reg_of_current(cpu);

	if (preemptible())
		atomic_long_inc(&bad_preempt);
	check_cpu(cpu);
	return r && atomic_read(per_cpu_ptr(r->pending, cpu)) > 0;
}

static void test_thread_fn(unsigned int cpu)
{
	struct test_reg *r = reg_of_current(cpu);
	unsigned long end = jiffies + msecs_to_jiffies(long_work_ms);

	check_cpu(cpu);
	if (!r)
		return;
	if (long_work_ms) {
		while (time_before(jiffies, end)) {
			if (smpboot_rs_thread_schedule() == 1) {
				atomic_long_inc(&schedule_stops);
				return; /* the item stays pending */
			}
			check_cpu(cpu);
		}
	}
	atomic_dec(per_cpu_ptr(r->pending, cpu));
	atomic_long_inc(&handled);
}

static void test_create(unsigned int cpu)
{
	atomic_long_inc(&creates);
}

static void test_setup(unsigned int cpu)
{
	check_cpu(cpu);
}

static void test_park(unsigned int cpu)
{
	check_cpu(cpu);
}

static void test_unpark(unsigned int cpu)
{
	check_cpu(cpu);
}

static void test_cleanup(unsigned int cpu, bool online)
{
	if (online)
		check_cpu(cpu);
}

static int kick_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n, i, cpu;
	int ret = kstrtouint(val, 0, &n);

	if (ret)
		return ret;
	cpus_read_lock();
	for (i = 0; i < registered; i++) {
		for_each_online_cpu(cpu) {
			struct task_struct *tsk = *per_cpu_ptr(regs[i].store, cpu);

			atomic_add(n, per_cpu_ptr(regs[i].pending, cpu));
			atomic_long_add(n, &queued);
			if (tsk)
				wake_up_process(tsk);
		}
	}
	cpus_read_unlock();
	return 0;
}

static const struct kernel_param_ops kick_ops = { .set = kick_set };
module_param_cb(kick, &kick_ops, NULL, 0200);

#define COUNTER_PARAM(name)                                                   \
	static int name##_get(char *buf, const struct kernel_param *kp)       \
	{                                                                     \
		return sysfs_emit(buf, "%ld\n", atomic_long_read(&name));     \
	}                                                                     \
	static const struct kernel_param_ops name##_ops = { .get = name##_get }; \
	module_param_cb(name, &name##_ops, NULL, 0444)

COUNTER_PARAM(handled);
COUNTER_PARAM(queued);
COUNTER_PARAM(wrong_cpu);
COUNTER_PARAM(bad_preempt);
COUNTER_PARAM(schedule_stops);
COUNTER_PARAM(creates);

static void free_reg(struct test_reg *r)
{
	free_percpu(r->store);
	free_percpu(r->pending);
}

/* selfparking threads are ours to unpark and park. */
static void selfpark_all(bool park)
{
	unsigned int i, cpu;

	cpus_read_lock();
	for (i = 0; i < registered; i++)
		for_each_online_cpu(cpu) {
			struct task_struct *tsk = *per_cpu_ptr(regs[i].store, cpu);

			if (!tsk)
				continue;
			if (park)
				kthread_park(tsk);
			else
				kthread_unpark(tsk);
		}
	cpus_read_unlock();
}

static void unregister_all(void)
{
	if (selfparking)
		selfpark_all(true);
	while (registered) {
		struct test_reg *r = &regs[--registered];

		smpboot_rs_unregister_percpu_thread(&r->ht);
		free_reg(r);
	}
}

static int __init test_init(void)
{
	unsigned int i;
	int ret;

	if (!nr_regs || nr_regs > MAX_REGS)
		return -EINVAL;
	schedule_outside = smpboot_rs_thread_schedule();
	regs = kcalloc(nr_regs, sizeof(*regs), GFP_KERNEL);
	if (!regs)
		return -ENOMEM;
	for (i = 0; i < nr_regs; i++) {
		struct test_reg *r = &regs[i];

		r->store = alloc_percpu(struct task_struct *);
		r->pending = alloc_percpu(atomic_t);
		if (!r->store || !r->pending) {
			free_reg(r);
			ret = -ENOMEM;
			goto fail;
		}
		snprintf(r->comm, sizeof(r->comm), "sbtc%u/%%u", i);
		r->ht = (struct smp_hotplug_thread){
			.store = r->store,
			.thread_should_run = test_should_run,
			.thread_fn = test_thread_fn,
			.create = test_create,
			.setup = test_setup,
			.cleanup = test_cleanup,
			.park = test_park,
			.unpark = test_unpark,
			.selfparking = selfparking,
			.thread_comm = (i == 0 && comm) ? comm : r->comm,
		};
		/* Callbacks look registrations up in regs[0..registered). */
		registered = i + 1;
		ret = smpboot_rs_register_percpu_thread(&r->ht);
		if (ret) {
			registered = i;
			free_reg(r);
			goto fail;
		}
	}
	if (selfparking)
		selfpark_all(false);
	pr_info("registered %u per-CPU threads%s\n", nr_regs, selfparking ? " (selfparking)" : "");
	return 0;
fail:
	pr_info("registration %u failed: %d\n", i, ret);
	unregister_all();
	kfree(regs);
	return ret;
}

static void __exit test_exit(void)
{
	unregister_all();
	pr_info("exit: queued=%ld handled=%ld wrong_cpu=%ld bad_preempt=%ld\n",
		atomic_long_read(&queued), atomic_long_read(&handled),
		atomic_long_read(&wrong_cpu), atomic_long_read(&bad_preempt));
	kfree(regs);
}

module_init(test_init);
module_exit(test_exit);
MODULE_DESCRIPTION("smpboot_rs selftest: a C user of the seed API");
MODULE_LICENSE("GPL");

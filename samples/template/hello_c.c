// SPDX-License-Identifier: GPL-2.0
/*
 * A module of your own on smpboot_rs's C API (include/smpboot_rs.h, the
 * interface of <linux/smpboot.h>): a thread hello_c/N on every CPU, which
 * logs the work it is given. At load it raises one unit of work on every
 * online CPU; each thread logs "hello_c: cpu N: 1 unit(s)".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <smpboot_rs.h>

static DEFINE_PER_CPU(struct task_struct *, hello_task);
static DEFINE_PER_CPU(atomic_long_t, hello_pending);

static int hello_should_run(unsigned int cpu)
{
	return atomic_long_read(per_cpu_ptr(&hello_pending, cpu)) != 0;
}

static void hello_fn(unsigned int cpu)
{
	long units = atomic_long_xchg(per_cpu_ptr(&hello_pending, cpu), 0);

	pr_info("cpu %u: %ld unit(s)\n", cpu, units);
}

static struct smp_hotplug_thread hello_threads = {
	.store			= &hello_task,
	.thread_should_run	= hello_should_run,
	.thread_fn		= hello_fn,
	.thread_comm		= "hello_c/%u",
};

static int __init hello_init(void)
{
	unsigned int cpu;
	int ret;

	ret = smpboot_rs_register_percpu_thread(&hello_threads);
	if (ret)
		return ret;
	/* No CPU comes or goes meanwhile: each online CPU has its thread. */
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		/* The first unit wakes the thread; later ones find it due. */
		struct task_struct *task = per_cpu(hello_task, cpu);

		if (atomic_long_fetch_add(1, per_cpu_ptr(&hello_pending, cpu)) == 0 && task)
			wake_up_process(task);
	}
	cpus_read_unlock();
	return 0;
}

static void __exit hello_exit(void)
{
	smpboot_rs_unregister_percpu_thread(&hello_threads);
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_DESCRIPTION("A per-CPU thread on every CPU, on smpboot_rs's C API");
MODULE_LICENSE("GPL");

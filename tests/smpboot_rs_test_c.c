// SPDX-License-Identifier: GPL-2.0
/*
 * A C user of smpboot_rs's seed API, for the selftests.
 *
 * Built as smpboot_rs_test_kernel.ko (smpboot_rs_test_kernel.c), the same
 * user registers through the kernel's own smpboot_register_percpu_thread()
 * instead: C smpboot on a stock kernel, the Rust smpboot on one with the
 * in-tree series (scripts/series); its threads are "sbtk<N>/%u", its
 * parameters under /sys/module/smpboot_rs_test_kernel/, and it has none of
 * those marked (smpboot_rs) below, which need smpboot_rs itself or would
 * corrupt C smpboot (a second registration, a leaked one).
 *
 * Registers nr_regs per-CPU threads "sbtc<N>/%u". The callbacks check, on
 * their own and independently of smpboot_rs's counters, what C smpboot
 * promises: each runs on its thread's CPU (thread_should_run with
 * preemption off), in the order setup, then park/unpark pairs, then
 * cleanup (thread_fn only while set up and unparked), and ht->store holds
 * the CPU's thread from before create() until after cleanup.
 *
 * Parameters under /sys/module/smpboot_rs_test_c/:
 *   kick (write N): queue N work items for every thread that should run
 *        (online CPU, not parked by its owner) and wake it through ht->store;
 *   handled, queued, wrong_cpu, bad_preempt, state_errors, store_errors,
 *        schedule_stops, creates (read): counters (bad_preempt: a
 *        thread_should_run preemptible, or another callback not);
 *   calls (read): per registration and CPU, the callback counts, the
 *        state the callbacks saw last ("none", "active", "parked") and the
 *        pid of the thread they ran on (0: none yet; callbacks from a
 *        second thread count as state_errors: C creates it once); the
 *        same lines, prefixed "final: ", go to the log at unload, after
 *        each registration is unregistered (cleanup included) and before
 *        the "exit:" summary line;
 *   long_work_ms (smpboot_rs, load time): each work item runs this long, calling
 *        smpboot_rs_thread_schedule() and returning early when it says so;
 *   selfparking=K (load time): the last K registrations are selfparking;
 *        the module unparks their threads on the online CPUs, and parks
 *        them again before unregistering;
 *   selfparking_parked=J (load time): of those, the last J are parked again
 *        right after being unparked (their owner keeps them parked);
 *   selfparking_follow (load time): the owner also parks its unparked
 *        selfparking threads when their CPU goes down and unparks them when
 *        it comes up, from a hotplug state of its own (as cpuhp/N's owner
 *        does); without it they stay unparked across offline and online;
 *   no_park (load time): the descriptors have unpark but no park (C smpboot
 *        then calls neither: its thread parks and comes back active);
 *   no_setup (load time): the descriptors have no setup (C's thread is
 *        active from its first pass all the same, and gets cleanup);
 *   create_sets_up_state (load time): create() sets up and removes a
 *        hotplug state of its own, which takes cpuhp_state_mutex (smpboot_rs
 *        calls create() under the hotplug lock only; C smpboot also holds
 *        smpboot_threads_lock, and lockdep reports the inversion);
 *   leak (smpboot_rs, load time): also register "sbtl/%u" from a static descriptor
 *        and never unregister it (smpboot_rs must clean up a registration
 *        whose owner is unloaded);
 *   register_twice (smpboot_rs, load time): register the first descriptor a second
 *        time; dup_result (read) is what that returned (C: -EBUSY);
 *   abi_size_delta=D (smpboot_rs, load time, D != 0): register through the typed Rust
 *        API's entry point (smpboot_rs_register, abi.rs) twice, with a
 *        description of abi.rs's layout (abi_layout_result, read: 0 proves
 *        the copy below matches; unregistered at once) and with its size
 *        field off by D bytes, as a user built against another layout
 *        would (abi_size_result, read: smpboot_rs must refuse it, -EINVAL);
 *   should_run_delay_ms (load time): thread_should_run, when it finds no
 *        work, spins this long before returning (with preemption off; not
 *        on CPU 0, left to the shell), so that a kick lands between the
 *        check and the sleep;
 *   hold_hotplug_ms (write N): set up and remove a hotplug state whose
 *        startup callback sleeps N ms on CPU 0: the write holds the hotplug
 *        lock (read) and cpuhp_state_mutex that long, so that a suite can
 *        line up an unregistration and a CPU offline behind them.
 *
 * Unregistration must leave ht->store empty (store_errors otherwise).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/seq_buf.h>
#include <linux/slab.h>
#include <linux/smpboot.h>

#ifdef SMPBOOT_RS_TEST_KERNEL_API
#define COMM_PREFIX "sbtk"
#define API_NAME "the kernel's smpboot API"
#define register_threads smpboot_register_percpu_thread
#define unregister_threads smpboot_unregister_percpu_thread
#else
#include "../include/smpboot_rs.h"
#define COMM_PREFIX "sbtc"
#define API_NAME "smpboot_rs's seed API"
#define register_threads smpboot_rs_register_percpu_thread
#define unregister_threads smpboot_rs_unregister_percpu_thread
#endif

#define MAX_REGS 64

static unsigned int nr_regs = 1;
module_param(nr_regs, uint, 0444);
MODULE_PARM_DESC(nr_regs, "registrations to make (1..64)");
static unsigned int selfparking;
module_param(selfparking, uint, 0444);
MODULE_PARM_DESC(selfparking, "the last K registrations are selfparking");
static unsigned int selfparking_parked;
module_param(selfparking_parked, uint, 0444);
MODULE_PARM_DESC(selfparking_parked, "of the selfparking ones, the last J stay parked by their owner");
static bool selfparking_follow;
module_param(selfparking_follow, bool, 0444);
MODULE_PARM_DESC(selfparking_follow, "the owner parks/unparks its unparked threads at CPU offline/online");
static bool no_park;
module_param(no_park, bool, 0444);
MODULE_PARM_DESC(no_park, "the descriptors set unpark but not park");
static bool no_setup;
module_param(no_setup, bool, 0444);
MODULE_PARM_DESC(no_setup, "the descriptors set cleanup but not setup");
static bool create_sets_up_state;
module_param(create_sets_up_state, bool, 0444);
MODULE_PARM_DESC(create_sets_up_state, "create() sets up and removes a hotplug state");
static unsigned int should_run_delay_ms;
module_param(should_run_delay_ms, uint, 0444);
MODULE_PARM_DESC(should_run_delay_ms, "thread_should_run spins this long when it finds no work");
static char *comm;
module_param(comm, charp, 0444);
MODULE_PARM_DESC(comm, "thread name format of registration 0 (default " COMM_PREFIX "0/%u)");

static atomic_long_t handled, queued, wrong_cpu, bad_preempt, state_errors, store_errors,
	schedule_stops, creates;

/* What the callbacks of one CPU's thread have seen; only that thread writes. */
enum cb_state { CB_NONE, CB_ACTIVE, CB_PARKED };

struct cpu_calls {
	enum cb_state state;
	bool created;
	pid_t pid;
	unsigned long setup, park, unpark, cleanup_online, cleanup_offline, runs;
};

/* The owner's view of a selfparking thread. */
enum owner_state { OWNER_PARKED, OWNER_UNPARKED, OWNER_FOLLOWING_DOWN };

struct test_reg {
	struct smp_hotplug_thread ht;
	struct task_struct *__percpu *store;
	atomic_t __percpu *pending;
	struct cpu_calls __percpu *calls;
	enum owner_state __percpu *owner;
	bool selfparking;
	bool keep_parked;
	char comm[24];
};

static struct test_reg *regs;
static unsigned int registered;
/* The owner's hotplug state for selfparking_follow, or 0. */
static int follow_state;
/* Serialises the owner's park/unpark with kick, load and unload. */
static DEFINE_MUTEX(owner_lock);

/* Each thread callback learns its registration from the CPU's task pointer. */
static struct test_reg *reg_of_current(unsigned int cpu)
{
	unsigned int i;

	for (i = 0; i < registered; i++)
		if (*per_cpu_ptr(regs[i].store, cpu) == current)
			return &regs[i];
	/* ht->store is filled before the thread can run (C smpboot's rule). */
	atomic_long_inc(&store_errors);
	return NULL;
}

static void check_cpu(unsigned int cpu)
{
	if (raw_smp_processor_id() != cpu)
		atomic_long_inc(&wrong_cpu);
}

/* C smpboot runs every callback but thread_should_run preemptible. */
static void check_preemptible(void)
{
	if (!preemptible())
		atomic_long_inc(&bad_preempt);
}

/*
 * A CPU's callback record, from its thread's callbacks. C's thread is active
 * from its first pass, setup or not: without setup (no_setup), the first
 * callback to run says so.
 */
static struct cpu_calls *calls_of(struct test_reg *r, unsigned int cpu)
{
	struct cpu_calls *c = per_cpu_ptr(r->calls, cpu);

	if (c->pid && c->pid != task_pid_nr(current))
		atomic_long_inc(&state_errors);
	c->pid = task_pid_nr(current);
	if (no_setup && c->state == CB_NONE)
		c->state = CB_ACTIVE;
	return c;
}

/* Moves a CPU's callback state from @from to @to, counting a wrong order. */
static struct cpu_calls *transition(struct test_reg *r, unsigned int cpu, int from,
				    enum cb_state to)
{
	struct cpu_calls *c = calls_of(r, cpu);

	if (from >= 0 && c->state != from)
		atomic_long_inc(&state_errors);
	c->state = to;
	return c;
}

#ifndef SMPBOOT_RS_TEST_KERNEL_API
/* What only smpboot_rs has: its parameters, then their code. */
static unsigned int long_work_ms;
module_param(long_work_ms, uint, 0444);
MODULE_PARM_DESC(long_work_ms, "each work item runs this long, calling smpboot_rs_thread_schedule()");
static int schedule_outside;
module_param(schedule_outside, int, 0444);
MODULE_PARM_DESC(schedule_outside, "smpboot_rs_thread_schedule() called from insmod (expect -EINVAL)");
static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "leave one registration registered at unload");
static bool register_twice;
module_param(register_twice, bool, 0444);
MODULE_PARM_DESC(register_twice, "register the first descriptor twice");
static int dup_result;
module_param(dup_result, int, 0444);
MODULE_PARM_DESC(dup_result, "what the second registration of register_twice returned");
/*
 * The typed Rust API's entry points and description, as smpboot_rs/abi.rs
 * lays them out (a C copy: this user is built against a layout of its own).
 */
struct abi_thread_ops {
	bool (*thread_should_run)(void *ctx, unsigned int cpu);
	void (*thread_fn)(void *ctx, unsigned int cpu);
	int (*create)(void *ctx, unsigned int cpu);
	void (*setup)(void *ctx, unsigned int cpu);
	void (*cleanup)(void *ctx, unsigned int cpu, bool online);
	void (*park)(void *ctx, unsigned int cpu);
	void (*unpark)(void *ctx, unsigned int cpu);
	void (*store)(void *ctx, unsigned int cpu, struct task_struct *task);
	void (*release)(void *ctx);
};

struct abi_thread_desc {
	size_t size;
	struct module *owner;
	const struct abi_thread_ops *ops;
	void *ctx;
	const char *thread_comm;
	bool selfparking;
};

struct abi_registration;
int smpboot_rs_register(const struct abi_thread_desc *desc, struct abi_registration **out);
void smpboot_rs_unregister(struct abi_registration *reg);

static int abi_size_delta;
module_param(abi_size_delta, int, 0444);
MODULE_PARM_DESC(abi_size_delta, "register through the Rust API's entry point with the size off by this");
static int abi_layout_result = 1;
module_param(abi_layout_result, int, 0444);
MODULE_PARM_DESC(abi_layout_result, "what registering abi.rs's layout as it is returned");
static int abi_size_result = 1;
module_param(abi_size_result, int, 0444);
MODULE_PARM_DESC(abi_size_result, "what registering it with the size off by abi_size_delta returned");

static bool abi_should_run(void *ctx, unsigned int cpu)
{
	return false;
}

static void abi_thread_fn(void *ctx, unsigned int cpu)
{
}

static const struct abi_thread_ops abi_ops = {
	.thread_should_run = abi_should_run,
	.thread_fn = abi_thread_fn,
};

/* What identifies the registration (its ctx). */
static int abi_ctx;

/* abi_register(delta): register abi_ops with the size off by delta. */
static int abi_register(int delta)
{
	struct abi_thread_desc desc = {
		.size = sizeof(desc) + delta,
		.owner = THIS_MODULE,
		.ops = &abi_ops,
		.ctx = &abi_ctx,
		.thread_comm = "sbtabi/%u",
	};
	struct abi_registration *reg = NULL;
	int ret = smpboot_rs_register(&desc, &reg);

	if (!ret)
		smpboot_rs_unregister(reg);
	return ret;
}

/* leak=1: a registration this module never unregisters. */
static DEFINE_PER_CPU(struct task_struct *, leaked_store);

static int leaked_should_run(unsigned int cpu)
{
	check_cpu(cpu);
	return 0;
}

static void leaked_thread_fn(unsigned int cpu)
{
}

static struct smp_hotplug_thread leaked_ht = {
	.store			= &leaked_store,
	.thread_should_run	= leaked_should_run,
	.thread_fn		= leaked_thread_fn,
	.setup			= check_cpu,
	.park			= check_cpu,
	.unpark			= check_cpu,
	.thread_comm		= "sbtl/%u",
};

/*
 * A long_work_ms item, on its thread's CPU: true if it stopped early because
 * smpboot_rs_thread_schedule() said the thread must park or stop.
 */
static bool long_item_stopped(unsigned int cpu)
{
	unsigned long end = jiffies + msecs_to_jiffies(long_work_ms);

	while (long_work_ms && time_before(jiffies, end)) {
		if (smpboot_rs_thread_schedule() == 1) {
			atomic_long_inc(&schedule_stops);
			return true;
		}
		check_cpu(cpu);
	}
	return false;
}

/* At load, after the test registrations: the cases of the parameters above. */
static int smpboot_rs_extras_init(void)
{
	schedule_outside = smpboot_rs_thread_schedule();
	/* Refused while the first is registered; left to module_going if not. */
	if (register_twice)
		dup_result = smpboot_rs_register_percpu_thread(&regs[0].ht);
	if (abi_size_delta) {
		abi_layout_result = abi_register(0);
		abi_size_result = abi_register(abi_size_delta);
	}
	return leak ? smpboot_rs_register_percpu_thread(&leaked_ht) : 0;
}

/* A load that failed: nothing of smpboot_rs_extras_init() left. */
static void smpboot_rs_extras_undo(void)
{
	if (leak)
		smpboot_rs_unregister_percpu_thread(&leaked_ht);
}

static void smpboot_rs_extras_exit(void)
{
	if (leak)
		pr_info("exit: leaving sbtl/%%u registered\n");
}
#else
static bool long_item_stopped(unsigned int cpu)
{
	return false;
}

static int smpboot_rs_extras_init(void)
{
	return 0;
}

static void smpboot_rs_extras_undo(void)
{
}

static void smpboot_rs_extras_exit(void)
{
}
#endif

static int test_should_run(unsigned int cpu)
{
	struct test_reg *r = reg_of_current(cpu);

	if (preemptible())
		atomic_long_inc(&bad_preempt);
	check_cpu(cpu);
	if (r && calls_of(r, cpu)->state != CB_ACTIVE)
		atomic_long_inc(&state_errors);
	if (r && atomic_read(per_cpu_ptr(r->pending, cpu)) > 0)
		return true;
	/* A wakeup from here on must not be lost: the task is not running. */
	if (should_run_delay_ms && cpu != 0)
		mdelay(should_run_delay_ms);
	return false;
}

static void test_thread_fn(unsigned int cpu)
{
	struct test_reg *r = reg_of_current(cpu);

	check_cpu(cpu);
	check_preemptible();
	if (!r)
		return;
	transition(r, cpu, CB_ACTIVE, CB_ACTIVE)->runs++;
	if (long_item_stopped(cpu))
		return; /* the item stays pending */
	atomic_dec(per_cpu_ptr(r->pending, cpu));
	atomic_long_inc(&handled);
}

/*
 * create() runs outside the thread and gets only the CPU: the registration
 * is the one whose thread of @cpu is stored but not yet created. C smpboot
 * stores the (parked) thread before it calls create().
 */
static void test_create(unsigned int cpu)
{
	unsigned int i;

	atomic_long_inc(&creates);
	check_preemptible();
	if (create_sets_up_state) {
		/* The hotplug lock is held, for reading or writing, as in C. */
		int state = cpuhp_setup_state_nocalls_cpuslocked(CPUHP_AP_ONLINE_DYN,
								 KBUILD_MODNAME ":create",
								 NULL, NULL);

		if (state > 0)
			cpuhp_remove_state_nocalls_cpuslocked(state);
		else
			atomic_long_inc(&state_errors);
	}
	for (i = 0; i < registered; i++) {
		struct cpu_calls *c = per_cpu_ptr(regs[i].calls, cpu);

		if (*per_cpu_ptr(regs[i].store, cpu) && !c->created) {
			c->created = true;
			return;
		}
	}
	atomic_long_inc(&store_errors);
}

static void test_setup(unsigned int cpu)
{
	struct test_reg *r = reg_of_current(cpu);

	check_cpu(cpu);
	check_preemptible();
	if (r)
		transition(r, cpu, CB_NONE, CB_ACTIVE)->setup++;
}

static void test_park(unsigned int cpu)
{
	struct test_reg *r = reg_of_current(cpu);

	check_cpu(cpu);
	check_preemptible();
	if (r)
		transition(r, cpu, CB_ACTIVE, CB_PARKED)->park++;
}

static void test_unpark(unsigned int cpu)
{
	struct test_reg *r = reg_of_current(cpu);

	check_cpu(cpu);
	check_preemptible();
	if (r)
		transition(r, cpu, CB_PARKED, CB_ACTIVE)->unpark++;
}

/* Runs with the hotplug lock held by the unregistering task. */
static void test_cleanup(unsigned int cpu, bool online)
{
	struct test_reg *r = reg_of_current(cpu);
	struct cpu_calls *c;

	check_preemptible();
	/* online: on its CPU, which is online. */
	if (online)
		check_cpu(cpu);
	if (online && !cpu_online(cpu))
		atomic_long_inc(&state_errors);
	if (!r)
		return;
	c = calls_of(r, cpu);
	/* An active thread of an online CPU is on it, so it says online. */
	if (!online && cpu_online(cpu) && c->state == CB_ACTIVE)
		atomic_long_inc(&state_errors);
	if (c->state == CB_NONE)
		atomic_long_inc(&state_errors);
	c->state = CB_NONE;
	if (online)
		c->cleanup_online++;
	else
		c->cleanup_offline++;
}

/* Whether @r's thread of @cpu is one that runs work: online, not owner-parked. */
static bool should_get_work(struct test_reg *r, unsigned int cpu)
{
	return !r->selfparking || *per_cpu_ptr(r->owner, cpu) == OWNER_UNPARKED;
}

static int kick_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n, i, cpu;
	int ret = kstrtouint(val, 0, &n);

	if (ret)
		return ret;
	cpus_read_lock();
	mutex_lock(&owner_lock);
	for (i = 0; i < registered; i++) {
		for_each_online_cpu(cpu) {
			struct task_struct *tsk = *per_cpu_ptr(regs[i].store, cpu);

			if (!should_get_work(&regs[i], cpu))
				continue;
			atomic_add(n, per_cpu_ptr(regs[i].pending, cpu));
			atomic_long_add(n, &queued);
			if (tsk)
				wake_up_process(tsk);
		}
	}
	mutex_unlock(&owner_lock);
	cpus_read_unlock();
	return 0;
}

static const struct kernel_param_ops kick_ops = { .set = kick_set };
module_param_cb(kick, &kick_ops, NULL, 0200);

static unsigned int hold_ms;

static int hold_startup(unsigned int cpu)
{
	if (cpu == 0)
		msleep(hold_ms);
	return 0;
}

static int hold_hotplug_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int ret = kstrtouint(val, 0, &ms);

	if (ret)
		return ret;
	if (ms > 10000)
		return -EINVAL;
	hold_ms = ms;
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, KBUILD_MODNAME ":hold", hold_startup, NULL);
	if (ret < 0)
		return ret;
	cpuhp_remove_state_nocalls(ret);
	return 0;
}

static const struct kernel_param_ops hold_hotplug_ops = { .set = hold_hotplug_set };
module_param_cb(hold_hotplug_ms, &hold_hotplug_ops, NULL, 0200);

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
COUNTER_PARAM(state_errors);
COUNTER_PARAM(store_errors);
COUNTER_PARAM(schedule_stops);
COUNTER_PARAM(creates);

static const char *const cb_state_names[] = { "none", "active", "parked" };

#define CALLS_FMT                                                             \
	"reg=%u cpu=%u state=%s setup=%lu park=%lu unpark=%lu cleanup_online=%lu cleanup_offline=%lu runs=%lu pid=%d\n"
#define CALLS_ARGS(i, cpu, c)                                                 \
	(i), (cpu), cb_state_names[(c)->state], (c)->setup, (c)->park,        \
		(c)->unpark, (c)->cleanup_online, (c)->cleanup_offline, (c)->runs, (c)->pid

static int calls_get(char *buf, const struct kernel_param *kp)
{
	struct seq_buf s;
	unsigned int i, cpu;

	seq_buf_init(&s, buf, PAGE_SIZE);
	for (i = 0; i < registered; i++)
		for_each_possible_cpu(cpu)
			seq_buf_printf(&s, CALLS_FMT, CALLS_ARGS(i, cpu, per_cpu_ptr(regs[i].calls, cpu)));
	return seq_buf_used(&s);
}

static const struct kernel_param_ops calls_ops = { .get = calls_get };
module_param_cb(calls, &calls_ops, NULL, 0444);

static void free_reg(struct test_reg *r)
{
	free_percpu(r->store);
	free_percpu(r->pending);
	free_percpu(r->calls);
	free_percpu(r->owner);
}

/* The owner parks or unparks its selfparking thread of @cpu. */
static void owner_set(struct test_reg *r, unsigned int cpu, enum owner_state to)
{
	struct task_struct *tsk = *per_cpu_ptr(r->store, cpu);
	enum owner_state *now = per_cpu_ptr(r->owner, cpu);
	bool parked = *now != OWNER_UNPARKED;

	if (!tsk)
		return;
	if (parked && to == OWNER_UNPARKED)
		kthread_unpark(tsk);
	else if (!parked && to != OWNER_UNPARKED)
		kthread_park(tsk);
	*now = to;
}

/* Selfparking threads of online CPUs: unparked at load, parked at unload. */
static void owner_all(bool park)
{
	unsigned int i, cpu;

	cpus_read_lock();
	mutex_lock(&owner_lock);
	for (i = 0; i < registered; i++) {
		if (!regs[i].selfparking)
			continue;
		for_each_online_cpu(cpu) {
			owner_set(&regs[i], cpu, park ? OWNER_PARKED : OWNER_UNPARKED);
			if (!park && regs[i].keep_parked)
				owner_set(&regs[i], cpu, OWNER_PARKED);
		}
	}
	mutex_unlock(&owner_lock);
	cpus_read_unlock();
}

/*
 * selfparking_follow: the owner's own online-stage state, set up after
 * smpboot_rs's, so it runs after smpboot_rs:online on the way up and
 * before it on the way down.
 */
/* The owner moves its selfparking threads of @cpu that are @from to @to. */
static void follow(unsigned int cpu, enum owner_state from, enum owner_state to)
{
	unsigned int i;

	mutex_lock(&owner_lock);
	for (i = 0; i < registered; i++)
		if (regs[i].selfparking && *per_cpu_ptr(regs[i].owner, cpu) == from)
			owner_set(&regs[i], cpu, to);
	mutex_unlock(&owner_lock);
}

static int follow_online(unsigned int cpu)
{
	follow(cpu, OWNER_FOLLOWING_DOWN, OWNER_UNPARKED);
	return 0;
}

static int follow_offline(unsigned int cpu)
{
	follow(cpu, OWNER_UNPARKED, OWNER_FOLLOWING_DOWN);
	return 0;
}

/* report: log each registration's final callback counts (at unload). */
static void unregister_all(bool report)
{
	if (follow_state > 0)
		cpuhp_remove_state(follow_state);
	follow_state = 0;
	owner_all(true);
	while (registered) {
		struct test_reg *r = &regs[registered - 1];

		unsigned int cpu;

		/* Its callbacks still find it while it stops. */
		unregister_threads(&r->ht);
		registered--;
		/* C smpboot clears ht->store as it stops each thread. */
		for_each_possible_cpu(cpu)
			if (*per_cpu_ptr(r->store, cpu))
				atomic_long_inc(&store_errors);
		if (report) {
			for_each_possible_cpu(cpu)
				pr_info("final: " CALLS_FMT,
					CALLS_ARGS(registered, cpu, per_cpu_ptr(r->calls, cpu)));
		}
		free_reg(r);
	}
}

static int __init test_init(void)
{
	unsigned int i;
	int ret;

	if (!nr_regs || nr_regs > MAX_REGS || selfparking > nr_regs ||
	    selfparking_parked > selfparking)
		return -EINVAL;
	regs = kcalloc(nr_regs, sizeof(*regs), GFP_KERNEL);
	if (!regs)
		return -ENOMEM;
	for (i = 0; i < nr_regs; i++) {
		struct test_reg *r = &regs[i];

		r->store = alloc_percpu(struct task_struct *);
		r->pending = alloc_percpu(atomic_t);
		r->calls = alloc_percpu(struct cpu_calls);
		r->owner = alloc_percpu(enum owner_state);
		if (!r->store || !r->pending || !r->calls || !r->owner) {
			free_reg(r);
			ret = -ENOMEM;
			goto fail;
		}
		r->selfparking = i >= nr_regs - selfparking;
		r->keep_parked = i >= nr_regs - selfparking_parked;
		snprintf(r->comm, sizeof(r->comm), COMM_PREFIX "%u/%%u", i);
		r->ht = (struct smp_hotplug_thread){
			.store = r->store,
			.thread_should_run = test_should_run,
			.thread_fn = test_thread_fn,
			.create = test_create,
			.setup = no_setup ? NULL : test_setup,
			.cleanup = test_cleanup,
			.park = no_park ? NULL : test_park,
			.unpark = test_unpark,
			.selfparking = r->selfparking,
			.thread_comm = (i == 0 && comm) ? comm : r->comm,
		};
		/* Callbacks look registrations up in regs[0..registered). */
		registered = i + 1;
		ret = register_threads(&r->ht);
		if (ret) {
			registered = i;
			free_reg(r);
			goto fail;
		}
	}
	owner_all(false);
	ret = smpboot_rs_extras_init();
	if (ret)
		goto fail;
	if (selfparking && selfparking_follow) {
		ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, KBUILD_MODNAME ":owner",
					follow_online, follow_offline);
		if (ret < 0)
			goto fail;
		follow_state = ret;
	}
	pr_info("registered %u per-CPU threads (%u selfparking, %u kept parked%s)\n", nr_regs,
		selfparking, selfparking_parked, selfparking_follow ? ", following hotplug" : "");
	return 0;
fail:
	pr_info("registration %u failed: %d\n", i, ret);
	smpboot_rs_extras_undo();
	unregister_all(false);
	kfree(regs);
	return ret;
}

static void __exit test_exit(void)
{
	smpboot_rs_extras_exit();
	unregister_all(true);
	pr_info("exit: queued=%ld handled=%ld wrong_cpu=%ld bad_preempt=%ld state_errors=%ld store_errors=%ld\n",
		atomic_long_read(&queued), atomic_long_read(&handled),
		atomic_long_read(&wrong_cpu), atomic_long_read(&bad_preempt),
		atomic_long_read(&state_errors), atomic_long_read(&store_errors));
	kfree(regs);
}

module_init(test_init);
module_exit(test_exit);
MODULE_DESCRIPTION("smpboot_rs selftest: a C user of " API_NAME);
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * A ksoftirqd look-alike in C: the behaviour and files of ksoftirqd_rs.ko
 * (samples/ksoftirqd_rs.rs), on the kernel's smpboot_register_percpu_thread()
 * or, built as ksoftirqd_c_rs.ko (KSOFTIRQD_C_USE_SMPBOOT_RS), on
 * smpboot_rs's C API. See Documentation/ksoftirqd_rs.rst.
 *
 * Per-CPU pending work in four vectors, raised from any context (hard IRQ
 * included), waking the CPU's thread only if the CPU had nothing pending
 * (wakeup_softirqd()); the thread handles it in batches bounded by 2 ms and
 * 10 restarts (__do_softirq()). Producers: a pinned hard-IRQ hrtimer per
 * online CPU, IPIs to other CPUs. A dead CPU's work moves to a live one
 * (takeover_tasklets()). Files in /sys/kernel/<module>/: raise, ipi, timer,
 * reset (root only), stats and latency (the wakeup latency histogram).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/smpboot.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
/* hrtimer_setup() as 6.13 added it, which later removed hrtimer_init(). */
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

#ifdef KSOFTIRQD_C_USE_SMPBOOT_RS
#include "../include/smpboot_rs.h"
#define THREAD_COMM "ksoftirqd_crs/%u"
#define register_threads smpboot_rs_register_percpu_thread
#define unregister_threads smpboot_rs_unregister_percpu_thread
#else
#define THREAD_COMM "ksoftirqd_c/%u"
#define register_threads smpboot_register_percpu_thread
#define unregister_threads smpboot_unregister_percpu_thread
#endif

#define NR_VECS 4
#define MAX_BATCH_NS (2 * NSEC_PER_MSEC)	/* MAX_SOFTIRQ_TIME */
#define MAX_RESTART 10				/* MAX_SOFTIRQ_RESTART */
#define CHUNK 256				/* items of a vector per pass */
#define MAX_COUNT 1000000ULL
#define MIN_PERIOD_US 100ULL
#define MAX_PERIOD_US 1000000ULL
#define MAX_WRITE 64
#define NR_BUCKETS 256		/* wakeup latency histogram: 8 per power of 2 */

struct ks_cpu {
	atomic64_t queued[NR_VECS];
	/* Raised and not yet handled: the wake gate (may dip below 0). */
	atomic64_t pending;
	atomic64_t raised, processed, migrated_in, batches, wrong_cpu, max_batch_ns;
	atomic64_t per_vec[NR_VECS];
	atomic64_t checksum, ticks, tick_wrong_cpu, ipis, ipi_wrong_cpu, next_vec;
	/* ktime_get() of the last raise that found nothing pending (0: none). */
	atomic64_t raise_ts;
	/* Wakeup latencies (raise to start of handling), by ks_bucket(). */
	atomic64_t latency[NR_BUCKETS];
	struct hrtimer timer;
	unsigned int cpu;
};

static DEFINE_PER_CPU(struct ks_cpu, ks_cpus);
static DEFINE_PER_CPU(struct task_struct *, ks_task);
static DEFINE_MUTEX(ks_timer_lock);
static u64 ks_period_ns;	/* READ_ONCE/WRITE_ONCE; 0 is off */
static int ks_online_state, ks_dead_state;
static struct kobject *ks_kobj;

static void ks_wake(unsigned int cpu)
{
	struct task_struct *tsk = READ_ONCE(*per_cpu_ptr(&ks_task, cpu));

	/* NULL: not started yet; it checks should_run when it starts. */
	if (tsk)
		wake_up_process(tsk);
}

/* Adds n to a wake gate; true when it goes from <= 0 to > 0. */
static bool ks_gate_add(atomic64_t *pending, s64 n)
{
	s64 before = atomic64_fetch_add(n, pending);

	return before <= 0 && before + n > 0;
}

/*
 * The histogram bucket of ns: ns itself below 16, then 8 buckets per power of
 * two (the top three bits), the last one open-ended.
 */
static unsigned int ks_bucket(u64 ns)
{
	unsigned int msb, idx;

	if (ns < 16)
		return ns;
	msb = fls64(ns) - 1;
	idx = (msb - 2) * 8 + ((ns >> (msb - 3)) & 7);
	return min_t(unsigned int, idx, NR_BUCKETS - 1);
}

/* The smallest value of bucket idx. */
static u64 ks_bucket_floor(unsigned int idx)
{
	if (idx < 16)
		return idx;
	return (8ULL + idx % 8) << (idx / 8 - 1);
}

/* raise_softirq(): any context. The item is queued before it is counted. */
static void ks_raise(unsigned int cpu, unsigned int vec, u64 n)
{
	struct ks_cpu *c = per_cpu_ptr(&ks_cpus, cpu);

	if (!n || vec >= NR_VECS)
		return;
	atomic64_add(n, &c->queued[vec]);
	atomic64_add(n, &c->raised);
	/* Nothing pending: this raise is the one that wakes the thread. */
	if (atomic64_read_acquire(&c->pending) <= 0)
		atomic64_set_release(&c->raise_ts, ktime_get_ns());
	if (ks_gate_add(&c->pending, n))
		ks_wake(cpu);
}

/* From an interrupt handler expected on 'expected': one item here. */
static void ks_raise_here(unsigned int expected, bool tick)
{
	unsigned int here = smp_processor_id();
	struct ks_cpu *c = per_cpu_ptr(&ks_cpus, here);

	atomic64_inc(tick ? &c->ticks : &c->ipis);
	if (here != expected)
		atomic64_inc(tick ? &c->tick_wrong_cpu : &c->ipi_wrong_cpu);
	ks_raise(here, (unsigned int)(atomic64_inc_return(&c->next_vec) % NR_VECS), 1);
}

static u64 ks_take(atomic64_t *q, u64 max)
{
	s64 old = atomic64_read(q), take;

	do {
		if (old <= 0)
			return 0;
		take = min_t(s64, old, max);
	} while (!atomic64_try_cmpxchg(q, &old, old - take));
	return take;
}

static u64 ks_handle_vec(unsigned int vec, u64 n, unsigned int cpu)
{
	u64 a = cpu, i;

	switch (vec) {
	case 0:
		return n;
	case 1:
		return n * 0x9e3779b97f4a7c15ULL;
	case 2:
		for (i = 0; i < min_t(u64, n, 64); i++)
			a = rol64(a, 5) ^ i;
		return a;
	default:
		return n << 1;
	}
}

/* ksoftirqd_should_run() */
static int ks_should_run(unsigned int cpu)
{
	return atomic64_read(&per_cpu_ptr(&ks_cpus, cpu)->pending) > 0;
}

/* run_ksoftirqd() + __do_softirq(): one bounded batch. */
static void ks_run(unsigned int cpu)
{
	struct ks_cpu *c = per_cpu_ptr(&ks_cpus, cpu);
	/* The clock first: handling starts here (the Rust sample does the same). */
	u64 start = ktime_get_ns(), handled = 0, mix = 0, took;
	unsigned int on = raw_smp_processor_id(), restart = MAX_RESTART, vec;
	s64 raised_at = atomic64_xchg(&c->raise_ts, 0);

	if (raised_at > 0)
		atomic64_inc(&c->latency[ks_bucket(max_t(s64, (s64)start - raised_at, 0))]);
	for (;;) {
		u64 pass = 0;

		for (vec = 0; vec < NR_VECS; vec++) {
			u64 n = ks_take(&c->queued[vec], CHUNK);

			if (!n)
				continue;
			mix ^= ks_handle_vec(vec, n, cpu);
			atomic64_add(n, &c->per_vec[vec]);
			pass += n;
		}
		atomic64_sub(pass, &c->pending);
		handled += pass;
		if (atomic64_read(&c->pending) <= 0 || --restart == 0 ||
		    ktime_get_ns() - start >= MAX_BATCH_NS)
			break;
	}
	took = ktime_get_ns() - start;
	/* The handlers' mixes of the batch, published once as processed is. */
	atomic64_xor(mix, &c->checksum);
	atomic64_add(handled, &c->processed);
	if (on != cpu)
		atomic64_add(handled, &c->wrong_cpu);
	atomic64_inc(&c->batches);
	if (took > atomic64_read(&c->max_batch_ns))
		atomic64_set(&c->max_batch_ns, took);	/* only this thread writes it */
	/*
	 * Work left: yield if a reschedule is due. No self-wake is needed: the
	 * smpboot loop calls should_run again before it sleeps.
	 */
	if (atomic64_read(&c->pending) > 0)
		cond_resched();
}

static struct smp_hotplug_thread ks_threads = {
	.store = &ks_task,
	.thread_should_run = ks_should_run,
	.thread_fn = ks_run,
	.thread_comm = THREAD_COMM,
};

static enum hrtimer_restart ks_tick(struct hrtimer *t)
{
	struct ks_cpu *c = container_of(t, struct ks_cpu, timer);
	u64 period = READ_ONCE(ks_period_ns);

	ks_raise_here(c->cpu, true);
	if (!period)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(t, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

/* Runs on the timer's CPU (hotplug thread or IPI): pinned timers start here. */
static void ks_start_timer_here(void *unused)
{
	u64 period = READ_ONCE(ks_period_ns);

	if (period)
		hrtimer_start(this_cpu_ptr(&ks_cpus.timer), ns_to_ktime(period),
			      HRTIMER_MODE_REL_PINNED_HARD);
}

static void ks_ipi(void *info)
{
	ks_raise_here((unsigned int)(unsigned long)info, false);
}

static void ks_noop(void *info)
{
}

static int ks_cpu_online(unsigned int cpu)
{
	ks_start_timer_here(NULL);
	return 0;
}

/* Cancelled before the CPU dies, so the kernel never migrates it. */
static int ks_cpu_offline(unsigned int cpu)
{
	hrtimer_cancel(&per_cpu_ptr(&ks_cpus, cpu)->timer);
	return 0;
}

/* takeover_tasklets(): after 'cpu' died, on the control CPU. */
static int ks_cpu_dead(unsigned int cpu)
{
	struct ks_cpu *src = per_cpu_ptr(&ks_cpus, cpu), *dst;
	unsigned int here = get_cpu(), vec;
	u64 moved = 0;

	dst = per_cpu_ptr(&ks_cpus, here);
	for (vec = 0; vec < NR_VECS; vec++) {
		u64 n = atomic64_xchg(&src->queued[vec], 0);

		atomic64_add(n, &dst->queued[vec]);
		moved += n;
	}
	if (moved) {
		atomic64_sub(moved, &src->pending);
		atomic64_add(moved, &dst->migrated_in);
		if (ks_gate_add(&dst->pending, moved))
			ks_wake(here);
	}
	put_cpu();
	return 0;
}

/* Splits a whole write into at most 'max' blank-separated words. */
static int ks_words(const char *buf, size_t count, char *copy, char **w, int max)
{
	char *s = copy, *tok;
	int n = 0;

	if (count > MAX_WRITE)
		return -EINVAL;
	memcpy(copy, buf, count);
	copy[count] = '\0';
	while ((tok = strsep(&s, " \t\n")) != NULL) {
		if (!*tok)
			continue;
		if (n == max)
			return -EINVAL;
		w[n++] = tok;
	}
	return n ? n : -EINVAL;
}

static int ks_number(const char *word, u64 lo, u64 hi, u64 *out)
{
	int ret = kstrtou64(word, 10, out);

	if (ret)
		return ret;
	return (*out < lo || *out > hi) ? -ERANGE : 0;
}

static ssize_t raise_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	char copy[MAX_WRITE + 1], *w[2];
	unsigned int cpu, vec;
	u64 n, id;
	int ret = ks_words(buf, count, copy, w, 2);

	if (ret < 0)
		return ret;
	if (ret != 2)
		return -EINVAL;
	ret = ks_number(w[1], 1, MAX_COUNT, &n);
	if (ret)
		return ret;
	cpus_read_lock();
	if (!strcmp(w[0], "all")) {
		for_each_online_cpu(cpu)
			for (vec = 0; vec < NR_VECS; vec++)
				ks_raise(cpu, vec, n / NR_VECS + (vec < n % NR_VECS));
	} else {
		ret = kstrtou64(w[0], 10, &id);
		if (!ret && (id >= nr_cpu_ids || !cpu_online(id)))
			ret = -EINVAL;
		if (!ret)
			for (vec = 0; vec < NR_VECS; vec++)
				ks_raise(id, vec, n / NR_VECS + (vec < n % NR_VECS));
	}
	cpus_read_unlock();
	return ret ? ret : count;
}

static ssize_t ipi_store(struct kobject *kobj, struct kobj_attribute *attr,
			 const char *buf, size_t count)
{
	char copy[MAX_WRITE + 1], *w[1];
	unsigned int cpu, me;
	u64 n, i;
	int ret = ks_words(buf, count, copy, w, 1);

	if (ret < 0)
		return ret;
	ret = ks_number(w[0], 1, MAX_COUNT, &n);
	if (ret)
		return ret;
	cpus_read_lock();
	me = raw_smp_processor_id();
	cpu = me;
	for (i = 0; i < n && !ret; i++) {
		/* Round robin over the other online CPUs (this one if alone). */
		do {
			cpu = cpumask_next(cpu, cpu_online_mask);
			if (cpu >= nr_cpu_ids)
				cpu = cpumask_first(cpu_online_mask);
		} while (cpu == me && num_online_cpus() > 1);
		ret = smp_call_function_single(cpu, ks_ipi, (void *)(unsigned long)cpu, 0);
		if (i % 64 == 63)
			cond_resched();
	}
	cpus_read_unlock();
	return ret ? ret : count;
}

static ssize_t timer_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(ks_period_ns) / NSEC_PER_USEC);
}

static ssize_t timer_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	char copy[MAX_WRITE + 1], *w[1];
	unsigned int cpu;
	u64 us;
	int ret = ks_words(buf, count, copy, w, 1);

	if (ret < 0)
		return ret;
	ret = kstrtou64(w[0], 10, &us);
	if (ret)
		return ret;
	if (us && (us < MIN_PERIOD_US || us > MAX_PERIOD_US))
		return -ERANGE;
	mutex_lock(&ks_timer_lock);
	cpus_read_lock();
	WRITE_ONCE(ks_period_ns, us * NSEC_PER_USEC);
	for_each_online_cpu(cpu) {
		if (us)
			smp_call_function_single(cpu, ks_start_timer_here, NULL, 1);
		else
			hrtimer_cancel(&per_cpu_ptr(&ks_cpus, cpu)->timer);
	}
	cpus_read_unlock();
	mutex_unlock(&ks_timer_lock);
	return count;
}

/* The files that clear something take exactly "0". */
static int ks_expect_zero(const char *buf, size_t count)
{
	char copy[MAX_WRITE + 1], *w[1];
	u64 v;
	int ret = ks_words(buf, count, copy, w, 1);

	if (ret < 0)
		return ret;
	ret = kstrtou64(w[0], 10, &v);
	if (ret)
		return ret;
	return v ? -EINVAL : 0;
}

/* Zeroes the counters; what is pending stays counted as raised. */
static ssize_t reset_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	unsigned int cpu, vec;
	int ret = ks_expect_zero(buf, count);

	if (ret)
		return ret;
	for_each_possible_cpu(cpu) {
		struct ks_cpu *c = per_cpu_ptr(&ks_cpus, cpu);

		atomic64_set(&c->raised, max_t(s64, atomic64_read(&c->pending), 0));
		atomic64_set(&c->processed, 0);
		atomic64_set(&c->migrated_in, 0);
		atomic64_set(&c->batches, 0);
		atomic64_set(&c->wrong_cpu, 0);
		atomic64_set(&c->max_batch_ns, 0);
		atomic64_set(&c->ticks, 0);
		atomic64_set(&c->tick_wrong_cpu, 0);
		atomic64_set(&c->ipis, 0);
		atomic64_set(&c->ipi_wrong_cpu, 0);
		for (vec = 0; vec < NR_VECS; vec++)
			atomic64_set(&c->per_vec[vec], 0);
	}
	return count;
}

/* One line per possible CPU. */
static ssize_t stats_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned int cpu, vec;
	int len = 0;

	for_each_possible_cpu(cpu) {
		struct ks_cpu *c = per_cpu_ptr(&ks_cpus, cpu);

		len += sysfs_emit_at(buf, len,
			"cpu=%u online=%d raised=%lld processed=%lld migrated_in=%lld pending=%lld batches=%lld wrong_cpu=%lld max_batch_ns=%lld ticks=%lld tick_wrong_cpu=%lld ipis=%lld ipi_wrong_cpu=%lld",
			cpu, cpu_online(cpu), atomic64_read(&c->raised),
			atomic64_read(&c->processed), atomic64_read(&c->migrated_in),
			max_t(s64, atomic64_read(&c->pending), 0),
			atomic64_read(&c->batches), atomic64_read(&c->wrong_cpu),
			atomic64_read(&c->max_batch_ns), atomic64_read(&c->ticks),
			atomic64_read(&c->tick_wrong_cpu), atomic64_read(&c->ipis),
			atomic64_read(&c->ipi_wrong_cpu));
		for (vec = 0; vec < NR_VECS; vec++)
			len += sysfs_emit_at(buf, len, " vec%u=%lld", vec,
					     atomic64_read(&c->per_vec[vec]));
		len += sysfs_emit_at(buf, len, "\n");
	}
	return len;
}

/* One line "<floor_ns> <count>" per non-empty bucket, summed over the CPUs. */
static ssize_t latency_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	unsigned int cpu, idx;
	int len = 0;

	for (idx = 0; idx < NR_BUCKETS; idx++) {
		s64 n = 0;

		for_each_possible_cpu(cpu)
			n += atomic64_read(&per_cpu_ptr(&ks_cpus, cpu)->latency[idx]);
		if (!n)
			continue;
		if (len > PAGE_SIZE - 48)
			break;
		len += sysfs_emit_at(buf, len, "%llu %lld\n", ks_bucket_floor(idx), n);
	}
	return len;
}

/* Write 0: clear the histogram. */
static ssize_t latency_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	unsigned int cpu, idx;
	int ret = ks_expect_zero(buf, count);

	if (ret)
		return ret;
	for_each_possible_cpu(cpu) {
		struct ks_cpu *c = per_cpu_ptr(&ks_cpus, cpu);

		atomic64_set(&c->raise_ts, 0);
		for (idx = 0; idx < NR_BUCKETS; idx++)
			atomic64_set(&c->latency[idx], 0);
	}
	return count;
}

static struct kobj_attribute raise_attr = __ATTR_WO(raise);
static struct kobj_attribute ipi_attr = __ATTR_WO(ipi);
static struct kobj_attribute timer_attr = __ATTR_RW(timer);
static struct kobj_attribute reset_attr = __ATTR_WO(reset);
static struct kobj_attribute stats_attr = __ATTR_RO(stats);
static struct kobj_attribute latency_attr = __ATTR_RW(latency);

static struct attribute *ks_attrs[] = {
	&raise_attr.attr, &ipi_attr.attr, &timer_attr.attr, &reset_attr.attr,
	&stats_attr.attr, &latency_attr.attr, NULL,
};

static const struct attribute_group ks_group = { .attrs = ks_attrs };

/* Stops the producers: timers off and cancelled, in-flight IPIs run. */
static void ks_stop_producers(void)
{
	unsigned int cpu;

	mutex_lock(&ks_timer_lock);
	WRITE_ONCE(ks_period_ns, 0);
	for_each_possible_cpu(cpu)
		hrtimer_cancel(&per_cpu_ptr(&ks_cpus, cpu)->timer);
	mutex_unlock(&ks_timer_lock);
	cpus_read_lock();
	on_each_cpu(ks_noop, NULL, 1);
	cpus_read_unlock();
}

static int __init ks_init(void)
{
	unsigned int cpu;
	int ret;

	for_each_possible_cpu(cpu) {
		struct ks_cpu *c = per_cpu_ptr(&ks_cpus, cpu);

		c->cpu = cpu;
		hrtimer_setup(&c->timer, ks_tick, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL_PINNED_HARD);
	}
	ret = register_threads(&ks_threads);
	if (ret)
		return ret;
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, KBUILD_MODNAME ":dead",
					NULL, ks_cpu_dead);
	if (ret < 0)
		goto out_threads;
	ks_dead_state = ret;
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, KBUILD_MODNAME ":online",
				ks_cpu_online, ks_cpu_offline);
	if (ret < 0)
		goto out_dead;
	ks_online_state = ret;
	ks_kobj = kobject_create_and_add(KBUILD_MODNAME, kernel_kobj);
	if (!ks_kobj) {
		ret = -ENOMEM;
		goto out_online;
	}
	ret = sysfs_create_group(ks_kobj, &ks_group);
	if (ret)
		goto out_kobj;
	pr_info("ready: /sys/kernel/%s/ (per-CPU data: %zu bytes)\n", KBUILD_MODNAME,
		sizeof(struct ks_cpu));
	return 0;
out_kobj:
	kobject_put(ks_kobj);
out_online:
	cpuhp_remove_state(ks_online_state);
out_dead:
	cpuhp_remove_state_nocalls(ks_dead_state);
out_threads:
	unregister_threads(&ks_threads);
	return ret;
}

static void __exit ks_exit(void)
{
	s64 raised = 0, processed = 0, pending = 0;
	unsigned int cpu;

	sysfs_remove_group(ks_kobj, &ks_group);
	kobject_put(ks_kobj);
	ks_stop_producers();
	cpuhp_remove_state(ks_online_state);
	cpuhp_remove_state_nocalls(ks_dead_state);
	unregister_threads(&ks_threads);
	for_each_possible_cpu(cpu) {
		struct ks_cpu *c = per_cpu_ptr(&ks_cpus, cpu);

		raised += atomic64_read(&c->raised);
		processed += atomic64_read(&c->processed);
		pending += atomic64_read(&c->pending);
	}
	pr_info("exit: raised=%lld processed=%lld pending=%lld\n", raised, processed, pending);
}

module_init(ks_init);
module_exit(ks_exit);
MODULE_DESCRIPTION("smpboot_rs sample: a ksoftirqd look-alike in C");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * The wakeup latency of the kernel's own ksoftirqd, for `scripts/bench
 * --intree`: stock 7.3 against 7.3 with the in-tree series, whose ksoftirqd
 * runs on rust/kernel/smpboot.rs.
 *
 * Each write to raise (debugfs, smpboot_rs_bench_softirq/) queues a work item
 * on system_bh_wq on the writer's CPU. Raised from a task, its softirq wakes
 * that CPU's ksoftirqd (raise_softirq_irqoff()); an interrupt that exits on
 * the CPU before ksoftirqd runs handles it instead. The item records the time
 * from the raise and whether ksoftirqd ran it. samples lists the raises, one
 * per line, "<ns> <1 if ksoftirqd ran it, else 0>"; writing to it clears
 * them. A raise while the previous one is not handled yet is not timed, only
 * counted (the first line: "busy <count>").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#define MAX_SAMPLES 16384

struct softirq_sample {
	u32 ns;
	bool by_ksoftirqd;
};

static struct softirq_sample samples[MAX_SAMPLES];
static unsigned int nr_samples;		/* under samples_lock */
static unsigned long nr_busy;		/* under samples_lock */
static DEFINE_SPINLOCK(samples_lock);
/* ktime_get() at the raise of the item in flight; set before it is queued. */
static u64 raised_at;
static atomic_t in_flight = ATOMIC_INIT(0);
static struct dentry *dir;

static void softirq_sample_fn(struct work_struct *work)
{
	u64 ns = ktime_get() - raised_at;

	spin_lock(&samples_lock);
	if (nr_samples < MAX_SAMPLES) {
		samples[nr_samples].ns = min_t(u64, ns, U32_MAX);
		/* Kernel threads cannot rename themselves from user space. */
		samples[nr_samples].by_ksoftirqd = (current->flags & PF_KTHREAD) &&
			!strncmp(current->comm, "ksoftirqd/", strlen("ksoftirqd/"));
		nr_samples++;
	}
	spin_unlock(&samples_lock);
	atomic_set_release(&in_flight, 0);
}

static DECLARE_WORK(softirq_sample_work, softirq_sample_fn);

static ssize_t raise_write(struct file *file, const char __user *buf, size_t len, loff_t *ppos)
{
	if (atomic_cmpxchg_acquire(&in_flight, 0, 1)) {
		spin_lock_bh(&samples_lock);
		nr_busy++;
		spin_unlock_bh(&samples_lock);
		return len;
	}
	/* The raise and the queueing on one CPU: the item runs where it was raised. */
	preempt_disable();
	raised_at = ktime_get();
	queue_work_on(smp_processor_id(), system_bh_wq, &softirq_sample_work);
	preempt_enable();
	return len;
}

static const struct file_operations raise_fops = {
	.owner = THIS_MODULE,
	.write = raise_write,
	.llseek = noop_llseek,
};

static int samples_show(struct seq_file *m, void *v)
{
	unsigned int i;

	spin_lock_bh(&samples_lock);
	seq_printf(m, "busy %lu\n", nr_busy);
	for (i = 0; i < nr_samples; i++)
		seq_printf(m, "%u %d\n", samples[i].ns, samples[i].by_ksoftirqd);
	spin_unlock_bh(&samples_lock);
	return 0;
}

static int samples_open(struct inode *inode, struct file *file)
{
	return single_open(file, samples_show, NULL);
}

static ssize_t samples_write(struct file *file, const char __user *buf, size_t len, loff_t *ppos)
{
	spin_lock_bh(&samples_lock);
	nr_samples = 0;
	nr_busy = 0;
	spin_unlock_bh(&samples_lock);
	return len;
}

static const struct file_operations samples_fops = {
	.owner = THIS_MODULE,
	.open = samples_open,
	.read = seq_read,
	.write = samples_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init softirq_bench_init(void)
{
	dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_file("raise", 0200, dir, NULL, &raise_fops);
	debugfs_create_file("samples", 0600, dir, NULL, &samples_fops);
	return 0;
}

static void __exit softirq_bench_exit(void)
{
	/* No raise after this; then the last item is done before the text goes. */
	debugfs_remove_recursive(dir);
	flush_work(&softirq_sample_work);
}

module_init(softirq_bench_init);
module_exit(softirq_bench_exit);
MODULE_DESCRIPTION("The wakeup latency of the kernel's ksoftirqd, for scripts/bench --intree");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0
/*
 * The C shim of smpboot_rs.ko: callable versions of the static inlines and
 * macros that have no Rust binding in 6.12, and the export lines of the
 * functions defined in Rust. No logic lives here.
 */
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include "../include/smpboot_rs.h"
#include "shim.h"

/* smpboot_rs/seed.rs mirrors this layout; both sides check it. */
static_assert(sizeof(struct smp_hotplug_thread) == 96);
static_assert(offsetof(struct smp_hotplug_thread, thread_should_run) == 24);
static_assert(offsetof(struct smp_hotplug_thread, selfparking) == 80);
static_assert(offsetof(struct smp_hotplug_thread, thread_comm) == 88);

/* preempt_disable(), returning the CPU it pins: one call for both. */
unsigned int smpboot_rs_preempt_disable(void)
{
	preempt_disable();
	return smp_processor_id();
}

void smpboot_rs_preempt_enable(void)
{
	preempt_enable();
}

unsigned int smpboot_rs_raw_smp_processor_id(void)
{
	return raw_smp_processor_id();
}

bool smpboot_rs_preemptible(void)
{
	return preemptible();
}

bool smpboot_rs_in_task(void)
{
	return in_task();
}

/*
 * Whether the caller may sleep, as far as the kernel can tell: without
 * CONFIG_PREEMPT_COUNT a spinlock leaves no trace, and only disabled
 * interrupts show.
 */
bool smpboot_rs_may_sleep(void)
{
	if (!IS_ENABLED(CONFIG_PREEMPT_COUNT))
		return !irqs_disabled();
	return preemptible();
}

const struct cpumask *smpboot_rs_cpumask_of(unsigned int cpu)
{
	return cpumask_of(cpu);
}

/*
 * Lockless: another task's mask may change meanwhile (the scheduler's
 * fallback, under its locks); callers re-check where it matters.
 */
bool smpboot_rs_task_bound_to(struct task_struct *task, unsigned int cpu)
{
	return data_race(cpumask_equal(&task->cpus_mask, cpumask_of(cpu)));
}

/*
 * The top of a wait loop's pass, as smpboot_thread_fn() has it: about to
 * sleep, then preemption off; returns the CPU. One call for the three, and
 * one for the two below, as the thread loop takes a pass per wakeup.
 */
unsigned int smpboot_rs_wait_pass_begin(void)
{
	set_current_state(TASK_INTERRUPTIBLE);
	preempt_disable();
	return smp_processor_id();
}

/* A pass that goes on running: running again, then preemption on. */
void smpboot_rs_wait_pass_running(void)
{
	__set_current_state(TASK_RUNNING);
	preempt_enable();
}

void smpboot_rs_cond_resched(void)
{
	cond_resched();
}

struct task_struct **smpboot_rs_percpu_task_slot(struct task_struct *__percpu *store,
						 unsigned int cpu)
{
	return per_cpu_ptr(store, cpu);
}

/*
 * The helpers are exported too: Rust user modules compile the same wrapper
 * modules (smpboot_rs/cpu.rs ...) and call them through smpboot_rs.ko.
 */
EXPORT_SYMBOL_GPL(smpboot_rs_preempt_disable);
EXPORT_SYMBOL_GPL(smpboot_rs_preempt_enable);
EXPORT_SYMBOL_GPL(smpboot_rs_raw_smp_processor_id);
EXPORT_SYMBOL_GPL(smpboot_rs_preemptible);
EXPORT_SYMBOL_GPL(smpboot_rs_in_task);
EXPORT_SYMBOL_GPL(smpboot_rs_may_sleep);
EXPORT_SYMBOL_GPL(smpboot_rs_cpumask_of);
EXPORT_SYMBOL_GPL(smpboot_rs_task_bound_to);
EXPORT_SYMBOL_GPL(smpboot_rs_wait_pass_begin);
EXPORT_SYMBOL_GPL(smpboot_rs_wait_pass_running);
EXPORT_SYMBOL_GPL(smpboot_rs_cond_resched);
EXPORT_SYMBOL_GPL(smpboot_rs_percpu_task_slot);

/* Defined in smpboot_rs/exports.rs. */
EXPORT_SYMBOL_GPL(__smpboot_rs_register_percpu_thread);
EXPORT_SYMBOL_GPL(smpboot_rs_unregister_percpu_thread);
EXPORT_SYMBOL_GPL(smpboot_rs_thread_schedule);
EXPORT_SYMBOL_GPL(smpboot_rs_register);
EXPORT_SYMBOL_GPL(smpboot_rs_unregister);
EXPORT_SYMBOL_GPL(smpboot_rs_thread_state);
EXPORT_SYMBOL_GPL(smpboot_rs_wake_slots);

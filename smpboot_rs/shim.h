/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prototypes of smpboot_rs/shim.c (declared in Rust in smpboot_rs/ffi.rs)
 * and of the Rust-defined ABI for Rust users (smpboot_rs/abi.rs).
 */
#ifndef _SMPBOOT_RS_SHIM_H
#define _SMPBOOT_RS_SHIM_H

#include <linux/types.h>

struct cpumask;
struct task_struct;

unsigned int smpboot_rs_preempt_disable(void);
void smpboot_rs_preempt_enable(void);
unsigned int smpboot_rs_raw_smp_processor_id(void);
bool smpboot_rs_preemptible(void);
bool smpboot_rs_in_task(void);
bool smpboot_rs_may_sleep(void);
const struct cpumask *smpboot_rs_cpumask_of(unsigned int cpu);
bool smpboot_rs_task_bound_to(struct task_struct *task, unsigned int cpu);
unsigned int smpboot_rs_wait_pass_begin(void);
void smpboot_rs_wait_pass_running(void);
void smpboot_rs_cond_resched(void);
struct task_struct **smpboot_rs_percpu_task_slot(struct task_struct *__percpu *store,
						 unsigned int cpu);

/* The ABI of the typed Rust API; see smpboot_rs/abi.rs. */
struct smpboot_rs_thread_desc;
struct smpboot_rs_registration;
int smpboot_rs_register(const struct smpboot_rs_thread_desc *desc,
			struct smpboot_rs_registration **out);
void smpboot_rs_unregister(struct smpboot_rs_registration *reg);
struct smpboot_rs_wake_slot;
const struct smpboot_rs_wake_slot *
smpboot_rs_wake_slots(const struct smpboot_rs_registration *reg, size_t *nr);
int smpboot_rs_thread_state(const struct smpboot_rs_registration *reg, unsigned int cpu);

#endif /* _SMPBOOT_RS_SHIM_H */

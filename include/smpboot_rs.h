/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smpboot_rs: per-CPU hotplug threads, the C interface of smpboot_rs.ko.
 *
 * The registration API of <linux/smpboot.h> with the same descriptor
 * (struct smp_hotplug_thread, the 6.12 field set) and the same semantics, so
 * that a C module moves from the kernel's smpboot by renaming two calls:
 *
 *	smpboot_register_percpu_thread()   -> smpboot_rs_register_percpu_thread()
 *	smpboot_unregister_percpu_thread() -> smpboot_rs_unregister_percpu_thread()
 *
 * Differences from kernel/smpboot.c are listed in
 * Documentation/smpboot_rs.rst ("Differences from C smpboot").
 */
#ifndef _SMPBOOT_RS_H
#define _SMPBOOT_RS_H

#include <linux/export.h>
#include <linux/smpboot.h>

int __smpboot_rs_register_percpu_thread(struct smp_hotplug_thread *plug_thread,
					struct module *owner);

/**
 * smpboot_rs_register_percpu_thread - register a per-CPU hotplug thread
 * @plug_thread: the descriptor; it must stay valid until unregistration.
 *
 * Creates and starts a thread on every online CPU; a CPU that comes online
 * later gets its thread then. @plug_thread->thread_comm must contain exactly
 * one "%u" and no other conversion.
 *
 * The calling module owns the registration: if it is unloaded without
 * unregistering, smpboot_rs stops the threads before its code goes (and
 * says so in the kernel log).
 *
 * Return: 0, -EINVAL for a bad descriptor, -EBUSY if it is registered
 * already, or the error of the thread creation that failed (everything done
 * so far is undone).
 */
static inline int smpboot_rs_register_percpu_thread(struct smp_hotplug_thread *plug_thread)
{
	return __smpboot_rs_register_percpu_thread(plug_thread, THIS_MODULE);
}

/**
 * smpboot_rs_unregister_percpu_thread - stop every thread of a registration
 * @plug_thread: a descriptor registered with smpboot_rs_register_percpu_thread().
 *
 * Stops the threads of all possible CPUs, parked ones included; returns once
 * every callback has returned. Unknown descriptors are ignored. Called from
 * one of the registration's own threads (it would wait for itself) or from
 * atomic context, it does nothing but say so in the kernel log: the threads
 * then stay until the owning module is unloaded.
 */
void smpboot_rs_unregister_percpu_thread(struct smp_hotplug_thread *plug_thread);

/**
 * smpboot_rs_thread_schedule - a preemption point for a long thread_fn
 *
 * Call it from a thread_fn of a smpboot_rs thread that runs long. It gives the
 * CPU to other tasks if a reschedule is due (the thread stays on its CPU) and
 * tells whether the thread has been asked to park (its CPU goes offline) or to
 * stop (unregistration), in which case thread_fn must return soon: parking
 * and stopping wait for it.
 *
 * Return: 1 if thread_fn should return now, 0 if it may go on, -EINVAL if the
 * caller is not a smpboot_rs thread.
 */
int smpboot_rs_thread_schedule(void);

#endif /* _SMPBOOT_RS_H */

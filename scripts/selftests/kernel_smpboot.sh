#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# C smpboot's contract through the kernel's own API (KTAP): the C test user
# built on smpboot_register_percpu_thread() (smpboot_rs_test_kernel.ko, the
# code of smpboot_rs_test_c.ko), judged only by its own record of its
# callbacks (its calls file: counts, the state they saw, the pid they ran
# on) and by /proc, never by a view of the core's.
#
# On a stock kernel the core is C smpboot, the reference: there the suite
# shows that its checks are C's contract, not a design's. On a kernel with
# the in-tree series (scripts/series, CONFIG_SMPBOOT_RUST) the same checks
# judge the Rust smpboot. The cases are those of smpboot_rs_core.sh and
# hotplug_contract.sh that a C smpboot user can see, the sweeps included:
# registration, work, offline and online, a CPU online later, a failed
# bringup, unregistration with a CPU offline, a lost wakeup, selfparking
# owners, descriptors without park or setup, and CPU 3 through every
# hotplug state and a failure at each, with every kind of registration
# loaded. Not what C smpboot does not promise (Documentation/smpboot_rs.rst,
# differences from C), which smpboot_rs's own suites test: a registration
# made while a CPU sits between smpboot/threads:prepare and online (C
# dereferences a thread it never created), and a create() that sets up a
# hotplug state (C calls create() under smpboot_threads_lock, which the
# hotplug callbacks take under cpuhp_state_mutex: lockdep reports the
# inversion on 6.12.118).
#
# Under TCG on 2 host cores the sweeps take most of the suite's 10 minutes
# (6.12.118, 2026-12-04), 17 with three guests and a kernel build at once.
#
# vm-run-args: --cpus 4 --timeout 1800
. "$(dirname "$0")/selftest-lib.sh"

MOD=smpboot_rs_test_kernel
CPARAM=/sys/module/$MOD/parameters
CALLS=$CPARAM/calls

nr_online() { online_cpus | wc -l; }
calls_of() { grep "^reg=$1 cpu=$2 " $CALLS; }

# threads_follow [CPU]: one awk over the calls file and the threads' /proc
# entries. Every thread that ran a callback is a live task of its name
# (sbtk<reg>/<cpu>), never in D state; a CPU's threads that the core parks
# (not selfparking) are, with the CPU at or above smpboot/threads:online,
# running (not parked), allowed on that CPU only and active as their
# callbacks saw it, and below it, parked and parked as the callbacks saw it
# (active without park: C runs neither park nor unpark then). With CPU,
# only that CPU's threads. Prints what is wrong.
threads_follow() {
	tf_states=
	for tf_cpu in $(possible_cpus); do
		tf_s=0
		[ ! -r $SYSCPU/cpu$tf_cpu/hotplug/state ] || read -r tf_s < $SYSCPU/cpu$tf_cpu/hotplug/state
		tf_states="$tf_states $tf_cpu:$tf_s"
	done
	read -r tf_nregs < $CPARAM/nr_regs && read -r tf_selfparking < $CPARAM/selfparking &&
		read -r tf_no_park < $CPARAM/no_park || return 1
	TF_STATES=$tf_states TF_CPU=${1:-} TF_SMPBOOT=$SMPBOOT_ONLINE TF_SELFPARKING_FROM=$((tf_nregs - tf_selfparking))
	TF_NO_PARK=$tf_no_park
	export TF_STATES TF_CPU TF_SMPBOOT TF_SELFPARKING_FROM TF_NO_PARK
	awk "$PROC_STATUS_AWK"'
	BEGIN {
		n = split(ENVIRON["TF_STATES"], s, " ")
		for (i = 1; i <= n; i++) { split(s[i], cs, ":"); state[cs[1]] = cs[2] }
		parked_state = (ENVIRON["TF_NO_PARK"] == "Y") ? "active" : "parked"
	}
	{
		delete v
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		reg = v["reg"]; cpu = v["cpu"]; pid = v["pid"]; name = "sbtk" reg "/" cpu
		if (ENVIRON["TF_CPU"] != "" && cpu != ENVIRON["TF_CPU"]) next
		up = state[cpu] + 0 >= ENVIRON["TF_SMPBOOT"] + 0
		core_parks = reg + 0 < ENVIRON["TF_SELFPARKING_FROM"] + 0
		if (pid == 0) {
			if (up && core_parks) { print name ": its CPU is up, no callback ran on a thread"; bad = 1 }
			next
		}
		if (!proc_status(pid)) { print name ": pid " pid " has no /proc entry"; bad = 1; next }
		comm = ""; getline comm < ("/proc/" pid "/comm"); close("/proc/" pid "/comm")
		if (comm != name) { print name ": pid " pid " is " comm; bad = 1 }
		if (st[pid] == "D") { print name ": pid " pid " in D state"; bad = 1 }
		if (!core_parks) next
		if (up) {
			if (st[pid] == "P") { print name ": parked at state " state[cpu]; bad = 1 }
			if (allowed[pid] != cpu) { print name ": allowed on " allowed[pid]; bad = 1 }
			if (v["state"] != "active") { print name ": callbacks saw " v["state"] " at state " state[cpu]; bad = 1 }
		} else {
			if (st[pid] != "P") { print name ": " st[pid] " at state " state[cpu] ", not parked"; bad = 1 }
			if (v["state"] != parked_state) { print name ": callbacks saw " v["state"] " at state " state[cpu]; bad = 1 }
		}
	}
	END { exit bad }' $CALLS
}

# The user's own checks (callbacks on their CPU, preemption, order,
# ht->store) and threads_follow, retried for 5 s: a thread unparked runs
# unpark when it is next scheduled, maybe after the hotplug write returned.
user_follows() { wait_for 5 user_follows_now "$@"; }
user_follows_now() { c_clean && threads_follow "$@"; }

work_done() {
	wait_for 20 c_drained || { echo "handled $(cat $CPARAM/handled) of $(cat $CPARAM/queued)"; return 1; }
}

# unload: rmmod, then the exit line's error counters 0 and the final lines
# of REGS registrations read (final_calls).
unload() {
	rmmod $MOD && exit_zero $MOD $C_EXIT_ERRORS && final_calls $MOD "$1"
}

user_cleanup() { unload_module $MOD; }

# --- registration, work, offline and online ----------------------------------

# A thread per online CPU, created (create() once each) and set up on it.
t_register() {
	modprobe $MOD || return 1
	wait_for 5 calls_match $CALLS 0 "$(online_cpus)" state=active setup=1 park=0 unpark=0 \
		cleanup_online=0 cleanup_offline=0 runs=0 || return 1
	[ "$(cat $CPARAM/creates)" = "$(nr_online)" ] || { echo "create called $(cat $CPARAM/creates) times"; return 1; }
	user_follows
}

# Work queued wakes each thread: thread_should_run (preemption off) and
# thread_fn on the CPU; idle threads then sleep and run nothing more.
t_work() {
	echo 5 > $CPARAM/kick && work_done || return 1
	[ "$(cat $CPARAM/queued)" = $((5 * $(nr_online))) ] || { echo "queued $(cat $CPARAM/queued)"; return 1; }
	calls_match $CALLS 0 "$(online_cpus)" runs=5 || return 1
	sleep 1
	calls_match $CALLS 0 "$(online_cpus)" runs=5 || { echo "(idle threads kept running)"; return 1; }
	for cpu in $(online_cpus); do
		pid=$(field "$(calls_of 0 "$cpu")" pid)
		[ "$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/$pid/status)" = S ] || { echo "sbtk0/$cpu not sleeping"; return 1; }
	done
	user_follows
}

# Offline parks the thread (park on its CPU); online unparks the same one.
t_offline_online() {
	pid=$(field "$(calls_of 0 3)" pid)
	for round in 1 2; do
		hp_target 3 0 || return 1
		calls_match $CALLS 0 3 state=parked setup=1 park=$round unpark=$((round - 1)) pid=$pid || return 1
		user_follows || return 1
		hp_target 3 "$HP_ONLINE" || return 1
		wait_for 5 calls_match $CALLS 0 3 state=active setup=1 park=$round unpark=$round pid=$pid || return 1
		user_follows || return 1
	done
	calls_match $CALLS 0 "0 1 2" state=active setup=1 park=0 unpark=0
}

# Unregistration stops every thread, the parked one of an offline CPU
# included: cleanup(cpu, online) online, cleanup(cpu, offline) offline.
t_unregister() {
	hp_target 1 0 || return 1
	pids=$(sed 's/.* pid=//' $CALLS)
	unload 1 || return 1
	for p in $pids; do [ ! -d /proc/$p ] || { echo "thread $p still alive"; return 1; }; done
	calls_match $SUITE_TMP/final_calls 0 1 state=none setup=1 cleanup_online=0 cleanup_offline=1 park=1 runs=5 &&
		calls_match $SUITE_TMP/final_calls 0 "0 2 3" state=none setup=1 cleanup_online=1 cleanup_offline=0 runs=5 &&
		calls_match $SUITE_TMP/final_calls 0 3 park=2 unpark=2 && final_balanced
}
t_unregister_cleanup() { user_cleanup; }

# A CPU offline at registration has no thread; it gets one (create() and
# setup, no unpark) when it comes online.
t_later_cpu() {
	hp_target 2 0 && modprobe $MOD || return 1
	[ "$(cat $CPARAM/creates)" = 3 ] || { echo "creates=$(cat $CPARAM/creates) with 3 CPUs online"; return 1; }
	calls_match $CALLS 0 2 state=none setup=0 pid=0 || return 1
	! grep -qs '^sbtk0/2$' /proc/[0-9]*/comm || { echo "a thread for offline cpu2"; return 1; }
	hp_target 2 "$HP_ONLINE" || return 1
	[ "$(cat $CPARAM/creates)" = 4 ] || { echo "creates=$(cat $CPARAM/creates) after online"; return 1; }
	wait_for 5 calls_match $CALLS 0 2 state=active setup=1 park=0 unpark=0 || return 1
	user_follows && unload 1 && final_balanced
}
t_later_cpu_cleanup() { user_cleanup; }

# A thread created for a CPU whose bringup then fails (at
# smpboot/threads:online, where it would be started) waits parked, not in
# D state; the next bringup starts that thread.
t_failed_bringup() {
	hp_target 3 0 && modprobe $MOD || return 1
	echo "$SMPBOOT_ONLINE" > $SYSCPU/cpu3/hotplug/fail || { echo "cannot arm smpboot/threads:online"; return 1; }
	if hp_target 3 "$HP_ONLINE"; then echo "bringup succeeded despite the injected failure"; return 1; fi
	pid=
	for s in /proc/[0-9]*/status; do
		grep -q '^Name:[[:space:]]*sbtk0/3$' "$s" 2>/dev/null || continue
		pid=${s#/proc/} pid=${pid%/status}
		st=$(sed -n 's/^State:[[:space:]]*//p' "$s")
		case $st in P*) ;; *) echo "sbtk0/3 is '$st' after the failed bringup, not parked"; return 1 ;; esac
	done
	[ -n "$pid" ] || { echo "no sbtk0/3 after the failed bringup (created at smpboot/threads:prepare)"; return 1; }
	user_follows || return 1
	hp_target 3 "$HP_ONLINE" || { echo "retry failed"; return 1; }
	wait_for 5 calls_match $CALLS 0 3 state=active setup=1 park=0 unpark=0 pid=$pid || return 1
	echo 1 > $CPARAM/kick && work_done && user_follows && unload 1 && final_balanced
}
t_failed_bringup_cleanup() { user_cleanup; }

# should_run_delay_ms: each idle pass of the threads of CPUs 1-3 spends
# 500 ms between finding no work and sleeping; the second kick of a round
# lands there, and must not be lost.
t_lost_wakeup() {
	modprobe $MOD should_run_delay_ms=500 || return 1
	for i in 1 2 3 4 5; do
		echo 1 > $CPARAM/kick && sleep 0.2 && echo 1 > $CPARAM/kick || return 1
		wait_for 3 c_drained || { echo "round $i: handled $(cat $CPARAM/handled) of $(cat $CPARAM/queued) (a wakeup was lost)"; return 1; }
	done
	c_clean && unload 1
}
t_lost_wakeup_cleanup() { user_cleanup; }

# --- selfparking, park and setup left out ------------------------------------

# C smpboot neither parks nor unparks selfparking threads: one its owner
# unparked lets its CPU go offline and come back and goes on, with no park
# or unpark callback; one its owner keeps parked stays so, with none.
t_selfpark_owner() {
	modprobe $MOD nr_regs=3 selfparking=2 selfparking_parked=1 || return 1
	parked_before=$(calls_of 2 3)
	echo 1 > $CPARAM/kick
	hp_target 3 0 || { echo "offline failed"; return 1; }
	user_follows || return 1
	hp_target 3 "$HP_ONLINE" || { echo "online failed"; return 1; }
	echo 1 > $CPARAM/kick && work_done || return 1
	calls_match $CALLS 1 3 state=active setup=1 park=0 unpark=0 || return 1
	[ "$(calls_of 2 3)" = "$parked_before" ] || { echo "owner-parked thread: $parked_before -> $(calls_of 2 3)"; return 1; }
	user_follows && unload 3 && final_balanced
}
t_selfpark_owner_cleanup() { user_cleanup; }

# An owner that parks its selfparking threads when their CPU goes down and
# unparks them when it is back (cpuhp/N's way): park and unpark on the CPU.
t_selfpark_follow() {
	modprobe $MOD nr_regs=2 selfparking=1 selfparking_follow=1 || return 1
	for i in 1 2; do
		hp_target 3 0 && hp_target 3 "$HP_ONLINE" || { echo "offline/online $i failed"; return 1; }
	done
	wait_for 5 calls_match $CALLS 1 3 state=active park=2 unpark=2 || return 1
	echo 1 > $CPARAM/kick && work_done && user_follows && unload 2 && final_balanced
}
t_selfpark_follow_cleanup() { user_cleanup; }

# A descriptor with unpark but no park: neither runs (C marks a thread
# parked only when it runs park), parked by the core or by an owner; the
# thread comes back active and runs thread_fn.
t_no_park() {
	modprobe $MOD nr_regs=2 selfparking=1 selfparking_follow=1 no_park=1 || return 1
	for i in 1 2; do
		hp_target 3 0 && user_follows 3 && hp_target 3 "$HP_ONLINE" || { echo "offline/online $i"; return 1; }
	done
	echo 1 > $CPARAM/kick && work_done || return 1
	for r in 0 1; do
		calls_match $CALLS $r 3 state=active setup=1 park=0 unpark=0 || return 1
	done
	user_follows && unload 2 && final_balanced
}
t_no_park_cleanup() { user_cleanup; }

# A descriptor with cleanup but no setup: the thread is active from its
# first pass all the same and gets cleanup, online or offline.
t_no_setup() {
	modprobe $MOD no_setup=1 || return 1
	user_follows && hp_target 3 0 || return 1
	echo 1 > $CPARAM/kick && work_done && user_follows && unload 1 || return 1
	calls_match $SUITE_TMP/final_calls 0 "0 1 2" setup=0 cleanup_online=1 cleanup_offline=0 runs=1 &&
		calls_match $SUITE_TMP/final_calls 0 3 setup=0 cleanup_online=0 cleanup_offline=1 runs=0
}
t_no_setup_cleanup() { user_cleanup; }

# --- every hotplug state -----------------------------------------------------

# Every kind of registration: core-parked, selfparking owner-unparked,
# owner-parked, owner following hotplug. After each step: the checks, and
# work queued for the next.
load_every_kind() {
	modprobe $MOD nr_regs=4 selfparking=3 selfparking_parked=1 selfparking_follow=1
}
step_checks() { user_follows 3 && echo 1 > $CPARAM/kick; }

t_sweep_target() {
	load_every_kind || return 1
	sweep_target step_checks || return 1
	echo "$(cat $SUITE_TMP/sweep_visited) states visited" > $SUITE_TMP/diag_sweep_target
	work_done && user_follows
}

t_sweep_fail() {
	loaded $MOD || load_every_kind || return 1
	sweep_fail step_checks || return 1
	echo "$(cat $SUITE_TMP/sweep_injected) failures injected" > $SUITE_TMP/diag_sweep_fail
	hp_target 3 "$HP_ONLINE" && work_done && user_follows && unload 4 && final_balanced
}
t_sweep_fail_cleanup() { user_cleanup; }

# KTAP results for the cases, each with its diagnostic line if it left one.
run_case() {
	name=$1 desc=$2
	case_result "$desc" "t_$name"
	[ ! -s $SUITE_TMP/diag_$name ] || diag "$(cat $SUITE_TMP/diag_$name)"
	rm -f $SUITE_TMP/diag_$name
	restore_cpus
	vmstat_on
}

nr_cases=$(grep -c '^run_case [a-z_]* ' "$0")
suite_begin "$nr_cases" 4 $MOD $SYSCPU/cpu3/hotplug/target $SYSCPU/cpu3/hotplug/fail
SMPBOOT_ONLINE=$(hp_state_nr smpboot/threads:online)
[ -n "$SMPBOOT_ONLINE" ] && [ -n "$HP_ONLINE" ] || ktap_exit_fail_msg "no hotplug state numbers"

run_case register "registration creates and sets up a thread per online CPU, bound to it"
run_case work "work wakes the threads: should_run with preemption off, thread_fn on the CPU; idle threads sleep"
run_case offline_online "offline parks the thread (park on its CPU), online unparks the same one, twice"
run_case unregister "unregistration stops every thread, an offline CPU's parked one included, with cleanup"
run_case later_cpu "a CPU offline at registration gets its thread when it comes online (create, setup)"
run_case failed_bringup "a thread created for a CPU whose bringup fails waits parked; the next bringup starts it"
run_case lost_wakeup "a wakeup while should_run finds no work is not lost"
run_case selfpark_owner "selfparking: owner-unparked and owner-parked threads across offline, no callback"
run_case selfpark_follow "selfparking, owner parks at offline and unparks at online: callbacks on the CPU"
run_case no_park "a descriptor with unpark but no park: neither runs, the thread comes back active"
run_case no_setup "a descriptor with cleanup but no setup: active all the same, cleanup online or offline"
run_case sweep_target "cpu3 stopped at every hotplug state, down and up, every kind of registration: the threads follow"
run_case sweep_fail "a failure at every hotplug state, both directions: the threads follow the rollback"
suite_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The in-tree selftest (KTAP), for a kernel with the series of
# scripts/series (CONFIG_SMPBOOT_RUST=y; skipped on others): every per-CPU
# hotplug thread of the kernel (cpuhp/N, ksoftirqd/N, migration/N, ...) is
# listed in /sys/kernel/debug/smpboot/threads, the Rust smpboot's view, and
# follows CPU hotplug as C smpboot's threads do: parked from
# smpboot/threads:online down and at every state below it, unparked on
# their CPU above it, created once and reused, never in D state; through
# CPU 3 stopped at every state that accepts it, a failure injected at
# every state in both directions, and the kernel's cpu-on-off-test.sh -a;
# a Rust user's callbacks (kernel::smpboot::Registration) through CPU 3
# offline, online and unregistration; and the kernel crate's doctests
# (KUnit, at boot) passed.
#
# vm-run-args: --cpus 4 --timeout 1200
. "$(dirname "$0")/selftest-lib.sh"

LISTING=/sys/kernel/debug/smpboot/threads
# What C smpboot's users name their threads (kernel/cpu.c, softirq.c,
# stop_machine.c, irq_work.c, rcu/tree.c): every one of them must be the
# Rust smpboot's.
KERNEL_THREADS='^(cpuhp|ksoftirqd|migration|irq_work|ktimers|rcuc)/[0-9]+$'

# listing_check CPU STATE: one awk over the listing and the threads'
# /proc status. Every listed thread is a live task of its name, never in D
# state; with CPU, that CPU's threads are those of $SUITE_TMP/pids (the
# ones listed at the start: created once, reused), and at hotplug state
# STATE the ones the core parks (not selfparking) are parked below
# smpboot/threads:online and, at or above it, not parked and allowed on
# CPU only, and the listing's state (the thread loop's status) says the
# same. Prints what is wrong.
listing_check() {
	LC_CPU=${1:-} LC_STATE=${2:-} LC_SMPBOOT=$SMPBOOT_ONLINE LC_PIDS=$SUITE_TMP/pids
	export LC_CPU LC_STATE LC_SMPBOOT LC_PIDS
	awk "$PROC_STATUS_AWK"'
	BEGIN {
		cpu = ENVIRON["LC_CPU"]
		while (cpu != "" && (getline l < ENVIRON["LC_PIDS"]) > 0) { split(l, w, " "); want[w[1]] = w[2] }
	}
	{
		delete v
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		name = $1; pid = v["pid"]; n++
		if (!proc_status(pid)) { print name ": pid " pid " has no /proc entry"; bad = 1; next }
		getline comm < ("/proc/" pid "/comm"); close("/proc/" pid "/comm")
		if (comm != name) { print name ": pid " pid " is " comm; bad = 1 }
		if (st[pid] == "D") { print name ": pid " pid " in D state"; bad = 1 }
		if (cpu == "" || v["cpu"] != cpu) next
		seen[name] = 1
		if (want[name] != pid) { print name ": pid " pid ", was " want[name] " (created again?)"; bad = 1 }
		if (v["selfparking"] == 1) next
		if (ENVIRON["LC_STATE"] + 0 < ENVIRON["LC_SMPBOOT"] + 0) {
			if (st[pid] != "P") { print name ": " st[pid] " at state " ENVIRON["LC_STATE"] ", not parked"; bad = 1 }
			if (v["state"] != "parked") { print name ": listed " v["state"] " at state " ENVIRON["LC_STATE"] ", not parked"; bad = 1 }
		} else {
			if (st[pid] == "P") { print name ": parked at state " ENVIRON["LC_STATE"]; bad = 1 }
			if (allowed[pid] != cpu) { print name ": allowed on " allowed[pid]; bad = 1 }
			if (v["state"] != "active") { print name ": listed " v["state"] " at state " ENVIRON["LC_STATE"] ", not active"; bad = 1 }
		}
	}
	END {
		if (n == 0) { print "'"$LISTING"' is empty"; bad = 1 }
		for (name in want) if (!(name in seen)) { print name ": no longer listed"; bad = 1 }
		exit bad
	}' "$LISTING"
}

# The listing's pids of CPU $1's threads, as "name pid" lines.
pids_of() {
	awk -v cpu="$1" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["cpu"] == cpu) print $1, v["pid"] }' "$LISTING"
}

# The listing has the registrations of cpuhp, ksoftirqd and migration, each
# with a thread on every online CPU, and every one is active.
t_registrations() {
	bad=0
	for cpu in $(online_cpus); do
		for t in cpuhp ksoftirqd migration; do
			line=$(grep "^$t/$cpu " "$LISTING") || { echo "$t/$cpu not listed"; bad=1; continue; }
			[ "$(field "$line" state)" = active ] || { echo "$line: not active"; bad=1; }
		done
	done
	[ $bad = 0 ] && listing_check
}

# Every per-CPU hotplug thread the kernel runs is listed with its pid, and
# the listing lists nothing else.
t_all_threads() {
	bad=0 kernel=0
	for p in /proc/[0-9]*; do
		read -r comm 2>/dev/null < $p/comm || continue
		echo "$comm" | grep -Eq "$KERNEL_THREADS" || continue
		pid=${p#/proc/}
		kernel=$((kernel + 1))
		grep -q "^$comm cpu=[0-9]* pid=$pid " "$LISTING" || { echo "$comm (pid $pid) is not on the Rust smpboot"; bad=1; }
	done
	listed=$(wc -l < "$LISTING")
	[ "$kernel" = "$listed" ] || { echo "the kernel runs $kernel per-CPU hotplug threads, the listing has $listed"; bad=1; }
	echo "$listed threads" > $SUITE_TMP/diag_all_threads
	[ $bad = 0 ]
}

# CPU 3 offline and online, twice: its threads park and come back, the same.
t_offline_online() {
	for round in 1 2; do
		hp_target 3 0 || { echo "cpu3 does not go offline"; return 1; }
		listing_check 3 0 || { echo "cpu3 offline, round $round"; return 1; }
		hp_target 3 "$HP_ONLINE" || { echo "cpu3 does not come online"; return 1; }
		wait_for 5 listing_check 3 "$HP_ONLINE" || { echo "cpu3 online, round $round"; return 1; }
	done
	for t in cpuhp ksoftirqd migration; do
		[ "$(field "$(grep "^$t/3 " "$LISTING")" state)" = active ] || { echo "$t/3 is not active"; return 1; }
	done
}

# A Rust user of the in-tree core (smpboot_rs_test_intree.ko, on
# kernel::smpboot::Registration), judged by its record of its callbacks and
# by the listing: its threads are listed and follow CPU 3 as the kernel's
# do, and its callbacks run as C smpboot runs a descriptor's: setup once on
# each online CPU; run once for work raised on each; park and unpark as CPU
# 3 goes down and up; work raised for CPU 3 while it is offline run only
# once it is back, and no work run between a park and the next unpark
# (run_parked); at unregistration, with CPU 3 offline, cleanup with
# online=false there and online=true elsewhere; never off the thread's CPU
# (the cleanup of an offline CPU's thread runs anywhere).
RUST_USER=smpboot_rs_test_intree
RUST_CALLS=/sys/kernel/debug/$RUST_USER/calls
# rust_calls_are CPU CALLS: the Rust user's record for CPU is CALLS.
rust_calls_are() { [ "$(sed -n "s/^cpu=$1 //p" $RUST_CALLS)" = "$2" ]; }
# rust_calls_expect WHEN CPU SETUP PARK UNPARK RUN CLEANUP_ONLINE CLEANUP_OFFLINE
rust_calls_expect() {
	rc_want="setup=$3 park=$4 unpark=$5 run=$6 run_parked=0 cleanup_online=$7 cleanup_offline=$8 wrong_cpu=0"
	wait_for 5 rust_calls_are "$2" "$rc_want" ||
		{ echo "cpu$2 $1: $(sed -n "s/^cpu=$2 //p" $RUST_CALLS), want $rc_want"; return 1; }
}
rust_user_steps() {
	for cpu in $(online_cpus); do
		rust_calls_expect "after registration" "$cpu" 1 0 0 0 0 0 || return 1
		echo "raise $cpu" > $RUST_CALLS || { echo "raise $cpu failed"; return 1; }
		rust_calls_expect "work raised" "$cpu" 1 0 0 1 0 0 || return 1
	done
	pids_of 3 > $SUITE_TMP/pids
	grep -q "^sbti/3 " $SUITE_TMP/pids || { echo "sbti/3 is not listed"; return 1; }
	listing_check 3 "$HP_ONLINE" || return 1
	hp_target 3 0 || { echo "cpu3 does not go offline"; return 1; }
	listing_check 3 0 || return 1
	rust_calls_expect offline 3 1 1 0 1 0 0 || return 1
	# The parked thread does not run the work until CPU 3 is back.
	echo "raise 3" > $RUST_CALLS || { echo "raise 3 failed"; return 1; }
	sleep 1
	rust_calls_expect "offline, work raised" 3 1 1 0 1 0 0 || return 1
	hp_target 3 "$HP_ONLINE" || { echo "cpu3 does not come online"; return 1; }
	wait_for 5 listing_check 3 "$HP_ONLINE" || return 1
	rust_calls_expect "online again" 3 1 1 1 2 0 0 || return 1
	hp_target 3 0 || { echo "cpu3 does not go offline"; return 1; }
	rust_calls_expect "offline again" 3 1 2 1 2 0 0 || return 1
	# Unregisters: the threads stop before the write returns.
	echo unregister > $RUST_CALLS || { echo "unregistration failed"; return 1; }
	! grep -q "^sbti/" "$LISTING" || { echo "sbti threads listed after unregistration"; return 1; }
	rust_calls_expect "unregistered offline" 3 1 2 1 2 0 1 || return 1
	# (cpuN/online says 1 for a CPU taken down through hotplug/target.)
	for cpu in $(online_cpus | grep -vx 3); do
		rust_calls_expect "unregistered online" "$cpu" 1 0 0 1 1 0 || return 1
	done
}
t_rust_user() {
	cp $SUITE_TMP/pids $SUITE_TMP/pids.kernel
	modprobe $RUST_USER || { echo "modprobe $RUST_USER failed"; return 1; }
	rust_user_steps
	ru_status=$?
	rmmod $RUST_USER || { echo "rmmod $RUST_USER failed"; ru_status=1; }
	mv $SUITE_TMP/pids.kernel $SUITE_TMP/pids
	return $ru_status
}

# The listing after a sweep's step: CPU 3's threads where its state says.
cpu3_threads_follow() { wait_for 5 listing_check 3 "$(hp_state_of 3)"; }

# CPU 3 stopped at every state it can be stopped at, down and up.
t_sweep_target() {
	sweep_target cpu3_threads_follow || return 1
	echo "$(cat $SUITE_TMP/sweep_visited) states visited" > $SUITE_TMP/diag_sweep_target
}

# A failure injected at every state that accepts one, going down and going
# up: the CPU rolls back to where it started, and its threads with it.
t_sweep_fail() {
	sweep_fail cpu3_threads_follow || return 1
	echo "$(cat $SUITE_TMP/sweep_injected) failures injected" > $SUITE_TMP/diag_sweep_fail
	hp_target 3 "$HP_ONLINE" && cpu3_threads_follow
}

# The kernel's own CPU hotplug selftest, every CPU that can go offline:
# then every thread is back, the same, active and on its CPU.
on_off_test() { UID=0 sh "$ONOFF_TEST" -a > $SUITE_TMP/onoff.out 2>&1; }
t_cpu_on_off_test() {
	for cpu in $(online_cpus); do pids_of "$cpu"; done > $SUITE_TMP/all_pids
	within 600 on_off_test || { tail -n 20 $SUITE_TMP/onoff.out; return 1; }
	grep -q "Full scope test" $SUITE_TMP/onoff.out || { echo "cpu-on-off-test.sh -a did not run"; tail -n 20 $SUITE_TMP/onoff.out; return 1; }
	for cpu in $(online_cpus); do
		grep "/$cpu " $SUITE_TMP/all_pids > $SUITE_TMP/pids
		wait_for 5 listing_check "$cpu" "$HP_ONLINE" || { echo "cpu$cpu after cpu-on-off-test.sh -a"; return 1; }
	done
}

# The kernel crate's doctests ran at boot (CONFIG_RUST_KERNEL_DOCTESTS; the
# in-tree kernels run those of cpu, cpuhp, kthread and smpboot, see
# intree.config), the series' examples among them, and none failed.
t_doctests() {
	results=/sys/kernel/debug/kunit/rust_doctests_kernel/results
	[ -r $results ] || { echo "no $results (CONFIG_RUST_KERNEL_DOCTESTS)"; return 1; }
	bad=0
	for t in kthread_rs_0 cpu_rs_1 cpuhp_rs_0 cpuhp_rs_1 cpuhp_rs_2 smpboot_rs_0; do
		grep -q "^ *ok [0-9]* rust_doctest_kernel_$t\$" $results || { echo "rust_doctest_kernel_$t did not pass"; bad=1; }
	done
	grep "not ok" $results && bad=1
	echo "$(grep -c "^ *ok [0-9]* rust_doctest_kernel_" $results) doctests passed" > $SUITE_TMP/diag_doctests
	[ $bad = 0 ]
}

# KTAP results for the cases, each with its diagnostic line if it left one.
run_case() {
	name=$1 desc=$2
	case_selected "$name" || return 0
	case_result "$desc" "t_$name"
	[ ! -s $SUITE_TMP/diag_$name ] || diag "$(cat $SUITE_TMP/diag_$name)"
	rm -f $SUITE_TMP/diag_$name
	restore_cpus
	echo -1 > $SYSCPU/cpu3/hotplug/fail 2>/dev/null || true
	vmstat_on
}

nr_cases=0
for name in $(sed -n 's/^run_case \([a-z_]*\) .*/\1/p' "$0"); do
	! case_selected "$name" || nr_cases=$((nr_cases + 1))
done
if [ ! -r "$LISTING" ]; then
	ktap_print_header
	ktap_skip_all "no $LISTING: not a kernel with CONFIG_SMPBOOT_RUST (scripts/series)"
	exit "$KSFT_SKIP"
fi
ONOFF_TEST=$KSFT_DIR/../cpu-hotplug/cpu-on-off-test.sh
suite_begin $nr_cases 4 $RUST_USER $SYSCPU/cpu3/hotplug/target $SYSCPU/cpu3/hotplug/fail "$ONOFF_TEST"
SMPBOOT_ONLINE=$(hp_state_nr smpboot/threads:online)
[ -n "$SMPBOOT_ONLINE" ] && [ -n "$HP_ONLINE" ] || ktap_exit_fail_msg "no hotplug state numbers"
pids_of 3 > $SUITE_TMP/pids
[ -s $SUITE_TMP/pids ] || ktap_exit_fail_msg "no thread of cpu3 listed"

run_case registrations "cpuhp, ksoftirqd and migration have an active thread on every online CPU"
run_case all_threads "every per-CPU hotplug thread of the kernel is on the Rust smpboot"
run_case offline_online "cpu3 offline and online twice: its threads park and come back, the same"
run_case sweep_target "cpu3 stopped at every hotplug state, down and up: its threads follow"
run_case sweep_fail "a failure at every hotplug state, going down and up: the threads follow the rollback"
run_case rust_user "a Rust user (kernel::smpboot::Registration): its callbacks through CPU 3 offline, online and unregistration"
run_case doctests "the kernel crate's doctests (KUnit), the series' among them, pass"
run_case cpu_on_off_test "the kernel's cpu-on-off-test.sh -a, then every thread back on its CPU"
suite_end

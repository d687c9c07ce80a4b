#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# C smpboot's contract in every hotplug sequence (KTAP).
#
# Each case names what kernel/smpboot.c promises and a sequence that breaks
# a core that only keeps it on the paths a design had in mind: selfparking
# registrations across offline (owner-unparked, owner-parked, owner following
# hotplug), a thread created for a CPU whose bringup fails, registering while
# a CPU sits at an intermediate state (dying; and up or down around
# smpboot_rs's states, its thread left as their startups would leave it),
# cleanup of a CPU that is online but past smpboot_rs's teardown, a user
# unloaded with a live registration, and two sweeps with registrations of
# every kind loaded: a CPU stepped down and up through every hotplug state
# (hotplug/target), registering and unregistering at each, and a failure
# injected at every state that accepts one (hotplug/fail), in both
# directions.
#
# After every step: no thread of ours in D state, every callback on its CPU
# (the core's wrong_cpu and the users' own checks), callbacks in C smpboot's
# order (the users' state_errors), ht->store filled while the thread exists
# (store_errors), and a CPU offline that finishes (hp_write bails on a hang).
#
# CASES="name ..." runs only the named cases (see the t_* functions). The
# sweeps take most of the time: about 2.5 of the suite's 3.5 minutes under
# TCG on 2 host cores.
#
# vm-run-args: --cpus 4 --timeout 2700
. "$(dirname "$0")/selftest-lib.sh"

calls_of() { grep "^reg=$1 cpu=$2 " $CPARAM/calls; }

# task_state_is NAME LETTER: the task named NAME is in that state (P: parked).
task_state_is() {
	for s in /proc/[0-9]*/status; do
		grep -q "^Name:[[:space:]]*$1\$" "$s" 2>/dev/null || continue
		st=$(sed -n 's/^State:[[:space:]]*//p' "$s")
		case $st in "$2"*) return 0 ;; *) echo "$1 is '$st', not $2"; return 1 ;; esac
	done
	echo "no task named $1"
	return 1
}

# The users' own checks of the contract, and the health of every thread (of
# CPU $1 only, if given: a sweep moves one CPU).
users_clean() {
	c_user_clean && rust_user_counters || return 1
	threads_healthy "" "${1:-}" $RUST_COUNTERS
}
# users_clean 3 and new_thread_follows_state, with one awk over the threads
# file.
users_clean_new_thread() {
	c_user_clean && rust_user_counters || return 1
	threads_healthy_env "" 3 $RUST_COUNTERS
	new_thread_follows_state "$THREADS_HEALTHY_AWK"
}
c_user_clean() {
	loaded smpboot_rs_test_c || return 0
	for k in wrong_cpu bad_preempt state_errors store_errors; do
		read -r v < $CPARAM/$k && [ "$v" = 0 ] || { echo "C user: $k=$v"; return 1; }
	done
}
# RUST_COUNTERS: the Rust user's counters file and its error counters, for
# threads_healthy (none if it is not loaded). A variable: $(...) forks.
rust_user_counters() {
	RUST_COUNTERS=
	! loaded smpboot_rs_test_rust || RUST_COUNTERS="$RDIR/stats wrong_cpu bad_preempt state_errors wake_errors"
}

# Work queued to every running thread is handled.
work_done() {
	if loaded smpboot_rs_test_c; then
		wait_for 20 c_drained ||
			{ echo "C user: handled $(cat $CPARAM/handled) of $(cat $CPARAM/queued)"; return 1; }
	fi
	if loaded smpboot_rs_test_rust; then
		wait_for 20 rust_drained ||
			{ echo "Rust user: $(cat $RDIR/stats)"; return 1; }
	fi
}

kick_all() {
	! loaded smpboot_rs_test_c || echo 1 > $CPARAM/kick
	! loaded smpboot_rs_test_rust || echo 1 > $RDIR/kick
}

# Every non-selfparking thread of a fully online CPU is active and bound.
all_active() {
	wait_for 10 sh -c "! grep -E ' name=(sbtc0|sbtc1|sbtr|sbtx)/' $THREADS | grep ' online=1 ' | grep -qv state=active" ||
		{ grep -E ' name=(sbtc0|sbtc1|sbtr|sbtx)/' $THREADS | grep ' online=1 ' | grep -v state=active | head -n 5; return 1; }
}

unload_users() {
	! loaded smpboot_rs_test_c || rmmod smpboot_rs_test_c || return 1
	! loaded smpboot_rs_test_rust || rmmod smpboot_rs_test_rust
}

all_cpus_online() {
	for c in 1 2 3; do
		[ "$(hp_state_of $c)" = "$HP_ONLINE" ] || hp_target $c "$HP_ONLINE" || return 1
	done
}

# --- selfparking -------------------------------------------------------------

# C smpboot neither parks nor unparks selfparking threads; a CPU with an
# unparked one goes offline and comes back, and the thread goes on, with no
# park or unpark callback (its owner did not park it).
t_selfpark_unparked() {
	modprobe smpboot_rs_test_c nr_regs=2 selfparking=1 || return 1
	kick_all
	hp_target 3 0 || { echo "offline failed"; return 1; }
	users_clean || return 1
	hp_target 3 "$HP_ONLINE" || { echo "online failed"; return 1; }
	kick_all
	work_done || return 1
	c=$(calls_of 1 3)
	[ "$(field "$c" setup)" = 1 ] && [ "$(field "$c" park)" = 0 ] && [ "$(field "$c" unpark)" = 0 ] &&
		[ "$(field "$c" state)" = active ] || { echo "owner-unparked thread: $c"; return 1; }
	users_clean || return 1
	unload_users
}

# An owner that keeps its selfparking threads parked: offline and online
# run no callback and leave them parked, and unregistration stops them.
t_selfpark_parked() {
	modprobe smpboot_rs_test_c nr_regs=2 selfparking=1 selfparking_parked=1 || return 1
	before=$(calls_of 1 3)
	hp_target 3 0 && hp_target 3 "$HP_ONLINE" || { echo "offline/online failed"; return 1; }
	[ "$(calls_of 1 3)" = "$before" ] || { echo "owner-parked thread: $before -> $(calls_of 1 3)"; return 1; }
	task_state_is "sbtc1/3" P || return 1
	kick_all
	work_done && users_clean && unload_users
}

# An owner that parks its threads when their CPU goes down and unparks them
# when it is back (cpuhp/N's way): park and unpark run on the CPU.
t_selfpark_follow() {
	modprobe smpboot_rs_test_c nr_regs=2 selfparking=1 selfparking_follow=1 || return 1
	for i in 1 2; do
		hp_target 3 0 && hp_target 3 "$HP_ONLINE" || { echo "offline/online $i failed"; return 1; }
	done
	c=$(calls_of 1 3)
	[ "$(field "$c" park)" = 2 ] && [ "$(field "$c" unpark)" = 2 ] && [ "$(field "$c" state)" = active ] ||
		{ echo "owner-following thread: $c"; return 1; }
	kick_all
	work_done && users_clean && unload_users
}

# A descriptor with unpark but no park: C smpboot marks a thread parked only
# when it runs park ("if (ht->park && td->status == HP_THREAD_ACTIVE)"),
# and runs unpark only for a thread so marked, so neither runs; the thread
# comes back from offline active and runs thread_fn. Both ways a thread
# parks: at offline by the core (sbtc0) and by an owner following hotplug
# (sbtc1, selfparking). The threads file still says parked while offline.
t_no_park() {
	modprobe smpboot_rs_test_c nr_regs=2 selfparking=1 selfparking_follow=1 no_park=1 || return 1
	for i in 1 2; do
		hp_target 3 0 || { echo "offline $i failed"; return 1; }
		[ "$(get sbtc0/ 3 state)" = parked ] || { echo "cpu3 offline: $(lines_of sbtc0/3)"; return 1; }
		hp_target 3 "$HP_ONLINE" || { echo "online $i failed"; return 1; }
	done
	kick_all
	work_done || return 1
	for r in 0 1; do
		c=$(calls_of $r 3)
		[ "$(field "$c" setup)" = 1 ] && [ "$(field "$c" park)" = 0 ] && [ "$(field "$c" unpark)" = 0 ] &&
			[ "$(field "$c" state)" = active ] || { echo "registration $r: $c"; return 1; }
		# smpboot_rs's own count of the callbacks agrees.
		[ "$(get sbtc$r/ 3 park)/$(get sbtc$r/ 3 unpark)" = 0/0 ] || { lines_of sbtc$r/3; return 1; }
	done
	users_clean && unload_users
}

# A descriptor with cleanup but no setup: C's thread is active from its
# first pass all the same ("td->status = HP_THREAD_ACTIVE" whether or not
# ht->setup is set), so it gets cleanup at unregistration, online or
# offline, and runs thread_fn meanwhile.
t_no_setup() {
	modprobe smpboot_rs_test_c no_setup=1 || return 1
	all_active || return 1
	hp_target 3 0 || { echo "offline failed"; return 1; }
	kick_all
	work_done && users_clean || return 1
	rmmod smpboot_rs_test_c || return 1
	exit_zero smpboot_rs_test_c $C_EXIT_ERRORS && final_calls smpboot_rs_test_c 1 || return 1
	calls_match $SUITE_TMP/final_calls 0 "0 1 2" setup=0 cleanup_online=1 cleanup_offline=0 runs=1 &&
		calls_match $SUITE_TMP/final_calls 0 3 setup=0 cleanup_online=0 cleanup_offline=1 runs=0
}

# An owner that parks its unparked selfparking thread while the core holds
# it (its CPU stopped online below smpboot_rs:online, as unloading the user
# does there): the thread cannot reach its CPU, so it parks without park
# (Documentation/smpboot_rs.rst, differences from C), never running park
# on another CPU. Its cleanup says offline (the same difference), which the
# C user counts as a state error: not checked here.
t_selfpark_held_parked() {
	modprobe smpboot_rs_test_c nr_regs=2 selfparking=1 || return 1
	below=$(hp_state_below smpboot_rs:online)
	hp_target 3 "$below" || { echo "cannot stop cpu3 at $below"; return 1; }
	rmmod smpboot_rs_test_c || return 1
	exit_zero smpboot_rs_test_c wrong_cpu bad_preempt store_errors && final_calls smpboot_rs_test_c 2 &&
		calls_match $SUITE_TMP/final_calls 1 3 setup=1 park=0 unpark=0
}

# A selfparking thread created for a CPU on its way up, online but below
# smpboot_rs:online, that its owner unparks at once: it waits held, not
# pinned, until smpboot_rs:online starts it, so the CPU can still go down
# from there (a pinned thread would make it wait forever).
t_selfpark_early_unpark() {
	hp_target 3 0 || return 1
	below=$(hp_state_below smpboot_rs:online)
	hp_target 3 "$below" || { echo "cannot stop cpu3 at $below"; return 1; }
	modprobe smpboot_rs_test_c nr_regs=2 selfparking=1 || return 1
	hp_target 3 0 || { echo "cpu3 does not go down from $below"; return 1; }
	hp_target 3 "$HP_ONLINE" || return 1
	kick_all
	work_done && users_clean && unload_users
}

# --- creation and failed bringup ---------------------------------------------

# C smpboot parks a thread when it creates it (in TASK_PARKED, not the
# TASK_UNINTERRUPTIBLE of a never-woken kthread) and fills ht->store before
# calling create(). A bringup that fails after the thread was created leaves
# it parked, and the next bringup starts it.
t_failed_bringup() {
	hp_target 3 0 || return 1
	modprobe smpboot_rs_test_c || return 1
	echo "$OUR_ONLINE" > $SYSCPU/cpu3/hotplug/fail || { echo "cannot arm smpboot_rs:online"; return 1; }
	if hp_target 3 "$HP_ONLINE"; then echo "bringup succeeded despite the injected failure"; return 1; fi
	# By name: a core that publishes the pid only once the thread runs
	# must not hide it.
	task_state_is "sbtc0/3" P || return 1
	pid=$(get sbtc0/ 3 pid)
	users_clean || return 1
	hp_target 3 "$HP_ONLINE" || { echo "retry failed"; return 1; }
	wait_for 5 sh -c "grep -q ' name=sbtc0/3 .*state=active' $THREADS" || { lines_of sbtc0/3; return 1; }
	[ "$(get sbtc0/ 3 pid)" = "$pid" ] || { echo "a new thread instead of the created one"; return 1; }
	kick_all
	work_done && users_clean && unload_users
}

# A CPU coming up is online (and gets work) before smpboot_rs:online starts
# its thread: the thread can be woken from its creation (a wakeup leaves it
# parked), so kicking it then is no error, and the work waits for its start.
t_wake_created() {
	hp_target 3 0 || return 1
	modprobe smpboot_rs_test_rust || return 1
	below=$(hp_state_below smpboot_rs:online)
	hp_target 3 "$below" || { echo "cannot stop cpu3 at $below"; return 1; }
	[ "$(cat $SYSCPU/cpu3/online)" = 1 ] || { echo "cpu3 not online at $below"; return 1; }
	echo 1 > $RDIR/kick || return 1
	[ "$(stat_of wake_errors)" = 0 ] || { echo "waking the created thread failed: $(cat $RDIR/stats)"; return 1; }
	hp_target 3 "$HP_ONLINE" && work_done && users_clean && unload_users
}

# --- a CPU that sits at a dying intermediate state ---------------------------

# Registering while a CPU is on its way down but has not reached
# smpboot_rs:online's teardown: the new thread is started while the CPU is
# dying, when the scheduler no longer lets an unpinned kthread run there. It
# must run no callback off its CPU, and whatever happens next (here: the CPU
# goes back up), end up on its CPU, bound, active, and never pinned to
# another CPU (offlining that one would then hang).
t_register_dying() {
	modprobe smpboot_rs_test_rust || return 1
	hp_target 3 "$OUR_ONLINE" || { echo "cannot stop cpu3 at $OUR_ONLINE"; return 1; }
	echo 2 > $RDIR/extra || return 1
	users_clean || return 1
	hp_target 3 "$HP_ONLINE" || return 1
	all_active || return 1
	users_clean || return 1
	for c in 1 2; do hp_target $c 0 || return 1; done
	users_clean || return 1
	all_cpus_online && all_active && users_clean || return 1
	echo 0 > $RDIR/extra
	kick_all
	work_done && unload_users
}

# new_thread_follows_state [MORE_AWK]: the newest sbtx registration has CPU
# 3's thread exactly when the CPU is at or past smpboot_rs:create, and has
# started it (not parked) exactly when the CPU is at or past
# smpboot_rs:online. One awk, for the file and the thread's /proc status:
# this runs at every step of the sweeps, where each exec costs a tenth of a
# second or more. MORE_AWK, if given, adds rules after these (threads_healthy's
# may skip a line).
NEW_THREAD_AWK='
	/^reg=[0-9]* name=sbtx\/3 / {
		nt_reg = substr($1, 5) + 0
		if (nt_line == "" || nt_reg > nt_newest) { nt_newest = nt_reg; nt_line = $0 }
	}
	END {
		nt_n = split(nt_line, nt_f, " ")
		for (nt_i = 1; nt_i <= nt_n; nt_i++) if (nt_f[nt_i] ~ /^pid=/) nt_pid = substr(nt_f[nt_i], 5)
		if (nt_line == "") {
			print "no sbtx registration listed for cpu3"; bad = 1
		} else if (at + 0 < create + 0) {
			if (nt_pid != 0) { print "cpu3 at " at ", below smpboot_rs:create, has a thread: " nt_line; bad = 1 }
		} else if (nt_pid == "" || nt_pid == 0) {
			print "cpu3 at " at " has no thread: " nt_line; bad = 1
		} else if (!proc_status(nt_pid)) {
			print "cpu3 at " at ": pid " nt_pid " has no /proc entry: " nt_line; bad = 1
		} else if ((st[nt_pid] == "P") != (at + 0 < online + 0)) {
			print "cpu3 at " at " (smpboot_rs:online is " online "): thread is " st[nt_pid] ": " nt_line; bad = 1
		}
	}'
new_thread_follows_state() {
	read -r nt_state < $SYSCPU/cpu3/hotplug/state
	awk -v at="$nt_state" -v create="$OUR_CREATE" -v online="$OUR_ONLINE" \
		"$PROC_STATUS_AWK$NEW_THREAD_AWK${1:-}"' END { exit bad }' "$THREADS"
}

# A registration made while a CPU sits at a hotplug state, on the way up or
# down, leaves the CPU's thread as the states' startups would have: none
# below smpboot_rs:create, parked below smpboot_rs:online, started at or past
# it (a CPU online below it keeps a parked thread). The sweep_target case
# checks this at every state, with every kind of registration loaded.
t_register_at_state() {
	modprobe smpboot_rs_test_rust || return 1
	below=$(hp_state_below smpboot_rs:online)
	for s in $OUR_ONLINE $below $OUR_CREATE 0 $OUR_CREATE $below $OUR_ONLINE $HP_ONLINE; do
		[ "$s" = "$(hp_state_of 3)" ] || hp_target 3 "$s" || { echo "cannot stop cpu3 at $s"; return 1; }
		echo 1 > $RDIR/extra || { echo "register at $s failed"; return 1; }
		new_thread_follows_state || return 1
		echo 0 > $RDIR/extra || { echo "unregister at $s failed"; return 1; }
	done
	users_clean && unload_users
}

# cleanup(cpu, online): online means the callback runs on its CPU, which is
# online. A CPU stopped below smpboot_rs:online (threads parked) but above
# its death is still online; its parked thread must not run cleanup(cpu,
# true) on another CPU.
t_cleanup_dying() {
	modprobe smpboot_rs_test_c || return 1
	below=$(hp_state_below smpboot_rs:online)
	hp_target 3 "$below" || { echo "cannot stop cpu3 at $below"; return 1; }
	[ "$(get sbtc0/ 3 state)" = parked ] || { echo "cpu3 at $below: $(lines_of sbtc0/3)"; return 1; }
	rmmod smpboot_rs_test_c || return 1
	line=$(dmesg | grep 'smpboot_rs_test_c: exit:' | tail -n 1)
	for k in wrong_cpu state_errors store_errors; do
		[ "$(field "$line" $k)" = 0 ] || { echo "$line"; return 1; }
	done
	all_cpus_online
}

# C smpboot calls create() under the hotplug lock only (registration: read,
# bringup: write), never under cpuhp_state_mutex: a create() that sets up a
# hotplug state of its own works, at registration and at bringup. Also at a
# registration made while CPU 3 sits in the prepare stage at
# smpboot_rs:create, not online, its thread due there (the sweeps' case;
# their Rust user's create() takes no lock).
t_create_locks() {
	hp_target 3 0 || return 1
	within 60 modprobe smpboot_rs_test_c create_sets_up_state=1 ||
		{ echo "insmod: $(cat $SUITE_TMP/within.err)"; return 1; }
	hp_target 3 "$HP_ONLINE" || return 1
	[ "$(cat $CPARAM/creates)" = 4 ] || { echo "creates=$(cat $CPARAM/creates)"; return 1; }
	users_clean && unload_users || return 1
	hp_target 3 0 && hp_target 3 "$OUR_CREATE" || { echo "cannot stop cpu3 at $OUR_CREATE"; return 1; }
	within 60 modprobe smpboot_rs_test_c create_sets_up_state=1 ||
		{ echo "insmod, cpu3 at smpboot_rs:create: $(cat $SUITE_TMP/within.err)"; return 1; }
	[ "$(cat $CPARAM/creates)" = 4 ] || { echo "cpu3 at smpboot_rs:create: creates=$(cat $CPARAM/creates)"; return 1; }
	hp_target 3 "$HP_ONLINE" || return 1
	[ "$(cat $CPARAM/creates)" = 4 ] || { echo "after bringup: creates=$(cat $CPARAM/creates)"; return 1; }
	users_clean && unload_users
}

# --- unregistration and a CPU going down at once -----------------------------

# C smpboot stops the threads before it removes its hotplug state, so a CPU
# that goes down during an unregistration finds either a thread to park or
# none. Here the CPU offline is lined up to run exactly between the two: the
# C user holds the hotplug lock (read) and cpuhp_state_mutex for 3 s; the
# Rust user's unload starts behind them, then cpu3's offline, whose write
# lock, once queued, goes before any later reader. A core that removed its
# instances first would let the offline pass smpboot_rs:online with an
# active, pinned thread, and the CPU could never finish going down.
t_unregister_offline() {
	modprobe smpboot_rs_test_c && modprobe smpboot_rs_test_rust || return 1
	echo 1 > $RDIR/kick || return 1
	( echo 3000 > $CPARAM/hold_hotplug_ms ) &
	hold=$!
	sleep 0.5
	( rmmod smpboot_rs_test_rust; echo $? > $SUITE_TMP/rmmod.rc ) &
	unload=$!
	sleep 0.5
	hp_write $SYSCPU/cpu3/online 0 || { echo "cpu3 offline: $(cat $SUITE_TMP/hp_write.err)"; return 1; }
	wait $hold && wait $unload || { echo "hold or unload did not end well"; return 1; }
	[ "$(cat $SUITE_TMP/rmmod.rc)" = 0 ] || { echo "rmmod exit $(cat $SUITE_TMP/rmmod.rc)"; return 1; }
	[ -z "$(lines_of sbtr/)" ] || { echo "the Rust registration is still listed"; return 1; }
	exit_zero smpboot_rs_test_rust $RUST_EXIT_ERRORS && users_clean || return 1
	hp_target 3 "$HP_ONLINE" && threads_consistent sbtc0/ && users_clean && unload_users
}

# --- a user that goes away with a live registration --------------------------

# A module unloaded while it still has a registration: smpboot_rs stops its
# threads before the module's code goes (no callback into freed memory on the
# next hotplug), and unloads cleanly afterwards.
t_leaked_registration() {
	modprobe smpboot_rs_test_c leak=1 || return 1
	[ -n "$(lines_of sbtl/)" ] || { echo "no leaked registration"; return 1; }
	rmmod smpboot_rs_test_c || return 1
	[ -z "$(lines_of sbtl/)" ] || { echo "registration of an unloaded module still listed"; return 1; }
	! grep -q '^Name:[[:space:]]*sbtl/' /proc/[0-9]*/status 2>/dev/null || { echo "its threads still run"; return 1; }
	hp_target 3 0 && hp_target 3 "$HP_ONLINE" || return 1
	rmmod smpboot_rs || return 1
	! grep -q smpboot_rs: $SYSCPU/hotplug/states || { echo "hotplug states left"; return 1; }
	modprobe smpboot_rs
}

# Unregistering from the registration's own thread would wait for itself,
# and from atomic context would sleep: both are refused, with a message and
# no harm, and the module's unload cleans the registrations up.
t_wrong_drop() {
	modprobe smpboot_rs_test_rust || return 1
	echo 1 > $RDIR/wrong_drop && echo 2 > $RDIR/wrong_drop || return 1
	wait_for 5 sh -c "dmesg | grep -q 'cannot unregister itself from its own thread'" ||
		{ echo "no refusal from its own thread"; return 1; }
	dmesg | grep -q 'unregistration from atomic context refused' || { echo "no refusal in atomic context"; return 1; }
	[ -n "$(lines_of sbts/)" ] && [ -n "$(lines_of sbta/)" ] || { echo "refused registrations not kept"; return 1; }
	users_clean || return 1
	hp_target 3 0 && hp_target 3 "$HP_ONLINE" && users_clean || return 1
	rmmod smpboot_rs_test_rust || return 1
	[ -z "$(lines_of sbts/)$(lines_of sbta/)" ] || { echo "still registered after the owner's unload"; return 1; }
	[ "$(dmesg | grep -c 'sbt[sa]/%u (reg=[0-9]*) was not unregistered by its module')" = 2 ] ||
		{ echo "unload cleanup not reported"; return 1; }
}

# --- the sweeps --------------------------------------------------------------

# Registrations of every kind: two plain C ones, a selfparking one its owner
# unparked, one its owner keeps parked, the typed Rust one, 32 more, and one
# whose create() fails for CPU 2 (kept offline: it cannot come up while that
# registration lives; fail_cpu_checks tries).
load_every_kind() {
	hp_target 2 0 || return 1
	modprobe smpboot_rs_test_c nr_regs=4 selfparking=2 selfparking_parked=1 &&
		modprobe smpboot_rs_test_rust && echo 32 > $RDIR/extra &&
		echo 2 > $RDIR/fail_create_cpu
}

# CPU 2's bringup fails with create()'s error and rolls back, leaving no
# thread of that registration; once it is dropped, CPU 2 comes up.
fail_cpu_checks() {
	if hp_target 2 "$HP_ONLINE"; then echo "cpu2 came up though create() fails for it"; return 1; fi
	grep -q 'Cannot allocate memory' $SUITE_TMP/hp_write.err || { echo "cpu2 bringup: $(cat $SUITE_TMP/hp_write.err)"; return 1; }
	[ "$(hp_state_of 2)" = 0 ] || { echo "cpu2 left at $(hp_state_of 2)"; return 1; }
	! grep -q '^Name:[[:space:]]*sbtk/2$' /proc/[0-9]*/status 2>/dev/null || { echo "sbtk/2 left"; return 1; }
	users_clean || return 1
	echo 999 > $RDIR/fail_create_cpu && hp_target 2 "$HP_ONLINE" || { echo "cpu2 does not come up"; return 1; }
}

# After each step of a sweep: the checks, and work raised.
step_checks() {
	users_clean 3 || return 1
	kick_all
}

# A registration made and dropped while the CPU sits where it is (the next
# step's checks follow the unregistration).
step_register() {
	echo 33 > $RDIR/extra || { echo "register at state $(hp_state_of 3) failed"; return 1; }
	users_clean_new_thread || return 1
	echo 32 > $RDIR/extra || { echo "unregister at state $(hp_state_of 3) failed"; return 1; }
}

step_checks_register() { step_checks && step_register; }

# Every state a CPU can be stopped at, from online down to offline and back.
t_sweep_target() {
	load_every_kind || return 1
	sweep_target step_checks_register || return 1
	all_active && kick_all && work_done && users_clean && fail_cpu_checks
}

# A failure at every state that accepts one, going down and going up: the
# transition is rolled back to where it started, and the threads follow;
# a registration made then finds the CPU where the rollback left it.
t_sweep_fail() {
	loaded smpboot_rs_test_c || load_every_kind || return 1
	sweep_fail step_checks_register || return 1
	fail_cpu_checks && all_cpus_online && all_active && kick_all && work_done && users_clean
}

# The plan: the run_case lines below that CASES selects.
nr_cases=0
for name in $(sed -n 's/^run_case \([a-z_]*\) .*/\1/p' "$0"); do
	! case_selected "$name" || nr_cases=$((nr_cases + 1))
done
suite_begin $nr_cases 4 smpboot_rs_test_c smpboot_rs_test_rust $SYSCPU/cpu3/hotplug/target $SYSCPU/cpu3/hotplug/fail
modprobe smpboot_rs || ktap_exit_fail_msg "cannot load smpboot_rs"
OUR_ONLINE=$(hp_state_nr smpboot_rs:online)
OUR_CREATE=$(hp_state_nr smpboot_rs:create)
[ -n "$OUR_ONLINE" ] && [ -n "$OUR_CREATE" ] && [ -n "$HP_ONLINE" ] || ktap_exit_fail_msg "no hotplug state numbers"

run_case() {
	name=$1 desc=$2
	case_selected "$name" || return 0
	case_result "$desc" "t_$name"
	# Whatever the case left, the next one starts from all CPUs online and
	# no user loaded.
	unload_users >/dev/null 2>&1
	vmstat_on
	loaded smpboot_rs || modprobe smpboot_rs
	OUR_ONLINE=$(hp_state_nr smpboot_rs:online)
	OUR_CREATE=$(hp_state_nr smpboot_rs:create)
	all_cpus_online >/dev/null 2>&1
}

run_case selfpark_unparked "selfparking, owner-unparked: offline completes, no park/unpark callback, work resumes"
run_case selfpark_parked "selfparking, owner-parked: offline and online leave it parked, no callback"
run_case selfpark_follow "selfparking, owner parks at offline and unparks at online: callbacks on the CPU"
run_case no_park "a descriptor with unpark but no park: neither runs, the thread comes back active (core-parked and owner-parked)"
run_case no_setup "a descriptor with cleanup but no setup: the thread is active all the same and gets cleanup, online or offline"
run_case selfpark_held_parked "selfparking, owner parks a held thread: it parks without park, no callback off its CPU"
run_case selfpark_early_unpark "selfparking, owner unparks before smpboot_rs:online: the thread waits held, the CPU can go down"
run_case failed_bringup "a thread created for a CPU whose bringup fails waits parked, not in D state; store before create"
run_case wake_created "a thread created but not started yet (its CPU online below smpboot_rs:online) can be woken"
run_case register_dying "registering while a CPU is dying: no callback off the CPU, threads end bound and unpinned"
run_case register_at_state "registering while a CPU sits at a state, up or down: its thread is created and started as the states' startups would"
run_case cleanup_dying "cleanup(cpu, online) of a CPU online but past smpboot_rs:online runs on its CPU or says offline"
run_case create_locks "create() runs under the hotplug lock only, not cpuhp_state_mutex (it may set up a state), a CPU in the prepare stage included"
run_case unregister_offline "a CPU going down during an unregistration, lined up between its steps: the CPU finishes going down"
run_case leaked_registration "a user unloaded with a live registration: its threads are stopped, smpboot_rs unloads clean"
run_case wrong_drop "unregistering from its own thread or atomic context: refused without harm, cleaned up at unload"
run_case sweep_target "sweep: stop at every hotplug state down and up, register and unregister at each"
[ ! -s $SUITE_TMP/sweep_visited ] || diag "sweep: $(cat $SUITE_TMP/sweep_visited) states visited"
run_case sweep_fail "sweep: a failure injected at every state that takes one, both directions, rolls back cleanly"
[ ! -s $SUITE_TMP/sweep_injected ] || diag "sweep: $(cat $SUITE_TMP/sweep_injected) failures injected"
suite_end

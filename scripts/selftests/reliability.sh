#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# smpboot_rs reliability selftest (KTAP): cpuhp fail injection at and
# around smpboot_rs's hotplug states, allocation failures (failslab +
# fail-nth) during insmod and CPU online, unload races with CPU hotplug, and
# bad input to every sysfs file of the core and the test modules. kmemleak is
# scanned by vm-run at the end.
#
# The torture case runs TORTURE_SECONDS (default 120); for a longer one:
#   scripts/check --suite-only reliability, with TORTURE_SECONDS=1800 in its
#   environment (scripts/check passes it to the guest)
#
# vm-run-args: --cpus 4 --timeout 2400
. "$(dirname "$0")/selftest-lib.sh"

FAIL_NTH=$KSFT_DIR/fail_nth

online_of() { cat $SYSCPU/cpu$1/online; }
nr_online() { online_cpus | wc -l; }
threads_named() { grep -l "^Name:[[:space:]]*$1" /proc/[0-9]*/status 2>/dev/null | wc -l; }
# The test users' own error counters are 0 (wrong CPU, callback order, ...).
users_clean() { c_clean && rust_clean; }
# Parts 1 and 2: the C user's sbtc0/ (or its 4 registrations, "sbtc:4") and
# the Rust user's sbtr/ are listed, nothing else, every thread consistent,
# and the users saw nothing wrong.
consistent() { threads_consistent "${1:-sbtc0/}" sbtr/ && users_clean; }

# Six states (smpboot_rs's two and their neighbours) up and down, and 11
# other cases.
NEEDS_KO_FILES=1 # fail_nth loads the module files itself
suite_begin 23 4 smpboot_rs_test_c smpboot_rs_test_rust ksoftirqd_rs ksoftirqd_c_rs \
	$SYSCPU/cpu3/hotplug/fail /sys/kernel/debug/failslab /proc/self/fail-nth "$FAIL_NTH"

modprobe smpboot_rs && modprobe smpboot_rs_test_c && modprobe smpboot_rs_test_rust ||
	ktap_exit_fail_msg "cannot load the modules"

# 1. cpuhp fail injection at smpboot_rs's states and their neighbours.
grep -n '' $SYSCPU/hotplug/states > $SUITE_TMP/states
targets=""
for name in smpboot_rs:create smpboot_rs:online; do
	line=$(grep ": *[0-9]*: $name\$" $SUITE_TMP/states | cut -d: -f1)
	for l in $((line - 1)) $line $((line + 1)); do
		targets="$targets $(sed -n "${l}p" $SUITE_TMP/states | cut -d: -f2 | tr -d ' ')"
	done
done

# refused_by_injection WHAT ERR: the write failed with the injected
# failure's EAGAIN, not for a reason of its own.
refused_by_injection() {
	case $2 in
	*"Resource temporarily unavailable"*) ;;
	*) echo "$1 refused, but not with the injected EAGAIN: $2"; return 1 ;;
	esac
}
t_fail_up() {
	st=$1
	echo 0 > $SYSCPU/cpu3/online || return 1
	echo "$st" > $SYSCPU/cpu3/hotplug/fail || { echo "cannot arm $st"; return 1; }
	if err=$({ echo 1 > $SYSCPU/cpu3/online; } 2>&1); then echo "online succeeded despite the injected failure"; return 1; fi
	refused_by_injection online "$err" || return 1
	[ "$(online_of 3)" = 0 ] || { echo "cpu3 online after a failed bringup"; return 1; }
	consistent || return 1
	echo 1 > $SYSCPU/cpu3/online || { echo "retry failed"; return 1; }
	consistent
}
t_fail_down() {
	st=$1
	if ! echo "$st" > $SYSCPU/cpu3/hotplug/fail 2>/dev/null; then
		echo "SKIP"; return 0
	fi
	if err=$({ echo 0 > $SYSCPU/cpu3/online; } 2>&1); then echo "offline succeeded despite the injected failure"; return 1; fi
	refused_by_injection offline "$err" || return 1
	[ "$(online_of 3)" = 1 ] || { echo "cpu3 offline after a failed teardown"; return 1; }
	consistent || return 1
	echo 0 > $SYSCPU/cpu3/online || { echo "retry failed"; return 1; }
	consistent || return 1
	echo 1 > $SYSCPU/cpu3/online && consistent
}
for st in $targets; do
	sname=$(sed -n "s/^[0-9]*: *$st: //p" $SUITE_TMP/states)
	case_result "cpuhp: failure at $st ($sname) on the way up rolls back, retry works, threads threads_consistent" t_fail_up "$st"
	! skip_unselected fail_down "cpuhp: failure at $st ($sname) on the way down" || continue
	out=$(t_fail_down "$st" 2>&1) && rc=0 || rc=$?
	if [ "$out" = SKIP ]; then
		diag "the kernel fails prepare states only on the way up"
		ktap_test_skip "cpuhp: failure at $st ($sname) on the way down"
	elif [ "$rc" = 0 ]; then
		ktap_test_pass "cpuhp: failure at $st ($sname) on the way down rolls back, retry works, threads threads_consistent"
	else
		diag "$out"
		ktap_test_fail "cpuhp: failure at $st ($sname) on the way down rolls back, retry works, threads threads_consistent"
	fi
done
# Both users are kicked: each handles its items, one per online CPU.
t_work_after() {
	echo 1 > $CPARAM/kick && echo 1 > $RDIR/kick || return 1
	wait_for 10 c_drained ||
		{ echo "C user: handled $(cat $CPARAM/handled) of $(cat $CPARAM/queued)"; return 1; }
	wait_for 10 rust_drained ||
		{ echo "Rust user: $(cat $RDIR/stats)"; return 1; }
	[ "$(cat $CPARAM/queued)" = "$(nr_online)" ] && [ "$(stat_of queued)" = "$(nr_online)" ] ||
		{ echo "queued: C $(cat $CPARAM/queued), Rust $(stat_of queued), for $(nr_online) online CPUs"; return 1; }
	users_clean
}
case_result "cpuhp: work still handled after the injected failures" t_work_after

# 2. Allocation failures with failslab and fail-nth.
FS=/sys/kernel/debug/failslab
# The knobs as found, put back after this part and at any exit.
FS_FOUND="$(cat $FS/ignore-gfp-wait) $(cat $FS/verbose)"
failslab_restore() {
	set -- $FS_FOUND
	echo "$1" > $FS/ignore-gfp-wait && echo "$2" > $FS/verbose
}
suite_cleanup() { failslab_restore; }
echo N > $FS/ignore-gfp-wait
echo 0 > $FS/verbose
# probability stays 0: only the fail-nth countdown of one task fails.
rmmod smpboot_rs_test_c smpboot_rs_test_rust

# With fail-nth, the N-th fault-injectable allocation of a task fails. Every
# N over the last TAIL allocations (the module's own init comes last) and
# every STRIDE-th N before them (the module loader's) is tried; the run ends
# with a load that does not reach the fault. FAILNTH_STRIDE=1 tries every N.
STRIDE=${FAILNTH_STRIDE:-16}
TAIL=${FAILNTH_TAIL:-64}

# fail_nth N OP ARGS...: sets $rc (0 or -errno) and $hit (y/n), and $left
# (the countdown left when the fault was not reached).
fail_nth() {
	res=$($FAIL_NTH "$@") || { echo "fail_nth: $res"; return 1; }
	rc=${res#result=}
	rc=${rc%% *}
	hit=${res##*injected=}
	hit=${hit%% *}
}

# insmod_until_clean MODULE.ko CHECK_GONE [PARAMS]: insmod with allocation N
# failing until insmod succeeds without reaching the fault.
insmod_until_clean() {
	ko=$1 gone=$2 params=${3:-} modname=$(basename "$1" .ko)
	# How many allocations a load makes: arm far away, read what is left.
	# The count varies between loads (RCU, lockdep, kmemleak; once a first
	# load counted 679 where the next ones made 631): the smaller of two, so
	# that the one-by-one tail covers the module's own init.
	allocs=
	for try in 1 2; do
		count=$($FAIL_NTH 1000000 insmod "$ko" $params | sed -n 's/.*allocs=\([0-9]*\).*/\1/p')
		rmmod "$modname" || return 1
		[ -n "$count" ] && [ "$count" -gt 0 ] || { echo "cannot count allocations"; return 1; }
		[ -n "$allocs" ] && [ "$allocs" -le "$count" ] || allocs=$count
	done
	n=1 faults=0 tried=0 one_by_one=0
	# Well past the count: a load may make more allocations than counted.
	while [ $n -le $((allocs * 2 + 64)) ]; do
		fail_nth $n insmod "$ko" $params || return 1
		tried=$((tried + 1))
		if [ "$rc" != 0 ]; then
			faults=$((faults + 1))
			[ "$hit" = y ] || { echo "n=$n: insmod failed ($rc) with no fault injected"; return 1; }
			! loaded "$modname" || { echo "n=$n: failed insmod left the module"; return 1; }
			$gone || { echo "n=$n: failed insmod ($rc) left state behind"; return 1; }
		else
			rmmod "$modname" || { echo "n=$n: rmmod failed"; return 1; }
			$gone || { echo "n=$n: rmmod left state behind"; return 1; }
			[ "$hit" = y ] || break
		fi
		if [ $n -lt $((allocs - TAIL)) ]; then
			n=$((n + STRIDE))
		else
			n=$((n + 1)) one_by_one=$((one_by_one + 1))
		fi
	done
	[ "$hit" = n ] || { echo "still reaching the fault at n=$n of $allocs"; return 1; }
	echo "$modname: $allocs allocations, $tried loads with a fault armed ($one_by_one one by one), $faults failed cleanly, clean load at n=$n" > $SUITE_TMP/fail_report
	# A sweep that failed no load, or stopped early, tried nothing.
	[ "$faults" -gt 0 ] && [ $n -gt $((allocs / 2)) ] ||
		{ echo "no real sweep: $(cat $SUITE_TMP/fail_report)"; return 1; }
	insmod "$ko" $params || { echo "a later insmod failed"; return 1; }
}
# Registrations are listed until their threads are stopped, so the threads
# file shows leftovers; /proc is scanned once at the end of the sweep.
rust_gone() { [ ! -e $RDIR ] && ! grep -q ' name=sbtr/' $THREADS; }
c_gone() { ! grep -q ' name=sbtc' $THREADS; }
core_gone() { [ ! -e /sys/kernel/smpboot_rs ] && ! grep -q 'smpboot_rs:' $SYSCPU/hotplug/states; }
sample_gone() {
	[ ! -e /sys/kernel/ksoftirqd_rs ] && ! grep -q ' name=ksoftirqd_rs/' $THREADS &&
		! grep -q 'ksoftirqd_rs:' $SYSCPU/hotplug/states
}

# Deliberate allocation failures print allocation-failure reports.
fault_injection_on
case_result "failslab: every failing insmod of smpboot_rs_test_rust.ko cleans up; a later one works" \
	insmod_until_clean "$(module_file smpboot_rs_test_rust)" rust_gone
diag "$(cat $SUITE_TMP/fail_report 2>/dev/null)"
case_result "failslab: every failing insmod of smpboot_rs_test_c.ko (4 registrations) cleans up" \
	insmod_until_clean "$(module_file smpboot_rs_test_c)" c_gone nr_regs=4
diag "$(cat $SUITE_TMP/fail_report 2>/dev/null)"
# After the sweeps of the test users and of the sample, with every CPU
# online: the loaded registrations (sbtr/, sbtc0/ to sbtc3/, ksoftirqd_rs/)
# are listed, nothing else, and /proc has their threads, a thread per CPU
# each, and no other thread of those names: a failed load's thread that
# smpboot_rs no longer lists still shows there.
t_no_leftover() {
	[ "$(nr_online)" = "$(nr_possible)" ] || { echo "$(nr_online) CPUs online"; return 1; }
	threads_consistent sbtr/ sbtc:4 ksoftirqd_rs/ || return 1
	have=$(grep -lE '^Name:[[:space:]]*(sbt|ksoftirqd_rs/)' /proc/[0-9]*/status 2>/dev/null | wc -l)
	want=$((6 * $(nr_possible)))
	[ "$have" = "$want" ] || { echo "$have threads named sbt* or ksoftirqd_rs/*, want $want (6 registrations)"; return 1; }
}
case_result "failslab: every failing insmod of the sample ksoftirqd_rs.ko cleans up" \
	insmod_until_clean "$(module_file ksoftirqd_rs)" sample_gone
diag "$(cat $SUITE_TMP/fail_report 2>/dev/null)"
case_result "failslab: no thread of a failed load is left" t_no_leftover
rmmod ksoftirqd_rs smpboot_rs_test_c smpboot_rs_test_rust
rmmod smpboot_rs
case_result "failslab: every failing insmod of smpboot_rs.ko cleans up" \
	insmod_until_clean "$(module_file smpboot_rs)" core_gone
diag "$(cat $SUITE_TMP/fail_report 2>/dev/null)"

t_online_nth() {
	modprobe smpboot_rs_test_c nr_regs=4 && modprobe smpboot_rs_test_rust || return 1
	echo 0 > $SYSCPU/cpu3/online || return 1
	allocs=$($FAIL_NTH 1000000 write $SYSCPU/cpu3/online 1 | sed -n 's/.*allocs=\([0-9]*\).*/\1/p')
	n=1 faults=0 tried=0
	while [ $n -le $((allocs * 2 + 64)) ]; do
		echo 0 > $SYSCPU/cpu3/online || { echo "offline failed"; return 1; }
		fail_nth $n write $SYSCPU/cpu3/online 1 || return 1
		tried=$((tried + 1))
		if [ "$rc" != 0 ]; then
			faults=$((faults + 1))
			[ "$(online_of 3)" = 0 ] || { echo "n=$n: failed online left cpu3 online"; return 1; }
		fi
		threads_consistent sbtc:4 sbtr/ || { echo "n=$n ($res)"; return 1; }
		[ "$(online_of 3)" = 1 ] || echo 1 > $SYSCPU/cpu3/online || { echo "n=$n: retry failed"; return 1; }
		[ "$hit" = y ] || break
		n=$((n + 1))
	done
	consistent sbtc:4 || return 1
	echo "cpu online: $allocs allocations, $tried onlines with a fault armed, $faults refused cleanly, clean at n=$n" > $SUITE_TMP/fail_report
	[ "$hit" = n ] || { echo "still reaching the fault at n=$n"; return 1; }
	# A sweep that refused no online tried nothing.
	[ "$faults" -gt 0 ] || { echo "no online refused: $(cat $SUITE_TMP/fail_report)"; return 1; }
}
case_result "failslab: a CPU online whose allocations fail is refused cleanly; the retry works" t_online_nth
diag "$(cat $SUITE_TMP/fail_report 2>/dev/null)"
fault_injection_off
failslab_restore

# 3. Unload races with CPU hotplug and pending work.
# No failure is injected: every hotplug operation must work.
hotplug_loop() {
	i=0 f=0
	while [ ! -e $SUITE_TMP/stop_hotplug ]; do
		cpu=$(( 1 + i % 3 ))
		echo 0 > $SYSCPU/cpu$cpu/online 2>>$SUITE_TMP/hotplug_err || f=$((f + 1))
		echo 1 > $SYSCPU/cpu$cpu/online 2>>$SUITE_TMP/hotplug_err || f=$((f + 1))
		i=$((i + 1))
	done
	echo "$i $f" > $SUITE_TMP/hotplug_ops
}
# After each unload, what the user saw: no error, and each thread cleaned
# up once if it was set up, else not (C smpboot's rule).
c_unloaded() {
	exit_zero smpboot_rs_test_c $C_EXIT_ERRORS && final_calls smpboot_rs_test_c "$1" && final_balanced
}
rust_unloaded() {
	exit_zero smpboot_rs_test_rust $RUST_EXIT_ERRORS && final_calls smpboot_rs_test_rust 1 && final_balanced
}
race_rounds() {
	for i in $(seq 1 ${RACE_ROUNDS:-8}); do
		modprobe smpboot_rs_test_c nr_regs=2 || { echo "round $i: insmod C"; return 1; }
		echo 200 > $CPARAM/kick || { echo "round $i: kick C"; return 1; }
		rmmod smpboot_rs_test_c || { echo "round $i: rmmod C"; return 1; }
		c_unloaded 2 || { echo "round $i: C user"; return 1; }
		rmmod smpboot_rs_test_rust || { echo "round $i: rmmod Rust"; return 1; }
		rust_unloaded || { echo "round $i: Rust user"; return 1; }
		modprobe smpboot_rs_test_rust && echo 100 > $RDIR/kick && echo 4 > $RDIR/extra ||
			{ echo "round $i: Rust insmod, kick or extra"; return 1; }
	done
}
t_unload_race() {
	# Alone (CASES=unload_race), it loads what the cases before leave loaded.
	[ -d /sys/module/smpboot_rs ] || modprobe smpboot_rs || return 1
	[ -d $CPARAM ] || modprobe smpboot_rs_test_c nr_regs=4 || return 1
	[ -d $RDIR ] || modprobe smpboot_rs_test_rust || return 1
	rmmod smpboot_rs_test_c || return 1
	c_unloaded 4 || return 1
	rm -f $SUITE_TMP/stop_hotplug $SUITE_TMP/hotplug_err $SUITE_TMP/hotplug_ops
	hotplug_loop &
	race_rounds > $SUITE_TMP/race_out 2>&1
	rounds=$?
	touch $SUITE_TMP/stop_hotplug
	wait
	[ "$rounds" = 0 ] || { cat $SUITE_TMP/race_out; return 1; }
	for c in 1 2 3; do cpu_online $c 1 || { echo "cpu$c does not come back"; return 1; }; done
	set -- $(cat $SUITE_TMP/hotplug_ops 2>/dev/null)
	# At least one offline/online pair per round.
	[ "${2:-x}" = 0 ] && [ "${1:-0}" -ge 8 ] ||
		{ echo "${1:-?} offline/online pairs, ${2:-?} operations failed:"; head -n 5 $SUITE_TMP/hotplug_err; return 1; }
	[ "$(threads_named sbtc)" = 0 ] || { echo "C test threads left"; return 1; }
	# The last Rust user handles its items.
	wait_for 10 rust_drained ||
		{ echo "Rust user: $(cat $RDIR/stats)"; return 1; }
	[ "$(stat_of queued)" -gt 0 ] || { echo "Rust user: nothing queued"; return 1; }
	rust_clean && threads_consistent sbtr/ sbtx/:4
}
case_result "unload races: insmod/rmmod with pending work while CPUs go offline and online" t_unload_race
diag "hotplug operations during the unload races: $(( $(cut -d' ' -f1 $SUITE_TMP/hotplug_ops 2>/dev/null || echo 0) * 2 ))"

# 4. Torture: random hotplug, the sample's hrtimer and IPI producers, and
# insmod/rmmod cycles of a second sample and a test registration, at once.
KS=/sys/kernel/ksoftirqd_rs
TORTURE_SECONDS=${TORTURE_SECONDS:-120}
ks_total() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) s += kv[2] } } END { print s + 0 }' $KS/stats; }
TORTURE_LOOPS="hotplug cycles ipi"
# loop_until_stop NAME CMD...: runs CMD until the torture stops; keeps its
# "done failed" counts in $SUITE_TMP/t_NAME, the output of the first failures
# in $SUITE_TMP/t_NAME.err. No failure is injected: every try must work.
loop_until_stop() {
	name=$1; shift
	n=0 f=0
	: > $SUITE_TMP/t_$name.err
	while [ ! -e $SUITE_TMP/stop_torture ]; do
		# In this shell, not a subshell: CMD may keep state (a seed).
		if "$@" > $SUITE_TMP/t_$name.out 2>&1; then
			n=$((n + 1))
		else
			f=$((f + 1))
			[ $f -gt 3 ] || cat $SUITE_TMP/t_$name.out >> $SUITE_TMP/t_$name.err
		fi
		echo "$n $f" > $SUITE_TMP/t_$name
	done
}
# torture_floor NAME: sets floor to the tries the loop NAME must make, one
# per 10 s (a hotplug operation, an IPI burst) or 30 s (an insmod/rmmod
# cycle) of TORTURE_SECONDS: a guest alone on a host makes 3 to 7 times as
# many.
torture_floor() {
	case $1 in
	cycles) floor=$((TORTURE_SECONDS / 30)) ;;
	*) floor=$((TORTURE_SECONDS / 10)) ;;
	esac
}
# torture_may_end: a loop's try has failed, or every loop has made its
# floor's tries. Builtins only: it runs once a second.
torture_may_end() {
	tm_short=
	for tm_loop in $TORTURE_LOOPS; do
		tm_n=0 tm_f=0
		read -r tm_n tm_f 2>/dev/null < $SUITE_TMP/t_$tm_loop
		[ "${tm_f:-0}" = 0 ] || return 0
		torture_floor $tm_loop
		[ "${tm_n:-0}" -ge $floor ] || tm_short=1
	done
	[ -z "$tm_short" ]
}
hotplug_once() {
	seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
	cpu=$(( 1 + seed % 3 ))
	echo $(( 1 - $(online_of $cpu) )) > $SYSCPU/cpu$cpu/online
}
random_hotplug() {
	# Not the load average's digits: "0.08" is 008, no number to sh.
	seed=$(( $(date +%s) + $$ ))
	loop_until_stop hotplug hotplug_once
}
ipi_once() { echo 20 > $KS/ipi && echo "all 10" > $KS/raise; r=$?; sleep 0.1; return $r; }
# ksoftirqd_c_rs's exit totals balance: what was raised was processed or
# is still pending.
ks_exit_balanced() {
	dmesg | awk '
		/ksoftirqd_c_rs: exit: / { last = $0 }
		END {
			n = split(last, w, " ")
			for (i = 1; i <= n; i++) { k = w[i]; sub(/=.*/, "", k); v[k] = substr(w[i], length(k) + 2) }
			if (v["raised"] == "" || v["processed"] == "" || v["pending"] == "" ||
			    v["raised"] + 0 != v["processed"] + v["pending"]) { print "ksoftirqd_c_rs: " last; exit 1 }
		}'
}
module_cycle() {
	modprobe ksoftirqd_c_rs && echo "all 100" > /sys/kernel/ksoftirqd_c_rs/raise &&
		modprobe smpboot_rs_test_c nr_regs=2 && echo 50 > $CPARAM/kick &&
		sleep 0.5 || return 1
	rmmod smpboot_rs_test_c && c_unloaded 2 || { echo "C user unload"; return 1; }
	rmmod ksoftirqd_c_rs && ks_exit_balanced || { echo "ksoftirqd_c_rs unload"; return 1; }
}
# t_torture_check NAME WHAT: the loop NAME made its floor's tries, none
# failed.
t_torture_check() {
	torture_floor $1
	set -- "$1" "$2" "$floor" $(cat $SUITE_TMP/t_$1 2>/dev/null)
	[ "${5:-x}" = 0 ] && [ "${4:-0}" -ge "$3" ] ||
		{ echo "$2: ${4:-?} done (at least $3 wanted), ${5:-?} failed:"; cat $SUITE_TMP/t_$1.err; return 1; }
}
t_torture() {
	# Alone (CASES=torture: make check on the in-tree kernel), it loads
	# what the cases before leave loaded.
	[ -d /sys/module/smpboot_rs ] || modprobe smpboot_rs || return 1
	[ -d $RDIR ] || { modprobe smpboot_rs_test_rust && echo 4 > $RDIR/extra; } || return 1
	! loaded smpboot_rs_test_c || rmmod smpboot_rs_test_c
	modprobe ksoftirqd_rs && echo 300 > $KS/timer || return 1
	rm -f $SUITE_TMP/stop_torture
	for l in $TORTURE_LOOPS; do echo "0 0" > $SUITE_TMP/t_$l; done
	started=$(date +%s)
	random_hotplug &
	loop_until_stop ipi ipi_once &
	loop_until_stop cycles module_cycle &
	sleep "$TORTURE_SECONDS"
	# A guest on a busy host may need longer for the floors (CI: 3 cycles
	# in 120 s); a stuck loop does not make them in the extra time either:
	# 3 times TORTURE_SECONDS, at most 600 s.
	extra=$((TORTURE_SECONDS * 3))
	[ $extra -le 600 ] || extra=600
	while ! torture_may_end && [ $extra -gt 0 ]; do
		nap 1
		extra=$((extra - 1))
	done
	touch $SUITE_TMP/stop_torture
	wait
	ran=$(($(date +%s) - started))
	echo 0 > $KS/timer || return 1
	for c in 1 2 3; do cpu_online $c 1 || { echo "cpu$c does not come back"; return 1; }; done
	t=0
	while [ $t -lt 300 ] && { [ "$(ks_total pending)" != 0 ] || [ "$(ks_total processed)" != "$(ks_total raised)" ]; }; do
		sleep 0.1; t=$((t + 1))
	done
	echo "$ran s: $(cut -d' ' -f1 $SUITE_TMP/t_hotplug) hotplug operations," \
		"$(cut -d' ' -f1 $SUITE_TMP/t_cycles) insmod/rmmod cycles, $(cut -d' ' -f1 $SUITE_TMP/t_ipi) IPI bursts" \
		"(failed: $(cut -d' ' -f2 $SUITE_TMP/t_hotplug), $(cut -d' ' -f2 $SUITE_TMP/t_cycles), $(cut -d' ' -f2 $SUITE_TMP/t_ipi));" \
		"ksoftirqd_rs raised $(ks_total raised), processed $(ks_total processed)," \
		"migrated_in $(ks_total migrated_in), wrong_cpu $(ks_total wrong_cpu)" > $SUITE_TMP/torture_report
	[ "$(ks_total processed)" = "$(ks_total raised)" ] || { echo "processed != raised"; cat $KS/stats; return 1; }
	for k in wrong_cpu tick_wrong_cpu ipi_wrong_cpu; do
		[ "$(ks_total $k)" = 0 ] || { cat $KS/stats; return 1; }
	done
	# Each loop went on all along, and none of its tries failed.
	t_torture_check hotplug "hotplug operations" &&
		t_torture_check cycles "insmod/rmmod cycles" &&
		t_torture_check ipi "IPI bursts" || return 1
	! loaded ksoftirqd_c_rs || { echo "ksoftirqd_c_rs left loaded"; return 1; }
	! loaded smpboot_rs_test_c || { echo "smpboot_rs_test_c left loaded"; return 1; }
	threads_consistent ksoftirqd_rs/ sbtr/ sbtx/:4 && rust_clean || return 1
	rmmod ksoftirqd_rs
}
# None of the torture's modules is loaded for the cases after it.
t_torture_cleanup() {
	for m in ksoftirqd_rs ksoftirqd_c_rs smpboot_rs_test_c; do unload_module $m; done
}
case_result "torture: hotplug, hrtimer and IPI producers, insmod/rmmod cycles at once; processed == raised, wrong_cpu 0, threads bound" t_torture
diag "$(cat $SUITE_TMP/torture_report 2>/dev/null)"

# 5. Bad input: every sysfs file is refused cleanly and nothing changes.
expect_refused() {
	file=$1; shift
	for v in "$@"; do
		if echo "$v" > "$file" 2>/dev/null; then echo "$file accepted '$v'"; return 1; fi
	done
}
t_bad_input() {
	before=$(cat $RDIR/stats)
	ext=$(cat $RDIR/extra)
	long=$(printf '%0200d' 1)
	calls=$(cat $RDIR/calls)
	for f in $RDIR/kick $RDIR/extra $RDIR/fail_create_at $RDIR/wrong_drop $RDIR/fail_create_cpu; do
		expect_refused $f "" "abc" "-1" "1x" "1 2" "99999999999999999999" "$long" "0x10" || return 1
	done
	expect_refused $RDIR/extra 65 || return 1
	expect_refused $THREADS "1" || return 1
	expect_refused $RDIR/stats "1" || return 1
	expect_refused $RDIR/calls "1" || return 1
	# A refused write proves nothing if su itself does not work.
	[ "$(su nobody -s /bin/sh -c 'id -u' 2>&1)" = 65534 ] || { echo "su nobody does not work"; return 1; }
	for f in $RDIR/kick $RDIR/extra $RDIR/fail_create_at $RDIR/wrong_drop $RDIR/fail_create_cpu; do
		if su nobody -s /bin/sh -c "echo 1 > $f" 2>/dev/null; then echo "non-root wrote $f"; return 1; fi
	done
	[ "$(cat $RDIR/stats)" = "$before" ] || { echo "stats changed: $before -> $(cat $RDIR/stats)"; return 1; }
	[ "$(cat $RDIR/calls)" = "$calls" ] || { echo "calls changed"; return 1; }
	threads_consistent sbtr/ sbtx/:4 || return 1
	[ "$(cat $RDIR/extra)" = "$ext" ] || { echo "extra changed"; return 1; }
	cat $THREADS > /dev/null && su nobody -s /bin/sh -c "cat $THREADS > /dev/null" || { echo "threads not readable"; return 1; }
}
case_result "bad input: garbage, overlong, negative, huge and non-root writes refused, state unchanged" t_bad_input

t_unload() {
	rmmod smpboot_rs_test_rust && rust_unloaded && rmmod smpboot_rs && core_gone
}
case_result "everything unloads cleanly afterwards" t_unload

suite_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The ksoftirqd sample selftest (KTAP), for each of
# ksoftirqd_rs.ko (Rust, smpboot_rs typed API), ksoftirqd_c.ko (C, kernel
# smpboot) and ksoftirqd_c_rs.ko (the same C, smpboot_rs C API): raised work
# is handled on its CPU; bad writes are rejected and change nothing; with the
# hrtimer and IPI producers on, random CPU offline/online (60 s for the Rust
# module, 20 s for each C one) and the kernel's cpu-on-off-test.sh -a; then
# every item raised is handled (takeover included), never on a wrong CPU, and
# the threads are bound and active. Any kernel splat fails the suite.
#
# vm-run-args: --cpus 4 --timeout 1800
. "$(dirname "$0")/selftest-lib.sh"

STRESS_RS=${STRESS_RS:-60}
STRESS_C=${STRESS_C:-20}
TIMER_US=1000

now() { cut -d. -f1 /proc/uptime; }
# Brings CPUs 1-3 online; fails, saying which, if one does not come.
all_online() {
	ao=0
	for c in 1 2 3; do cpu_online $c 1 || { echo "cpu$c does not come online"; ao=1; }; done
	return $ao
}

# Sums of the stats keys over all CPUs (max_batch_ns: the largest), as "key=value" words.
totals() {
	awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] == "max_batch_ns") { if (kv[2] > s[kv[1]]) s[kv[1]] = kv[2] }
		else if (kv[1] != "cpu" && kv[1] != "online") s[kv[1]] += kv[2] } }
	END { for (k in s) printf "%s=%s ", k, s[k]; print "" }' "$D/stats"
}
tot() { totals | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# One key of one CPU's line.
cpustat() { sed -n "s/^cpu=$1 .* $2=\([0-9]*\).*/\1/p" "$D/stats"; }
drained() { [ "$(tot pending)" = 0 ] && [ "$(tot processed)" = "$(tot raised)" ]; }

# Threads named $COMM<cpu>: one per online CPU, active, allowed on it only;
# for smpboot_rs users also the core's view (wrong_cpu=0).
check_threads() {
	bad=0
	for cpu in $(online_cpus); do
		pid=
		for p in /proc/[0-9]*; do
			# read, not cat: an exec per process is slow under TCG.
			read -r comm 2>/dev/null < $p/comm && [ "$comm" = "$COMM$cpu" ] && { pid=${p#/proc/}; break; }
		done
		[ -n "$pid" ] || { echo "no thread $COMM$cpu"; bad=1; continue; }
		allowed=$(allowed_of "$pid")
		st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/$pid/status)
		[ "$allowed" = "$cpu" ] || { echo "$COMM$cpu allowed on $allowed"; bad=1; }
		[ "$st" != P ] || { echo "$COMM$cpu parked on an online CPU"; bad=1; }
	done
	if [ "$RS" = 1 ]; then
		lines=$(grep " name=$COMM" $THREADS)
		[ -n "$lines" ] || { echo "not in $THREADS"; bad=1; }
		echo "$lines" | grep -v ' wrong_cpu=0$' && bad=1
		for cpu in $(online_cpus); do
			echo "$lines" | grep -q " name=$COMM$cpu .*state=active" || { echo "smpboot_rs: $COMM$cpu not active"; bad=1; }
		done
		# Its registration alone is listed, every thread consistent
		# (offline CPUs' ones included).
		threads_consistent "$COMM" || bad=1
	fi
	return $bad
}

t_load() {
	[ "$RS" = 0 ] || [ -d /sys/kernel/smpboot_rs ] || modprobe smpboot_rs || return 1
	modprobe $MOD || return 1
	for f in raise ipi timer reset stats; do [ -e $D/$f ] || { echo "no $D/$f"; return 1; }; done
	[ "$(grep -c "^cpu=" $D/stats)" = "$(ls -d $SYSCPU/cpu[0-9]* | wc -l)" ] || { cat $D/stats; return 1; }
	wait_for 5 check_threads
}

t_local() {
	echo 0 > $D/reset || return 1
	for cpu in $(online_cpus); do echo "$cpu 1000" > $D/raise || return 1; done
	echo "all 10" > $D/raise || return 1
	wait_for 20 drained || { cat $D/stats; return 1; }
	for cpu in $(online_cpus); do
		[ "$(cpustat $cpu raised)" = 1010 ] && [ "$(cpustat $cpu processed)" = 1010 ] &&
			[ "$(cpustat $cpu wrong_cpu)" = 0 ] && [ "$(cpustat $cpu migrated_in)" = 0 ] ||
			{ echo "cpu $cpu:"; cat $D/stats; return 1; }
	done
	echo 40 > $D/ipi || return 1
	wait_for 20 sh -c "[ \$(awk '{for(i=1;i<=NF;i++){split(\$i,kv,\"=\"); if(kv[1]==\"ipis\") s+=kv[2]}} END{print s}' $D/stats) = 40 ]" ||
		{ echo "ipis:"; cat $D/stats; return 1; }
	wait_for 20 drained || { cat $D/stats; return 1; }
	[ "$(tot ipi_wrong_cpu)" = 0 ] && [ "$(tot wrong_cpu)" = 0 ] || { cat $D/stats; return 1; }
	echo "local: $(tot processed) items raised on 4 CPUs and by 40 IPIs, all handled on their CPU" > $SUITE_TMP/diag_local
}

# expect_reject FILE INPUT: the write fails with EINVAL or ERANGE.
expect_reject() {
	if err=$(sh -c "echo '$2' > $D/$1" 2>&1); then echo "$1: '$2' accepted"; return 1; fi
	case $err in
	*"Invalid argument"*|*"out of range"*|*"not representable"*) return 0 ;;
	*) echo "$1: '$2': $err"; return 1 ;;
	esac
}
# expect_denied FILE INPUT: a non-root write fails with EACCES.
expect_denied() {
	if err=$(su nobody -s /bin/sh -c "echo '$2' > $D/$1" 2>&1); then echo "$1: non-root '$2' accepted"; return 1; fi
	case $err in
	*"Permission denied"*) return 0 ;;
	*) echo "$1: non-root '$2': $err"; return 1 ;;
	esac
}

# The timer producer: periodic on every online CPU, on that CPU only; it
# stops with its CPU and comes back with it, and stops everywhere when
# switched off. A tick per CPU per period is nominal; TCG's vCPUs get a
# fraction of it, so the floor is a fiftieth: a timer that fires once, or not
# at all, is far below. Stopping is checked with a 1 s period, so that a
# timer left armed (flagged, not cancelled) would still fire after its CPU
# died (migrated to a live CPU: tick_wrong_cpu) or after the switch-off.
tick_floor() { echo $(( $1 * 1000000 / TIMER_US / 50 )); }
ticks_of() { for c in "$@"; do printf '%s ' "$(cpustat $c ticks)"; done; }
t_timer() {
	echo 0 > $D/reset || return 1
	echo $TIMER_US > $D/timer || return 1
	sleep 2
	first=$(ticks_of $(online_cpus))
	floor=$(tick_floor 2)
	for cpu in $(online_cpus); do
		[ "$(cpustat $cpu ticks)" -ge "$floor" ] ||
			{ echo "cpu $cpu: $(cpustat $cpu ticks) ticks in 2 s, fewer than $floor"; echo 0 > $D/timer; cat $D/stats; return 1; }
	done
	cpu_online 3 0 || { echo 0 > $D/timer; return 1; }
	off=$(cpustat 3 ticks)
	sleep 1
	off_after=$(cpustat 3 ticks)
	cpu_online 3 1 || { echo 0 > $D/timer; return 1; }
	sleep 1
	back=$(cpustat 3 ticks)
	echo 1000000 > $D/timer || { echo 0 > $D/timer; return 1; }
	cpu_online 3 0 || { echo 0 > $D/timer; return 1; }
	slow_off=$(cpustat 3 ticks)
	sleep 2
	slow_off_after=$(cpustat 3 ticks)
	cpu_online 3 1 || { echo 0 > $D/timer; return 1; }
	echo 0 > $D/timer || return 1
	stopped=$(ticks_of $(online_cpus))
	sleep 2
	stopped_after=$(ticks_of $(online_cpus))
	[ "$off" = "$off_after" ] || { echo "cpu3 ticked while offline: $off, then $off_after"; return 1; }
	[ "$back" -ge $((off + $(tick_floor 1))) ] || { echo "cpu3's timer not back: $off ticks before offline, $back a second after online"; return 1; }
	[ "$slow_off" = "$slow_off_after" ] || { echo "cpu3's 1 s timer ticked after cpu3 went offline: $slow_off, then $slow_off_after"; return 1; }
	[ "$stopped" = "$stopped_after" ] || { echo "ticks after the timer was switched off: $stopped, then $stopped_after"; return 1; }
	[ "$(tot tick_wrong_cpu)" = 0 ] || { echo "tick_wrong_cpu=$(tot tick_wrong_cpu)"; cat $D/stats; return 1; }
	wait_for 20 drained || { cat $D/stats; return 1; }
	echo "timer: ticks per CPU in 2 s at ${TIMER_US} us (floor $floor): $first" > $SUITE_TMP/diag_timer
}

# A CPU dies with work pending: the work moves to a live CPU and is handled.
# To have work pending for sure, CPU 3 is first taken down to an
# intermediate hotplug state (CONFIG_CPU_HOTPLUG_STATE_CONTROL) where the
# module's threads are parked but the CPU is still in cpu_online_mask, so
# "raise" queues on it and nothing handles it until the takeover. For the
# smpboot_rs users that is the state just below smpboot_rs's own states
# (smpboot_rs:online; everything else still up); the kernel's smpboot parks its threads at
# smpboot/threads:online, below the workqueue's state, so for ksoftirqd_c
# it is sched:waitempty, where CPU 3's per-CPU workqueue pool runs its work
# elsewhere: vmstat_update would then report "using smp_processor_id() in
# preemptible code" (an artifact of stopping there, not of the module), so
# vm.stat_interval is raised for the few seconds of the case.
park_state() {
	if [ "$RS" = 1 ]; then
		hp_state_below smpboot_rs:online
	else
		hp_state_nr sched:waitempty
	fi
}
t_takeover() {
	echo 0 > $D/reset || return 1
	wait_st=$(park_state)
	[ -n "$wait_st" ] || { echo "no hotplug state to stop at"; return 1; }
	interval=$(cat /proc/sys/vm/stat_interval)
	if [ "$RS" = 0 ]; then echo 3600 > /proc/sys/vm/stat_interval; sleep 2; fi
	echo "$wait_st" > $SYSCPU/cpu3/hotplug/target || return 1
	[ "$(cat $SYSCPU/cpu3/hotplug/state)" = "$wait_st" ] || { echo "cpu3 at state $(cat $SYSCPU/cpu3/hotplug/state)"; return 1; }
	echo "3 1000" > $D/raise || { echo "raise on the half-down cpu3 refused"; cpu_online 3 1; return 1; }
	[ "$(cpustat 3 pending)" = 1000 ] || { echo "cpu3 thread not parked?"; cat $D/stats; cpu_online 3 1; return 1; }
	cpu_online 3 0 || return 1
	echo "$interval" > /proc/sys/vm/stat_interval
	[ "$(tot migrated_in)" = 1000 ] || { echo "migrated_in $(tot migrated_in), not 1000"; cat $D/stats; return 1; }
	wait_for 20 drained || { echo "not drained:"; cat $D/stats; return 1; }
	cpu_online 3 1 || return 1
	[ "$(cpustat 3 processed)" = 0 ] && [ "$(tot processed)" = 1000 ] && [ "$(tot wrong_cpu)" = 0 ] || { cat $D/stats; return 1; }
	echo "takeover: 1000 items queued on cpu3 with its thread parked (hotplug state $wait_st), all $(tot migrated_in) moved to a live CPU at its death and handled there" > $SUITE_TMP/diag_takeover
}

t_bad() {
	cpu_online 3 0 || return 1
	before=$(cat $D/stats $D/timer $D/latency)
	bad=0
	for in in garbage '' '1 5 junk' '0 -1' '-1 5' '0 99999999999999999999' '99999999999999999999 1' \
		'3 5' '64 1' '4096 1' '0 0' 'all' 'all x' '0 5x' '0 1000001' '1 2 3' '0x1 1' '+ 1'; do
		expect_reject raise "$in" || bad=1
	done
	for in in garbage '' '5 junk' '-1' '99999999999999999999' '0' '1000001' '1.5'; do
		expect_reject ipi "$in" || bad=1
	done
	for in in garbage '' '5000 junk' '-1' '99999999999999999999' '50' '1000001' '1e3'; do
		expect_reject timer "$in" || bad=1
	done
	for f in reset latency; do
		for in in garbage '' '1' '0 junk' '-1' '99999999999999999999' '00x'; do
			expect_reject $f "$in" || bad=1
		done
	done
	[ "$(su nobody -s /bin/sh -c 'id -u' 2>&1)" = 65534 ] || { echo "su nobody does not work"; bad=1; }
	for f in ipi timer reset latency; do expect_denied $f 0 || bad=1; done
	expect_denied raise '0 1' || bad=1
	expect_denied timer 1000 || bad=1
	after=$(cat $D/stats $D/timer $D/latency)
	[ "$before" = "$after" ] || { echo "state changed:"; echo "$before"; echo "$after"; bad=1; }
	cpu_online 3 1 || bad=1
	return $bad
}

# Producers in the background while CPUs go on and off. raise and ipi hold
# the hotplug lock, so no write of theirs may fail: the failures are counted
# (in $SUITE_TMP/producer_fails at the stop, the first messages in
# $SUITE_TMP/producer_err).
producers_start() {
	echo $TIMER_US > $D/timer || return 1
	rm -f $SUITE_TMP/producer_fails $SUITE_TMP/producer_err
	( pf=0
	while [ ! -e $SUITE_TMP/stop_producers ]; do
		echo 20 > $D/ipi 2>>$SUITE_TMP/producer_err || pf=$((pf + 1))
		echo "all 50" > $D/raise 2>>$SUITE_TMP/producer_err || pf=$((pf + 1))
		sleep 0.2
	done
	echo $pf > $SUITE_TMP/producer_fails ) &
	PRODUCER=$!
}
producers_stop() {
	touch $SUITE_TMP/stop_producers
	wait $PRODUCER 2>/dev/null
	rm -f $SUITE_TMP/stop_producers
	echo 0 > $D/timer
}

t_stress() {
	echo 0 > $D/reset || return 1
	producers_start || return 1
	seed=$$
	ops=0
	fails=0
	start=$(now)
	while [ $(( $(now) - start )) -lt "$DUR" ]; do
		seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
		cpu=$(( 1 + seed % 3 ))
		state=$(cat $SYSCPU/cpu$cpu/online)
		if cpu_online $cpu $((1 - state)) 2>/dev/null; then ops=$((ops + 1)); else fails=$((fails + 1)); fi
	done
	all_online || { producers_stop; return 1; }
	t0=$(now)
	UID=0 sh "$ONOFF_TEST" -a > $SUITE_TMP/onoff.log 2>&1
	rc=$?
	grep -q "Full scope test" $SUITE_TMP/onoff.log || rc="$rc (did not run)"
	took=$(( $(now) - t0 ))
	all_online || { producers_stop; return 1; }
	producers_stop
	pfails=$(cat $SUITE_TMP/producer_fails 2>/dev/null)
	echo "$ops random hotplug operations in $DUR s ($fails refused), cpu-on-off-test.sh -a (3 CPUs off, then on) exit $rc in ${took}s; producer writes refused: $pfails" > $SUITE_TMP/diag_stress
	[ "$rc" = 0 ] || { cat $SUITE_TMP/onoff.log; return 1; }
	[ "$fails" = 0 ] || { echo "$fails hotplug operations failed"; return 1; }
	# A loop that went round a few times is no stress: a run does about one
	# operation per second of TCG; 1 per 5 s is the floor.
	[ "$ops" -ge $((DUR / 5)) ] || { echo "only $ops hotplug operations in $DUR s"; return 1; }
	[ "$pfails" = 0 ] || { echo "producer writes refused: ${pfails:-? (no count)}"; head -n 5 $SUITE_TMP/producer_err; return 1; }
}

t_balance() {
	wait_for 30 drained || { echo "not drained:"; cat $D/stats; return 1; }
	t=$(totals)
	echo "items: $t" > $SUITE_TMP/diag_balance
	for k in wrong_cpu tick_wrong_cpu ipi_wrong_cpu; do
		[ "$(tot $k)" = 0 ] || { echo "$k=$(tot $k)"; cat $D/stats; return 1; }
	done
	[ "$(tot ticks)" -gt 0 ] && [ "$(tot ipis)" -gt 0 ] ||
		{ echo "a producer did not run:"; cat $D/stats; return 1; }
}

t_unload() {
	rmmod $MOD || return 1
	[ ! -e $D ] || { echo "$D left"; return 1; }
	! grep -q "$MOD:" $SYSCPU/hotplug/states || { echo "hotplug states left"; return 1; }
	for p in /proc/[0-9]*; do
		case "$(cat $p/comm 2>/dev/null)" in "$COMM"*) echo "thread $(cat $p/comm) left"; return 1 ;; esac
	done
	exitline=$(dmesg | grep "$MOD: exit:" | tail -n 1)
	r=$(echo "$exitline" | sed -n 's/.*raised=\([0-9]*\).*/\1/p')
	p=$(echo "$exitline" | sed -n 's/.*processed=\([0-9]*\).*/\1/p')
	[ -n "$r" ] && [ "$r" = "$p" ] || { echo "$exitline"; return 1; }
}

run_module() {
	MOD=$1; COMM=$2; RS=$3; DUR=$4
	D=/sys/kernel/$MOD
	rm -f $SUITE_TMP/diag_*
	case_result "$MOD: loads, one bound active thread ${COMM}N per online CPU" t_load
	case_result "$MOD: raised work is handled on the CPU it was raised on (raise, ipi)" t_local
	case_result "$MOD: a CPU that dies with work pending hands it to a live CPU (takeover)" t_takeover
	case_result "$MOD: bad writes (garbage, empty, junk, negative, overflow, offline or absent CPU, non-root) rejected, state unchanged" t_bad
	case_result "$MOD: the timer ticks periodically on each online CPU, on it only, stops with its CPU and comes back with it, and stops when switched off" t_timer
	case_result "$MOD: timer and IPI producers on during ${DUR}s of random offline/online and cpu-on-off-test.sh -a" t_stress
	case_result "$MOD: afterwards processed == raised (takeover included), wrong_cpu 0" t_balance
	case_result "$MOD: threads bound to their CPU and active after hotplug" check_threads
	case_result "$MOD: unload removes sysfs, hotplug states and threads; exit totals balance" t_unload
	for f in $SUITE_TMP/diag_local $SUITE_TMP/diag_timer $SUITE_TMP/diag_takeover $SUITE_TMP/diag_stress $SUITE_TMP/diag_balance; do
		[ -r $f ] && diag "$MOD: $(cat $f)"
	done
}

# The kernel's own CPU hotplug selftest, installed beside this one.
ONOFF_TEST=$KSFT_DIR/../cpu-hotplug/cpu-on-off-test.sh
suite_begin 28 4 ksoftirqd_rs ksoftirqd_c ksoftirqd_c_rs "$ONOFF_TEST"

run_module ksoftirqd_rs ksoftirqd_rs/ 1 "$STRESS_RS"
run_module ksoftirqd_c ksoftirqd_c/ 0 "$STRESS_C"
run_module ksoftirqd_c_rs ksoftirqd_crs/ 1 "$STRESS_C"
case_result "smpboot_rs unloads after its users" rmmod smpboot_rs

suite_end

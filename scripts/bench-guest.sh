#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench-guest.sh PHASE... (busybox sh, in the `make bench` guest; see
# scripts/bench): ksoftirqd_rs (smpboot_rs) against ksoftirqd_c (the kernel's
# smpboot) and, for hotplug, no module, interleaved round by round in one
# boot. PHASEs: hotplug latency throughput reg, and profile and states (on
# the profile kernel only: scripts/bench --profile), and boot and softirq
# (the kernel's own threads: scripts/bench --intree). Every result is one
# line starting "BENCH " for scripts/bench to parse.
#
# Modules come from /include/bench-ko (built against the release kernel by
# scripts/bench), the timing tool from /include/bench (tests/tools/bench.c).
# Knobs (environment): HP_ROUNDS HP_IMPLS HP_CYCLES LAT_ROUNDS LAT_N LAT_GAP_US
# LAT_MODES LAT_CRS TP_ROUNDS TP_MS TP_PERIOD_US TP_COUNT TP_CPUS TP_BURST
# TP_CRS REG_ROUNDS MEM_ROUNDS MEM_SETTLE PROF_ROUNDS PROF_N PROF_GRAPH_N ST_ROUNDS ST_CYCLES.

KO=/include/bench-ko
B=/include/bench
SYSCPU=/sys/devices/system/cpu
HP_ROUNDS=${HP_ROUNDS:-12}
HP_IMPLS=${HP_IMPLS:-none c rs}
HP_CYCLES=${HP_CYCLES:-10}
LAT_ROUNDS=${LAT_ROUNDS:-5}
LAT_N=${LAT_N:-2000}
LAT_GAP_US=${LAT_GAP_US:-300}
TP_ROUNDS=${TP_ROUNDS:-12}
TP_MS=${TP_MS:-2000}
TP_PERIOD_US=${TP_PERIOD_US:-0}
TP_CPUS=${TP_CPUS:-2}
TP_BURST=${TP_BURST:-1000}
TP_COUNT=${TP_COUNT:-1000}
REG_ROUNDS=${REG_ROUNDS:-8}
MEM_ROUNDS=${MEM_ROUNDS:-4}
MEM_SETTLE=${MEM_SETTLE:-1}
PROF_ROUNDS=${PROF_ROUNDS:-8}
PROF_N=${PROF_N:-500}
PROF_GRAPH_N=${PROF_GRAPH_N:-20}
ST_ROUNDS=${ST_ROUNDS:-8}
ST_CYCLES=${ST_CYCLES:-10}
NCPU=$(grep -c '^processor' /proc/cpuinfo)
fail=0

die() { echo "bench-guest: $*"; exit 1; }
# The module of a sample (crs: the C sample on smpboot_rs's C API), and
# its sysfs directory.
module() { case $1 in crs) echo ksoftirqd_c_rs ;; *) echo ksoftirqd_$1 ;; esac; }
dir() { echo /sys/kernel/$(module $1); }
# The pid of the thread named exactly $1.
tid_of() {
	for p in /proc/[0-9]*; do
		[ "$(cat $p/comm 2>/dev/null)" = "$1" ] && { echo "${p#/proc/}"; return; }
	done
}
core_loaded() { [ -d /sys/kernel/smpboot_rs ]; }
load() {
	case $1 in
	none) ;;
	core) core_loaded || insmod $KO/smpboot_rs.ko || die "insmod smpboot_rs" ;;
	c) insmod $KO/ksoftirqd_c.ko || die "insmod ksoftirqd_c" ;;
	crs) core_loaded || insmod $KO/smpboot_rs.ko || die "insmod smpboot_rs"
	    insmod $KO/ksoftirqd_c_rs.ko || die "insmod ksoftirqd_c_rs" ;;
	rs) core_loaded || insmod $KO/smpboot_rs.ko || die "insmod smpboot_rs"
	    insmod $KO/ksoftirqd_rs.ko || die "insmod ksoftirqd_rs" ;;
	esac
}
unload() {
	case $1 in
	none) ;;
	core) rmmod smpboot_rs || die "rmmod smpboot_rs" ;;
	c) rmmod ksoftirqd_c || die "rmmod ksoftirqd_c" ;;
	crs) rmmod ksoftirqd_c_rs || die "rmmod ksoftirqd_c_rs"
	    [ "$2" = keep-core ] || rmmod smpboot_rs || die "rmmod smpboot_rs" ;;
	rs) rmmod ksoftirqd_rs || die "rmmod ksoftirqd_rs"
	    [ "$2" = keep-core ] || rmmod smpboot_rs || die "rmmod smpboot_rs" ;;
	esac
}
# turn ROUND WORD...: the WORDs turned left by ROUND, so that the order of
# the implementations changes with the round.
turn() {
	k=$(( $1 % ($# - 1) ))
	shift
	i=0
	for w; do [ $i -lt $k ] || printf '%s ' "$w"; i=$((i + 1)); done
	i=0
	for w; do [ $i -ge $k ] || printf '%s ' "$w"; i=$((i + 1)); done
	echo
}
# The sum of one key of stats over the CPUs.
sum() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) s += kv[2] } } END { print s + 0 }' "$1/stats"; }
pending() { awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^pending=/) { split($i, kv, "="); s += kv[2] } } END { print s + 0 }' "$1/stats"; }
drain() {
	t=300
	while [ "$(pending "$1")" != 0 ] && [ $t -gt 0 ]; do sleep 0.1; t=$((t - 1)); done
	[ $t -gt 0 ] || die "$1: work still pending"
}
nthreads() {
	n=0
	for p in /proc/[0-9]*; do
		case $(cat $p/comm 2>/dev/null) in "$1"[0-9]*) n=$((n + 1)) ;; esac
	done
	echo $n
}

# The console is slow under TCG and kernel lines could split ours: keep it
# quiet and print the kernel log at the end (vm-run checks it for splats).
echo 1 >/proc/sys/kernel/printk
# Whose smpboot the kernel's own threads run on: the in-tree series' (its
# debugfs listing) or C's.
smpboot=c
[ ! -e /sys/kernel/debug/smpboot/threads ] || smpboot=rust
echo "BENCH info cpus=$NCPU kernel=$(uname -r) smpboot=$smpboot"
[ "$NCPU" -ge 2 ] || die "needs 2 CPUs or more"
[ -x $B ] || die "no $B"

phase_hotplug() {
	r=0
	while [ $r -lt "$HP_ROUNDS" ]; do
		for cfg in $(turn $r $HP_IMPLS); do
			load $cfg
			$B hotplug 1 "$HP_CYCLES" >/tmp/hp || die "hotplug ($cfg)"
			while read -r ns; do echo "BENCH hotplug impl=$cfg round=$r ns=$ns"; done </tmp/hp
			unload $cfg
		done
		r=$((r + 1))
	done
}

# The kernel's own times, printk's from its start: SMP up (every CPU online,
# each with its per-CPU hotplug threads) and the start of userspace.
phase_boot() {
	smp=$(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] smp: Brought up .*/\1/p' | head -n1)
	init=$(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process.*/\1/p' | head -n1)
	[ -n "$smp" ] && [ -n "$init" ] || die "no boot times in the kernel log"
	echo "BENCH boot smp_s=$smp init_s=$init"
}

# The kernel's own ksoftirqd (tests/bench/smpboot_rs_bench_softirq.c):
# LAT_ROUNDS rounds of LAT_N raises on CPU 1 by a writer on CPU 1, LAT_GAP_US
# apart. Per round the quantiles of the raises ksoftirqd ran, how many an
# interrupt exit ran first (by_irq), and how many found the last one
# unhandled (busy, not timed).
phase_softirq() {
	S=/sys/kernel/debug/smpboot_rs_bench_softirq
	insmod $KO/smpboot_rs_bench_softirq.ko || die "insmod smpboot_rs_bench_softirq"
	r=0
	while [ $r -lt "$LAT_ROUNDS" ]; do
		echo 0 >$S/samples
		$B write $S/raise 1 "$LAT_N" "$LAT_GAP_US" 1 >/dev/null || die "softirq raises"
		sleep 0.1
		cat $S/samples >/tmp/si
		busy=$(sed -n 's/^busy //p' /tmp/si)
		by_irq=$(awk '$1 != "busy" && $2 == 0' /tmp/si | wc -l)
		awk '$1 != "busy" && $2 == 1 { print $1 }' /tmp/si | sort -n |
			awk -v r=$r -v by_irq="$by_irq" -v busy="$busy" '
			function q(p) { i = int(p * NR + 0.5); return v[i < 1 ? 1 : i] }
			{ v[NR] = $1 }
			END {
				if (!NR) exit 1
				printf "BENCH softirq round=%d n=%d by_irq=%d busy=%d p50_ns=%d p90_ns=%d p99_ns=%d\n",
					r, NR, by_irq, busy, q(0.5), q(0.9), q(0.99)
			}' || die "softirq: ksoftirqd ran none of the raises"
		r=$((r + 1))
	done
	rmmod smpboot_rs_bench_softirq || die "rmmod smpboot_rs_bench_softirq"
}

# Each raise finds the thread asleep: one item, then a pause of LAT_GAP_US.
# local: the writer runs on CPU 1 and raises on CPU 1; remote: the writer
# runs on CPU 0 and raises on CPU 1 (the wakeup crosses CPUs, by IPI);
# irq: an IPI from CPU 0 raises on CPU 1 in its handler (the `ipi` file).
# LAT_CRS=1 adds ksoftirqd_c_rs (the C sample on smpboot_rs's C API).
phase_latency() {
	load c
	load rs
	[ "${LAT_CRS:-0}" = 0 ] || load crs
	for mode in ${LAT_MODES:-local remote irq}; do
		r=0
		while [ $r -lt "$LAT_ROUNDS" ]; do
			if [ "${LAT_CRS:-0}" = 0 ]; then
				impls=$(turn $r c rs)
			else
				impls=$(turn $r c rs crs)
			fi
			for m in $impls; do
				D=$(dir $m)
				echo 0 >$D/latency
				case $mode in
				local) out=$($B write $D/raise "1 1" "$LAT_N" "$LAT_GAP_US" 1) ;;
				remote) out=$($B write $D/raise "1 1" "$LAT_N" "$LAT_GAP_US" 0) ;;
				irq) out=$($B write $D/ipi "1" "$LAT_N" "$LAT_GAP_US" 0) ;;
				esac || die "latency $m $mode"
				drain $D
				echo "BENCH latwrites impl=$m mode=$mode round=$r $out"
				while read -r floor n; do
					echo "BENCH latency impl=$m mode=$mode round=$r floor=$floor n=$n"
				done <$D/latency
			done
			r=$((r + 1))
		done
	done
	[ "${LAT_CRS:-0}" = 0 ] || unload crs keep-core
	unload rs
	unload c
}

# The pids of sample $1's threads on CPUs 1 .. TP_CPUS-1, comma-separated.
fed_tids() {
	local cpu=1 tids="" tid
	while [ $cpu -lt "$TP_CPUS" ]; do
		tid=$(tid_of "ksoftirqd_$1/$cpu")
		[ -n "$tid" ] || die "no thread ksoftirqd_$1/$cpu"
		tids="$tids${tids:+,}$tid"
		cpu=$((cpu + 1))
	done
	echo "$tids"
}

# A writer pinned to CPU 0 raises TP_COUNT items on each of CPUs 1 ..
# TP_CPUS-1 in turn, as fast as it can, for TP_MS: the threads it feeds
# never share its vCPU. CPUs from TP_CPUS (default 2) up are offline for the
# phase, so that no vCPU waits for a host core (TCG: two host cores).
# Items handled per second, and the fed threads' CPU time per item. Then
# saturated: TP_BURST writes of a million items to CPU 1, timed until all
# are handled. TP_PERIOD_US (default 0, off) adds every CPU's hrtimer.
# TP_CRS=1 adds ksoftirqd_c_rs (the C sample on smpboot_rs's C API).
phase_throughput() {
	[ "$NCPU" -ge "$TP_CPUS" ] && [ "$TP_CPUS" -ge 2 ] || die "throughput needs TP_CPUS=$TP_CPUS CPUs"
	load c
	load rs
	[ "${TP_CRS:-0}" = 0 ] || load crs
	# The raise texts, one argument each: "1 TP_COUNT" "2 TP_COUNT" ...
	set --
	cpu=1
	while [ $cpu -lt "$NCPU" ]; do
		if [ $cpu -lt "$TP_CPUS" ]; then
			set -- "$@" "$cpu $TP_COUNT"
		else
			echo 0 >$SYSCPU/cpu$cpu/online || die "offline cpu$cpu"
		fi
		cpu=$((cpu + 1))
	done
	r=0
	while [ $r -lt "$TP_ROUNDS" ]; do
		if [ "${TP_CRS:-0}" = 0 ]; then
			impls=$(turn $r c rs)
		else
			impls=$(turn $r c rs crs)
		fi
		for m in $impls; do
			D=$(dir $m)
			tids=$(fed_tids $m) || { echo "$tids"; exit 1; }
			echo 0 >$D/reset
			echo "$TP_PERIOD_US" >$D/timer
			out=$($B flood $D "$TP_MS" 0 "$tids" "$@") || die "flood $m"
			echo 0 >$D/timer
			drain $D
			echo "BENCH throughput impl=$m round=$r $out batches=$(sum $D batches) ticks=$(sum $D ticks)"
			echo 0 >$D/reset
			out=$($B burst $D "$TP_BURST" 0 "$tids" "1 1000000") || die "burst $m"
			echo "BENCH saturated impl=$m round=$r $out batches=$(sum $D batches)"
		done
		r=$((r + 1))
	done
	cpu=$TP_CPUS
	while [ $cpu -lt "$NCPU" ]; do
		echo 1 >$SYSCPU/cpu$cpu/online || die "online cpu$cpu"
		cpu=$((cpu + 1))
	done
	[ "${TP_CRS:-0}" = 0 ] || unload crs keep-core
	unload rs
	unload c
}

# insmod (returns once every thread is created, bound and unparked) and
# rmmod times, of the C sample on smpboot_rs's C API too (the C sample's
# module but for its registration calls: the registration's own time,
# apart from loading a larger module); then, in loads of their own
# (tracing slows a load), what each registration keeps (memory_kept).
# smpboot_rs.ko stays loaded (its own cost is reported once, as "core").
phase_reg() {
	sync
	out=$($B time insmod $KO/smpboot_rs.ko)
	echo "BENCH reg impl=core round=0 insmod_$out"
	module_events 1
	r=0
	while [ $r -lt "$REG_ROUNDS" ]; do
		for m in $(turn $r c rs crs); do
			sleep 1
			ko=$(module $m)
			ins=$(module_time insmod $KO/$ko.ko)
			case $ins in *status=0\ *) ;; *) die "insmod $m: $ins" ;; esac
			n=$(nthreads "ksoftirqd_$m/")
			[ "$n" = "$NCPU" ] || { echo "bench-guest: $n ksoftirqd_$m threads, not $NCPU"; fail=1; }
			rm_=$(module_time rmmod $ko)
			case $rm_ in *status=0\ *) ;; *) die "rmmod $m: $rm_" ;; esac
			echo "BENCH reg impl=$m round=$r insmod_$ins rmmod_$rm_"
		done
		r=$((r + 1))
	done
	module_events 0
	dmesg | sed -n 's/.*\(ksoftirqd_[a-z]*\): ready: .*(per-CPU data: \([0-9]*\) bytes).*/BENCH percpu impl=\1 bytes=\2/p' | sort -u
	unload core
	mem_events 1
	memory_kept core 0
	memory_rounds "$MEM_ROUNDS"
	unload core
}

# Where an insmod's or an rmmod's time goes, from the module and process
# tracepoints (the trace clock is CLOCK_MONOTONIC's): insmod's exec to
# module_load (reading, linking and relocating the module: its size),
# module_load to insmod's exit (the init function: registering, the threads
# up); rmmod's exec to module_free (the exit function: unregistering, the
# threads stopped), module_free to rmmod's exit (free_module(): the RCU
# grace period it waits for, which no module's code sets, and freeing the
# module's memory, which on 7.x rewrites every page of its text).
MODULE_EVENTS="module/module_load module/module_free sched/sched_process_exec sched/sched_process_exit"
module_events() {
	trace_events "$1" $MODULE_EVENTS
	echo mono >$T/trace_clock || die "no mono trace clock"
}
# module_time insmod|rmmod ARG: "ns=T status=S" of `bench time`, then
# load_ns and init_ns (insmod) or exit_ns and free_ns (rmmod), or die.
module_time() {
	echo >$T/trace
	echo 1 >$T/tracing_on
	out=$($B time "$@")
	echo 0 >$T/tracing_on
	split=$(awk -v cmd="$1" "$TRACE_AWK"'
	{
		if (!trace_event()) next
		t = ts * 1e9
		if (ev == "sched_process_exec" && $0 ~ ("filename=[^ ]*/" cmd " ")) start = t
		else if (start && ev == "module_load") mid = t
		else if (start && ev == "module_free") mid = t
		else if (start && ev == "sched_process_exit" && $0 ~ ("comm=" cmd " ")) end = t
	}
	END {
		if (!start || !mid || !end) exit 1
		if (cmd == "insmod") printf "load_ns=%d init_ns=%d\n", mid - start, end - mid
		else printf "exit_ns=%d free_ns=%d\n", mid - start, end - mid
	}' $T/trace) || die "$*: no exec, module or exit event in the trace ($out)"
	echo "$out $split"
}

# The profile kernel's tracefs, tracing off, its clock the TSC; sets T and
# khz (the TSC's MHz, from the kernel's calibration).
tracing_tsc() {
	T=/sys/kernel/tracing
	[ -e $T/trace ] || mount -t tracefs tracefs $T || die "no tracefs"
	[ -e $T/kprobe_events ] || die "not the profile kernel (no kprobe_events)"
	khz=$(dmesg | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n1)
	[ -n "$khz" ] || khz=$(dmesg | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -n1)
	[ -n "$khz" ] || die "no TSC frequency in dmesg"
	echo 0 >$T/tracing_on
	echo x86-tsc >$T/trace_clock || die "no x86-tsc trace clock"
}

# Awk functions for the lines of a trace: trace_event() sets ev (the
# event's name), ts (its timestamp) and i (ev's field), and is false for a
# line that is no event; ns(t) is TSC cycles t in ns (needs -v mhz=).
TRACE_AWK='
function trace_event() {
	ev = ""
	ts = ""
	for (i = 2; i <= NF; i++) if ($i ~ /^[a-z_]+:$/ && $(i - 1) ~ /^[0-9.]+:$/) { ev = $i; ts = $(i - 1); break }
	if (ev == "") return 0
	sub(/:$/, "", ts)
	sub(/:$/, "", ev)
	return 1
}
function ns(t) { return int((t / mhz) * 1000 + 0.5) }
'

# Where a wakeup's time goes, for each sample (c, crs: the C sample on
# smpboot_rs, rs), on the profile kernel. PROF_ROUNDS rounds of PROF_N local
# raises on CPU 1 each, traced with sched_waking, sched_switch and a kprobe
# on ktime_get() (which both samples call at the raise and at the start and
# end of run), timed with the TSC, cut into four segments per wakeup:
#   raise  the writer's ktime_get() in the raise -> sched_waking of the thread
#   sched  sched_waking -> sched_switch to the thread
#   loop   sched_switch to the thread -> its first ktime_get() (run starts)
#   sleep  its last ktime_get() (run ends) -> sched_switch away (asleep)
# The tracing costs the same in every sample. Then the function graph of the
# thread over PROF_GRAPH_N wakeups: the C functions it calls per wakeup (Rust
# functions have no mcount hook in 6.12; their time is in their callers').
phase_profile() {
	tracing_tsc
	echo "BENCH profinfo tsc_mhz=$khz"
	echo 'p:bench/ktime ktime_get' >$T/kprobe_events || die "kprobe on ktime_get"
	load c
	load rs
	load crs
	r=0
	while [ $r -lt "$PROF_ROUNDS" ]; do
		for m in $(turn $r c rs crs); do
			D=$(dir $m)
			tid=$(tid_of "ksoftirqd_$m/1")
			[ -n "$tid" ] || die "no thread ksoftirqd_$m/1"
			echo nop >$T/current_tracer
			echo >$T/trace
			echo "pid == $tid" >$T/events/sched/sched_waking/filter
			echo "prev_pid == $tid || next_pid == $tid" >$T/events/sched/sched_switch/filter
			echo "common_pid == $tid || comm == \"bench\"" >$T/events/bench/ktime/filter
			for e in sched/sched_waking sched/sched_switch bench/ktime; do echo 1 >$T/events/$e/enable; done
			echo 1 >$T/tracing_on
			$B write $D/raise "1 1" "$PROF_N" "$LAT_GAP_US" 1 >/dev/null || die "profile $m"
			echo 0 >$T/tracing_on
			for e in sched/sched_waking sched/sched_switch bench/ktime; do echo 0 >$T/events/$e/enable; done
			drain $D
			awk -v tid="$tid" -v mhz="$khz" -v tag="BENCH prof impl=$m round=$r" "$TRACE_AWK"'
			{
				if (!trace_event()) next
				pid = $1; sub(/.*-/, "", pid)
				if (ev == "ktime" && pid != tid) { wk = ts; next }
				if (ev == "sched_waking") { waking = ts; raise = (wk != "" ? ts - wk : -1); wk = ""; next }
				if (ev == "sched_switch" && $0 ~ ("next_pid=" tid "( |$)")) { sw = ts; first = ""; next }
				if (ev == "ktime" && pid == tid) { if (first == "" && sw != "") first = ts; last = ts; next }
				if (ev == "sched_switch" && $0 ~ ("prev_pid=" tid " ") && $0 ~ /prev_state=S/) {
					if (waking != "" && sw != "" && first != "" && raise >= 0 && sw >= waking)
						printf "%s raise=%d sched=%d loop=%d sleep=%d\n", tag, ns(raise), ns(sw - waking), ns(first - sw), ns(ts - last)
					waking = ""; sw = ""; first = ""
				}
			}' $T/trace
		done
		r=$((r + 1))
	done
	echo 0 >$T/events/bench/ktime/filter
	echo >$T/kprobe_events
	for e in sched/sched_waking sched/sched_switch; do echo 0 >$T/events/$e/filter; done
	# The graph, of the functions on the loop's path only: patching fewer
	# functions keeps the tracing cheap and the graph readable.
	# ksoftirqd_rs.ko is all Rust: nothing of it can be traced.
	# Wakeups are told apart by the gap between them.
	echo local >$T/trace_clock
	for f in '*:mod:smpboot_rs' '*:mod:ksoftirqd_c' '*:mod:ksoftirqd_c_rs' \
		kthread_should_stop kthread_should_park ktime_get wake_up_process schedule \
		migrate_disable migrate_enable; do
		echo "$f" >>$T/set_ftrace_filter || die "ftrace filter $f"
	done
	for m in c crs rs; do
		D=$(dir $m)
		tid=$(tid_of "ksoftirqd_$m/1")
		echo >$T/trace
		echo "$tid" >$T/set_ftrace_pid
		echo function_graph >$T/current_tracer
		echo 1 >$T/options/funcgraph-abstime
		echo 1 >$T/tracing_on
		$B write $D/raise "1 1" "$PROF_GRAPH_N" "$LAT_GAP_US" 1 >/dev/null || die "graph $m"
		echo 0 >$T/tracing_on
		awk -v gap_us="$((LAT_GAP_US / 2))" -v tag="BENCH profgraph impl=$m" '
		$2 != "|" || $1 !~ /^[0-9]+\.[0-9]+$/ { next }
		{
			if (prev != "" && ($1 - prev) * 1000000 > gap_us) {
				n++
				if (n == 5) for (i = 0; i < k; i++) print tag " " line[i]
				k = 0
			}
			prev = $1
			if (n == 4 && k < 80) line[k++] = $0
			if ($0 ~ /\(\);/ || $0 ~ /\(\) \{/) calls[n]++
		}
		END {
			printf "BENCH profcalls impl=%s", substr(tag, index(tag, "=") + 1)
			for (i = 1; i < n; i++) printf " %d", calls[i]
			print ""
		}' $T/trace
		# Changing the tracer empties the buffer: only after the awk.
		echo nop >$T/current_tracer
		drain $D
	done
	echo >$T/set_ftrace_pid
	echo >$T/set_ftrace_filter
	# A raise write and an rmmod, call by call: the graph of the writer
	# (or rmmod), of the kernel functions on those paths.
	wfuncs="__x64_sys_pwrite64 kernfs_fop_write_iter sysfs_kf_write sysfs_kf_bin_write cpus_read_lock
		cpus_read_unlock ktime_get wake_up_process *:mod:smpboot_rs *:mod:ksoftirqd_c *:mod:ksoftirqd_c_rs"
	rfuncs="__x64_sys_delete_module synchronize_rcu kthread_stop __cpuhp_remove_state
		on_each_cpu_cond_mask smp_call_function_single hrtimer_cancel kobject_put
		smpboot_unregister_percpu_thread *:mod:smpboot_rs *:mod:ksoftirqd_c *:mod:ksoftirqd_c_rs"
	for m in c crs rs; do
		D=$(dir $m)
		# shellcheck disable=SC2086
		graph_of "impl=$m what=write" __x64_sys_pwrite64 10 $wfuncs -- $B write $D/raise "all 1000" 20 1000 0
		drain $D
	done
	unload crs keep-core
	unload rs keep-core
	unload c
	# And an insmod: loading the module, then its init (smpboot_rs.ko
	# stays loaded: its own load is not the registration's).
	ifuncs="__x64_sys_finit_module load_module simplify_symbols apply_relocations post_relocation
		complete_formation prepare_coming_module mod_sysfs_setup do_init_module do_one_initcall
		smpboot_register_percpu_thread kthread_create_on_cpu kthread_park wait_task_inactive
		kthread_unpark __cpuhp_state_add_instance cpuhp_issue_call sysfs_create_group _printk"
	for m in c rs; do
		# shellcheck disable=SC2086
		graph_of "impl=$m what=insmod" __x64_sys_finit_module 1 $ifuncs -- insmod $KO/ksoftirqd_$m.ko
		# shellcheck disable=SC2086
		graph_of "impl=$m what=rmmod" __x64_sys_delete_module 1 $rfuncs -- rmmod ksoftirqd_$m
	done
	memory_rounds 2
	unload core
}

# graph_of TAG TOP K FUNCTION... -- COMMAND...: the function graph of COMMAND
# (forked from this shell) over FUNCTIONs only.
# Prints the duration of each call of TOP ("BENCH profdur") and the lines of
# its Kth call ("BENCH profgraph2"), prefixed with TAG.
graph_of() {
	tag=$1 top=$2 k=$3
	shift 3
	echo nop >$T/current_tracer
	echo >$T/set_ftrace_filter
	while [ "$1" != -- ]; do
		echo "$1" >>$T/set_ftrace_filter 2>/dev/null || echo "BENCH profnote $tag missing_function=$1"
		shift
	done
	shift
	echo >$T/trace
	echo 1 >$T/options/function-fork
	echo 1 >$T/options/funcgraph-tail
	echo $$ >$T/set_ftrace_pid
	echo function_graph >$T/current_tracer
	echo 1 >$T/tracing_on
	"$@" >/dev/null || die "graph_of $tag: $*"
	echo 0 >$T/tracing_on
	awk -v tag="$tag" -v top="$top" -v k="$k" '
	$2 != "|" { next }
	index($0, " " top "() {") { n++; if (n == k) show = 1 }
	show && lines < 150 { print "BENCH profgraph2 " tag " " $0; lines++ }
	index($0, "} /* " top " */") {
		d = $0; sub(/ us .*/, "", d); sub(/.*[^0-9.]/, "", d)
		printf "BENCH profdur %s n=%d ns=%d\n", tag, n, d * 1000
		show = 0
	}' $T/trace
	echo nop >$T/current_tracer
	echo >$T/set_ftrace_pid
	echo 0 >$T/options/function-fork
	echo >$T/set_ftrace_filter
}

# The hotplug states' own time, from the kernel's cpuhp tracepoints: in each
# configuration (no module, C, Rust, C on smpboot_rs: the same callbacks as
# C, smpboot_rs's core; the order turns each round), ST_CYCLES
# offline + online cycles of CPU 1, each callback timed with the TSC from its
# cpuhp_enter (cpuhp_multi_enter: once per instance) to its cpuhp_exit.
# Per cycle and direction: the kernel's smpboot states (threads:prepare,
# smpboot/threads:online), smpboot_rs's (smpboot_rs:create,
# smpboot_rs:online), and all states. What a sample's threads add to CPU
# hotplug is what its configuration adds to the smpboot states over no
# module in the same round: one state's time against another's, where the
# whole cycle's spread is larger than a thread's park.
phase_states() {
	tracing_tsc
	echo "BENCH statesinfo tsc_mhz=$khz cycles=$ST_CYCLES"
	r=0
	while [ $r -lt "$ST_ROUNDS" ]; do
		for cfg in $(turn $r none c rs crs); do
			load $cfg
			# The step numbers (smpboot_rs's states are dynamic).
			ksteps=$(awk -F': ' '$2 == "threads:prepare" || $2 == "smpboot/threads:online" { print $1 + 0 }' $SYSCPU/hotplug/states)
			rsteps=$(awk -F': ' '$2 == "smpboot_rs:create" || $2 == "smpboot_rs:online" { print $1 + 0 }' $SYSCPU/hotplug/states)
			[ "$(echo $ksteps | wc -w)" = 2 ] || die "the kernel's smpboot states: $ksteps"
			echo >$T/trace
			for e in cpuhp_enter cpuhp_multi_enter cpuhp_exit; do echo 1 >$T/events/cpuhp/$e/enable || die "no cpuhp:$e event"; done
			echo 1 >$T/tracing_on
			c=0
			while [ $c -lt "$ST_CYCLES" ]; do
				echo "bench down" >$T/trace_marker
				echo 0 >$SYSCPU/cpu1/online || die "offline cpu1 ($cfg)"
				echo "bench up" >$T/trace_marker
				echo 1 >$SYSCPU/cpu1/online || die "online cpu1 ($cfg)"
				c=$((c + 1))
			done
			echo "bench end" >$T/trace_marker
			echo 0 >$T/tracing_on
			for e in cpuhp_enter cpuhp_multi_enter cpuhp_exit; do echo 0 >$T/events/cpuhp/$e/enable; done
			! grep -h '^overrun:' $T/per_cpu/cpu*/stats | grep -qv ': 0$' || die "states trace overran"
			awk -v mhz="$khz" -v ksteps=" $(echo $ksteps) " -v rsteps=" $(echo $rsteps) " \
				-v tag="BENCH states impl=$cfg round=$r" "$TRACE_AWK"'
			function flush() {
				if (dir != "")
					printf "%s dir=%s kernel_ns=%d rs_ns=%d all_ns=%d unpaired=%d\n", tag, dir, ns(kern), ns(rs), ns(all), unpaired
				kern = 0; rs = 0; all = 0; unpaired = 0
			}
			{
				if (!trace_event()) next
				if (ev == "tracing_mark_write") {
					flush()
					dir = $NF == "end" ? "" : $NF
					split("", start)
					next
				}
				step = ""
				for (j = i + 1; j < NF; j++) if ($j == "step:") { step = $(j + 1); break }
				if (ev == "cpuhp_enter" || ev == "cpuhp_multi_enter") { start[step] = ts; next }
				if (ev != "cpuhp_exit") next
				if (!(step in start)) { unpaired++; next }
				d = ts - start[step]
				delete start[step]
				all += d
				if (index(ksteps, " " step " ")) kern += d
				if (index(rsteps, " " step " ")) rs += d
			}
			END { flush() }' $T/trace
			unload $cfg
		done
		r=$((r + 1))
	done
	states_registration
}

# Where a registration's time goes (after phase_states, whose tracing it
# needs): each sample's insmod, smpboot_rs.ko loaded before, with the cpuhp
# tracepoints on. The kernel's smpboot creates and unparks every thread
# from the registering task and runs no hotplug callback; smpboot_rs adds
# its create instance (callbacks in the registering task) and its online
# instance. That one is added without calls, and the registering task
# starts the threads itself; added with calls, its callback ran on each CPU
# in turn in that CPU's hotplug thread, which cpuhp woke and waited for.
# Per insmod: its time, the time in the callbacks of each instance, and the
# online instance's span (first callback's start to last one's end: the
# callbacks and the hand-offs between the registering task and the CPUs'
# hotplug threads; 0 without calls).
states_registration() {
	load core
	r=0
	while [ $r -lt "$ST_ROUNDS" ]; do
		for m in $(turn $r c rs); do
			steps=$(awk -F': ' '$2 == "smpboot_rs:create" || $2 == "smpboot_rs:online" { print $1 + 0 }' $SYSCPU/hotplug/states)
			echo >$T/trace
			for e in cpuhp_multi_enter cpuhp_exit; do echo 1 >$T/events/cpuhp/$e/enable || die "no cpuhp:$e event"; done
			echo 1 >$T/tracing_on
			ins=$($B time insmod $KO/ksoftirqd_$m.ko)
			echo 0 >$T/tracing_on
			for e in cpuhp_multi_enter cpuhp_exit; do echo 0 >$T/events/cpuhp/$e/enable; done
			case $ins in *status=0) ;; *) die "insmod $m: $ins" ;; esac
			! grep -h '^overrun:' $T/per_cpu/cpu*/stats | grep -qv ': 0$' || die "registration trace overran"
			awk -v mhz="$khz" -v create="$(echo $steps | cut -d' ' -f1)" -v online="$(echo $steps | cut -d' ' -f2)" \
				-v tag="BENCH regstates impl=$m round=$r insmod_$ins" "$TRACE_AWK"'
			{
				if (!trace_event()) next
				cpu = ""; step = ""
				for (j = i + 1; j < NF; j++) {
					if ($j == "cpu:") cpu = $(j + 1)
					if ($j == "step:") step = $(j + 1)
				}
				if (ev == "cpuhp_multi_enter") { start[cpu, step] = ts; next }
				if (ev != "cpuhp_exit" || !((cpu, step) in start)) next
				d = ts - start[cpu, step]
				if (step == create) { cr += d; ncr++ }
				if (step == online) {
					on += d; non++
					if (first == "") first = start[cpu, step]
					last = ts
				}
				delete start[cpu, step]
			}
			END {
				printf "%s create_ns=%d creates=%d online_ns=%d onlines=%d online_span_ns=%d\n", tag,
					ns(cr), ncr, ns(on), non, first == "" ? 0 : ns(last - first)
			}' $T/trace
			unload $m keep-core
		done
		r=$((r + 1))
	done
	unload core
}

# What a load keeps: the kmem, percpu and task tracepoints over it, then
# the objects and per-CPU areas it allocated and that were not freed
# MEM_SETTLE seconds after it (exact, by object, where /proc/meminfo's Slab
# moves by whole slabs and with other tasks' allocations) and the tasks it
# created that did not exit (the threads, each with its kernel stack).
# mem_events 1 turns the events on (and mounts tracefs, sets T), mem_events
# 0 off.
#
# Not the load's either: the insmod process's address space. Its mm_struct
# (from fork, copy_mm(), or exec, mm_alloc()) and what mm_init() allocates
# with it (7.x's mm_init_sched() and per-CPU mm_cid, the RSS counters'
# per-CPU part) are freed only when the last CPU that still runs on it
# lazily (lazy TLB) switches to another process: after the settling second
# in some rounds and not others, 1.4 kB a round on 7.3.
PROCESS_MM_SITES='^(copy_mm|dup_mm|mm_alloc|mm_init|mm_init_sched|__percpu_counter_init_many)$'
MEM_EVENTS="kmem/kmalloc kmem/kmem_cache_alloc kmem/kfree kmem/kmem_cache_free
	percpu/percpu_alloc_percpu percpu/percpu_free_percpu task/task_newtask sched/sched_process_exit"
mem_events() { trace_events "$1" $MEM_EVENTS; }
# trace_events 1|0 EVENT...: tracefs mounted (sets T), tracing off, no
# tracer, the EVENTs (group/name) on or off.
trace_events() {
	T=/sys/kernel/tracing
	[ -e $T/trace ] || mount -t tracefs tracefs $T || die "no tracefs (a kernel without trace events)"
	echo 0 >$T/tracing_on
	echo nop >$T/current_tracer
	on=$1
	shift
	for e; do echo "$on" >$T/events/$e/enable || die "no $e event"; done
}
# memory_kept IMPL ROUND: load IMPL (core: smpboot_rs.ko alone) traced;
# BENCH mem (totals) and BENCH memsite (by cache and call site) records.
memory_kept() {
	echo >$T/trace
	echo 1 >$T/tracing_on
	load "$1"
	# What the load frees late (its init sections, after a grace period;
	# the exited insmod's task) is freed within the settling second; what is
	# allocated in it is not the load's.
	echo "bench loaded" >$T/trace_marker
	sleep "$MEM_SETTLE"
	echo 0 >$T/tracing_on
	! grep -h '^overrun:' $T/per_cpu/cpu*/stats | grep -qv ': 0$' || die "memory trace overran"
	awk -v tag="impl=$1 round=$2" -v process_mm="$PROCESS_MM_SITES" "$TRACE_AWK"'
	{
		if (!trace_event()) next
		if (ev == "tracing_mark_write") { loaded = 1; next }
		if (loaded && (ev == "kmalloc" || ev == "kmem_cache_alloc" || ev == "percpu_alloc_percpu" || ev == "task_newtask")) next
		split("", kv)
		for (j = i + 1; j <= NF; j++) {
			if (index($j, "=")) { key = substr($j, 1, index($j, "=") - 1); kv[key] = substr($j, index($j, "=") + 1) }
			else if ($j ~ /^\[/) kv[key] = kv[key] "" $j
		}
		site = kv["call_site"]; sub(/\+0x[0-9a-f]+\/0x[0-9a-f]+/, "", site)
		if ((ev == "kmalloc" || ev == "kmem_cache_alloc" || ev == "percpu_alloc_percpu") && site ~ process_mm) next
		if (ev == "kmalloc" || ev == "kmem_cache_alloc") {
			live[kv["ptr"]] = kv["bytes_alloc"]
			cache = ev == "kmalloc" ? (kv["bytes_alloc"] + 0 > 8192 ? "kmalloc_large" : "kmalloc") : kv["name"]
			where[kv["ptr"]] = cache ":" site
		} else if (ev == "kfree" || ev == "kmem_cache_free") {
			delete live[kv["ptr"]]
		} else if (ev == "percpu_alloc_percpu") {
			pcpu[kv["ptr"]] = kv["bytes_alloc"]
			pwhere[kv["ptr"]] = "percpu:" site
		} else if (ev == "percpu_free_percpu") {
			delete pcpu[kv["ptr"]]
		} else if (ev == "task_newtask") {
			task[kv["pid"]] = 1
		} else if (ev == "sched_process_exit") {
			delete task[kv["pid"]]
		}
	}
	END {
		for (p in live) { bytes[where[p]] += live[p]; n[where[p]]++; slab += live[p] }
		for (p in pcpu) { bytes[pwhere[p]] += pcpu[p]; n[pwhere[p]]++; percpu += pcpu[p] }
		for (p in task) tasks++
		printf "BENCH mem %s slab_bytes=%d percpu_bytes=%d tasks=%d\n", tag, slab, percpu, tasks
		for (w in bytes) printf "BENCH memsite %s bytes=%d n=%d site=%s\n", tag, bytes[w], n[w], w
	}' $T/trace
}

# memory_rounds N: memory_kept of each sample, N rounds interleaved, with
# smpboot_rs.ko loaded before (so that only the registration counts).
memory_rounds() {
	load core
	mem_events 1
	r=0
	while [ $r -lt "$1" ]; do
		for m in $(turn $r c rs); do
			memory_kept $m $r
			unload $m keep-core
		done
		r=$((r + 1))
	done
	mem_events 0
}

for phase; do
	echo "BENCH phase $phase start $(cut -d' ' -f1 /proc/uptime)"
	phase_$phase
	echo "BENCH phase $phase end $(cut -d' ' -f1 /proc/uptime)"
done
echo "bench-guest: kernel log:"
dmesg
exit $fail

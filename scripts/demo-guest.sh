# SPDX-License-Identifier: GPL-2.0
#
# The `make run` demo, run in the guest by scripts/run-demo (busybox sh):
# load the modules, show the per-CPU threads, take CPUs 3 and 2 offline and
# back, raise work on the sample, unload, and summarize. Parts whose module or
# sysfs file does not exist are skipped with a note.

top=/smpboot_rs
core_ko=$top/smpboot_rs.ko
sample_ko=$top/samples/ksoftirqd_rs.ko
threads_file=/sys/kernel/smpboot_rs/threads
raise_file=/sys/kernel/ksoftirqd_rs/raise
stats_file=/sys/kernel/ksoftirqd_rs/stats
summary=
loaded=
rc=0

step() { echo; echo "=== $*"; }
note() { summary="$summary
  $*"; }

# The threads whose name matches smpboot or ksoftirqd_rs, one line each:
# "name pid state cpu", state as in ps (S sleeping, R running, P parked, D
# uninterruptible), cpu the one it last ran on. Shell builtins only: a fork
# per process would take seconds under QEMU TCG with KASAN.
threads() {
	for d in /proc/[0-9]*; do
		read -r comm 2>/dev/null <"$d/comm" || continue
		case $comm in
		*smpboot*|*ksoftirqd_rs*) ;;
		*) continue ;;
		esac
		read -r st 2>/dev/null <"$d/stat" || continue
		# Fields after "(comm) ": state is the 1st, the last CPU the 37th.
		set -- ${st##*) }
		[ $# -ge 37 ] || continue
		state=$1
		shift 36
		echo "$comm ${d#/proc/} $state $1"
	done | sort
}

# show_threads: print the threads and smpboot_rs's own list; sets $list.
show_threads() {
	list=$(threads)
	if [ -n "$list" ]; then
		echo "$list" | awk '{ printf "  %-20s pid %-5s state %s  on cpu %s\n", $1, $2, $3, $4 }'
	else
		echo "  (no thread named *smpboot* or *ksoftirqd_rs*)"
	fi
	if [ -r "$threads_file" ]; then
		echo "  $threads_file:"
		sed 's/^/    /' "$threads_file"
	fi
}

# states: "name=state ..." of the threads in $list, for the summary.
states() {
	[ -n "$list" ] || { echo "no threads"; return; }
	echo "$list" | awk '{ printf "%s%s=%s", sep, $1, $3; sep = " " } END { print "" }'
}

load() {
	if [ -f "$1" ]; then
		if insmod "$1"; then
			echo "  insmod $1: ok"
			loaded="$1 $loaded"
			note "loaded ${1##*/}"
		else
			echo "  insmod $1: FAILED"
			note "insmod ${1##*/} FAILED"
			rc=1
		fi
	else
		echo "  $1 not built yet: skipped"
		note "${1##*/} not built: skipped"
	fi
}

set_online() {
	f=/sys/devices/system/cpu/cpu$1/online
	if [ ! -w "$f" ]; then
		echo "  cpu$1 cannot be hotplugged here ($f missing): skipped"
		return
	fi
	if echo "$2" >"$f"; then
		echo "  cpu$1 online=$2 (online CPUs now: $(cat /sys/devices/system/cpu/online))"
	else
		echo "  echo $2 > $f FAILED"
		rc=1
	fi
}

step "$(nproc) CPUs online ($(cat /sys/devices/system/cpu/online)); loading modules"
load "$core_ko"
load "$sample_ko"
step "threads after load"
show_threads
note "after load: $(states)"

step "offline cpu3, then cpu2"
set_online 3 0
set_online 2 0
show_threads
note "cpu3+cpu2 offline -> $(states)"

step "online cpu2, then cpu3"
set_online 2 1
set_online 3 1
show_threads
note "cpu2+cpu3 online again -> $(states)"

step "raise work on the sample"
if [ -w "$raise_file" ]; then
	if echo "all 100" >"$raise_file"; then
		echo "  echo 'all 100' > $raise_file: ok"
		sleep 1
		note "raised 100 work items on every CPU"
	else
		echo "  echo 'all 100' > $raise_file FAILED"
		rc=1
	fi
else
	echo "  $raise_file missing: skipped"
fi
if [ -r "$stats_file" ]; then
	echo "  $stats_file:"
	sed 's/^/    /' "$stats_file"
	note "stats: $(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] == "raised" || kv[1] == "processed" || kv[1] == "wrong_cpu") s[kv[1]] += kv[2] } }
		END { printf "raised %d, processed %d, wrong_cpu %d over all CPUs", s["raised"], s["processed"], s["wrong_cpu"] }' "$stats_file")"
fi

step "unloading"
for ko in $loaded; do
	mod=${ko##*/}
	mod=${mod%.ko}
	if rmmod "$mod"; then
		echo "  rmmod $mod: ok"
		note "unloaded $mod"
	else
		echo "  rmmod $mod FAILED"
		note "rmmod $mod FAILED"
		rc=1
	fi
done
list=$(threads)
[ -z "$loaded" ] || note "after unload: $(states)"

step "summary"
echo "${summary#?}"
exit $rc

# SPDX-License-Identifier: GPL-2.0
#
# Shared by the guest suites in scripts/selftests/ (busybox ash): KTAP output
# (scripts/ktap.sh) and helpers for CPUs and smpboot_rs threads.

. /smpboot_rs/scripts/ktap.sh

THREADS=/sys/kernel/smpboot_rs/threads
SYSCPU=/sys/devices/system/cpu

# case_result DESC CMD...: one KTAP result; CMD's output becomes diagnostics.
case_result() {
	desc=$1; shift
	if out=$("$@" 2>&1); then ktap_ok "$desc"; else ktap_fail "$desc" "$out"; fi
}

# wait_for SECONDS CMD...: retries CMD every 0.1 s until it succeeds.
wait_for() {
	t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done
	"$@"
}

# field LINE KEY: the value of KEY in a "key=value ..." line.
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

cpu_online() { echo "$2" > $SYSCPU/cpu$1/online; }
online_cpus() { for c in $SYSCPU/cpu[0-9]*; do [ "$(cat $c/online 2>/dev/null || echo 1)" = 1 ] && echo "${c##*cpu}"; done; }
allowed_of() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$1/status 2>/dev/null; }

# threads_consistent [NAME_PREFIX]: every smpboot_rs thread (of the names
# starting with the prefix) matches its CPU: active and allowed on that CPU
# only if the CPU is online, not active if it is offline, and wrong_cpu 0.
# Prints what does not match. One awk, not a fork per field: forks are slow
# under TCG.
threads_consistent() {
	bad=0
	awk -v p=" name=${1:-}" 'index($0, p) {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		print v["name"], v["cpu"], v["pid"], v["state"], v["online"], v["wrong_cpu"]
	}' "$THREADS" > /tmp/threads_consistent
	while read -r name cpu pid st on wrong; do
		if [ "$on" = 1 ]; then
			allowed=$(allowed_of "$pid")
			[ "$st" = active ] && [ "$allowed" = "$cpu" ] ||
				{ echo "$name: online, state=$st, allowed CPUs $allowed"; bad=1; }
		else
			[ "$st" != active ] || { echo "$name: active on an offline CPU"; bad=1; }
		fi
		[ "$wrong" = 0 ] || { echo "$name: wrong_cpu=$wrong"; bad=1; }
	done < /tmp/threads_consistent
	return $bad
}

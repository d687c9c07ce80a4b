# SPDX-License-Identifier: GPL-2.0
#
# Shared by the guest suites in scripts/selftests/ (busybox ash): KTAP output
# (scripts/ktap.sh) and helpers for CPUs and smpboot_rs threads.

. /smpboot_rs/scripts/ktap.sh

TOP=/smpboot_rs
THREADS=/sys/kernel/smpboot_rs/threads
SYSCPU=/sys/devices/system/cpu
# The test modules' controls (tests/smpboot_rs_test_c.c, _rust.rs).
CPARAM=/sys/module/smpboot_rs_test_c/parameters
RDIR=/sys/kernel/smpboot_rs_test_rust

# Lines of the threads file for a name prefix ("sbtc0/").
lines_of() { grep " name=$1" "$THREADS" 2>/dev/null; }
# One key of a registration's CPU: get NAMEPREFIX CPU KEY.
get() { field "$(lines_of "$1$2 ")" "$3"; }
# One counter of the Rust test module.
stat_of() { field "$(cat $RDIR/stats)" "$1"; }

# case_result DESC CMD...: one KTAP result; CMD's output becomes diagnostics.
# After a command stuck in the kernel (within), nothing else can run.
case_result() {
	desc=$1; shift
	if out=$("$@" 2>&1); then ktap_ok "$desc"; else ktap_fail "$desc" "$out"; fi
	[ ! -e /tmp/kernel_stuck ] || ktap_bail "stuck in the kernel: $(cat /tmp/kernel_stuck)"
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

# The number of a hotplug state by name ("online", "smpboot_rs:online", ...).
hp_state_nr() { sed -n "s/^ *\([0-9]*\): $1\$/\1/p" $SYSCPU/hotplug/states | head -n 1; }
HP_ONLINE=$(hp_state_nr online)
# The number of the state listed just below the one named.
hp_state_below() {
	awk -F: -v at="$(hp_state_nr "$1")" '$1 + 0 < at + 0 { n = $1 + 0 } END { print n }' $SYSCPU/hotplug/states
}
# The state a CPU is in now.
hp_state_of() { cat $SYSCPU/cpu$1/hotplug/state; }

# within SECONDS CMD...: runs CMD in the background and waits up to SECONDS
# for it. Returns its status (its stderr in /tmp/within.err). A command that
# never returns is stuck in the kernel (a CPU that cannot finish going down,
# a deadlock), after which nothing else works: the suite bails out, instead
# of hanging until vm-run's timeout.
within() {
	limit=$1
	shift
	rm -f /tmp/within.rc
	( "$@" 2>/tmp/within.err; echo $? > /tmp/within.rc ) &
	t=$(( limit * 10 ))
	while [ ! -s /tmp/within.rc ] && [ $t -gt 0 ]; do sleep 0.1; t=$((t - 1)); done
	if [ ! -s /tmp/within.rc ]; then
		echo "HANG: '$*' did not return within ${limit}s"
		for s in /proc/[0-9]*/status; do
			grep -q '^State:[[:space:]]*D' "$s" 2>/dev/null && sed -n 's/^Name:/D-state task:/p' "$s"
		done
		# A case runs in a subshell: the suite bails at its top level too.
		echo "$*" > /tmp/kernel_stuck
		ktap_bail "stuck in the kernel: $*"
	fi
	return "$(cat /tmp/within.rc)"
}

# hp_write FILE VALUE: writes VALUE to a hotplug file, within 30 s (the
# write's error in /tmp/hp_write.err).
hp_write() {
	within 30 sh -c "echo '$2' > '$1'" && rc=0 || rc=$?
	cp /tmp/within.err /tmp/hp_write.err
	return $rc
}
# hp_target CPU STATE: moves CPU to hotplug state STATE (a number).
hp_target() { hp_write $SYSCPU/cpu$1/hotplug/target "$2"; }

# threads_healthy [NAME_PREFIX [CPU]]: every smpboot_rs thread (of the
# names starting with the prefix, of the CPU) is sane whatever the CPU's
# hotplug state: wrong_cpu 0, never in D state (a created or parked thread
# must not trip the hung-task detector), and if active, allowed on exactly
# its CPU. One awk over the threads file and the threads' /proc status: a
# fork per thread is too slow under TCG for a check after every hotplug step.
threads_healthy() {
	sel=$(awk -v p=" name=${1:-}" -v c=" cpu=${2:-}" '
		index($0, p) && (c == " cpu=" || index($0, c " ")) {
			for (i = 1; i <= NF; i++) if ($i ~ /^pid=[1-9]/) { sub(/^pid=/, "", $i); print "/proc/" $i "/status" }
		}' "$THREADS")
	cat ${sel:-/dev/null} 2>/dev/null | awk -v p=" name=${1:-}" -v c=" cpu=${2:-}" '
		FILENAME == "-" {
			if ($1 == "State:") s = $2
			if ($1 == "Pid:") pid = $2
			if ($1 == "Cpus_allowed_list:") { st[pid] = s; allowed[pid] = $2 }
			next
		}
		index($0, p) && (c == " cpu=" || index($0, c " ")) {
			delete v
			for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			line[++n] = v["name"] " " v["cpu"] " " v["pid"] " " v["state"] " " v["wrong_cpu"]
		}
		END {
			bad = 0
			for (i = 1; i <= n; i++) {
				split(line[i], f, " ")
				name = f[1]; cpu = f[2]; pid = f[3]; state = f[4]; wrong = f[5]
				if (wrong != 0) { print name ": wrong_cpu=" wrong; bad = 1 }
				if (pid == 0) continue
				if (!(pid in st)) { print name ": pid " pid " has no /proc entry"; bad = 1; continue }
				if (st[pid] == "D") { print name ": pid " pid " in D state"; bad = 1 }
				if (state == "active" && allowed[pid] != cpu) {
					print name ": active, allowed CPUs " allowed[pid]; bad = 1
				}
			}
			exit bad
		}' "$THREADS" -
}

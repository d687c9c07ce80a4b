# SPDX-License-Identifier: GPL-2.0
#
# Shared by the smpboot_rs selftests in this directory (POSIX sh; busybox ash
# in our VM): the kernel's KTAP helpers (kselftest/ktap_helpers.sh, beside
# this directory once installed or linked into tools/testing/selftests), a
# suite's frame (suite_begin, suite_end), and helpers for CPUs, modules and
# smpboot_rs threads.
#
# A suite runs on any machine with smpboot_rs's modules installed (make
# modules_install) and loads them with modprobe. It skips (exit 4) with a
# reason when a prerequisite is missing, puts back at exit or interruption
# every CPU it found online and every module it loaded, and fails when the
# kernel logs a splat while it runs (suite_end), whatever runs it.

KSFT_DIR=$(cd "$(dirname "$0")" && pwd)
if [ ! -r "$KSFT_DIR/../kselftest/ktap_helpers.sh" ]; then
	echo "1..0 # SKIP no ../kselftest/ktap_helpers.sh: run from tools/testing/selftests/smpboot_rs of a kernel tree or a kselftest install"
	exit 4
fi
. "$KSFT_DIR/../kselftest/ktap_helpers.sh"

THREADS=/sys/kernel/smpboot_rs/threads
SYSCPU=/sys/devices/system/cpu
# The test modules' controls (tests/smpboot_rs_test_c.c, _rust.rs).
CPARAM=/sys/module/smpboot_rs_test_c/parameters
RDIR=/sys/kernel/smpboot_rs_test_rust
# Every module a suite may load, users before what they use: unloaded in
# this order at exit.
SMPBOOT_RS_MODULES="ksoftirqd_rs ksoftirqd_c_rs ksoftirqd_c smpboot_rs_test_ipi smpboot_rs_test_c smpboot_rs_test_kernel smpboot_rs_test_rust smpboot_rs"

# Under QEMU TCG with KASAN a fork costs about 50 ms and an exec about
# 100 ms (a hotplug sweep step's checks took 2.2 s, nearly all of it in
# forks), so the helpers a suite calls in its loops use shell builtins.
# READ_T: the shell's read has -t (busybox ash, bash; dash has not), so a
# timed wait is a builtin: nap reads fd 8, a FIFO nothing writes to, and
# within reads fd 9, where its command says when it ends (both opened by
# suite_begin).
if (printf 'x\n' | { read -t 1 rt_v && [ "$rt_v" = x ]; }) 2>/dev/null; then READ_T=1; else READ_T=; fi

# nap SECONDS: sleep, without a fork where READ_T.
nap() {
	if [ -n "$READ_T" ]; then read -t "$1" nap_v <&8; else sleep "$1"; fi
	return 0
}

# diag TEXT...: KTAP diagnostic lines, one per line of TEXT (ktap_print_msg
# takes one line and lets the shell split and glob it).
diag() {
	for diag_text; do
		printf '%s\n' "$diag_text" | sed 's/^/# /'
	done
}

# loaded MODULE: it is loaded now. A loadable module has an initstate file
# in sysfs from its load (before its init runs) to its unload: a test of
# it, not /proc/modules read a byte at a time by the shell's read (0.1-0.2 s
# under TCG).
loaded() { [ -e /sys/module/$1/initstate ]; }

# The file of an installed module, from modules.dep (for fail_nth, which
# loads a file itself).
module_file() {
	mf_dir=/lib/modules/$(uname -r)
	mf=$(sed -n "s@^\([^:]*/$1\.ko[.a-z]*\):.*@\1@p" "$mf_dir/modules.dep" 2>/dev/null | head -n 1)
	[ -n "$mf" ] && echo "$mf_dir/$mf"
}

# suite_begin TESTS CPUS [MODULE | /FILE]...: the KTAP header and plan
# (TESTS, plus suite_end's kernel-log check), after the prerequisites: root,
# CPUS online CPUs of which all but one can go offline (an online file),
# smpboot_rs and each MODULE installed (uncompressed if NEEDS_KO_FILES is
# set: fail_nth loads the file itself), each FILE present, smpboot_rs not
# loaded by someone else. Skips the whole suite (exit 4) if one is missing.
suite_begin() {
	sb_tests=$1 sb_cpus=$2
	shift 2
	ktap_print_header
	sb_why=
	if [ "$(id -u)" != 0 ]; then
		sb_why="must be run as root"
	elif [ "$(online_cpus | wc -l)" -lt "$sb_cpus" ]; then
		sb_why="needs $sb_cpus online CPUs, has $(online_cpus | wc -l)"
	elif [ "$(ls $SYSCPU/cpu[0-9]*/online 2>/dev/null | wc -l)" -lt $((sb_cpus - 1)) ]; then
		sb_why="needs $((sb_cpus - 1)) hotpluggable CPUs (CONFIG_HOTPLUG_CPU)"
	elif loaded smpboot_rs; then
		sb_why="smpboot_rs is loaded already: the suite loads and unloads it itself"
	fi
	for sb_mod in smpboot_rs "$@"; do
		[ -z "$sb_why" ] || break
		case $sb_mod in
		/*) [ -r "$sb_mod" ] || sb_why="needs $sb_mod"; continue ;;
		esac
		case $(module_file "$sb_mod") in
		*.ko) ;;
		"") sb_why="module $sb_mod is not installed (make modules_install in the smpboot_rs tree)" ;;
		*) [ -z "${NEEDS_KO_FILES:-}" ] || sb_why="module $sb_mod is installed compressed; fail_nth needs the .ko file" ;;
		esac
	done
	if [ -n "$sb_why" ]; then
		ktap_skip_all "$sb_why"
		exit "$KSFT_SKIP"
	fi
	ktap_set_plan $((sb_tests + 1))
	SUITE_ONLINE=$(online_cpus)
	SUITE_TMP=$(mktemp -d /tmp/smpboot_rs_selftest.XXXXXX)
	STUCK=$SUITE_TMP/kernel_stuck
	# Opened read-write, a FIFO's open does not wait for a writer.
	mkfifo "$SUITE_TMP/nap" "$SUITE_TMP/within" || ktap_exit_fail_msg "mkfifo in $SUITE_TMP failed"
	exec 8<>"$SUITE_TMP/nap" 9<>"$SUITE_TMP/within"
	# Everything the kernel logs from now on (a reader, not dmesg at the
	# end: the ring buffer can wrap in a long suite).
	SUITE_MARK="smpboot_rs selftest $(basename "$0") $$: start"
	echo "$SUITE_MARK" > /dev/kmsg
	cat /dev/kmsg > "$SUITE_TMP/kmsg" 2>&1 &
	SUITE_KMSG_PID=$!
	trap suite_restore EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# children_of PID: the processes whose parent is PID, from /proc (no pgrep:
# busybox, a minimal system's userland, has none). A stat line is "PID
# (COMM) STATE PPID ...", and COMM may hold spaces and parentheses.
children_of() {
	for co_stat in /proc/[0-9]*/stat; do
		read -r co_line 2>/dev/null < "$co_stat" || continue
		co_rest=${co_line##*) }
		co_ppid=${co_rest#* }
		[ "${co_ppid%% *}" != "$1" ] || echo "${co_line%% *}"
	done
}

# kill_tree PID: PID and its descendants (a case and the loops it started).
# PID is stopped first, so that it starts no child while they are killed,
# and killed last, so that none of them is handed to init before it is seen.
kill_tree() {
	kill -STOP "$1" 2>/dev/null || return 0
	for kt_child in $(children_of "$1"); do
		kill_tree "$kt_child"
	done
	kill "$1" 2>/dev/null
	kill -CONT "$1" 2>/dev/null
}

# restore_cpus: every CPU that was online at suite_begin online again,
# injected failures cleared first.
restore_cpus() {
	for sr_cpu in $SUITE_ONLINE; do
		[ ! -w $SYSCPU/cpu$sr_cpu/hotplug/fail ] || echo -1 > $SYSCPU/cpu$sr_cpu/hotplug/fail 2>/dev/null
		if [ -w $SYSCPU/cpu$sr_cpu/hotplug/target ] && [ -n "$HP_ONLINE" ]; then
			echo "$HP_ONLINE" > $SYSCPU/cpu$sr_cpu/hotplug/target 2>/dev/null
		fi
		[ ! -w $SYSCPU/cpu$sr_cpu/online ] || echo 1 > $SYSCPU/cpu$sr_cpu/online 2>/dev/null
	done
}

# unload_module MODULE: unloads MODULE if it is loaded. A module that a
# stopped case was loading is still in its init: rmmod fails until that
# ends (the load itself goes on), so it tries for 10 s.
unload_module() {
	um_try=0
	while loaded "$1" && ! rmmod "$1" 2>/dev/null && [ $um_try -lt 50 ]; do
		nap 0.2
		um_try=$((um_try + 1))
	done
}

# suite_restore: at exit, however it comes (SIGINT and SIGTERM, from the
# kselftest runner's timeout or a user's ^C, exit too). Stops the running
# case, runs the suite's own suite_cleanup if it defines one (knobs it
# changed), brings back every CPU that was online at suite_begin (clearing
# injected failures first) and unloads every smpboot_rs module still loaded.
suite_restore() {
	trap - EXIT
	! command -v suite_cleanup >/dev/null 2>&1 || suite_cleanup
	[ -z "$CASE_PID" ] || kill_tree "$CASE_PID"
	restore_cpus
	for sr_mod in $SMPBOOT_RS_MODULES; do
		unload_module "$sr_mod"
	done
	[ -z "$SUITE_KMSG_PID" ] || kill "$SUITE_KMSG_PID" 2>/dev/null
	[ -z "$SUITE_TMP" ] || rm -rf "$SUITE_TMP"
}

# suite_end: the last test, that the kernel logged no splat since
# suite_begin (splat.awk: a WARNING, BUG, KASAN or lockdep report, a hung
# task, a stall, a call trace that belongs to no deliberate allocation
# failure, ...), then the totals and the exit status.
suite_end() {
	echo "smpboot_rs selftest $(basename "$0") $$: end" > /dev/kmsg
	sleep 1 # let the reader catch up
	se_splat=$(awk -v since="$SUITE_MARK" -f "$KSFT_DIR/splat.awk" "$SUITE_TMP/kmsg" | head -n 40)
	# A reader that fell a whole ring buffer behind stops (EPIPE): what it
	# missed is unknown.
	kill -0 "$SUITE_KMSG_PID" 2>/dev/null ||
		se_splat="${se_splat:+$se_splat
}the kernel log reader stopped early: $(tail -n 1 "$SUITE_TMP/kmsg")"
	if [ -z "$se_splat" ]; then
		ktap_test_pass "no kernel splat logged while the suite ran"
	else
		diag "$se_splat"
		ktap_test_fail "no kernel splat logged while the suite ran"
	fi
	ktap_finished
}

# fault_injection_on / fault_injection_off: bracket deliberate allocation
# failures. splat.awk accepts the call traces of the allocation-failure
# reports between the two kernel-log lines (and nothing else).
fault_injection_on() {
	echo "smpboot_rs selftest: fault injection on" > /dev/kmsg
}
fault_injection_off() {
	sleep 1 # the reports are printed by then
	echo "smpboot_rs selftest: fault injection off" > /dev/kmsg
}

# case_selected NAME: CASES is unset or names NAME, and SKIP_CASES does not.
case_selected() {
	case " ${SKIP_CASES:-} " in *" $1 "*) return 1 ;; esac
	[ -z "${CASES:-}" ] || case " $CASES " in *" $1 "*) ;; *) false ;; esac
}

# skip_unselected NAME DESC: if case_selected leaves NAME out, DESC's one
# result is a skip (the plan counts it) and this returns 0; else 1.
skip_unselected() {
	! case_selected "$1" || return 1
	diag "not in CASES, or in SKIP_CASES"
	ktap_test_skip "$2"
}

# case_result DESC CMD...: one KTAP result; CMD's output becomes diagnostics.
# CMD runs in the background, waited for: a signal's trap runs at once (a
# shell defers it until a foreground command ends). After a command stuck
# in the kernel (within), nothing else can run.
# For mutation runs (scripts/mutants) three variables pick what runs:
# CASES="name ..." runs only the cases whose function is t_name (the others
# are skipped), LAST_CASE=name ends the suite after that case, FAIL_FAST=1
# at the first failure. SKIP_CASES="name ..." skips those cases (make
# check-quick: a suite's "# check-quick-skips:" line).
case_result() {
	desc=$1; shift
	! skip_unselected "${1#t_}" "$desc" || return 0
	"$@" > "$SUITE_TMP/case.out" 2>&1 &
	CASE_PID=$!
	wait "$CASE_PID" && cr_rc=0 || cr_rc=$?
	CASE_PID=
	out=$(cat "$SUITE_TMP/case.out")
	if [ "$cr_rc" = 0 ]; then
		ktap_test_pass "$desc"
	else
		diag "$out"
		ktap_test_fail "$desc"
		# So that one failure does not fail the cases after it, they start
		# with the suite's CPUs online, whatever this case left offline,
		# and without what its own CMD_cleanup (if it has one) undoes: the
		# modules it loaded that they do not expect, whose threads and
		# items would disturb them. Not after a command stuck in the
		# kernel: both could hang behind it.
		if [ ! -e "$STUCK" ]; then
			restore_cpus
			! command -v "${1}_cleanup" >/dev/null 2>&1 || "${1}_cleanup"
		fi
	fi
	[ ! -e "$STUCK" ] || ktap_exit_fail_msg "stuck in the kernel: $(cat "$STUCK")"
	[ -z "${FAIL_FAST:-}" ] || [ "$KTAP_CNT_FAIL" = 0 ] || ktap_exit_fail_msg "FAIL_FAST: stopped at the first failure"
	[ "${1#t_}" != "${LAST_CASE:-}" ] || { diag "LAST_CASE: stopped after $1"; exit $((KTAP_CNT_FAIL > 0)); }
}

# Lines of the threads file for a name prefix ("sbtc0/").
lines_of() { grep " name=$1" "$THREADS" 2>/dev/null; }
# One key of a registration's CPU: get NAMEPREFIX CPU KEY.
get() { field "$(lines_of "$1$2 ")" "$3"; }
# One counter of the Rust test module.
stat_of() { field "$(cat $RDIR/stats)" "$1"; }
# c_drained, rust_drained: the C or the Rust test module has handled every
# item it queued. Functions for wait_for: a "sh -c" runs a shell without
# this file's functions, where a test of field's output compares two
# empty strings.
c_drained() { read -r cd_h < $CPARAM/handled && read -r cd_q < $CPARAM/queued && [ "$cd_h" = "$cd_q" ]; }
rust_drained() {
	rd_s=$(cat $RDIR/stats) || return 1
	rd_h=$(field "$rd_s" handled)
	[ -n "$rd_h" ] && [ "$rd_h" = "$(field "$rd_s" queued)" ]
}

# wait_for SECONDS CMD...: retries CMD every 0.1 s until it succeeds, for
# SECONDS, then once more; only that last try's output is shown.
wait_for() {
	wf_t=$(( $1 * 10 )); shift
	while [ $wf_t -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; nap 0.1; wf_t=$((wf_t - 1)); done
	"$@"
}

# field LINE KEY: the value of KEY in a "key=value ..." line (each one's,
# in lines joined by newlines). Builtins only, globbing off for the split.
field() {
	case $- in *f*) fd_glob= ;; *) fd_glob=1; set -f ;; esac
	for fd_kv in $1; do
		case $fd_kv in "$2"=*) printf '%s\n' "${fd_kv#*=}" ;; esac
	done
	[ -z "$fd_glob" ] || set +f
}

cpu_online() { echo "$2" > $SYSCPU/cpu$1/online; }
# A CPU without an online file (the boot CPU, often) is online.
online_cpus() {
	for c in $SYSCPU/cpu[0-9]*; do
		oc_v=1
		[ ! -e $c/online ] || read -r oc_v < $c/online
		[ "$oc_v" != 1 ] || echo "${c##*cpu}"
	done
}
allowed_of() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$1/status 2>/dev/null; }

# The possible CPUs, as a list ("0 1 2 3"), and how many there are.
possible_cpus() {
	awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); if (n == 1) r[2] = r[1]
		for (c = r[1]; c <= r[2]; c++) printf "%d ", c } } END { print "" }' $SYSCPU/possible
}
nr_possible() { set -- $(possible_cpus); echo $#; }
NR_POSSIBLE=$(nr_possible)

# An awk function for the checks below: proc_status(PID) reads
# /proc/PID/status into st[PID] (the state letter) and allowed[PID]
# (Cpus_allowed_list); 0 if there is no such process. In the awk that reads
# the threads file, not a cat of every thread's status: an exec is slow
# under TCG.
PROC_STATUS_AWK='
	function proc_status(pid,   f, line, w) {
		f = "/proc/" pid "/status"
		delete st[pid]; delete allowed[pid]
		while ((getline line < f) > 0) {
			split(line, w, /[ \t]+/)
			if (w[1] == "State:") st[pid] = w[2]
			else if (w[1] == "Cpus_allowed_list:") allowed[pid] = w[2]
		}
		close(f)
		return pid in st
	}'

# threads_consistent PREFIX[:N]...: the threads file lists exactly the
# registrations named, N (default 1) of them per name prefix ("sbtc0/",
# "sbtc:4" for sbtc0/ to sbtc3/), nothing else, each with a line per
# possible CPU; and every thread listed matches its CPU: active and allowed
# on that CPU only if the CPU is online, not active if it is offline, and
# wrong_cpu 0. Fails when the file is missing or a prefix matches fewer or
# more registrations than said. Prints what does not match. One awk, not
# a fork per thread: forks are slow under TCG.
#
# A thread started by a registration or a CPU's bringup runs setup or
# unpark when it is next scheduled, which may be after the registration or
# the bringup returned (C's kthread_unpark() only wakes it): the check is
# retried for up to 5 s before it fails.
threads_consistent() { wait_for 5 threads_consistent_now "$@"; }
threads_consistent_now() {
	[ $# -gt 0 ] || { echo "threads_consistent: no registration named"; return 1; }
	[ -r "$THREADS" ] || { echo "no $THREADS"; return 1; }
	awk -v want="$*" -v ncpu="$NR_POSSIBLE" "$PROC_STATUS_AWK"'
		BEGIN {
			np = split(want, a, " ")
			for (i = 1; i <= np; i++) {
				pre[i] = a[i]; cnt[i] = 1
				if (a[i] ~ /:[0-9]+$/) { pre[i] = a[i]; sub(/:[0-9]+$/, "", pre[i]); cnt[i] = substr(a[i], length(pre[i]) + 2) + 0 }
			}
		}
		{
			delete v
			for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v[k] = substr($i, length(k) + 2) }
			name = v["name"]; reg = v["reg"]
			if (v["pid"] != "0") proc_status(v["pid"])
			if (!(reg in lines)) {
				m = 0
				for (i = 1; i <= np && !m; i++) if (index(name, pre[i]) == 1) m = i
				if (m) nregs[m]++
				else { print "registration " reg " (" name ") listed, not expected"; bad = 1 }
			}
			lines[reg]++
			if (v["online"] == "1") {
				if (v["state"] != "active" || allowed[v["pid"]] != v["cpu"]) {
					print name ": online, state=" v["state"] ", allowed CPUs " allowed[v["pid"]]; bad = 1
				}
			} else if (v["state"] == "active") { print name ": active on an offline CPU"; bad = 1 }
			if (v["wrong_cpu"] != "0") { print name ": wrong_cpu=" v["wrong_cpu"]; bad = 1 }
		}
		END {
			for (i = 1; i <= np; i++) if (nregs[i] + 0 != cnt[i]) {
				print "\"" pre[i] "\": " nregs[i] + 0 " registrations listed, want " cnt[i]; bad = 1
			}
			for (r in lines) if (lines[r] != ncpu) { print "registration " r ": " lines[r] " lines for " ncpu " possible CPUs"; bad = 1 }
			exit bad
		}' "$THREADS"
}

# calls_match FILE REG CPUS KEY=VALUE...: a test module's own count of its
# callbacks, lines "reg=R cpu=C key=value ..." (its calls file, or its
# "final:" lines at unload, see final_calls) has, on exactly one line of
# registration REG for each CPU of CPUS, every KEY=VALUE given. Independent
# of smpboot_rs's own counters. Prints what differs.
calls_match() {
	cm_file=$1 cm_reg=$2 cm_cpus=$(echo $3); shift 3
	awk -v reg="$cm_reg" -v cpus=" $cm_cpus " -v want="$*" '
		{
			delete v
			for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v[k] = substr($i, length(k) + 2) }
			if (v["reg"] != reg || v["cpu"] == "" || !index(cpus, " " v["cpu"] " ")) next
			seen[v["cpu"]]++
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				k = w[i]; sub(/=.*/, "", k)
				if (v[k] != substr(w[i], length(k) + 2)) { print "reg " reg " cpu " v["cpu"] ": " k "=" v[k] ", want " w[i]; bad = 1 }
			}
		}
		END {
			n = split(cpus, c, " ")
			for (i = 1; i <= n; i++) if (seen[c[i]] != 1) { print "reg " reg " cpu " c[i] ": " seen[c[i]] + 0 " lines"; bad = 1 }
			exit bad
		}' "$cm_file"
}

# final_calls MODULE REGS: the "final:" lines (the callback counts of each
# registration and possible CPU) that the test module MODULE printed at its
# last unload, REGS registrations' worth, as calls_match reads them, to
# $SUITE_TMP/final_calls. Call it right after the rmmod. One dmesg and one awk:
# forks are slow while CPUs go on and off.
final_calls() {
	dmesg | awk -v m="$1: final: " -v n=$(( $2 * NR_POSSIBLE )) '
		(i = index($0, m)) { line[++c] = substr($0, i + length(m)) }
		END {
			if (c < n) { print "only " c + 0 " final lines, want " n > "/dev/stderr"; exit 1 }
			for (k = c - n + 1; k <= c; k++) print line[k]
		}' > $SUITE_TMP/final_calls 2>$SUITE_TMP/final_calls.err || { echo "$1: $(cat $SUITE_TMP/final_calls.err)"; return 1; }
}

# final_balanced: on every line of $SUITE_TMP/final_calls (final_calls), the
# thread was set up at most once and cleaned up exactly as often (C
# smpboot: cleanup for every thread that ran setup, and only for those),
# and its callbacks saw it end in state none.
final_balanced() {
	awk '{
		delete v
		for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v[k] = substr($i, length(k) + 2) }
		if (v["setup"] + 0 > 1 || v["cleanup_online"] + v["cleanup_offline"] != v["setup"] + 0 || v["state"] != "none") { print; bad = 1 }
	} END { exit bad }' $SUITE_TMP/final_calls
}

# exit_zero MODULE KEY...: the summary line that the test module MODULE
# printed at its last unload ("MODULE: exit: key=value ...") has each KEY
# 0. Call it right after the rmmod.
exit_zero() {
	ez_mod=$1; shift
	dmesg | awk -v m="$ez_mod: exit: " -v keys="$*" '
		index($0, m) { last = $0 }
		END {
			if (last == "") { print m "no such line"; exit 1 }
			n = split(keys, k, " ")
			for (i = 1; i <= n; i++) if (index(last " ", " " k[i] "=0 ") == 0) bad = 1
			if (bad) print last
			exit bad
		}'
}

# The test modules' own error counters (wrong CPU, preemptible
# should_run, wrong callback order, ht->store not filled) are all 0.
c_clean() {
	for k in wrong_cpu bad_preempt state_errors store_errors; do
		[ "$(cat $CPARAM/$k)" = 0 ] || { echo "C user: $k=$(cat $CPARAM/$k)"; return 1; }
	done
}
rust_clean() {
	rc_line=$(cat $RDIR/stats) || return 1
	for k in wrong_cpu bad_preempt state_errors wake_errors; do
		case " $rc_line " in *" $k=0 "*) ;; *) echo "Rust user: $rc_line"; return 1 ;; esac
	done
}
C_EXIT_ERRORS="wrong_cpu bad_preempt state_errors store_errors"
RUST_EXIT_ERRORS="wrong_cpu bad_preempt state_errors wake_errors"

# The number of a hotplug state by name ("online", "smpboot_rs:online", ...).
# (Names may hold a '/': "smpboot/threads:online".)
hp_state_nr() { sed -n "s@^ *\([0-9]*\): $1\$@\1@p" $SYSCPU/hotplug/states | head -n 1; }
HP_ONLINE=$(hp_state_nr online)
# The number of the state listed just below the one named.
hp_state_below() {
	awk -F: -v at="$(hp_state_nr "$1")" '$1 + 0 < at + 0 { n = $1 + 0 } END { print n }' $SYSCPU/hotplug/states
}
# The state a CPU is in now.
hp_state_of() { read -r hso_v < $SYSCPU/cpu$1/hotplug/state && echo "$hso_v"; }

# within SECONDS CMD...: runs CMD in the background and waits up to SECONDS
# for it. Returns its status (its stderr in $WITHIN_ERR, by default
# $SUITE_TMP/within.err). A command that never returns is stuck in the
# kernel (a CPU that cannot finish going down, a deadlock), after which
# nothing else works: the suite bails out, instead of hanging until
# vm-run's timeout. CMD says its status on fd 9 when it ends, so the wait
# ends then, not at the next poll. One within at a time (it is the only
# reader of fd 9).
within() {
	w_limit=$1
	shift
	( "$@" 2>"${WITHIN_ERR:-$SUITE_TMP/within.err}"; echo "$?" >&9 ) &
	w_rc=
	if [ -n "$READ_T" ]; then
		read -t "$w_limit" w_rc <&9
	else
		( sleep "$w_limit"; echo >&9 ) &
		w_dog=$!
		read -r w_rc <&9
		kill "$w_dog" 2>/dev/null
	fi
	if [ -z "$w_rc" ]; then
		echo "HANG: '$*' did not return within ${w_limit}s"
		for s in /proc/[0-9]*/status; do
			grep -q '^State:[[:space:]]*D' "$s" 2>/dev/null && sed -n 's/^Name:/D-state task:/p' "$s"
		done
		# A case runs in a subshell: the suite bails at its top level too.
		echo "$*" > "$STUCK"
		ktap_exit_fail_msg "stuck in the kernel: $*"
	fi
	return "$w_rc"
}

# A CPU stopped below the workqueue's online state has its per-CPU work run
# elsewhere, where vmstat_update reports "using smp_processor_id() in
# preemptible code" (an artifact of stopping there): vmstat work is put off
# for the sweeps.
vmstat_off() {
	[ -s $SUITE_TMP/stat_interval ] || cat /proc/sys/vm/stat_interval > $SUITE_TMP/stat_interval
	echo 3600 > /proc/sys/vm/stat_interval
	sleep 2
}
vmstat_on() { [ ! -s $SUITE_TMP/stat_interval ] || cat $SUITE_TMP/stat_interval > /proc/sys/vm/stat_interval; }

# Where a sweep is, in the kernel log: if the guest dies, the last step shows.
step_log() { echo "$(basename "$0" .sh): $*" > /dev/kmsg; }

# sweep_target STEP...: CPU 3 stopped at every state it can be stopped at,
# from online down to offline and back, running STEP... after each move;
# fails, saying where, at the first STEP that fails, and if fewer than 20
# states were visited. Back online at the end; the count of states visited
# in $SUITE_TMP/sweep_visited.
#
# Not idle:dead to ap:online (the STARTING/DYING states, run with
# interrupts off as the CPU starts or dies, and ap:online): the kernel
# accepts them as targets, but a CPU that dies stopped at one hits the
# BUG_ON(state != ap:offline) of cpuhp_report_idle_dead() (6.12).
sweep_target() {
	vmstat_off
	st_states=$(awk -F: -v lo="$(hp_state_nr idle:dead)" -v hi="$(hp_state_nr ap:online)" \
		'$1 + 0 < lo + 0 || $1 + 0 > hi + 0 { print $1 + 0 }' $SYSCPU/hotplug/states)
	st_visited=0
	for st_s in $(echo "$st_states" | sort -rn) $st_states; do
		[ "$st_s" != "$(hp_state_of 3)" ] || continue
		step_log "cpu3 to $st_s"
		if ! hp_target 3 "$st_s" 2>/dev/null; then
			# States that cannot be stopped at refuse with EINVAL.
			grep -q 'Invalid argument' $SUITE_TMP/hp_write.err && continue
			echo "moving cpu3 to $st_s failed: $(cat $SUITE_TMP/hp_write.err)"; return 1
		fi
		st_visited=$((st_visited + 1))
		"$@" || { echo "at state $st_s ($(sed -n "s/^ *$st_s: //p" $SYSCPU/hotplug/states))"; return 1; }
	done
	[ "$(hp_state_of 3)" = "$HP_ONLINE" ] || hp_target 3 "$HP_ONLINE" || return 1
	vmstat_on
	echo "$st_visited" > $SUITE_TMP/sweep_visited
	[ "$st_visited" -ge 20 ] || { echo "only $st_visited states visited"; return 1; }
}

# sweep_fail STEP...: a failure at every state that accepts one (hotplug/
# fail), CPU 3 going down and going up: the transition is rolled back to
# where it started; STEP... runs after each. Fails, saying where, if the
# rollback ends elsewhere or STEP fails, and if fewer than 20 failures were
# injected. CPU 3 ends where the last rollback left it; the count in
# $SUITE_TMP/sweep_injected.
sweep_fail() {
	vmstat_off
	sf_injected=0
	for sf_s in $(awk -F: '{ print $1 + 0 }' $SYSCPU/hotplug/states); do
		for sf_dir in down up; do
			if [ $sf_dir = down ]; then sf_from=$HP_ONLINE sf_to=0; else sf_from=0 sf_to=$HP_ONLINE; fi
			[ "$(hp_state_of 3)" = "$sf_from" ] || hp_target 3 "$sf_from" || { echo "cannot reach $sf_from"; return 1; }
			echo "$sf_s" > $SYSCPU/cpu3/hotplug/fail 2>/dev/null || continue
			sf_injected=$((sf_injected + 1))
			step_log "cpu3 from $sf_from to $sf_to, failing at $sf_s"
			if hp_target 3 "$sf_to"; then
				# A state outside the path between the two ends never fails.
				echo -1 > $SYSCPU/cpu3/hotplug/fail
			else
				[ "$(hp_state_of 3)" = "$sf_from" ] ||
					{ echo "failure at $sf_s going $sf_dir: cpu3 left at $(hp_state_of 3)"; return 1; }
			fi
			"$@" || { echo "after a failure at $sf_s going $sf_dir"; return 1; }
		done
	done
	vmstat_on
	echo "$sf_injected" > $SUITE_TMP/sweep_injected
	[ "$sf_injected" -ge 20 ] || { echo "only $sf_injected failures injected"; return 1; }
}

# write_to FILE VALUE: VALUE and a newline into FILE (for within: a shell
# function, where sh -c would be an exec).
write_to() { echo "$2" > "$1"; }

# hp_write FILE VALUE: writes VALUE to a hotplug file, within 30 s (the
# write's error in $SUITE_TMP/hp_write.err).
hp_write() {
	WITHIN_ERR=$SUITE_TMP/hp_write.err
	within 30 write_to "$1" "$2" && hw_rc=0 || hw_rc=$?
	WITHIN_ERR=
	return $hw_rc
}
# hp_target CPU STATE: moves CPU to hotplug state STATE (a number).
hp_target() { hp_write $SYSCPU/cpu$1/hotplug/target "$2"; }

# threads_healthy [NAME_PREFIX [CPU [COUNTERS KEY...]]]: every smpboot_rs
# thread (of the names starting with the prefix, of the CPU) is sane
# whatever the CPU's hotplug state: wrong_cpu 0, never in D state (a created
# or parked thread must not trip the hung-task detector), and if active,
# allowed on exactly its CPU; and each KEY is 0 in the "key=value" words of
# the file COUNTERS (a test module's error counters). One awk over the
# threads file, the counters and the threads' /proc status: a fork per
# thread is too slow under TCG for a check after every hotplug step.
threads_healthy() {
	threads_healthy_env "$@"
	awk "$PROC_STATUS_AWK$THREADS_HEALTHY_AWK"' END { exit bad }' "$THREADS"
}
# The awk of threads_healthy, for a suite's own awk over the threads file
# that checks more in the same pass: its rules print what is wrong and set
# bad. threads_healthy_env, with threads_healthy's arguments, exports what
# it reads (TH_PREFIX, TH_CPU, TH_COUNTERS, TH_KEYS).
threads_healthy_env() {
	TH_PREFIX=${1:-} TH_CPU=${2:-} TH_COUNTERS=${3:-} TH_KEYS=
	if [ $# -gt 3 ] && [ -n "$TH_COUNTERS" ]; then shift 3; TH_KEYS=$*; fi
	export TH_PREFIX TH_CPU TH_COUNTERS TH_KEYS
}
THREADS_HEALTHY_AWK='
	BEGIN {
		th_p = " name=" ENVIRON["TH_PREFIX"]
		th_c = (ENVIRON["TH_CPU"] == "") ? "" : (" cpu=" ENVIRON["TH_CPU"] " ")
		th_counters = ENVIRON["TH_COUNTERS"]
		# Read whole by awk: each read() renders the file again.
		while (ENVIRON["TH_KEYS"] != "" && (getline th_w < th_counters) > 0) th_line = th_line " " th_w
		th_n = split(ENVIRON["TH_KEYS"], th_k, " ")
		for (th_i = 1; th_i <= th_n; th_i++) if (index(th_line " ", " " th_k[th_i] "=0 ") == 0) th_bad = 1
		if (th_bad) { print th_counters ":" th_line; bad = 1 }
	}
	index($0, th_p) && (th_c == "" || index($0, th_c)) {
		delete v
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		name = v["name"]; pid = v["pid"]
		if (v["wrong_cpu"] != 0) { print name ": wrong_cpu=" v["wrong_cpu"]; bad = 1 }
		if (pid == 0) next
		if (!proc_status(pid)) { print name ": pid " pid " has no /proc entry"; bad = 1; next }
		if (st[pid] == "D") { print name ": pid " pid " in D state"; bad = 1 }
		if (v["state"] == "active" && allowed[pid] != v["cpu"]) {
			print name ": active, allowed CPUs " allowed[pid]; bad = 1
		}
	}'

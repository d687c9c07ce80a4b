# SPDX-License-Identifier: GPL-2.0
#
# KTAP output for the guest-side test scripts (busybox ash; POSIX sh only),
# after the kernel's tools/testing/selftests/kselftest/ktap_helpers.sh.
# Source it, then:
#
#   ktap_header                  "KTAP version 1"
#   ktap_plan N                  "1..N" (or leave it out: ktap_finish prints
#                                the plan after the results then)
#   ktap_ok DESC                 "ok <n> DESC"
#   ktap_fail DESC [DIAG...]     "not ok <n> DESC", then "# DIAG" per DIAG
#   ktap_skip DESC REASON        "ok <n> DESC # SKIP REASON"
#   ktap_result DESC CMD...      ktap_ok if CMD succeeds, else ktap_fail
#                                with CMD and its exit status
#   ktap_diag MSG...             "# MSG" (any number of them, anywhere)
#   ktap_skip_all REASON         "1..0 # SKIP REASON", exit 4
#   ktap_bail MSG                "Bail out! MSG", totals, exit 1
#   ktap_finish                  "# Totals: ..." and exit: 0 if no test
#                                failed and at least one passed, 4 if all
#                                were skipped, 1 if any failed or the count
#                                differs from the plan (kselftest codes)
#
# Test numbers are counted here. DESC must not contain '#'.
#
#   . /smpboot_rs/scripts/ktap.sh
#   ktap_header
#   ktap_plan 2
#   ktap_result "module loads" insmod /smpboot_rs/smpboot_rs.ko
#   [ -d /sys/kernel/smpboot_rs ] && ktap_ok "sysfs dir" || ktap_fail "sysfs dir" "missing"
#   ktap_finish

KTAP_TESTNO=0
KTAP_PLAN=
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

ktap_header() {
	echo "KTAP version 1"
}

ktap_plan() {
	KTAP_PLAN=$1
	echo "1..$1"
}

ktap_diag() {
	for ktap_msg in "$@"; do
		printf '%s\n' "$ktap_msg" | sed 's/^/# /'
	done
}

ktap_ok() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
	echo "ok $KTAP_TESTNO $1"
}

ktap_fail() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
	echo "not ok $KTAP_TESTNO $1"
	shift
	ktap_diag "$@"
}

ktap_skip() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
	echo "ok $KTAP_TESTNO $1 # SKIP ${2:-}"
}

ktap_result() {
	ktap_desc=$1
	shift
	if "$@"; then
		ktap_ok "$ktap_desc"
	else
		ktap_fail "$ktap_desc" "failed (exit $?): $*"
	fi
}

ktap_print_totals() {
	echo "# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
}

ktap_skip_all() {
	echo "1..0 # SKIP $*"
	exit "$KSFT_SKIP"
}

ktap_bail() {
	echo "Bail out! $*"
	ktap_print_totals
	exit "$KSFT_FAIL"
}

ktap_finish() {
	if [ -z "$KTAP_PLAN" ]; then
		echo "1..$KTAP_TESTNO"
	elif [ "$KTAP_PLAN" != "$KTAP_TESTNO" ]; then
		echo "# planned $KTAP_PLAN tests but ran $KTAP_TESTNO"
		ktap_print_totals
		exit "$KSFT_FAIL"
	fi
	ktap_print_totals
	if [ "$KTAP_CNT_FAIL" -gt 0 ]; then
		exit "$KSFT_FAIL"
	elif [ "$KTAP_CNT_PASS" -eq 0 ]; then
		exit "$KSFT_SKIP"
	fi
	exit "$KSFT_PASS"
}

# fault_injection_on / fault_injection_off: bracket deliberate allocation
# failures. scripts/vm-run then accepts the call traces of the allocation-
# failure reports they cause (and nothing else) between the two lines.
fault_injection_on() {
	echo "vm-run: fault injection on"
}

fault_injection_off() {
	sleep 1 # let the console catch up with the reports
	echo "vm-run: fault injection off"
}

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit tests of smpboot_rs (smpboot_rs/kunit.rs: a registration's
# description, its thread name, sysfs input, a failed hotplug add) run when
# smpboot_rs.ko loads on a kernel with CONFIG_KUNIT=y; `#[kunit_tests]` came
# in 6.15, so 7.x. This relays each test's result from
# /sys/kernel/debug/kunit/smpboot_rs/results (CONFIG_KUNIT_DEBUGFS). A test of smpboot_rs/kunit.rs missing here, or one
# named here that did not run, fails.
#
# vm-run-args: --cpus 2
. "$(dirname "$0")/selftest-lib.sh"

RESULTS=/sys/kernel/debug/kunit/smpboot_rs/results
TESTS="thread_name_has_one_cpu_conversion description_is_checked c_descriptor_is_checked sysfs_input_is_trimmed_text failed_add_rolls_back_despite_failing_teardowns"

if [ ! -d /sys/kernel/debug/kunit ]; then
	ktap_print_header
	ktap_skip_all "no /sys/kernel/debug/kunit: smpboot_rs's KUnit tests need CONFIG_KUNIT=y and CONFIG_KUNIT_DEBUGFS=y (kernels from 6.15)"
	exit "$KSFT_SKIP"
fi

# kunit_ok NAME: the KUnit result of NAME (a test, or the suite for
# "smpboot_rs") is "ok"; else its results, for the diagnostics.
kunit_ok() {
	grep -Eq "^ *ok [0-9]+ $1\$" $RESULTS && return 0
	cat $RESULTS 2>&1 | grep -v '^ *# ' | head -n 20
	return 1
}

# kunit_complete: the suite ran exactly the tests named in TESTS.
kunit_complete() {
	ran=$(sed -n 's/^ \{1,\}\(not \)\{0,1\}ok [0-9]\{1,\} \([a-z0-9_]*\).*$/\2/p' $RESULTS | sort | tr '\n' ' ')
	want=$(printf '%s\n' $TESTS | sort | tr '\n' ' ')
	[ "$ran" = "$want" ] && return 0
	echo "ran: $ran"
	echo "want: $want"
	return 1
}

set -- $TESTS
suite_begin $(($# + 4)) 1

case_result "smpboot_rs loads and runs its KUnit suite" modprobe smpboot_rs
case_result "KUnit: the suite ran exactly its tests ($TESTS)" kunit_complete
for t in $TESTS; do
	case_result "KUnit: $t" kunit_ok $t
done
case_result "KUnit: suite smpboot_rs ok" kunit_ok smpboot_rs
case_result "smpboot_rs unloads" rmmod smpboot_rs

suite_end

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The smpboot_rs/ipi.rs selftest (KTAP): dropping
# an IpiTargets set waits for the asynchronous calls to its handlers that
# are still in flight, even when the target CPU runs a synchronous call
# queued after them first (kernel/smp.c runs a batch's synchronous calls
# before the others). tests/smpboot_rs_test_ipi.rs runs the scenario when
# it loads and fails to load if a handler ran after its set was dropped;
# the debug kernel's KASAN reports the use after free, which fails the
# suite as a splat (suite_end).
#
# vm-run-args: --cpus 4
. "$(dirname "$0")/selftest-lib.sh"

MOD=smpboot_rs_test_ipi

# Loads the test module (the scenario runs then) and unloads it. Its
# summary line goes to $SUITE_TMP/diag_ipi; on failure it and the start of a
# KASAN report, if any, are the diagnostics.
t_drop_waits() {
	rc=0
	modprobe $MOD || rc=$?
	dmesg | grep "$MOD: rounds=" | tail -n 1 > $SUITE_TMP/diag_ipi
	if [ "$rc" != 0 ]; then
		echo "insmod exit $rc"
		dmesg | grep "$MOD: " | tail -n 3
		dmesg | grep -A 8 "BUG: KASAN" | head -n 9
		return 1
	fi
	rmmod $MOD
}

suite_begin 3 2 smpboot_rs_test_ipi

# The test module calls the shim of smpboot_rs.ko (through smpboot_rs/cpu.rs).
case_result "smpboot_rs loads" modprobe smpboot_rs
case_result "IpiTargets drop waits for the asynchronous calls in flight (a handler queued behind a slow call, dropped at once)" t_drop_waits
[ -s $SUITE_TMP/diag_ipi ] && diag "$(cat $SUITE_TMP/diag_ipi)"
case_result "smpboot_rs unloads" rmmod smpboot_rs

suite_end

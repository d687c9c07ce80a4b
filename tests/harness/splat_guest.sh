#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# splat_guest.sh: in a vm-run guest, provokes each kernel splat of
# tests/harness/splat_rows in turn with splat_test.ko, and waits for each to
# reach the kernel log before the next (scripts/check attributes a report
# line to the row whose "provoking: KIND" comes last before it). Exits 0:
# the splats alone must fail the run.
cd "$(dirname "$0")"
p=/sys/module/splat_test/parameters
# A grace period takes its stall timeout when it starts: set before any
# grace period the RCU stall row waits on.
echo 3 >/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout
insmod ./splat_test.ko || { echo "SPLAT-GUEST: insmod failed"; exit 0; }
# wait_log PATTERN SECONDS [SINCE]: within SECONDS, the kernel log (from
# the first line with SINCE, if given) has a line with PATTERN.
wait_log() {
	end=$(($(date +%s) + $2))
	until dmesg | sed -n "/${3:-.}/,\$p" | grep -Eq "$1"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.5
	done
}
grep -v -e '^#' -e '^$' splat_rows >/tmp/splat_rows
while IFS='|' read -r label pattern kind before after wait; do
	eval "$before"
	echo "$kind" >$p/provoke || { echo "SPLAT-GUEST: writing $kind failed"; continue; }
	[ "$wait" = 0 ] || wait_log "$pattern" "$wait" "splat_test: provoking: $kind" ||
		echo "SPLAT-GUEST: $kind: no report in the log ${wait}s after provoking it"
	eval "$after" || echo "SPLAT-GUEST: $kind: '$after' failed"
done </tmp/splat_rows
true

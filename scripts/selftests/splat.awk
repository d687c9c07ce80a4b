# SPDX-License-Identifier: GPL-2.0
#
# splat.awk: prints the kernel splats in a kernel log, "LINE:text" each,
# and nothing for a clean log. The one definition of a splat, shared by
# scripts/vm-run (the guest's console log) and selftest-lib.sh's suite_end
# (/dev/kmsg since the suite started, on any machine).
#
#   awk [-v since=TEXT] -f splat.awk LOG
#
# since: only the lines after the last one that contains TEXT count.
#
# Between the kernel-log lines "smpboot_rs selftest: fault injection on"
# and "... off" (selftest-lib.sh's fault_injection_on/off), a call trace is
# expected if it belongs to an allocation-failure report (the report's
# first line a few lines above it); any other call trace, and every other
# kind of splat, still counts there. tests/harness/splat_awk.sh renders
# every allocation-failure report of a kernel's source against this.

BEGIN {
	splat = "WARNING:|BUG:|kernel BUG at|Oops|general protection fault|Kernel panic|" \
		"possible circular locking dependency|possible recursive locking|" \
		"inconsistent lock state|suspicious RCU usage|suspected memory leaks|" \
		"unreferenced object|INFO: task .* blocked for more than|soft lockup|" \
		"hard LOCKUP|rcu: INFO: .*detected stall|rcu_sched detected stalls|" \
		"detected stalls on CPUs|Call Trace:|UBSAN:|list_(add|del) corruption|ODEBUG:"
	n = 0
}
since != "" && index($0, since) { n = 0; fi = 0; alloc_fail = 0; next }
/smpboot_rs selftest: fault injection on$/ { fi = 1; next }
/smpboot_rs selftest: fault injection off$/ { fi = 0; next }
# scripts/vm-run's echo of the command it runs, which may name these words.
/^vm-run: [0-9]+ CPUs online/ { next }
# Its guest watchdog's report, which echoes the command lines of processes.
/^vm-run: watchdog:/ { next }
# An allocation-failure report: fault-inject's own (failslab's verbose=2),
# or any of warn_alloc()'s (page allocation, the several vmalloc errors),
# whose first line always ends in the gfp mode and the nodemask.
/FAULT_INJECTION: forcing a failure|, mode:0x[0-9a-f]+\(.*\), nodemask=/ { alloc_fail = NR }
$0 ~ splat {
	if (fi && $0 ~ /Call Trace:/ && alloc_fail && NR - alloc_fail <= 12)
		next
	out[++n] = NR ":" $0
}
END {
	for (i = 1; i <= n; i++)
		print out[i]
}

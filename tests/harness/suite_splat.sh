#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# suite_splat.sh KIND: a one-case suite on selftest-lib.sh whose case
# passes while it makes the kernel log KIND, so that scripts/check proves
# that a suite fails on a splat by itself (suite_end's kernel-log check),
# without scripts/vm-run:
#
#   warn   a WARNING                                            -> fails
#   trace  a call trace inside fault_injection_on/off that
#          belongs to no allocation failure                     -> fails
#   alloc  the call trace of a deliberate allocation failure
#          inside fault_injection_on/off                        -> passes
#
# and one kind for the suite's stop (scripts/check sends SIGTERM):
#
#   linger a case that leaves a process running two levels down
#          (as a case's producer loop), its PID in /tmp/linger.pid,
#          and waits                                            -> the stop
#                                                                  ends both
#
# It runs from an installed selftests directory, beside selftest-lib.sh
# (scripts/check copies it there in the guest).
. "$(dirname "$0")/selftest-lib.sh"

SPLAT_KO=/smpboot_rs/tests/harness/splat_test.ko
FS=/sys/kernel/debug/failslab

t_provoke() {
	case $1 in
	warn)
		insmod $SPLAT_KO kind=warn && rmmod splat_test
		;;
	trace)
		fault_injection_on
		insmod $SPLAT_KO kind=dump_stack && rmmod splat_test || return 1
		fault_injection_off
		;;
	alloc)
		echo N > $FS/ignore-gfp-wait && echo 2 > $FS/verbose || return 1
		fault_injection_on
		out=$("$KSFT_DIR/fail_nth" 1 insmod "$(module_file smpboot_rs)")
		fault_injection_off
		echo Y > $FS/ignore-gfp-wait
		case $out in *"injected=y"*) ;; *) echo "no failure injected: $out"; return 1 ;; esac
		;;
	linger)
		# A grandchild of the case: the stop must reach past its children.
		( sh -c 'echo $$ > /tmp/linger.pid; while :; do sleep 1; done' & wait ) &
		sleep 600
		;;
	*)
		echo "unknown kind $1"
		return 1
		;;
	esac
}

suite_begin 1 1 $FS
case_result "the kernel logs: $1" t_provoke "$1"
suite_end

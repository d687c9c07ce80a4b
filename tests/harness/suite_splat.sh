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
# and one kind for what a failed case leaves behind, in a two-case suite:
#
#   failed the first case takes cpu3 offline, loads smpboot_rs and
#          fails; its t_NAME_cleanup unloads smpboot_rs. The
#          second passes if cpu3 is online and smpboot_rs
#          unloaded when it starts                              -> not ok 1,
#                                                                  ok 2
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

t_fail_leaving() {
	echo 0 > $SYSCPU/cpu3/online && modprobe smpboot_rs || return 1
	echo "fails on purpose, cpu3 offline and smpboot_rs loaded"
	return 1
}
t_fail_leaving_cleanup() { unload_module smpboot_rs; }
t_after_failure() {
	[ "$(cat $SYSCPU/cpu3/online)" = 1 ] || { echo "cpu3 is offline"; return 1; }
	! loaded smpboot_rs || { echo "smpboot_rs is loaded"; return 1; }
}

if [ "$1" = failed ]; then
	suite_begin 2 4
	case_result "a case fails with cpu3 offline and smpboot_rs loaded" t_fail_leaving
	case_result "the next case starts with cpu3 online and smpboot_rs unloaded" t_after_failure
else
	suite_begin 1 1 $FS
	case_result "the kernel logs: $1" t_provoke "$1"
fi
suite_end

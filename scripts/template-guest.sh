#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# template-guest.sh DIR: run in a scripts/vm-run guest (make check does it
# with --include of the template built by scripts/build-examples): loads
# smpboot_rs.ko and the modules of samples/template built in DIR, checks
# that each thread of every online CPU handled its unit of work, that the
# Rust threads park when their CPU goes offline, and that everything
# unloads. Ends with TEMPLATE-OK, or TEMPLATE-FAIL and the reason.
dir=${1:-/include/template}
cpus=/sys/devices/system/cpu
threads=/sys/kernel/smpboot_rs/threads
fail() {
	echo "TEMPLATE-FAIL $*"
	dmesg | grep 'hello_' | tail -n 20
	exit 1
}
# wait_until SECONDS CMD...: CMD succeeds within SECONDS.
wait_until() {
	t=$(( $1 * 10 )); shift
	until "$@"; do
		t=$((t - 1))
		[ $t -gt 0 ] || return 1
		sleep 0.1
	done
}
count() { dmesg | grep -c "$1"; }

online=$(grep -c '^processor' /proc/cpuinfo)
possible=$(ls -d $cpus/cpu[0-9]* | wc -l)
insmod /smpboot_rs/smpboot_rs.ko || fail "insmod smpboot_rs.ko"
insmod "$dir/hello_rs.ko" || fail "insmod $dir/hello_rs.ko"
insmod "$dir/hello_c.ko" || fail "insmod $dir/hello_c.ko"
wait_until 10 test "$(count 'hello_rs: cpu [0-9]*: 1 unit(s), 1 in all')" = "$online" ||
	fail "hello_rs: $(count 'hello_rs: cpu') of $online CPUs logged their unit"
wait_until 10 test "$(count 'hello_c: cpu [0-9]*: 1 unit(s)')" = "$online" ||
	fail "hello_c: $(count 'hello_c: cpu') of $online CPUs logged their unit"
for name in hello_rs hello_c; do
	n=$(grep -c " name=$name/" $threads)
	[ "$n" = "$possible" ] || fail "$n lines of $name in $threads for $possible CPUs"
done
echo 0 > $cpus/cpu1/online || fail "cpu1 offline"
grep -q ' name=hello_rs/1 .*state=parked' $threads || fail "cpu1 offline: $(grep ' name=hello_rs/1 ' $threads)"
[ "$(count 'hello_rs: cpu 1: going offline after 1 unit(s)')" = 1 ] || fail "no park message of cpu1"
echo 1 > $cpus/cpu1/online || fail "cpu1 online"
wait_until 5 grep -q ' name=hello_rs/1 .*state=active' $threads || fail "cpu1 online: $(grep ' name=hello_rs/1 ' $threads)"
rmmod hello_rs && rmmod hello_c && rmmod smpboot_rs || fail "rmmod"
! grep -q '^Name:[[:space:]]*hello_' /proc/[0-9]*/status 2>/dev/null || fail "threads left"
echo "TEMPLATE-OK $online CPUs, hello_rs and hello_c: a unit handled on each, park and unpark, unloaded"

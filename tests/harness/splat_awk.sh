#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# splat_awk.sh KSRC: what scripts/selftests/splat.awk makes of the kernel
# logs the suites' fault injection produces, on the host. Inside the
# fault-injection window an allocation-failure report's call trace is
# expected, any other call trace is a splat. The reports are rendered from
# KSRC's own source: every warn_alloc() call's format, printed as
# warn_alloc()'s pr_warn() prints it, so a kernel that words a report anew
# is tested with its own words. Prints "ok N DESC" or "not ok N DESC" and
# "# DIAG" lines per case.
set -uo pipefail
ksrc=${1:?usage: splat_awk.sh KSRC}
awk_file=$(cd "$(dirname "$0")/../.." && pwd)/scripts/selftests/splat.awk
t=$(mktemp -d /tmp/smpboot_rs-splat-awk.XXXXXX)
trap 'rm -rf "$t"' EXIT

# One line per warn_alloc() call of KSRC: the report's first line, with
# numbers for the call's arguments; "ERROR ..." if one cannot be rendered.
grep -rl --include='*.c' 'warn_alloc(' "$ksrc" >"$t/files" || true
python3 - "$ksrc" "$t/files" >"$t/reports" <<'EOF'
import pathlib, re, sys

src = pathlib.Path(sys.argv[1])
files = pathlib.Path(sys.argv[2]).read_text().split()
literals = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'

def c_string(text):
    return ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', text))

def render(fmt, pointer_args):
    """printf FMT with 1 for numbers, "" for strings, pointer_args in order."""
    out, pointers = [], iter(pointer_args)
    for m in re.finditer(r'%%|%[-+ #0]*(\*|\d+)?(\.\d+)?(hh|h|ll|l|z|t)?(p[A-Za-z]+|[diouxXsc])|%|[^%]+', fmt):
        tok, conv = m.group(0), m.group(4)
        if tok == '%%':
            out.append('%')
        elif conv is None:
            if tok == '%':
                raise ValueError(f'a conversion of {fmt!r}')
            out.append(tok)
        elif conv.startswith('p'):
            out.append(next(pointers))
        elif conv == 's':
            out.append('')
        elif conv in 'xX':
            out.append('0x1' if '#' in tok else '1')
        else:
            out.append('1')
    return ''.join(out)

# warn_alloc()'s own line: "%s: %pV, mode:%#x(%pGg), nodemask=%*pbl" in 6.12.
page_alloc = (src / 'mm/page_alloc.c').read_text(errors='replace')
body = re.search(r'\nvoid warn_alloc\(.*?\n}', page_alloc, re.S)
line = body and re.search(r'pr_warn\(\s*' + literals, body.group(0))
if not line:
    print('ERROR warn_alloc() or its pr_warn() not found in mm/page_alloc.c')
    sys.exit()
outer = c_string(line.group(1))

calls = rendered = 0
for path in map(pathlib.Path, sorted(files)):
    text = path.read_text(errors='replace')
    # Every call: "warn_alloc(" but for the definition and "warn_alloc()"
    # in comments; each must be one this script renders.
    calls += len(re.findall(r'(?<!void )\bwarn_alloc\((?!\))', text))
    # warn_alloc(GFP, NODEMASK, "FORMAT" ...)
    for m in re.finditer(r'\bwarn_alloc\(\s*[^,;"]*gfp[^,;"]*,\s*[^,;"]+,\s*' + literals, text):
        rendered += 1
        try:
            inner = render(c_string(m.group(1)), [])
            report = render(outer.replace('%s', 'fail_nth', 1), [inner, 'GFP_KERNEL', '(null)'])
            print(report.replace('0x1(', '0xcc0(', 1))
        except (ValueError, StopIteration) as e:
            print(f'ERROR {path.relative_to(src)}: cannot render {e}')
if calls == 0:
    print('ERROR no warn_alloc() call found')
elif rendered != calls:
    print(f'ERROR {calls} warn_alloc() calls, {rendered} of the form warn_alloc(GFP, NODEMASK, "FORMAT", ...)')
EOF
[ $? = 0 ] || echo "ERROR the reports could not be rendered (python3 failed)" >>"$t/reports"

n=0
# as_wanted WANT LOG: splat.awk on LOG prints nothing (WANT "clean") or
# something ("splat").
as_wanted() {
	local got
	got=$(awk -f "$awk_file" "$2")
	if [ "$1" = clean ]; then [ -z "$got" ]; else [ -n "$got" ]; fi
}
# case_ DESC WANT LOG...: one result, ok if every LOG is as wanted; the
# first line of each that is not (or the whole LOG, if only one) follows.
case_() {
	local desc=$1 want=$2 log bad=()
	shift 2
	for log; do
		as_wanted "$want" "$log" || bad+=("$log")
	done
	n=$((n + 1))
	if [ ${#bad[@]} = 0 ]; then
		echo "ok $n $desc"
		return
	fi
	echo "not ok $n $desc"
	if [ $# = 1 ]; then
		echo "# want $want; splat.awk printed: $(awk -f "$awk_file" "$1")"
		sed 's/^/# log: /' "$1"
	else
		for log in "${bad[@]}"; do
			echo "# not $want: $(grep -v -m1 'fault injection' "$log")"
		done
	fi
}

# A report's stack as dump_stack() prints it on the console.
stack() {
	cat <<-EOF
		[   74.710381] CPU: 2 UID: 0 PID: 441 Comm: fail_nth Tainted: G           O       6.12.117 #1
		[   74.711202] Tainted: [O]=OOT_MODULE
		[   74.711300] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
		[   74.712411] Call Trace:
		[   74.712638]  <TASK>
		[   74.712859]  dump_stack_lvl+0xbc/0x100
		[   74.713794]  entry_SYSCALL_64_after_hwframe+0x4b/0x53
		[   74.714111]  </TASK>
	EOF
}
on="[   72.908588] smpboot_rs selftest: fault injection on"
off="[  450.585377] smpboot_rs selftest: fault injection off"

if grep -q '^ERROR' "$t/reports"; then
	n=$((n + 1))
	echo "not ok $n the allocation-failure reports of $ksrc rendered"
	sed -n 's/^ERROR /# /p' "$t/reports"
	echo "1..$n"
	exit
fi

i=0
while IFS= read -r report; do
	i=$((i + 1))
	{ echo "$on"; echo "[   74.700225] $report"; stack; echo "$off"; } >"$t/in-$i"
	{ echo "[   74.700225] $report"; stack; } >"$t/out-$i"
done <"$t/reports"
forms=$(wc -l <"$t/reports")

case_ "inside the fault-injection window, the call trace of each of the kernel's $forms allocation-failure reports (warn_alloc()) is no splat" \
	clean "$t"/in-*
case_ "outside the window, each of them is a splat" splat "$t"/out-*

{ echo "$on"; printf '%s\n' "[   74.700225] FAULT_INJECTION: forcing a failure." \
	"[   74.700226] name failslab, interval 1, probability 0, space 0, times -1"; stack; echo "$off"; } >"$t/fault"
case_ "inside the window, the call trace of a FAULT_INJECTION report (failslab's verbose=2) is no splat" clean "$t/fault"

{ echo "$on"; stack; echo "$off"; } >"$t/bare"
case_ "inside the window, a call trace with no allocation-failure report before it is a splat" splat "$t/bare"

{ echo "$on"; head -n 1 "$t/out-1"; stack; for j in $(seq 12); do echo "[   75.0000$j] smpboot_rs: registered sbtr/%u (reg=$j)"; done
  stack; echo "$off"; } >"$t/late"
case_ "inside the window, a call trace long after an allocation-failure report is a splat" splat "$t/late"

{ echo "$on"; head -n 1 "$t/out-1"; stack; echo "[   74.80000] WARNING: CPU: 1 PID: 1 at kernel/cpu.c:1 f+0x1/0x2"; stack; echo "$off"; } >"$t/warn"
case_ "inside the window, a WARNING right after an allocation-failure report is a splat" splat "$t/warn"
echo "1..$n"

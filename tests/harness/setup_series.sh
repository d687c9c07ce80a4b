#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# setup_series.sh: what scripts/setup installs for the package series of
# scripts/versions.sh, against a stand-in archive and dpkg database (stub
# apt-cache, apt-get and dpkg-query first on PATH; the real dpkg compares
# versions). Prints "ok N DESC" or "not ok N DESC" and "# DIAG" lines per case.
# The stand-in archive is bookworm's, so the series are 6.12's.
set -uo pipefail
export KVER=6.12
top=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d /tmp/smpboot_rs-series.XXXXXX)
trap 'rm -rf "$t"' EXIT

mkdir -p "$t/bin" "$t/cargo/bin"
# The archive and the installed packages: "package version" lines.
cat >"$t/bin/apt-cache" <<EOF
#!/bin/sh
case \$1 in
madison) awk -v p="\$2" '\$1 == p { print " " p " | " \$2 " | http://stub bookworm/main amd64 Packages" }' "$t/archive" ;;
show) grep -q "^\$2 " "$t/archive" ;;
esac
EOF
cat >"$t/bin/dpkg-query" <<EOF
#!/bin/sh
# dpkg-query -W -f=FORMAT PACKAGE
v=\$(awk -v p="\$3" '\$1 == p { print \$2 }' "$t/installed")
[ -n "\$v" ] || exit 1
case \$2 in *Status-Abbrev*) printf 'ii %s' "\$v" ;; *) printf '%s' "\$v" ;; esac
EOF
cat >"$t/bin/apt-get" <<EOF
#!/bin/sh
echo "\$*" >>"$t/apt.log"
EOF
printf '#!/bin/sh\nexec "$@"\n' >"$t/bin/sudo"
printf '#!/bin/sh\necho bindgen %s\n' "$(. "$top/scripts/lib.sh"; echo "$SMPBOOT_RS_BINDGEN_VERSION")" \
	>"$t/cargo/bin/bindgen"
chmod +x "$t"/bin/* "$t/cargo/bin/bindgen"

helpers="flex bison libelf-dev libssl-dev bc cpio kmod make qemu-system-x86 busybox-static
xz-utils python3 python3-matplotlib gcc libc6-dev rsync"
archive_base="
rustc-web 1.85.0+dfsg3-1~deb12u3
rustc-web 1.96.0+dfsg1-1~deb12u1
rustc-web 1.96.0+dfsg1-1~deb12u2
rust-web-src 1.85.0+dfsg3-1~deb12u3
rust-web-src 1.96.0+dfsg1-1~deb12u1
rust-web-src 1.96.0+dfsg1-1~deb12u2
rust-web-clippy 1.96.0+dfsg1-1~deb12u1
rust-web-clippy 1.96.0+dfsg1-1~deb12u2
rustfmt-web 1.96.0+dfsg1-1~deb12u1
rustfmt-web 1.96.0+dfsg1-1~deb12u2
clang 1:14.0-55.7~deb12u1
lld 1:14.0-55.7~deb12u1
llvm 1:14.0-55.7~deb12u1
libclang-dev 1:14.0-55.7~deb12u1
clang 1:16.0-57
linux-source-6.12 6.12.99-1~deb12u1
linux-source-6.12 6.12.117-1~deb12u1
linux-source-6.12 6.12.113-1~deb12u1
linux-source-6.1 6.1.150-1
"
rust_u1="rustc-web 1.96.0+dfsg1-1~deb12u1
rust-web-src 1.96.0+dfsg1-1~deb12u1
rust-web-clippy 1.96.0+dfsg1-1~deb12u1
rustfmt-web 1.96.0+dfsg1-1~deb12u1"
llvm14="clang 1:14.0-55.7~deb12u1
lld 1:14.0-55.7~deb12u1
llvm 1:14.0-55.7~deb12u1
libclang-dev 1:14.0-55.7~deb12u1"

n=0
# case DESC WANT_EXIT WANT_INSTALL [PINS]: run setup with $archive and
# $installed; WANT_INSTALL is the sorted list of what `apt-get install` must
# get ("" for no install), and with WANT_EXIT != 0, WANT_INSTALL is a text
# its message must contain.
case_() {
	local desc=$1 want_rc=$2 want=$3 pins=${4:-} rc got out
	n=$((n + 1))
	printf '%s\n' "$archive_base" | grep . >"$t/archive"
	printf '%s\n' "$installed" | grep . >"$t/installed"
	for p in $helpers; do echo "$p 1" >>"$t/installed"; done
	rm -f "$t/apt.log"
	out=$(PATH="$t/bin:$PATH" CARGO_HOME=$t/cargo TMPDIR=$t SMPBOOT_RS_PINS=$pins "$top/scripts/setup" 2>&1)
	rc=$?
	# The packages of every `apt-get install`, options left out.
	got=$(sed -n 's/^install //p' "$t/apt.log" 2>/dev/null | tr ' ' '\n' | grep -v '^-' | sort | tr '\n' ' ')
	got=${got% }
	if [ "$want_rc" = 0 ] && [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
		echo "ok $n $desc"
	elif [ "$want_rc" != 0 ] && [ "$rc" != 0 ] && [[ $out == *"$want"* ]]; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		echo "# exit $rc, installed: '${got}'; want exit $want_rc, '${want}'"
		printf '%s\n' "$out" | sed 's/^/# setup: /'
	fi
}

installed="$rust_u1
$llvm14
linux-source-6.12 6.12.113-1~deb12u1"
case_ "setup keeps an installed version of each series, though the archive has newer ones" 0 ""

installed=""
case_ "setup installs the newest version of each series on a fresh machine (6.12.117 over 6.12.99)" 0 \
	"clang=1:14.0-55.7~deb12u1 libclang-dev=1:14.0-55.7~deb12u1 linux-source-6.12=6.12.117-1~deb12u1 lld=1:14.0-55.7~deb12u1 llvm=1:14.0-55.7~deb12u1 rust-web-clippy=1.96.0+dfsg1-1~deb12u2 rust-web-src=1.96.0+dfsg1-1~deb12u2 rustc-web=1.96.0+dfsg1-1~deb12u2 rustfmt-web=1.96.0+dfsg1-1~deb12u2"

installed="rustc-web 1.96.0+dfsg1-1~deb12u1
rust-web-clippy 1.96.0+dfsg1-1~deb12u1
rustfmt-web 1.96.0+dfsg1-1~deb12u1
$llvm14
linux-source-6.12 6.12.117-1~deb12u1"
case_ "a package missing from a series comes at the version its installed siblings have" 0 \
	"rust-web-clippy=1.96.0+dfsg1-1~deb12u1 rust-web-src=1.96.0+dfsg1-1~deb12u1 rustc-web=1.96.0+dfsg1-1~deb12u1 rustfmt-web=1.96.0+dfsg1-1~deb12u1"

installed="rustc-web 1.85.0+dfsg3-1~deb12u3
rust-web-src 1.85.0+dfsg3-1~deb12u3
$llvm14
linux-source-6.12 6.12.117-1~deb12u1"
case_ "an installed version outside its series is replaced by the series' newest" 0 \
	"rust-web-clippy=1.96.0+dfsg1-1~deb12u2 rust-web-src=1.96.0+dfsg1-1~deb12u2 rustc-web=1.96.0+dfsg1-1~deb12u2 rustfmt-web=1.96.0+dfsg1-1~deb12u2"

installed="$rust_u1
$llvm14
linux-source-6.12 6.12.117-1~deb12u1"
case_ "SMPBOOT_RS_PINS pins a series at an exact older version" 0 \
	"linux-source-6.12=6.12.99-1~deb12u1" "linux-source-6.12=6.12.99-1~deb12u1"

case_ "a series the archive no longer has stops setup and says where to edit it" 1 \
	"edit its series in scripts/versions.sh" "rustc-web=1.97.*"

echo "1..$n"

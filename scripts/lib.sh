# SPDX-License-Identifier: GPL-2.0
# Shared by the smpboot_rs scripts: toolchain arguments, the kernel cache key
# and progress reporting. Source it; it defines functions and variables only.

SMPBOOT_RS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$SMPBOOT_RS_TOP/scripts/versions.sh"
# The series of KVER, else the first: callers that take all loop over
# $SMPBOOT_RS_KVERS and call smpboot_rs_kver themselves.
smpboot_rs_kver "${KVER:-${SMPBOOT_RS_KVERS%% *}}" || exit

# The make variables every kernel and module build gets, so that both use the
# one toolchain the kernel tree's Rust metadata is locked to.
smpboot_rs_kmake_args() {
	printf '%s\n' "LLVM=$SMPBOOT_RS_LLVM" \
		"RUSTC=$SMPBOOT_RS_RUSTC" "HOSTRUSTC=$SMPBOOT_RS_RUSTC" \
		"RUSTDOC=$SMPBOOT_RS_RUSTDOC" "RUSTFMT=$SMPBOOT_RS_RUSTFMT" \
		"CLIPPY_DRIVER=$SMPBOOT_RS_CLIPPY_DRIVER" "BINDGEN=$SMPBOOT_RS_BINDGEN"
}

# The version of PKG if it is installed, else nothing.
smpboot_rs_installed() {
	{ dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null || true; } | sed -n 's/^ii *//p'
}

# Where setup fetches a package of SMPBOOT_RS_FETCHED_SERIES: the version
# it chose is in DIR/PACKAGE.version, the package's files under
# DIR/PACKAGE_VERSION/.
smpboot_rs_fetched_dir() {
	echo "$SMPBOOT_RS_CACHE/debs"
}

# The version of the Debian package that ships the kernel source tarball.
smpboot_rs_kernel_pkg_version() {
	local pkg=$SMPBOOT_RS_KERNEL_PKG
	if [ -n "$SMPBOOT_RS_FETCHED_SERIES" ]; then
		cat "$(smpboot_rs_fetched_dir)/$pkg.version" 2>/dev/null || echo unknown
	else
		smpboot_rs_installed "$pkg" | grep . || echo unknown
	fi
}

# The kernel source tarball of the selected series.
smpboot_rs_kernel_tarball() {
	local pkg=$SMPBOOT_RS_KERNEL_PKG
	if [ -n "$SMPBOOT_RS_FETCHED_SERIES" ]; then
		echo "$(smpboot_rs_fetched_dir)/${pkg}_$(smpboot_rs_kernel_pkg_version)/usr/src/$pkg.tar.xz"
	else
		echo "/usr/src/$pkg.tar.xz"
	fi
}

# "package version" for each package of the series in versions.sh, as
# installed: what the cache key records and kernel-build prints.
smpboot_rs_deb_versions() {
	local line pkg pkgs
	while read -r line; do
		[ -n "$line" ] || continue
		IFS=, read -ra pkgs <<<"${line%%=*}"
		for pkg in "${pkgs[@]}"; do
			echo "$pkg $(smpboot_rs_installed "$pkg" | grep . || echo none)"
		done
	done <<<"$SMPBOOT_RS_DEB_SERIES"
	[ -z "$SMPBOOT_RS_FETCHED_SERIES" ] ||
		echo "$SMPBOOT_RS_KERNEL_PKG $(smpboot_rs_kernel_pkg_version)"
}

# The config fragments of a flavor of the selected series, merged in this
# order over tinyconfig: what every kernel gets, what the series names its
# own way, the flavor's; the profile kernel is the release kernel plus the
# function tracer, an intree- kernel (7.3 with scripts/series applied) the
# debug or release kernel plus the series' options (the release one without
# the doctests: intree-release.config).
smpboot_rs_kconfig_frags() {
	local dir=$SMPBOOT_RS_TOP/scripts/kconfig
	echo -n "$dir/base.config $dir/$SMPBOOT_RS_KVER.config "
	case $1 in
	profile) echo "$dir/release.config" "$dir/profile.config" ;;
	intree-debug) echo "$dir/debug.config" "$dir/intree.config" ;;
	intree-release) echo "$dir/release.config" "$dir/intree.config" "$dir/intree-release.config" ;;
	*) echo "$dir/$1.config" ;;
	esac
}

# The files the in-tree series (scripts/series) is made of, but for the
# cover letter: what the intree- kernels are built from, which their cache
# key covers (the figures in the letter rebuild no kernel).
smpboot_rs_series_inputs() {
	{
		(cd "$SMPBOOT_RS_TOP" && find scripts/series scripts/intree-source smpboot_rs/intree -type f ! -name cover-letter)
		smpboot_rs_series_shared_sources
	} | LC_ALL=C sort
}

# The files the series takes from the module's sources, one "KERNEL_PATH
# SOURCE" line each, relative to the top (the lines of
# smpboot_rs/intree/*/files that name a second path).
smpboot_rs_series_shared_files() {
	(cd "$SMPBOOT_RS_TOP" && awk 'NF == 2' smpboot_rs/intree/*/files)
}

# The module's sources that the series takes files from.
smpboot_rs_series_shared_sources() {
	smpboot_rs_series_shared_files | cut -d' ' -f2
}

# The toolchain a kernel is built with, as the cache key hashes it and
# kernel-build records it: the Debian versions, then what the tools say.
smpboot_rs_toolchain() {
	smpboot_rs_deb_versions
	"$SMPBOOT_RS_RUSTC" -vV 2>&1
	"$SMPBOOT_RS_BINDGEN" --version 2>&1
	"clang${SMPBOOT_RS_LLVM#1}" --version 2>&1 | head -n1
}

# Where the cached kernel of a flavor (debug, release or profile) of the
# selected series is built.
smpboot_rs_kdir() {
	local flavor=$1 key
	# shellcheck disable=SC2046
	key=$({
		cat $(smpboot_rs_kconfig_frags "$flavor")
		case $flavor in
		intree-*) (cd "$SMPBOOT_RS_TOP" && cat $(smpboot_rs_series_inputs)) ;;
		esac
		smpboot_rs_kmake_args
		smpboot_rs_toolchain
	} | sha256sum | cut -c1-12)
	echo "$SMPBOOT_RS_CACHE/kernel/$SMPBOOT_RS_KVER-$flavor-$key"
}

# The kernel tree the objects of the smpboot_rs tree were last built against
# (built by the Makefile and scripts/lint, used by scripts/vm-run).
SMPBOOT_RS_BUILT_FOR=$SMPBOOT_RS_TOP/.smpboot_rs-built-for

# smpboot_rs_build_for KDIR: about to build the tree's modules against KDIR.
# Objects of another kernel go first: kbuild reuses an object whose command
# line it has a record of, and one of another kernel links (the Rust crates
# of both series have the same mangling hash) and fails only at modpost or
# at insmod.
smpboot_rs_build_for() {
	if [ "$(cat "$SMPBOOT_RS_BUILT_FOR" 2>/dev/null)" != "$1" ]; then
		(cd "$SMPBOOT_RS_TOP" && find . \( -name .git -o -name .vm-logs -o -name results \) -prune -o \
			-type f \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
			-o -name '.*.cmd' -o -name '.*.d' -o -name Module.symvers -o -name modules.order \) \
			-print0 | xargs -0 rm -f)
		echo "$1" >"$SMPBOOT_RS_BUILT_FOR"
	fi
}

# run_logged LABEL LOG CMD...: run CMD with output to LOG, printing the label
# and the elapsed time every 30 s; on failure print the log's tail and path.
run_logged() {
	local label=$1 log=$2 start pid rc ticker
	shift 2
	start=$(date +%s)
	echo "  $label ..."
	"$@" >"$log" 2>&1 &
	pid=$!
	(
		while sleep 30; do
			echo "  $label ... $(( $(date +%s) - start ))s"
		done
	) &
	ticker=$!
	rc=0
	wait "$pid" || rc=$?
	kill "$ticker" 2>/dev/null
	wait "$ticker" 2>/dev/null || true
	if [ "$rc" != 0 ]; then
		echo "  $label FAILED (exit $rc) after $(( $(date +%s) - start ))s; last lines of $log:" >&2
		tail -n 30 "$log" >&2
		echo "  full log: $log" >&2
		return "$rc"
	fi
	echo "  $label done in $(( $(date +%s) - start ))s"
}

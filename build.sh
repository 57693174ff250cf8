#!/usr/bin/env bash
# build.sh: builds carrier-lock and runs its unit and fuzz tests.
#
#   ./build.sh               static musl binary ./carrier-lock (stripped; fails unless static)
#   ./build.sh asan          host cc + ASan/UBSan, glibc: build/asan/carrier-lock
#   ./build.sh unit          build and run tests/unit/test_*.c (sanitizers on)
#   ./build.sh fuzz [SECS]   libFuzzer on each tests/fuzz/fuzz_*.c, SECS each (default 120;
#                            FUZZ_TARGETS="json yaml" picks some)
#   ./build.sh replay        each fuzz target over its corpus without libFuzzer (sanitizers on)
#   ./build.sh deps          only fetch, verify and build the third-party code
#   ./build.sh release       dist/: static stripped binaries for linux-amd64 and -arm64,
#                            tarballs (with README, licences, man page, completions),
#                            SHA256SUMS and a krew manifest; same commit, same bytes
#   ./build.sh krew-manifest the krew manifest of the tarballs in $DIST on stdout (for
#                            another RELEASE_URL, without building them again)
#   ./build.sh arm64         only the static arm64 binary, build/arm64/carrier-lock
#   ./build.sh size          ./carrier-lock, then where its bytes go (ours, BearSSL, musl)
#   ./build.sh soak [ARGS]   ./carrier-lock, then the soak on a cluster of its own
#                            (tests/soak/soak.py ARGS: --quick ~1 min, default ~12 min)
#   ./build.sh bench [ARGS]  ./carrier-lock and the peers (bench/peers: client-go from the
#                            Go module proxy, into build/peers), then bench/compare.py ARGS
#                            on a cluster of its own: docs/BENCHMARKS.md and its plot
#                            (--quick: a smoke run into build/bench/, numbers meaningless)
#
# Environment: CC (static build, default musl-gcc), HOST_CC (sanitizer builds, default cc),
# FUZZ_CC (default clang), CFLAGS and LDFLAGS (appended), STRIP (default strip),
# ARM64_CC (default aarch64-linux-gnu-gcc, with musl:arm64's libc), OPT (static builds'
# optimisation, default -Oz), LTO (default -flto=auto; LTO= turns it off), DIST (release's
# output directory, default dist), CARRIER_LOCK_VERSION and CARRIER_LOCK_COMMIT (the
# version --version prints; default from git, "unknown" without a .git),
# RELEASE_URL (where the krew manifest says the tarballs are).
#
# Third-party code comes from Debian's packages at the versions pinned below, checked
# against vendor/SHA256SUMS, and is unpacked and built under vendor/build/ (git-ignored).
# It is never edited: a fix would be a patch file under vendor/ applied here, with its reason.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)

BEARSSL_DEB_VERSION=0.6+dfsg.1-3	# Debian source package bearssl
BEARSSL_UPSTREAM=0.6+dfsg.1
JSMN_DEB_VERSION=1.1.0-2		# Debian binary package libjsmn-dev (header-only jsmn)

VENDOR=$ROOT/vendor/build
DL=$VENDOR/dl
BEARSSL_SRC=$VENDOR/bearssl-$BEARSSL_UPSTREAM
JSMN_INC=$VENDOR/jsmn/usr/include

CC=${CC:-musl-gcc}
ARM64_CC=${ARM64_CC:-aarch64-linux-gnu-gcc}
HOST_CC=${HOST_CC:-cc}
FUZZ_CC=${FUZZ_CC:-clang}
STRIP=${STRIP:-strip}
CFLAGS=${CFLAGS:-}
LDFLAGS=${LDFLAGS:-}
JOBS=$(nproc 2>/dev/null || echo 2)

# Our code: C11 with the POSIX and BSD interfaces (gnu11 defines no feature macro on the
# command line, so files may #define _DEFAULT_SOURCE themselves).
# Every warning below is an error.
STD="-std=gnu11"
WARN="-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wpointer-arith -Wstrict-prototypes
      -Wmissing-prototypes -Wvla -Wimplicit-fallthrough -Wundef"
# Test and fuzz programs may define non-static functions without a header.
TEST_WARN="-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wpointer-arith -Wvla"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
# Third-party headers are -isystem: our warnings are for our code.
INC="-I src -isystem $BEARSSL_SRC/inc -isystem $JSMN_INC"

# The static binaries are built for size (issue 13: at most 256 KiB with every feature;
# README "Size" has the figures): -Oz (a query takes about 2 ms longer than at -O2, 0.2 ms
# longer than at -Os), a section per function and object so that the linker drops what
# nothing calls, no unwind tables (C without exceptions; they were 25 KiB), and
# link-time optimisation (in one partition, and without inlining small functions at
# their call sites: 500 bytes less code than GCC's defaults at -Oz); on amd64, global
# arrays at the psABI's alignment, not GCC's larger one (AMD64_CFLAGS: 700 bytes of
# padding). Paths are mapped so the bytes do not depend on where the tree is.
# No position-independent code: a static binary is linked at a fixed address anyway
# (ET_EXEC), and PIC put every table of pointers (BearSSL's vtables, ours) into
# .data.rel.ro, which musl's static start-up never makes read-only; without it they are
# plain .rodata, mapped read-only, and code and tables are 2 KiB smaller.
OPT=${OPT:--Oz}
LTO=${LTO--flto=auto}
SIZE_FLAGS="-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
            -fno-unwind-tables -fno-pie -fno-inline-small-functions $LTO
            ${LTO:+-flto-partition=one}"
# BearSSL's flags name only the vendor directory's real path, which clones that share it
# (a symlinked vendor/build) have in common: a flag that differs rebuilds it (its stamp).
VENDOR_REAL=$(realpath -m "$VENDOR")
REPRO_FLAGS="-ffile-prefix-map=$ROOT=. -ffile-prefix-map=$VENDOR_REAL=vendor"
STATIC_FLAGS="$OPT $SIZE_FLAGS $REPRO_FLAGS"
STATIC_LDFLAGS="-static -no-pie -Wl,--gc-sections -Wl,--build-id=none"
# amd64's segments (README "Size"): the read-only data shares the first segment with the
# ELF headers (RODATA_FIRST_LD), instead of the headers having a page of their own and the
# data a segment after the code; the code keeps pages of its own (-z separate-code, ld's
# default there, said explicitly since this layout rests on it). No RELRO segment: musl's
# static start-up never applies PT_GNU_RELRO (a running carrier-lock has those pages rw-p),
# and the RELRO layout would either waste up to a page aligning its end or put the
# .init_array, .got and musl's .data.rel.ro into the last page of code.
AMD64_CFLAGS="-malign-data=abi"
RODATA_FIRST_LD=$ROOT/build/rodata-first.ld
AMD64_LDFLAGS="-Wl,-z,separate-code -Wl,-z,norelro -Wl,-T,$RODATA_FIRST_LD"
BEARSSL_STATIC_FLAGS="$OPT $SIZE_FLAGS -ffile-prefix-map=$VENDOR_REAL=vendor -W -Wall"
ARM64_MUSL=$VENDOR_REAL/musl-arm64

die() { echo "build.sh: $*" >&2; exit 1; }
say() { echo "build.sh: $*"; }

# What --version prints: git's description of the tree (a tag when there is one, else
# the abbreviated commit; "-dirty" with uncommitted changes), the commit, and the pinned
# Debian versions of BearSSL and jsmn. A tree without .git (an unpacked tarball) says
# "unknown" unless CARRIER_LOCK_VERSION and CARRIER_LOCK_COMMIT are given.
version_defs() {
	local v c
	v=${CARRIER_LOCK_VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo unknown)}
	c=${CARRIER_LOCK_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
	case $v$c in (*[!A-Za-z0-9._+~-]*) die "bad version '$v' or commit '$c'";; esac
	VERSION=$v
	DEFS=(-DCARRIER_LOCK_VERSION="\"$v\"" -DCARRIER_LOCK_COMMIT="\"$c\""
	    -DCARRIER_LOCK_BEARSSL="\"$BEARSSL_DEB_VERSION\"" -DCARRIER_LOCK_JSMN="\"$JSMN_DEB_VERSION\"")
}

# ---------------------------------------------------------------------------------------
# Build packages. As root they are installed; otherwise we say which and stop.
# ---------------------------------------------------------------------------------------
NEEDED_PKGS="musl-tools clang libclang-rt-14-dev llvm dpkg-dev openssl xz-utils patch"
# The arm64 release binary: Debian's cross compiler and musl's arm64 package (multiarch).
ARM64_PKGS="gcc-aarch64-linux-gnu musl-dev:arm64"

need_packages() {
	local missing="" p
	for p in ${1:-$NEEDED_PKGS}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "build.sh: missing build packages; install them with:" >&2
		echo "    sudo apt-get install$missing" >&2
		exit 1
	fi
	say "installing$missing"
	case $missing in
	(*:arm64*) dpkg --print-foreign-architectures | grep -qx arm64 ||
		{ dpkg --add-architecture arm64 && apt-get update; } ;;
	esac
	# A fresh machine may have no package lists yet.
	if ! apt-get install -y --no-install-recommends $missing; then
		apt-get update
		apt-get install -y --no-install-recommends $missing
	fi
}

# ---------------------------------------------------------------------------------------
# Third-party sources: BearSSL (source package) and jsmn (binary package), pinned.
# ---------------------------------------------------------------------------------------

# Verified: every file named in vendor/SHA256SUMS is in $DL with the right checksum.
downloads_ok() {
	(cd "$DL" 2>/dev/null && sha256sum --quiet -c "$ROOT/vendor/SHA256SUMS") >/dev/null 2>&1
}

# apt-get with a private source list derived from this machine's own (deb and deb-src for
# every enabled "deb" entry), private package lists and cache: the system's apt state is
# neither needed nor changed, and no archive host is written into this repository.
APT_DIR=$VENDOR/apt
apt_private() {
	apt-get -q -o Dir::Etc::SourceList=/dev/null \
	    -o Dir::Etc::SourceParts="$APT_DIR/sources.list.d" \
	    -o Dir::State::Lists="$APT_DIR/lists" \
	    -o Dir::Cache="$APT_DIR/cache" \
	    -o APT::Sandbox::User=root "$@"
}

apt_private_setup() {
	local f n=0
	rm -rf "$APT_DIR/sources.list.d"
	mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' "$f" \
		    > "$APT_DIR/sources.list.d/$(basename "$f")"
		n=$((n + 1))
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -nE 's/^deb[[:space:]]+(.*)$/deb \1\ndeb-src \1/p' "$f" \
		    > "$APT_DIR/sources.list.d/$(basename "$f" | tr -c 'A-Za-z0-9._\n-' _)$n.list"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || die "no apt sources found in /etc/apt to derive deb-src entries from"
	apt_private update
}

fetch_deps() {
	mkdir -p "$DL"
	if downloads_ok; then
		return
	fi
	say "fetching bearssl $BEARSSL_DEB_VERSION and libjsmn-dev $JSMN_DEB_VERSION"
	apt_private_setup
	(cd "$DL" && apt_private source --download-only "bearssl=$BEARSSL_DEB_VERSION")
	(cd "$DL" && apt_private download "libjsmn-dev=$JSMN_DEB_VERSION")
	if ! (cd "$DL" && sha256sum -c "$ROOT/vendor/SHA256SUMS"); then
		die "checksum mismatch in $DL: refusing to build with these files"
	fi
}

# Our fixes to BearSSL, each with its reason at its top: vendor/*.patch, applied in name order.
# Their checksum is part of the unpack and build stamps, so a new patch rebuilds BearSSL.
BEARSSL_PATCHES=$(cat vendor/*.patch 2>/dev/null | sha256sum | cut -c1-16)

unpack_deps() {
	local p
	if [ "$(cat "$BEARSSL_SRC/.unpacked" 2>/dev/null)" != "$BEARSSL_PATCHES" ]; then
		rm -rf "$BEARSSL_SRC"
		mkdir -p "$BEARSSL_SRC"
		tar -xJf "$DL/bearssl_$BEARSSL_UPSTREAM.orig.tar.xz" -C "$BEARSSL_SRC" --strip-components=1
		for p in vendor/*.patch; do
			[ -f "$p" ] || continue
			patch -s -d "$BEARSSL_SRC" -p1 < "$p" || die "applying $p failed"
		done
		echo "$BEARSSL_PATCHES" > "$BEARSSL_SRC/.unpacked"
	fi
	if [ ! -f "$JSMN_INC/jsmn.h" ]; then
		rm -rf "$VENDOR/jsmn"
		dpkg-deb -x "$DL/libjsmn-dev_${JSMN_DEB_VERSION}_all.deb" "$VENDOR/jsmn"
	fi
	[ -f "$BEARSSL_SRC/inc/bearssl.h" ] || die "$BEARSSL_SRC has no inc/bearssl.h"
	[ -f "$JSMN_INC/jsmn.h" ] || die "$JSMN_INC has no jsmn.h"
}

# build_bearssl DIR COMPILER FLAGS [AR]: compiles BearSSL's src/**/*.c into DIR/libbearssl.a,
# unless DIR/stamp says it was built from the same version, compiler and flags.
build_bearssl() {
	local out=$1 cc=$2 flags=$3 ar=${4:-ar}
	local stamp="$BEARSSL_DEB_VERSION+$BEARSSL_PATCHES|$cc|$flags|$ar"
	if [ -f "$out/libbearssl.a" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
		return
	fi
	say "compiling BearSSL with $cc into $out (takes a minute)"
	rm -rf "$out"
	mkdir -p "$out/obj"
	# Object names keep the source's directory, since two files could share a base name.
	(cd "$BEARSSL_SRC/src" && find . -name '*.c' -print0) |
	    xargs -0 -n 8 -P "$JOBS" sh -c '
		out=$1; cc=$2; flags=$3; src=$4; shift 4
		for f; do
			o=$(printf "%s" "$f" | sed "s|^\./||; s|/|_|g; s|\.c$|.o|")
			$cc $flags -I "$src/inc" -I "$src/src" -c "$src/src/$f" -o "$out/obj/$o" || exit 255
		done' sh "$out" "$cc" "$flags" "$BEARSSL_SRC"
	# Sorted and (Debian's default) deterministic: the same inputs give the same archive.
	# shellcheck disable=SC2046
	$ar rcsD "$out/libbearssl.a" $(find "$out/obj" -name '*.o' | LC_ALL=C sort)
	rm -rf "$out/obj"
	echo "$stamp" > "$out/stamp"
}

deps() {
	need_packages
	fetch_deps
	unpack_deps
}

# ---------------------------------------------------------------------------------------
# Our code.
# ---------------------------------------------------------------------------------------

# compile_lib OUTDIR COMPILER FLAGS...: compiles every src/*.c into OUTDIR/obj and puts all
# but main.o into OUTDIR/libcarrier.a, which tests and fuzz targets link against (the
# linker takes only the modules they use). $AR archives (default ar).
compile_lib() {
	local out=$1 cc=$2 f o ar=${AR:-ar}
	shift 2
	rm -rf "$out/obj"
	mkdir -p "$out/obj"
	for f in src/*.c; do
		o="$out/obj/$(basename "${f%.c}").o"
		# shellcheck disable=SC2086
		$cc $STD $WARN $INC "$@" $CFLAGS -c "$f" -o "$o" || die "compiling $f failed"
	done
	rm -f "$out/libcarrier.a"
	find "$out/obj" -name '*.o' ! -name main.o -print0 | LC_ALL=C sort -z |
	    xargs -0 $ar rcsD "$out/libcarrier.a"
}

# arm64_cc: prints the arm64 compiler command. musl's arm64 package has the libc but not
# the musl-gcc wrapper (that is musl-tools, one architecture per machine), so its specs
# file is written here from the amd64 one: the same rules with the arm64 paths.
arm64_cc() {
	local specs=$ARM64_MUSL/musl-gcc.specs
	[ -f /usr/lib/aarch64-linux-musl/libc.a ] ||
		die "musl for arm64 is missing (apt-get install musl-dev:arm64, after dpkg --add-architecture arm64)"
	command -v "$ARM64_CC" >/dev/null || die "$ARM64_CC is missing (apt-get install gcc-aarch64-linux-gnu)"
	if [ ! -f "$specs" ]; then
		mkdir -p "$ARM64_MUSL"
		sed 's/x86_64/aarch64/g' /usr/lib/x86_64-linux-musl/musl-gcc.specs > "$specs.tmp" &&
			mv "$specs.tmp" "$specs"
	fi
	echo "$ARM64_CC -specs $specs"
}

# check_formats: the static binaries' printf is src/fmt.c's (fmt.h), which has no floating
# point, %p, %n, wide characters or positional arguments: fails if a string literal in
# src/ holds one of those conversions. A float conversion followed by a letter counts
# only with a width or a precision ("%.3fs" does; prose such as "bad %-escape" does not).
check_formats() {
	local len='(hh|h|ll|l|j|z|t|L)?' conv='[aAeEfFgGnpCS]' bad
	local num='([0-9]+|\*)'
	bad=$(grep -HnoE '"([^"\\]|\\.)*"' src/*.c | sed 's/%%//g' |
	    grep -E "%[-+ #0]*$num?(\.$num?)?$len$conv([^a-zA-Z]|\$)|%[-+ #0]*$num(\.$num?)?$len$conv|%[-+ #0]*\.$num?$len$conv|%[-+ #0]*$num?(\.$num?)?l[cs]|%[0-9]+\\\$" ||
	    true)
	[ -z "$bad" ] || die "a format conversion that src/fmt.c does not have (see fmt.h):
$bad"
}

# write_rodata_first_ld: RODATA_FIRST_LD, which moves .rodata (and the 4-byte .eh_frame
# terminator) to the front of ld's default layout, and the writable data after it, on a
# page of its own in memory but not in the file (it shares the last page of .rodata's
# there: mapped read-write that page's copy is never used, mapped read-only the data's
# initial bytes are not executable either), all before the page alignment that starts the
# code: the code is the file's end, with no padding after it. INSERT keeps the rest of the
# default script as it is (its own statements for these sections are left empty).
write_rodata_first_ld() {
	mkdir -p "$(dirname "$RODATA_FIRST_LD")"
	cat > "$RODATA_FIRST_LD" <<-'EOF'
	SECTIONS
	{
	  .rodata : { *(.rodata .rodata.* .gnu.linkonce.r.*) KEEP (*(.eh_frame)) }
	  . = ALIGN(CONSTANT (MAXPAGESIZE)) + (. & (CONSTANT (MAXPAGESIZE) - 1));
	  .tdata : { PROVIDE_HIDDEN (__tdata_start = .); *(.tdata .tdata.* .gnu.linkonce.td.*) }
	  .tbss : { *(.tbss .tbss.* .gnu.linkonce.tb.*) *(.tcommon) }
	  .init_array : {
	    PROVIDE_HIDDEN (__init_array_start = .);
	    KEEP (*(SORT_BY_INIT_PRIORITY(.init_array.*) SORT_BY_INIT_PRIORITY(.ctors.*)))
	    KEEP (*(.init_array .ctors))
	    PROVIDE_HIDDEN (__init_array_end = .);
	  }
	  .fini_array : {
	    PROVIDE_HIDDEN (__fini_array_start = .);
	    KEEP (*(SORT_BY_INIT_PRIORITY(.fini_array.*) SORT_BY_INIT_PRIORITY(.dtors.*)))
	    KEEP (*(.fini_array .dtors))
	    PROVIDE_HIDDEN (__fini_array_end = .);
	  }
	  .data.rel.ro : { *(.data.rel.ro.local* .data.rel.ro .data.rel.ro.*) }
	  .got : { *(.got) *(.igot) }
	  .got.plt : { *(.got.plt) *(.igot.plt) }
	  .data : { *(.data .data.* .gnu.linkonce.d.*) }
	  .bss : { *(.dynbss) *(.bss .bss.* .gnu.linkonce.b.*) *(COMMON) }
	}
	INSERT AFTER .relr.dyn;
	EOF
}

# drop_section_headers FILE: removes the section header table and the section names (what
# sstrip does), which ld writes after the last segment, here the code: the page that ends
# the code would map them executable. Nothing that runs the binary reads them; readelf -l
# and gdb work without them (readelf -S says there are no sections). Fails unless the
# table is after every segment's bytes.
drop_section_headers() {
	local f=$1 end=0 off size shoff
	while read -r off size; do
		[ $((off + size)) -le "$end" ] || end=$((off + size))
	done < <(readelf -lW "$f" | awk '$1 == "LOAD" {print $2, $5}')
	shoff=$(readelf -hW "$f" | awk '/Start of section headers/ {print $5}')
	[ "$end" -gt 0 ] && [ "$shoff" -ge "$end" ] ||
		die "$f: section headers at $shoff, not after the segments (end $end)"
	# e_shoff (8 bytes at 40), then e_shnum and e_shstrndx (2 bytes each at 60).
	printf '\0\0\0\0\0\0\0\0' | dd of="$f" bs=1 seek=40 conv=notrunc status=none
	printf '\0\0\0\0' | dd of="$f" bs=1 seek=60 conv=notrunc status=none
	truncate -s "$end" "$f"
}

# build_musl ARCH OUTFILE: the static, stripped binary for amd64 or arm64. Fails unless
# it is static.
build_musl() {
	local arch=$1 out=$2 cc strip ar bear tmp xflags ldflags
	deps
	version_defs
	case $arch in
	(amd64)	cc=$CC; strip=$STRIP; ar=gcc-ar; bear=$VENDOR/bearssl-musl
		xflags=$AMD64_CFLAGS; ldflags=$AMD64_LDFLAGS; write_rodata_first_ld ;;
	(arm64)	need_packages "$ARM64_PKGS"
		cc=$(arm64_cc); strip=aarch64-linux-gnu-strip; ar=aarch64-linux-gnu-gcc-ar
		bear=$VENDOR/bearssl-musl-arm64; xflags=; ldflags= ;;
	(*)	die "unknown architecture '$arch'" ;;
	esac
	[ -n "$LTO" ] || ar=ar
	build_bearssl "$bear" "$cc" "$BEARSSL_STATIC_FLAGS${xflags:+ $xflags}" "$ar"
	check_formats
	# shellcheck disable=SC2086
	AR=$ar compile_lib "build/musl-$arch" "$cc" $STATIC_FLAGS $xflags -static \
	    -DCARRIER_LOCK_OWN_PRINTF -DCARRIER_LOCK_OWN_MALLOC \
	    "${DEFS[@]}"
	tmp=$out.tmp
	mkdir -p "$(dirname "$out")"
	# fmt.o and alloc.o are named, not left to the archive: LTO's symbol tables omit
	# calls to builtins such as printf and malloc, so nothing would pull in the members
	# that define them.
	# shellcheck disable=SC2086
	$cc $STATIC_FLAGS $xflags $STATIC_LDFLAGS $ldflags -o "$tmp" "build/musl-$arch/obj/main.o" \
	    "build/musl-$arch/obj/fmt.o" "build/musl-$arch/obj/alloc.o" "build/musl-$arch/libcarrier.a" "$bear/libbearssl.a" \
	    $LDFLAGS ||
		die "linking $out failed (see the linker's message above)"
	$strip "$tmp"
	[ "$arch" != amd64 ] || drop_section_headers "$tmp"
	if readelf -lW "$tmp" | grep -q 'INTERP'; then
		die "$out has a program interpreter: it is not static"
	fi
	if ! readelf -dW "$tmp" | grep -q 'There is no dynamic section'; then
		die "$out has a dynamic section: it is not static"
	fi
	mv "$tmp" "$out"
}

build_static() {
	build_musl amd64 carrier-lock
	say "built ./carrier-lock, static, $(stat -c %s carrier-lock) bytes"
}

build_host_san() {
	deps
	build_bearssl "$VENDOR/bearssl-host" "$HOST_CC" "-O2 -g -W -Wall"
	version_defs
	# shellcheck disable=SC2086
	compile_lib build/san "$HOST_CC" $SAN "${DEFS[@]}"
}

build_asan() {
	build_host_san
	mkdir -p build/asan
	# shellcheck disable=SC2086
	$HOST_CC $SAN -o build/asan/carrier-lock build/san/obj/main.o build/san/libcarrier.a \
	    "$VENDOR/bearssl-host/libbearssl.a" $LDFLAGS ||
		die "linking build/asan/carrier-lock failed (see the linker's message above)"
	say "built build/asan/carrier-lock (ASan + UBSan)"
}

run_unit() {
	local t name failed=""
	build_host_san
	mkdir -p build/unit
	for t in tests/unit/test_*.c; do
		[ -f "$t" ] || continue
		name=$(basename "${t%.c}")
		# shellcheck disable=SC2086
		# The version as the library has it (test_http checks the User-Agent).
		$HOST_CC $STD $TEST_WARN $INC $SAN "${DEFS[@]}" $CFLAGS -o "build/unit/$name" "$t" \
		    build/san/libcarrier.a "$VENDOR/bearssl-host/libbearssl.a" $LDFLAGS ||
			die "building $t failed"
	done
	for t in tests/unit/test_*.c; do
		[ -f "$t" ] || continue
		name=$(basename "${t%.c}")
		say "running $name"
		"build/unit/$name" || failed="$failed $name"
	done
	[ -z "$failed" ] || die "unit tests failed:$failed"
	say "all unit tests passed"
}

# Each tests/fuzz/fuzz_NAME.c has its seed corpus in tests/fuzz/corpus/NAME/.
# Every target, or only those named in $FUZZ_TARGETS (e.g. "json record").
fuzz_targets() {
	local f n
	for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] || continue
		n=$(basename "${f%.c}")
		if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" ${n#fuzz_} "* ]]; then
			continue
		fi
		echo "$n"
	done
}

run_fuzz() {
	local secs=${1:-120} t name log failed=""
	case $secs in (*[!0-9]*|'') die "fuzz: SECONDS must be a number, not '$secs'";; esac
	deps
	build_bearssl "$VENDOR/bearssl-host" "$HOST_CC" "-O2 -g -W -Wall"
	# shellcheck disable=SC2086
	compile_lib build/fuzz "$FUZZ_CC" -fsanitize=fuzzer-no-link,address,undefined \
	    -fno-sanitize-recover=all -g -O1
	for t in $(fuzz_targets); do
		name=${t#fuzz_}
		# shellcheck disable=SC2086
		$FUZZ_CC $STD $TEST_WARN $INC -fsanitize=fuzzer,address,undefined \
		    -fno-sanitize-recover=all -g -O1 $CFLAGS -o "build/fuzz/$t" "tests/fuzz/$t.c" \
		    build/fuzz/libcarrier.a "$VENDOR/bearssl-host/libbearssl.a" $LDFLAGS ||
			die "building tests/fuzz/$t.c failed"
		# New inputs go to build/fuzz/corpus-NAME, never into the committed seeds.
		mkdir -p "build/fuzz/corpus-$name" "build/fuzz/crashes-$name"
		log="build/fuzz/$t.log"
		say "fuzzing $t for ${secs}s"
		if "build/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 \
		    -artifact_prefix="build/fuzz/crashes-$name/" \
		    "build/fuzz/corpus-$name" "tests/fuzz/corpus/$name" > "$log" 2>&1; then
			say "$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
			    grep -o '[0-9]*$') executions, no crash"
		else
			tail -n 40 "$log" >&2
			failed="$failed $t"
		fi
	done
	[ -z "$failed" ] || die "fuzzing found crashes in:$failed (inputs under build/fuzz/crashes-*)"
}

run_replay() {
	local t name failed=""
	build_host_san
	mkdir -p build/replay
	for t in $(fuzz_targets); do
		name=${t#fuzz_}
		# shellcheck disable=SC2086
		$HOST_CC $STD $TEST_WARN $INC $SAN $CFLAGS -o "build/replay/$t" "tests/fuzz/$t.c" \
		    tests/fuzz/replay.c build/san/libcarrier.a "$VENDOR/bearssl-host/libbearssl.a" \
		    $LDFLAGS || die "building tests/fuzz/$t.c failed"
		[ -d "tests/fuzz/corpus/$name" ] || die "tests/fuzz/corpus/$name is missing"
		say "replaying tests/fuzz/corpus/$name through $t"
		"build/replay/$t" "tests/fuzz/corpus/$name" || failed="$failed $t"
	done
	[ -z "$failed" ] || die "replay failed:$failed"
}

# ---------------------------------------------------------------------------------------
# Release: $DIST/ for linux-amd64 and linux-arm64. The same commit gives the same bytes:
# the compilers see no paths of this tree (REPRO_FLAGS), archives are deterministic, and
# the tarballs have sorted names, owner 0, modes set here and the commit's time as mtime
# (SOURCE_DATE_EPOCH), gzip without a name or time stamp.
# ---------------------------------------------------------------------------------------
DIST=${DIST:-dist}
RELEASE_URL=${RELEASE_URL:-https://github.com/carrier-lock/carrier-lock/releases/download}

# The licences of what the binary links statically (BearSSL, jsmn, musl).
third_party_notices() {
	echo "carrier-lock links the following statically; their licences follow."
	printf '\n== BearSSL %s (Debian source package bearssl) ==\n\n' "$BEARSSL_DEB_VERSION"
	cat "$BEARSSL_SRC/LICENSE.txt"
	printf '\n== jsmn %s (Debian package libjsmn-dev) ==\n\n' "$JSMN_DEB_VERSION"
	cat "$VENDOR/jsmn/usr/share/doc/libjsmn-dev/copyright"
	printf '\n== musl %s (Debian package musl-dev) ==\n\n' \
	    "$(dpkg-query -W -f='${Version}' musl-dev 2>/dev/null || echo unknown)"
	cat /usr/share/doc/musl-dev/copyright
}

# release_tarball ARCH: $DIST/carrier-lock-VERSION-linux-ARCH.tar.gz from the binary.
release_tarball() {
	local arch=$1 name="carrier-lock-$VERSION-linux-$1" stage
	stage=build/release/$name
	rm -rf "$stage"
	mkdir -p "$stage/completion"
	# No kubectl-carrier_lock link in it: krew unpacks only directories and regular files
	# and refuses a whole tarball over one symlink; it makes the link itself, and the
	# README's ln -s makes it for a binary installed by hand.
	cp "$DIST/$name" "$stage/carrier-lock"
	cp docs/kubectl_complete-carrier_lock README.md docs/carrier-lock.1 "$stage/"
	[ ! -f LICENSE ] || cp LICENSE "$stage/"
	third_party_notices > "$stage/THIRD-PARTY-NOTICES"
	# The scripts are the same for every platform: the amd64 binary (this host) prints them.
	"$DIST/carrier-lock-$VERSION-linux-amd64" completion bash > "$stage/completion/carrier-lock.bash"
	"$DIST/carrier-lock-$VERSION-linux-amd64" completion zsh > "$stage/completion/_carrier-lock"
	"$DIST/carrier-lock-$VERSION-linux-amd64" completion fish > "$stage/completion/carrier-lock.fish"
	find "$stage" -type d -exec chmod 0755 {} +
	find "$stage" -type f -exec chmod 0644 {} +
	chmod 0755 "$stage/carrier-lock" "$stage/kubectl_complete-carrier_lock"
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
	    --format=gnu -C build/release -cf - "$name" | gzip -n -9 > "$DIST/$name.tar.gz"
}

# $VERSION as the semantic version krew requires (vMAJOR.MINOR.PATCH, then an optional
# pre-release and build of dot-separated identifiers; no number with a leading zero), so
# that krew orders builds as git does. A semantic tag, with or without its "v", stays itself.
# What git describe adds to it must sort after the tag, where a pre-release would sort
# before it: "-N-gHASH" (N commits past the tag) becomes the next patch's pre-release
# "dev.N" (after a tag with a pre-release: ".dev.N" appended to it, still before the
# release), HASH and "-dirty" go into the build, which does not order (v0.3.0-12-gabc1234
# is v0.3.1-dev.12+gabc1234, v0.3.0-dirty is v0.3.0+dirty). Anything else (a bare commit,
# "unknown", another kind of tag) is the pre-release of v0.0.0, in one identifier: every
# character semver does not allow there, "." included, as "-", and a number with a leading
# zero (an all-digit commit) after git's "g".
krew_version() {
	local num='(0|[1-9][0-9]*)' id='(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)'
	local meta='[0-9A-Za-z-]+' v=$VERSION build='' n=0 tagbuild=''
	[[ $v != [0-9]* ]] || v=v$v
	if [[ $v =~ ^(.*)-dirty$ ]]; then
		v=${BASH_REMATCH[1]} build=dirty
	fi
	if [[ $v =~ ^(.*)-([0-9]+)-g([0-9a-f]+)$ ]]; then
		v=${BASH_REMATCH[1]} n=$((10#${BASH_REMATCH[2]}))
		build=g${BASH_REMATCH[3]}${build:+.$build}
	fi
	if [[ $v =~ ^([^+]*)\+(.*)$ ]]; then
		v=${BASH_REMATCH[1]} tagbuild=${BASH_REMATCH[2]}
		[[ $tagbuild =~ ^$meta(\.$meta)*$ ]] || v=not-semantic
	fi
	if [[ $v =~ ^v$num\.$num\.$num$ ]]; then
		[ "$n" = 0 ] || v=v${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.$((BASH_REMATCH[3] + 1))-dev.$n
	elif [[ $v =~ ^v$num\.$num\.$num-$id(\.$id)*$ ]]; then
		[ "$n" = 0 ] || v=$v.dev.$n
	else
		v=${VERSION//[^0-9A-Za-z-]/-}
		[[ ! $v =~ ^0[0-9]+$ ]] || v=g$v
		echo "v0.0.0-$v"
		return
	fi
	build=$tagbuild${tagbuild:+${build:+.}}$build
	echo "$v${build:++$build}"
}

# A krew manifest (plugin "carrier-lock": kubectl carrier-lock).
krew_manifest() {
	local kv arch name
	kv=$(krew_version)
	cat <<-EOF
	apiVersion: krew.googlecontainertools.github.com/v1alpha2
	kind: Plugin
	metadata:
	  name: carrier-lock
	spec:
	  version: $kv
	  homepage: $RELEASE_URL/$VERSION
	  shortDescription: A cluster-wide mutex kept in a ConfigMap
	  description: |
	    Takes and frees a lock kept in a ConfigMap of the cluster, so that two heavy
	    tests never hit the same control plane at once: kubectl carrier-lock acquire,
	    release, query, cleanup, force-release, run -- CMD. One static binary.
	  platforms:
	EOF
	for arch in amd64 arm64; do
		name=carrier-lock-$VERSION-linux-$arch
		[ -f "$DIST/$name.tar.gz" ] || die "krew manifest: no $DIST/$name.tar.gz"
		cat <<-EOF
		  - selector:
		      matchLabels:
		        os: linux
		        arch: $arch
		    uri: $RELEASE_URL/$VERSION/$name.tar.gz
		    sha256: $(sha256sum "$DIST/$name.tar.gz" | cut -d' ' -f1)
		    files:
		    - from: $name/carrier-lock
		      to: .
		    - from: $name/THIRD-PARTY-NOTICES
		      to: .
		    - from: $name/carrier-lock.1
		      to: .
		EOF
		[ ! -f LICENSE ] || printf '    - from: %s/LICENSE\n      to: .\n' "$name"
		echo "    bin: carrier-lock"
	done
}

release() {
	local arch
	version_defs
	SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
	export SOURCE_DATE_EPOCH
	[ -f LICENSE ] || echo "build.sh: warning: no LICENSE in the tree; the tarballs carry" \
	    "only THIRD-PARTY-NOTICES" >&2
	rm -rf "$DIST" build/release
	mkdir -p "$DIST"
	for arch in amd64 arm64; do
		build_musl "$arch" "$DIST/carrier-lock-$VERSION-linux-$arch"
	done
	for arch in amd64 arm64; do
		release_tarball "$arch"
	done
	krew_manifest > "$DIST/carrier-lock.yaml"
	(cd "$DIST" && sha256sum carrier-lock-* carrier-lock.yaml > SHA256SUMS)
	say "release $VERSION in $DIST/ (amd64 $(stat -c %s "$DIST/carrier-lock-$VERSION-linux-amd64")" \
	    "bytes, arm64 $(stat -c %s "$DIST/carrier-lock-$VERSION-linux-arm64") bytes):"
	(cd "$DIST" && ls -1)
}

# Where the static binary's bytes go: its symbols by origin (our sources, BearSSL, musl
# and libgcc; with LTO, code inlined across them counts where it ended up), the biggest of
# each, and what no symbol names (string literals, padding between segments).
size_report() {
	local o=build/musl-amd64
	# shellcheck disable=SC2086
	$CC $STATIC_FLAGS $AMD64_CFLAGS $STATIC_LDFLAGS $AMD64_LDFLAGS -o build/size.unstripped "$o/obj/main.o" "$o/obj/fmt.o" \
	    "$o/obj/alloc.o" "$o/libcarrier.a" "$VENDOR/bearssl-musl/libbearssl.a" $LDFLAGS 2>/dev/null
	size -A build/size.unstripped | grep -E '^\.(text|rodata|data|bss)'
	gcc-nm --defined-only "$o/libcarrier.a" "$o/obj/main.o" 2>/dev/null |
	    awk 'NF == 3 {print $3}' > build/size.ours
	gcc-nm --defined-only "$VENDOR/bearssl-musl/libbearssl.a" 2>/dev/null |
	    awk 'NF == 3 {print $3}' > build/size.bearssl
	# musl is not LTO-compiled: its archive names its file-local functions too.
	nm --defined-only /usr/lib/x86_64-linux-musl/libc.a "$($CC -print-libgcc-file-name)" \
	    2>/dev/null | awk 'NF == 3 {print $3}' > build/size.musl
	nm -S --size-sort build/size.unstripped > build/size.syms
	python3 - carrier-lock build/size.syms build/size.ours build/size.bearssl \
	    build/size.musl <<-'EOF'
	import collections, os, sys
	total = os.path.getsize(sys.argv[1])
	ours = {l.strip() for l in open(sys.argv[3])}
	bear = {l.strip() for l in open(sys.argv[4])}
	musl = {l.strip() for l in open(sys.argv[5])}
	by, top = collections.Counter(), collections.defaultdict(list)
	for line in open(sys.argv[2]):
	    f = line.split()
	    if len(f) != 4 or f[2] in "bB":
	        continue
	    size, name = int(f[1], 16), f[3]
	    base = name.split(".")[0]
	    k = ("musl/libgcc" if base in musl and base not in ours else
	         "BearSSL" if base in bear or base.startswith("br_") else
	         "ours, and BearSSL's file-local code (LTO hides which)")
	    by[k] += size
	    top[k].append((size, name))
	for k, v in by.most_common():
	    print(f"{v:8d}  {k}: " + ", ".join(f"{n} {s}" for s, n in sorted(top[k])[-6:][::-1]))
	print(f"{total - sum(by.values()):8d}  no symbol (string literals, headers, padding)")
	EOF
	say "./carrier-lock: $(stat -c %s carrier-lock) bytes of 262144 (256 KiB)"
}

# ---------------------------------------------------------------------------------------
# Benchmarks: carrier-lock against the locks users write instead (issue 14, bench/README.md).
# ---------------------------------------------------------------------------------------
# GNU time measures peak RSS, gnuplot draws the plot, strace times one acquire's waits
# (perf, for its CPU profile, is used when installed: it must match the kernel).
BENCH_PKGS="time gnuplot-nox strace valgrind"

# The peers from bench/peers (their own Go module: client-go pinned in go.mod, go.sum
# committed) into build/peers, unless build/peers/stamp says they were built from the same
# sources with the same Go.
build_peers() {
	local out=$ROOT/build/peers stamp
	command -v go >/dev/null || die "bench: go is not installed (the peers need Go >= 1.26)"
	stamp=$(cd bench/peers && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) |
	    LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)-$(go env GOVERSION)
	if [ -x "$out/cmlock" ] && [ -x "$out/lelock" ] &&
	    [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
		say "peers in build/peers are up to date"
		return
	fi
	say "building the peers (bench/peers, client-go from the Go module proxy)"
	mkdir -p "$out"
	(cd bench/peers && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
	    go build -trimpath -ldflags=-s -o "$out/" ./cmlock ./lelock) ||
		die "building the peers failed"
	echo "$stamp" > "$out/stamp"
}

run_bench() {
	local o=build/musl-amd64
	need_packages "$BENCH_PKGS"
	build_static
	build_peers
	# The same link without strip, for perf's symbols (bench/anatomy.py).
	mkdir -p build/bench
	# shellcheck disable=SC2086
	$CC $STATIC_FLAGS $STATIC_LDFLAGS -o build/bench/carrier-lock.unstripped "$o/obj/main.o" \
	    "$o/obj/fmt.o" "$o/obj/alloc.o" "$o/libcarrier.a" "$VENDOR/bearssl-musl/libbearssl.a" $LDFLAGS ||
		die "linking build/bench/carrier-lock.unstripped failed"
	exec python3 bench/compare.py "$@"
}

case ${1:-static} in
(static)	build_static ;;
(asan)		build_asan ;;
(unit)		run_unit ;;
(fuzz)		run_fuzz "${2:-120}" ;;
(replay)	run_replay ;;
(deps)		deps; build_bearssl "$VENDOR/bearssl-musl" "$CC" "$BEARSSL_STATIC_FLAGS $AMD64_CFLAGS" gcc-ar ;;
(arm64)		build_musl arm64 build/arm64/carrier-lock; say "built build/arm64/carrier-lock" ;;
(release)	release ;;
(krew-manifest)	version_defs; krew_manifest ;;
(size)		build_static; size_report ;;
(soak)		shift; build_static; exec python3 tests/soak/soak.py "$@" ;;
(bench)		shift; run_bench "$@" ;;
(-h|--help|help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
(*)		die "unknown mode '$1' (try: ./build.sh --help)" ;;
esac

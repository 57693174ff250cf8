#!/usr/bin/env bash
# tests/run.sh: every test of carrier-lock, on a fresh machine too.
#
#  1. build packages (apt, as root) and the pinned third-party code (build.sh does both);
#  2. the test cluster's binaries and krew's manifest validator from pinned Go modules
#     (tests/cluster/build.sh, tests/krew/build.sh; cached);
#  3. the static binary, the same sources under ASan/UBSan, and the release (./build.sh
#     release: amd64 and arm64);
#  4. unit tests and fuzz-corpus replays, under the sanitizers;
#  5. the integration suite against a real local kube-apiserver + etcd, first with the
#     static binary, then the core of it (the actions, the process boundary, ownership)
#     again with the sanitizer build;
#  6. the benchmark's smoke run (./build.sh bench --quick: bench/README.md).
# Ends with one line "total: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0
failed=0

# count FILE: adds the numbers of the last line of FILE that says "N passed" (and
# maybe "N failed") to the totals; a file with no such line counts as one failure.
count() {
	local line p f
	line=$(grep -E '[0-9]+ passed|[0-9]+ failed' "$1" | tail -n 1 || true)
	p=$(sed -nE 's/.*(^|[^0-9])([0-9]+) passed.*/\2/p' <<<"$line")
	f=$(sed -nE 's/.*(^|[^0-9])([0-9]+) failed.*/\2/p' <<<"$line")
	[ -n "$line" ] || f=1
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

# Test-only packages (build packages are build.sh's business): python3 + pytest, valgrind;
# zsh and fish (completion), mandoc (man page lint), qemu-user-static (the arm64 binary).
command -v python3 >/dev/null || { apt-get update && apt-get install -y python3; }
command -v valgrind >/dev/null || { apt-get update && apt-get install -y valgrind; }
for p in zsh:zsh fish:fish mandoc:mandoc man:man-db qemu-aarch64-static:qemu-user-static; do
	command -v "${p%%:*}" >/dev/null ||
		{ apt-get update && apt-get install -y --no-install-recommends "${p#*:}"; }
done
python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q pytest ||
	{ apt-get update && apt-get install -y python3-pytest; }

./build.sh deps
tests/cluster/build.sh
tests/krew/build.sh
./build.sh
./build.sh asan
# The release (amd64 and arm64 binaries, tarballs, sums, krew manifest), built once here
# and once more by tests/test_release.py, which compares the two byte for byte.
release_t0=$(date +%s)
DIST=build/dist ./build.sh release
echo "release build: $(($(date +%s) - release_t0)) s"
export CARRIER_LOCK_RELEASE_DIR=$PWD/build/dist

status=0
./build.sh unit 2>&1 | tee "$log/unit" || status=1
# Each unit program ends with "N passed, N failed": add them all up.
while read -r p f; do
	passed=$((passed + p))
	failed=$((failed + f))
done < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log/unit")
./build.sh replay 2>&1 | tee "$log/replay" || { status=1; failed=$((failed + 1)); }

# pytest's own summary line ("12 passed, 1 failed in 3.2s") is counted too.
python3 -m pytest -q -p no:cacheprovider tests 2>&1 | tee "$log/pytest" || status=1
count "$log/pytest"

CARRIER_LOCK_BIN=$PWD/build/asan/carrier-lock python3 -m pytest -q -p no:cacheprovider \
	tests/test_lock.py tests/test_boundary.py tests/test_ownership.py tests/test_exec.py \
	tests/test_oidc.py 2>&1 |
	tee "$log/pytest-asan" || status=1
count "$log/pytest-asan"

# The benchmark's smoke run (about a minute): that the harness, the peers and the report
# work, never its numbers (./build.sh bench without --quick is the benchmark).
if ./build.sh bench --quick > "$log/bench" 2>&1; then
	passed=$((passed + 1))
else
	tail -n 40 "$log/bench"
	failed=$((failed + 1))
	status=1
fi

[ "$status" = 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "total: $passed passed, $failed failed"
exit "$status"

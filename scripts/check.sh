#!/bin/bash
# check.sh: every test, as `make check` runs them (after scripts/deps.sh): the normal build
# with its unit tests and the suites that need it (the browsers, the faults, PostgreSQL
# twins: ctest label normal), the ASan+UBSan build with the unit tests and every
# integration suite, the fuzzers, and the sanitized unit tests with one allocation failing
# (tests/allocfail). Each integration suite runs once, sanitized unless it needs the normal
# build: make check is bound by processor time, and running each twice cost a third of it.
#
# The tests wait more than they compute (for nodes to start, leases to run out, sockets to
# close), so the machine has cores to spare while they run. The work that only needs CPU
# fills them at the lowest priority (SCHED_IDLE, niced), where it takes nothing the tests
# want: the sanitized and fuzzing builds compile while the normal tests run, and the
# fuzzers run while the sanitized tests do. On a machine busy with other work the
# background work simply waits, and the result is the same as running it all in turn.
# The fault suite (ctest label `faults`), which mostly waits for networks and leases, runs
# beside the normal tests' slots rather than in one; the browser suites (label `browser`)
# run after it, since it changes the network interfaces under Chromium.
#
# Environment: BUILD, BUILD_ASAN, BUILD_FUZZ (build folders), JOBS (parallel tests and
# compilers; default: the number of processors), FUZZ_SECONDS (new inputs per fuzz target;
# 15: every seed of the corpus runs first in any case; `make soak` gives each 10 minutes).
# An idle fuzzer may wait for a processor, so one input may take 60 s here (10 in a soak).
# The new inputs use the time the sanitized tests leave: once those have ended, a fuzzer
# still running stops after its seeds and 3 s of new inputs (FUZZ_MIN_SECONDS), so that on
# a busy machine the run does not wait minutes for them (tests/fuzz/run).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BUILD_ASAN=${BUILD_ASAN:-build-asan}
BUILD_FUZZ=${BUILD_FUZZ:-build-fuzz}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
# people's passwords hashed at Argon2id's least cost in every suite: a sign-in otherwise
# costs 0.13 s of processor time and 64 MiB of fresh memory, and the suites sign in
# hundreds of times (test_crypto checks both costs; a node warns that it is set)
export FATHOM_TEST_WEAK_PASSWORD_HASH=1
# every reloaded table stored in column layout, however small (the default is a million
# rows and more: tests/integration/upgrade.bats unsets it to check that default)
export FATHOM_COLUMN_TABLES_MIN_ROWS=0
logs=$(mktemp -d "${TMPDIR:-/tmp}/fathom-check.XXXXXX")
trap 'rm -rf "$logs"' EXIT
started=$SECONDS

# the lowest priority there is: SCHED_IDLE where chrt can set it, and niced in any case
idle() {
	if chrt --idle 0 true 2>/dev/null; then
		nice -n 19 chrt --idle 0 "$@"
	else
		nice -n 19 "$@"
	fi
}

step() { printf '\n== %s (%d min %02d s in)\n' "$1" $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)); }

# Waits for background job $1 (its output in $2); on failure shows the output's end.
finish() {
	if ! wait "$1"; then
		echo "check: $3 failed; the end of its output:" >&2
		tail -n 60 "$2" >&2
		return 1
	fi
}

step "the normal build"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
cmake --build "$BUILD" -j "$JOBS" || exit 1

step "the normal tests; the sanitized and fuzzing builds compile meanwhile"
# (the sanitized build first: its tests start once it is done, the fuzzing build may go on
# beside them; each end is marked by a file, since the fuzzers' job is no child of the
# builds')
(
	if idle cmake -S . -B "$BUILD_ASAN" -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON >/dev/null &&
		idle cmake --build "$BUILD_ASAN" -j "$JOBS"; then
		touch "$logs/asan-built"
	else
		touch "$logs/asan-failed"
		exit 1
	fi
	if CC=clang idle cmake -S . -B "$BUILD_FUZZ" -DCMAKE_BUILD_TYPE=Debug -DFUZZ=ON \
		-DFUZZ_SECONDS="$FUZZ_SECONDS" -DFUZZ_TIMEOUT=60 >/dev/null &&
		idle cmake --build "$BUILD_FUZZ" -j "$JOBS"; then
		touch "$logs/fuzz-built"
	else
		touch "$logs/fuzz-failed"
		exit 1
	fi
) >"$logs/builds" 2>&1 &
builds=$!
# waitfor NAME: until $logs/NAME-built or $logs/NAME-failed exists; fails on the second
waitfor() {
	while [ ! -e "$logs/$1-built" ] && [ ! -e "$logs/$1-failed" ]; do sleep 1; done
	[ -e "$logs/$1-built" ]
}
# (bats itself, not a second ctest in the same build folder, whose logs would clash)
case $BUILD in /*) fathom=$BUILD/fathom ;; *) fathom=$PWD/$BUILD/fathom ;; esac
SMB_TESTS='the share|killed under load' # (as ctest's faults/smb)
(
	t0=$SECONDS
	FATHOM=$fathom timeout 900 bats --tap tests/faults/faults.bats
	rc=$?
	# the tests about the share again, with the share over SMB (Samba and smbnetfs)
	FATHOM=$fathom LAB_SHARE=smb timeout 600 bats --tap -f "$SMB_TESTS" tests/faults/faults.bats ||
		rc=1
	echo "the fault suite (sshfs, then SMB): $((SECONDS - t0)) s, beside the other tests"
	exit $rc
) >"$logs/faults" 2>&1 &
faults=$!
# (of the integration suites, those the sanitized build does not run: label normal)
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" -L 'unit|lint|normal' -LE 'faults|browser'
normal=$?
finish $faults "$logs/faults" "the fault suite" || exit 1
grep -E '^(ok|not ok|the fault suite)' "$logs/faults"
# the browser suites once the fault suite is done: Chromium drops its requests when the
# machine's network interfaces change, as the fault suite's namespaces make them do
# (the console's suite, a bats file, runs with the sanitized build's node, as the other bats
# suites do: not here a second time)
step "the browser suites"
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" -L browser -E '^integration/console$' ||
	normal=1
if [ $normal -ne 0 ]; then
	wait $builds # (nothing left compiling behind)
	exit 1
fi
if ! waitfor asan; then
	finish $builds "$logs/builds" "the sanitized build"
	exit 1
fi

step "the sanitized tests; the fuzzers and the allocation-failure runs meanwhile"
# (the fuzzers once their build is done)
(waitfor fuzz && FUZZ_STOP=$logs/fuzz-stop idle ctest --test-dir "$BUILD_FUZZ" \
	--output-on-failure -j "$JOBS") >"$logs/fuzz" 2>&1 &
fuzz=$!
# the sanitized unit tests with one allocation failing, a few places each (make soak: many)
ALLOC_SAMPLES=8 ALLOC_BUDGET=8 idle tests/allocfail/run "$BUILD_ASAN" >"$logs/allocfail" 2>&1 &
allocfail=$!
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir "$BUILD_ASAN" --output-on-failure -j "$JOBS" -LE lint
sanitized=$?
# the fuzzers' new inputs were spare-time work: what is left of them ends after a few
# seconds each (tests/fuzz/run; every seed runs in any case)
touch "$logs/fuzz-stop"
step "the fuzzers and the allocation failures"
finish $builds "$logs/builds" "the fuzzing build" || exit 1
finish $fuzz "$logs/fuzz" "fuzzing" || exit 1
grep -E "tests passed|Total Test time" "$logs/fuzz"
if ! wait $allocfail; then
	echo "check: an allocation failure went wrong:" >&2
	grep -v '^allocfail: test_.* passed' "$logs/allocfail" | tail -n 150 >&2
	exit 1
fi
tail -n 1 "$logs/allocfail"
[ $sanitized -eq 0 ] || exit 1
step "all suites passed"

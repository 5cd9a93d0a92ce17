#!/usr/bin/env bash
# atf-recover's command line on a session cut the way SIGKILL cuts it: exit codes 2 (tail kept),
# 0 (recovered with --truncate), 1 (already valid, untouched), 3 (usage).
set -uo pipefail
recover="$TEST_SRCDIR/atf_v4/recover/atf-recover"
demo="$TEST_SRCDIR/atf_v4/examples/demo"
out="$TEST_TMPDIR/out"
"$demo" --threads 2 --events 4000 --work 10 --out "$out" >/dev/null  # exit code: not under test
dir=$(ls -d "$out"/session_*/pid_* | head -1)
[[ -f "$dir/events.bin" ]] || { echo "no session"; exit 1; }
rm -f "$dir/trace.json"
size=$(stat -c %s "$dir/events.bin")
truncate -s $((size - 3)) "$dir/events.bin"  # a torn TraceEnd

fail() { echo "FAIL: $*"; exit 1; }
"$recover" >/dev/null 2>&1; [[ $? == 3 ]] || fail "usage must exit 3"
"$recover" "$dir"; rc=$?
[[ $rc == 2 ]] || fail "without --truncate: want 2 (tail kept), got $rc"
[[ $(stat -c %s "$dir/events.bin") == $((size - 3)) ]] || fail "events.bin changed without --truncate"
[[ -f "$dir/trace.json" ]] || fail "no manifest written"
grep -q '"recovered": true' "$dir/trace.json" || fail "manifest not marked recovered"
"$recover" --dry-run --truncate "$dir"; rc=$?
[[ $rc == 0 ]] || fail "dry run: want 0, got $rc"
[[ $(stat -c %s "$dir/events.bin") == $((size - 3)) ]] || fail "dry run changed events.bin"
"$recover" --truncate --exit-code 137 "$dir"; rc=$?
[[ $rc == 0 ]] || fail "--truncate: want 0, got $rc"
"$recover" "$dir"; rc=$?
[[ $rc == 1 ]] || fail "a valid session: want 1 (untouched), got $rc"
echo PASS

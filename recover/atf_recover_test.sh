#!/usr/bin/env bash
# atf-recover's command line on a session cut the way SIGKILL cuts it: exit codes 2 (tail kept),
# 0 (recovered with --truncate), 1 (already valid, untouched), 3 (usage); the option grammar it
# shares with atf-validate and atf-dump (--opt VALUE / --opt=VALUE, --, one-line usage errors).
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
usage() {  # usage ARGS...: exit 3, one line on stderr, nothing on stdout
  local err
  err=$("$recover" "$@" 2>&1 >/dev/null); local rc=$?
  [[ $rc == 3 ]] || fail "'$*': want exit 3, got $rc"
  [[ $(printf '%s\n' "$err" | wc -l) == 1 && -n $err ]] || fail "'$*': want one line, got: $err"
}
usage --exit-code "" "$dir"
usage --exit-code=1K "$dir"
usage --exit-code 2147483648 "$dir"
usage --exit-code
usage --truncate=yes "$dir"
usage --bogus "$dir"
usage --engine "$dir"
usage --engine=bogus "$dir"
usage --engine= "$dir"
usage --engine=UPB "$dir"
usage --truncate --salvage "$dir"
usage "$dir" "$dir"
"$recover" --help >/dev/null 2>&1; [[ $? == 0 ]] || fail "--help must exit 0"
"$recover" --help | grep -q -- "--salvage" || fail "--help must list --salvage"
"$recover" --version >/dev/null 2>&1; [[ $? == 0 ]] || fail "--version must exit 0"
[[ $(stat -c %s "$dir/events.bin") == $((size - 3)) ]] || fail "a usage error changed events.bin"
"$recover" "$dir"; rc=$?
[[ $rc == 2 ]] || fail "without --truncate: want 2 (tail kept), got $rc"
[[ $(stat -c %s "$dir/events.bin") == $((size - 3)) ]] || fail "events.bin changed without --truncate"
[[ -f "$dir/trace.json" ]] || fail "no manifest written"
grep -q '"recovered":[[:space:]]*true' "$dir/trace.json" || fail "manifest not marked recovered"
"$recover" --dry-run --truncate "$dir"; rc=$?
[[ $rc == 0 ]] || fail "dry run: want 0, got $rc"
for engine in upb nanopb both; do  # each engine, both spellings: the same verdict
  "$recover" --dry-run --truncate --engine "$engine" "$dir" >/dev/null; rc=$?
  [[ $rc == 0 ]] || fail "dry run, --engine $engine: want 0, got $rc"
  "$recover" --dry-run --truncate --engine="$engine" "$dir" >/dev/null; rc=$?
  [[ $rc == 0 ]] || fail "dry run, --engine=$engine: want 0, got $rc"
done
[[ $(stat -c %s "$dir/events.bin") == $((size - 3)) ]] || fail "dry run changed events.bin"
out=$("$recover" --truncate --exit-code=137 -- "$dir"); rc=$?
[[ $rc == 0 ]] || fail "--truncate: want 0, got $rc"
# The torn TraceEnd's bytes are kept, and the summary names where.
[[ -s "$dir/events.bin.cut" ]] || fail "no events.bin.cut"
[[ $out == *"kept in events.bin.cut"* ]] || fail "the summary does not name the side file: $out"
[[ -f "$dir/trace.json.invalid" ]] || fail "the first manifest was not kept"
"$recover" "$dir"; rc=$?
[[ $rc == 1 ]] || fail "a valid session: want 1 (untouched), got $rc"
echo PASS

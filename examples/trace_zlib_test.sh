#!/usr/bin/env bash
# The main job must round-trip its input, leave two sessions the validator accepts, and say so.
set -euo pipefail
cd "$TEST_SRCDIR/atf_v4"
out="$TEST_TMPDIR/zlib-out"
examples/trace_zlib --mb 1 --out "$out" --top 3 | tee "$TEST_TMPDIR/log"
grep -q 'decompress: round trip OK$' "$TEST_TMPDIR/log"
[[ $(grep -c '^  validator  VALID$' "$TEST_TMPDIR/log") == 2 ]]
grep -q ' deflate$' "$TEST_TMPDIR/log" || grep -q 'deflate' "$TEST_TMPDIR/log"
grep -q '^  session    '"$out"'/session_' "$TEST_TMPDIR/log"
[[ $(ls -d "$out"/session_*/pid_*/trace.json | wc -l) == 2 ]]

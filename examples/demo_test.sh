#!/usr/bin/env bash
# The demo must produce a session the validator accepts, and say so.
set -euo pipefail
demo="$TEST_SRCDIR/atf_v4/examples/demo"
out="$TEST_TMPDIR/demo-out"
"$demo" --threads 3 --events 60000 --out "$out" --signal-every 100 | tee "$TEST_TMPDIR/log"
grep -q '^validator  VALID' "$TEST_TMPDIR/log"
grep -q '^session    '"$out"'/session_' "$TEST_TMPDIR/log"
ls "$out"/session_*/pid_*/trace.json >/dev/null

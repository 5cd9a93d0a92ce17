#!/usr/bin/env bash
# The demo must produce a session the validator accepts, and say so.
set -euo pipefail
demo="$TEST_SRCDIR/atf_v4/examples/demo"
out="$TEST_TMPDIR/demo-out"
"$demo" --threads 3 --events 60000 --out "$out" --signal-every 100 | tee "$TEST_TMPDIR/log"
grep -q '^validator  VALID' "$TEST_TMPDIR/log"
grep -q '^session    '"$out"'/session_' "$TEST_TMPDIR/log"
ls "$out"/session_*/pid_*/trace.json >/dev/null

# --overflow block with tiny rings and a workload that outruns the writer: nothing is dropped.
"$demo" --threads 4 --events 200000 --work 0 --ring-kib 4 --overflow block --out "$out/block" \
  --signal-every 0 | tee "$TEST_TMPDIR/block"
grep -q '^validator  VALID' "$TEST_TMPDIR/block"
grep -q '^drops      0 (0.00%)' "$TEST_TMPDIR/block"

# The default (drop) with the same pressure drops whole call subtrees: the session validates and
# its Chrome export has no E without its B and no B left open.
"$demo" --threads 4 --events 400000 --work 0 --ring-kib 64 --out "$out/drop" | tee "$TEST_TMPDIR/drop"
grep -q '^validator  VALID' "$TEST_TMPDIR/drop"
session=$(sed -n 's/^session    //p' "$TEST_TMPDIR/drop")
"$TEST_SRCDIR/atf_v4/validator/atf-dump" --format=chrome "$session" > "$TEST_TMPDIR/chrome.json"
python3 - "$TEST_TMPDIR/chrome.json" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
stacks, b, e = {}, 0, 0
for ev in events:
    if ev["ph"] == "B":
        stacks.setdefault(ev["tid"], []).append(ev["name"])
        b += 1
    elif ev["ph"] == "E":
        st = stacks.get(ev["tid"])
        assert st, "an E without its B: %r" % ev
        st.pop()
        e += 1
open_b = sum(len(s) for s in stacks.values())
assert open_b == 0, "%d B never closed" % open_b
assert b == e and b > 0, (b, e)
print("chrome export balanced: %d B, %d E" % (b, e))
PY

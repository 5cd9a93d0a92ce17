#!/usr/bin/env bash
# Line coverage, offline: builds and runs the test suite with clang's source-based coverage
# (--config=coverage), merges the raw profiles with llvm-profdata and prints llvm-cov's per-file
# summary for the project's own sources (generated code, tests and external code excluded).
#
#   tools/coverage.sh [--gate PERCENT DIR...] [bazel test target patterns, default //...]
#
# With --gate, exits 1 when any listed directory's total line coverage is below PERCENT.
# COVERAGE_SHOW=REGEX in the environment also lists the unexecuted lines of matching files.
set -uo pipefail
cd "$(dirname "$0")/.."

gate=""
gate_dirs=()
if [[ ${1:-} == --gate ]]; then
  gate=$2; shift 2
  while (($#)) && [[ $1 != //* ]]; do gate_dirs+=("${1%/}"); shift; done
fi
targets=("$@")
((${#targets[@]})) || targets=(//...)

profdir=$(mktemp -d /tmp/atf-coverage.XXXXXX)
trap 'rm -rf "$profdir"' EXIT

bazel test --config=coverage --test_env=LLVM_PROFILE_FILE="$profdir/%p-%m.profraw" \
  --cache_test_results=no "${targets[@]}" 2>&1 | grep -v linux-sandbox | tail -n 3

shopt -s nullglob
raws=("$profdir"/*.profraw)
if ((${#raws[@]} == 0)); then
  echo "coverage: no profiles were written" >&2
  exit 2
fi
llvm-profdata merge -sparse -o "$profdir/merged.profdata" "${raws[@]}"

bin=$(bazel info --config=coverage bazel-bin 2>/dev/null)
objects=()
for t in $(bazel query "kind('cc_test|cc_binary', set(${targets[*]}))" 2>/dev/null); do
  path=${t#//}; path=${path/://}
  [[ -x "$bin/$path" ]] && objects+=(-object "$bin/$path")
done

# Not measured: generated code, external code, tests and their helpers, fuzz and benchmark drivers.
ignore='(^|/)(external|bazel-out)/|_test\.cc$|_regen\.cc$|\.pb-c\.|\.npb\.|\.pb\.|/usr/|^fuzz/|^bench/|/testing/|_fuzzer\.cc$|fuzz_check\.cc$|_benchmark\.cc$'
# Per-file line coverage from llvm-cov's JSON export (paths made relative to the workspace; the
# compile paths are /proc/self/cwd/<file>), then the optional gate per directory.
llvm-cov export -summary-only --ignore-filename-regex="$ignore" \
  -instr-profile="$profdir/merged.profdata" "${objects[@]:1}" 2>/dev/null > "$profdir/summary.json"
python3 - "$profdir/summary.json" "$gate" "${gate_dirs[@]}" <<'PY'
import json, sys
summary, gate, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
files = {}
for data in json.load(open(summary))["data"]:
    for f in data["files"]:
        name = f["filename"].replace("/proc/self/cwd/", "", 1)
        lines = f["summary"]["lines"]
        if lines["count"]:
            files[name] = (lines["count"], lines["count"] - lines["covered"])
width = max([len(n) for n in files] + [8])
print(f"{'file':<{width}}  {'lines':>6}  {'missed':>6}  {'cover':>7}")
total = [0, 0]
for name in sorted(files):
    count, missed = files[name]
    total[0] += count; total[1] += missed
    print(f"{name:<{width}}  {count:>6}  {missed:>6}  {100.0 * (count - missed) / count:>6.2f}%")
if total[0]:
    print(f"{'TOTAL':<{width}}  {total[0]:>6}  {total[1]:>6}  {100.0 * (total[0] - total[1]) / total[0]:>6.2f}%")
failed = False
for d in dirs:
    d = d.rstrip("/") + "/"
    count = sum(c for n, (c, m) in files.items() if n.startswith(d))
    missed = sum(m for n, (c, m) in files.items() if n.startswith(d))
    if count == 0:
        print(f"coverage gate: no lines found under {d}"); failed = True; continue
    pct = 100.0 * (count - missed) / count
    ok = pct >= float(gate)
    print(f"coverage gate: {d} {pct:.2f}% of {count} lines ({'ok' if ok else 'BELOW'}, gate {gate}%)")
    failed |= not ok
sys.exit(1 if failed else 0)
PY
status=$?

# COVERAGE_SHOW=REGEX prints the source lines of matching files that no test executed.
if [[ -n ${COVERAGE_SHOW:-} ]]; then
  llvm-cov show --ignore-filename-regex="$ignore" -instr-profile="$profdir/merged.profdata" \
    "${objects[@]:1}" 2>/dev/null | awk -v re="$COVERAGE_SHOW" '
      /^[^ |].*:$/ { file = substr($0, 1, length($0) - 1); sub(/^\/proc\/self\/cwd\//, "", file); show = (file ~ re) }
      show && /^ *[0-9]+\| *0\|/ { print file ": " $0 }'
fi
exit $status

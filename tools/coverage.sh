#!/usr/bin/env bash
# Line coverage, offline: builds and runs the test suite with clang's source-based coverage
# (--config=coverage), merges the raw profiles with llvm-profdata and prints llvm-cov's per-file
# summary for the project's own sources (generated code, tests and external code excluded).
#
#   tools/coverage.sh [--gate PERCENT DIR...] [bazel test target patterns, default //...]
#
# With --gate, exits 1 when any listed directory's total line coverage is below PERCENT.
set -euo pipefail
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

ignore='(^|/)(external|bazel-out)/|_test\.cc$|\.pb-c\.|\.npb\.|\.pb\.|/usr/|^fuzz/|^bench/|_fuzz\.c$'
report=$(llvm-cov report --ignore-filename-regex="$ignore" -instr-profile="$profdir/merged.profdata" \
  "${objects[@]:1}" 2>/dev/null)
echo "$report"

[[ -n $gate ]] || exit 0
fail=0
for dir in "${gate_dirs[@]}"; do
  # Columns of llvm-cov report: Filename Regions Missed Cover Functions Missed Executed Lines Missed Cover ...
  read -r total missed < <(echo "$report" | awk -v d="$dir/" 'index($1, d) == 1 { t += $8; m += $9 } END { print t + 0, m + 0 }')
  if ((total == 0)); then
    echo "coverage gate: no lines found under $dir/"; fail=1; continue
  fi
  pct=$(awk -v t="$total" -v m="$missed" 'BEGIN { printf "%.2f", 100 * (t - m) / t }')
  verdict=$(awk -v p="$pct" -v g="$gate" 'BEGIN { print (p + 0 >= g + 0) ? "ok" : "BELOW" }')
  echo "coverage gate: $dir/ $pct% of $total lines ($verdict, gate $gate%)"
  [[ $verdict == ok ]] || fail=1
done
exit $fail

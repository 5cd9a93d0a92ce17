#!/usr/bin/env bash
# fuzz/coverage.sh [CORPUS_ROOT]: line coverage of the toolkit's sources reached by the fuzz
# corpora alone. Builds the standalone replay binaries of the targets in fuzz/targets.txt with
# clang's source-based coverage (--config=coverage, outputs kept apart with
# --platform_suffix=-cov), replays fuzz/corpus/<target>, fuzz/regressions/<target> and, when
# given, CORPUS_ROOT/<target> (a campaign's output corpus), and prints llvm-cov's per-file line
# coverage of writer/, validator/ and recover/ (generated code, tests and drivers excluded) per
# target and merged.
#
#   BAZEL_STARTUP="--output_base=/root/.cache/bazel_fuzz" fuzz/coverage.sh /tmp/atf_campaign/corpora
set -uo pipefail
root=${1:-}
cd "$(dirname "$0")/.."
bazel=${BAZEL:-bazel}
read -r -a startup <<< "${BAZEL_STARTUP:-}"
flags=(--config=coverage --platform_suffix=-cov)
. fuzz/targets.sh
atf_fuzz_targets . || exit 1
labels=()
for t in "${targets[@]}"; do labels+=("//fuzz:${t}_fuzzer"); done
"$bazel" "${startup[@]}" build "${flags[@]}" "${labels[@]}" 2>&1 | grep -v linux-sandbox | tail -1
bin="$("$bazel" "${startup[@]}" info "${flags[@]}" bazel-bin 2>/dev/null)/fuzz"

prof=$(mktemp -d "${TMPDIR:-/tmp}/atf_fuzz_cov.XXXXXX")
trap 'rm -rf "$prof"' EXIT
objects=()
for t in "${targets[@]}"; do
  inputs=("fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && inputs+=("fuzz/regressions/$t")
  [ -n "$root" ] && [ -d "$root/$t" ] && inputs+=("$root/$t")
  LLVM_PROFILE_FILE="$prof/$t-%p.profraw" "$bin/${t}_fuzzer" "${inputs[@]}" > "$prof/$t.log" 2>&1 ||
    { echo "coverage: $t failed on its corpus:"; tail -5 "$prof/$t.log"; exit 1; }
  llvm-profdata merge -sparse -o "$prof/$t.profdata" "$prof/$t"-*.profraw
  objects+=(-object "$bin/${t}_fuzzer")
done
llvm-profdata merge -sparse -o "$prof/all.profdata" "$prof"/*.profdata

ignore='(^|/)(external|bazel-out)/|_test\.cc$|\.pb-c\.|\.npb\.|\.pb\.|/usr/|^/proc/self/cwd/(fuzz|bench|pipeline|proto)/|/testing/|fuzz_check\.cc$'
summary() {  # summary PROFDATA OBJECT...: "file lines missed cover" for writer/ validator/ recover/
  llvm-cov export -summary-only --ignore-filename-regex="$ignore" -instr-profile="$1" "${@:2}" 2>/dev/null |
    python3 -c '
import json, sys
rows, tot = [], [0, 0]
for d in json.load(sys.stdin)["data"]:
    for f in d["files"]:
        n = f["filename"].replace("/proc/self/cwd/", "", 1)
        if not n.startswith(("writer/", "validator/", "recover/")): continue
        l = f["summary"]["lines"]
        if l["count"]:
            rows.append((n, l["count"], l["count"] - l["covered"])); tot[0] += l["count"]; tot[1] += l["count"] - l["covered"]
for n, c, m in sorted(rows): print("  %-36s %6d %6d %7.2f%%" % (n, c, m, 100.0 * (c - m) / c))
if tot[0]: print("  %-36s %6d %6d %7.2f%%" % ("TOTAL", tot[0], tot[1], 100.0 * (tot[0] - tot[1]) / tot[0]))'
}
for t in "${targets[@]}"; do
  echo "== ${t}_fuzzer ($(sed -n 's/^replay: //p' "$prof/$t.log"))"
  summary "$prof/$t.profdata" -object "$bin/${t}_fuzzer" | tail -1
done
echo "== all targets, per file"
printf '  %-36s %6s %6s %8s\n' file lines missed cover
summary "$prof/all.profdata" "${objects[@]}"

#!/usr/bin/env bash
# fuzz/smoke.sh SECONDS: builds every fuzz target listed in fuzz/targets.txt with --config=fuzz
# (libFuzzer + ASan + UBSan) and runs each for SECONDS (default 60) on a scratch copy of its seed
# corpus, with its dictionary.
# Fails when any target reports a finding (crash, sanitizer report, failed check, leak, timeout,
# out-of-memory); prints per-target executions, coverage and corpus size.
#
#   fuzz/smoke.sh 60
#   BAZEL_STARTUP="--output_base=/root/.cache/bazel_fuzz" fuzz/smoke.sh 10
#
# The fuzz build uses --platform_suffix=-fuzz so its outputs live beside, not over, the plain
# build's (both are k8-fastbuild otherwise, and switching would rebuild everything).
set -uo pipefail

secs=${1:-60}
cd "$(dirname "$0")/.."
bazel=${BAZEL:-bazel}
read -r -a startup <<< "${BAZEL_STARTUP:-}"
flags=(--config=fuzz --platform_suffix=-fuzz)
. fuzz/targets.sh
atf_fuzz_targets . || exit 1

labels=()
for t in "${targets[@]}"; do labels+=("//fuzz:${t}_fuzzer"); done
if ! "$bazel" "${startup[@]}" build "${flags[@]}" "${labels[@]}" 2>&1 | grep -v linux-sandbox | tail -3; then
  echo "smoke: build failed" >&2
  exit 1
fi
bin="$("$bazel" "${startup[@]}" info "${flags[@]}" bazel-bin 2>/dev/null)/fuzz"

work=$(mktemp -d "${TMPDIR:-/tmp}/atf_fuzz_smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
printf '%-18s %8s %10s %8s %8s %8s  %s\n' target seconds execs cov ft corpus result
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  inputs=("fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && inputs+=("fuzz/regressions/$t")
  log="$work/$t.log"
  "$bin/${t}_fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
      -dict="fuzz/$t.dict" -artifact_prefix="$work/$t-" "$work/$t" "${inputs[@]}" > "$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FINDING (exit $rc)"
    failed=1
  fi
  printf '%-18s %8s %10s %8s %8s %8s  %s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|check failed|differ|invariant|Test unit written' "$log" | head -20 >&2
    mkdir -p "${ATF_FUZZ_ARTIFACTS:-/tmp/atf_fuzz_artifacts}"
    cp "$work/$t"-* "${ATF_FUZZ_ARTIFACTS:-/tmp/atf_fuzz_artifacts}/" 2>/dev/null || true
    echo "smoke: $t: reproducer copied to ${ATF_FUZZ_ARTIFACTS:-/tmp/atf_fuzz_artifacts}/" >&2
  fi
done
exit "$failed"

#!/usr/bin/env bash
# fuzz/check_targets.sh [REPO]: checks that fuzz/targets.txt, the one list of fuzz targets, agrees
# with the tree: every atf_fuzz_target(name = "<t>_fuzzer") in fuzz/BUILD.bazel is listed and every
# listed <t> has that rule, fuzz/<t>_fuzzer.cc, fuzz/<t>.dict and a non-empty fuzz/corpus/<t>/.
# Prints one line per problem; exit 0 when there is none, 1 otherwise.
set -uo pipefail
repo=${1:-.}
. "$repo/fuzz/targets.sh"
atf_fuzz_targets "$repo" || exit 1
problems=0
problem() { echo "fuzz/targets.txt: $*"; problems=$((problems + 1)); }

# Names of atf_fuzz_target rules: the name attribute on the line after "atf_fuzz_target(".
mapfile -t rules < <(awk '/^atf_fuzz_target\(/ { want = 1; next }
  want && /name *= *"/ { match($0, /"[^"]*"/); print substr($0, RSTART + 1, RLENGTH - 2); want = 0 }' \
  "$repo/fuzz/BUILD.bazel" | sed 's/_fuzzer$//')
[ "${#rules[@]}" -gt 0 ] || problem "no atf_fuzz_target found in fuzz/BUILD.bazel"

declare -A listed=()
for t in "${targets[@]}"; do
  [ -z "${listed[$t]:-}" ] || problem "$t listed twice"
  listed[$t]=1
  printf '%s\n' "${rules[@]}" | grep -qx -- "$t" || problem "$t has no atf_fuzz_target(name = \"${t}_fuzzer\") in fuzz/BUILD.bazel"
  [ -f "$repo/fuzz/${t}_fuzzer.cc" ] || problem "$t: fuzz/${t}_fuzzer.cc missing"
  [ -f "$repo/fuzz/$t.dict" ] || problem "$t: fuzz/$t.dict missing"
  [ -n "$(ls -A "$repo/fuzz/corpus/$t" 2>/dev/null)" ] || problem "$t: fuzz/corpus/$t/ missing or empty"
done
for r in "${rules[@]}"; do
  [ -n "${listed[$r]:-}" ] || problem "${r}_fuzzer is built in fuzz/BUILD.bazel but not listed"
done
if [ "$problems" -gt 0 ]; then exit 1; fi
echo "fuzz/targets.txt: ${#targets[@]} targets, consistent with fuzz/BUILD.bazel (${targets[*]})"

#!/usr/bin/env bash
# fuzz/oss-fuzz/check_build.sh [--keep]: runs fuzz/oss-fuzz/build.sh the way OSS-Fuzz's `compile`
# step runs it, here, without Docker, and checks what it produced.
#
# What is reproduced (google/oss-fuzz, infra/base-images/base-builder: Dockerfile and `compile`):
#   - the layout: the repository checked out in $SRC/atf_v4 (our Dockerfile's clone; here a copy of
#     this working tree's tracked and untracked, not ignored, files), build.sh copied to
#     $SRC/build.sh, the working directory $SRC/atf_v4 (our Dockerfile's WORKDIR), empty $OUT and
#     $WORK; build.sh run as `bash -eux $SRC/build.sh` in an environment holding only what OSS-Fuzz
#     sets (env -i; PATH and HOME kept);
#   - the default configuration: SANITIZER=address, FUZZING_ENGINE=libfuzzer, ARCHITECTURE=x86_64,
#     CC=clang, CXX=clang++, CFLAGS = base flags + $SANITIZER_FLAGS_address + $COVERAGE_FLAGS,
#     CXXFLAGS = $CFLAGS + $CXXFLAGS_EXTRA (-stdlib=libc++), LIB_FUZZING_ENGINE=-fsanitize=fuzzer.
# What is not: the base-builder image itself (its clang is a recent build, ours Debian's clang 14;
# its packages are Ubuntu's), and cJSON: the Dockerfile clones it into $SRC/cJSON, which needs the
# network, so here build.sh links the distribution's libcjson instead (its documented fallback).
#
# Checks, for every target in fuzz/targets.txt: $OUT/<t>_fuzzer is an executable that contains
# libFuzzer and AddressSanitizer; $OUT/<t>_fuzzer.dict equals fuzz/<t>.dict; the seed corpus zip
# holds every file of fuzz/corpus/<t> and fuzz/regressions/<t>; the fuzzer replays that whole zip
# (libFuzzer -runs=0 on the unzipped seeds) and then runs 300 more inputs (-runs=300, -seed=1)
# without a finding, and says so ("Done ... runs"). Counts, not wall-clock limits, bound every run.
# Exit 0 when all hold, 1 otherwise. --keep keeps the scratch directory and prints where it is.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
keep=0
[ "${1:-}" = "--keep" ] && keep=1
. "$repo/fuzz/targets.sh"
atf_fuzz_targets "$repo" || exit 1

scratch=$(mktemp -d "${TMPDIR:-/tmp}/atf_ossfuzz.XXXXXX")
if [ "$keep" = 1 ]; then echo "check_build: scratch directory $scratch"; else trap 'rm -rf "$scratch"' EXIT; fi
src=$scratch/src out=$scratch/out work=$scratch/work
mkdir -p "$src/atf_v4" "$out" "$work"

# The checkout: what git would clone plus uncommitted work (ignored files such as bazel-* left out).
if git -C "$repo" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  git -C "$repo" ls-files -z --cached --others --exclude-standard |
    (cd "$repo" && xargs -0 tar -cf - --no-recursion --ignore-failed-read 2>/dev/null) |
    tar -xf - -C "$src/atf_v4"
else
  tar -C "$repo" --exclude='./bazel-*' -cf - . | tar -xf - -C "$src/atf_v4"
fi
cp "$repo/fuzz/oss-fuzz/build.sh" "$src/build.sh"

base_cflags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
sanitizer_flags="-fsanitize=address -fsanitize-address-use-after-scope"
coverage_flags="-fsanitize=fuzzer-no-link"
cflags="$base_cflags $sanitizer_flags $coverage_flags"
start=$(date +%s)
echo "check_build: bash -eux \$SRC/build.sh (SRC=$src)"
(cd "$src/atf_v4" && env -i PATH="$PATH" HOME="${HOME:-/root}" \
    SRC="$src" OUT="$out" WORK="$work" \
    SANITIZER=address FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64 FUZZING_LANGUAGE=c++ \
    CC=clang CXX=clang++ CFLAGS="$cflags" CXXFLAGS="$cflags -stdlib=libc++" \
    LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
    bash -eux "$src/build.sh") > "$scratch/build.log" 2>&1
rc=$?
echo "check_build: build.sh exited $rc after $(( $(date +%s) - start )) s"
if [ "$rc" -ne 0 ]; then
  tail -25 "$scratch/build.log"
  exit 1
fi

failed=0
check_target() {  # check_target T: prints each problem; returns 1 if there was one
  local t=$1 bin=$out/${1}_fuzzer seeds=$work/seeds_$1 log want got ok=0
  bad() { echo "check_build: $t: $*"; ok=1; }
  [ -x "$bin" ] || { bad "$bin missing or not executable"; return 1; }
  nm "$bin" > "$work/$t.nm" 2>/dev/null  # to a file: `nm | grep -q` fails under pipefail (SIGPIPE)
  grep -q 'LLVMFuzzerRunDriver' "$work/$t.nm" || bad "no libFuzzer in $bin"
  grep -q '__asan_report_load' "$work/$t.nm" || bad "no AddressSanitizer in $bin"
  cmp -s "$bin.dict" "$repo/fuzz/$t.dict" || bad "$bin.dict differs from fuzz/$t.dict"
  want=$(find "$repo/fuzz/corpus/$t" "$repo/fuzz/regressions/$t" -type f 2>/dev/null | wc -l)
  mkdir -p "$seeds" "$work/corpus_$t"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      "${bin}_seed_corpus.zip" "$seeds" || bad "cannot unzip ${bin}_seed_corpus.zip"
  got=$(find "$seeds" -type f | wc -l)
  [ "$got" -eq "$want" ] || bad "seed corpus zip holds $got files, fuzz/corpus + fuzz/regressions hold $want"
  log=$work/$t.replay.log
  if ! (cd "$work" && "$bin" -runs=0 -dict="$bin.dict" "$seeds") > "$log" 2>&1; then
    bad "replaying its $got seeds failed:"; tail -15 "$log"; return 1
  fi
  grep -q "INITED" "$log" || bad "replay log has no INITED line"
  log=$work/$t.fuzz.log
  if ! (cd "$work" && "$bin" -runs=300 -seed=1 -rss_limit_mb=2048 -dict="$bin.dict" \
          -artifact_prefix="$work/$t-" "$work/corpus_$t" "$seeds") > "$log" 2>&1; then
    bad "300 fuzzing runs found something:"; grep -E 'ERROR|SUMMARY|check failed' "$log" | head -10
    return 1
  fi
  grep -q "^Done [0-9]* runs" "$log" || bad "fuzz log has no 'Done N runs' line"
  [ "$ok" = 0 ] && echo "check_build: $t: ok ($got seeds replayed, then" \
      "$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log") runs)"
  return "$ok"
}
for t in "${targets[@]}"; do check_target "$t" || failed=1; done
echo "check_build: $(ls "$out"/*_fuzzer 2>/dev/null | wc -l) fuzzers in \$OUT, ${#targets[@]} listed," \
     "$(( $(date +%s) - start )) s in all: $([ "$failed" = 0 ] && echo ok || echo FAILED)"
exit "$failed"

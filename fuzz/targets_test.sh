#!/usr/bin/env bash
# //fuzz:targets_test: fuzz/targets.txt agrees with fuzz/BUILD.bazel and the files each target needs
# (fuzz/check_targets.sh on this tree), and the checker does catch each kind of drift (run on a
# small fabricated tree, mutated one way at a time).
set -uo pipefail
fail=0
expect() {  # expect PASS|FAIL PATTERN REPO
  local want=$1 pattern=$2 repo=$3 out rc
  out=$(bash fuzz/check_targets.sh "$repo" 2>&1); rc=$?
  if [ "$want" = PASS ] && [ "$rc" -ne 0 ]; then echo "FAIL: expected pass on $repo, got: $out"; fail=1; fi
  if [ "$want" = FAIL ] && [ "$rc" -eq 0 ]; then echo "FAIL: expected failure ($pattern) on $repo"; fail=1; fi
  if ! grep -q -- "$pattern" <<< "$out"; then echo "FAIL: output lacks '$pattern': $out"; fail=1; fi
  echo "ok ($want): $out" | head -3
}

expect PASS "targets, consistent" .

fake() {  # fake DIR TARGET...: a tree whose BUILD.bazel builds TARGET... with all their files
  local d=$1 t; shift
  rm -rf "$d"; mkdir -p "$d/fuzz"
  cp fuzz/targets.sh "$d/fuzz/"
  : > "$d/fuzz/BUILD.bazel"
  for t in "$@"; do
    printf 'atf_fuzz_target(\n    name = "%s_fuzzer",\n    srcs = ["%s_fuzzer.cc"],\n)\n\n' "$t" "$t" >> "$d/fuzz/BUILD.bazel"
    touch "$d/fuzz/${t}_fuzzer.cc" "$d/fuzz/$t.dict"
    mkdir -p "$d/fuzz/corpus/$t" && echo seed > "$d/fuzz/corpus/$t/seed"
  done
  printf '# comment\n%s\n\n' "$@" > "$d/fuzz/targets.txt"
}
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fake "$tmp/ok" alpha beta
expect PASS "2 targets" "$tmp/ok"

fake "$tmp/unlisted" alpha beta
printf 'alpha\n' > "$tmp/unlisted/fuzz/targets.txt"
expect FAIL "beta_fuzzer is built in fuzz/BUILD.bazel but not listed" "$tmp/unlisted"

fake "$tmp/norule" alpha
printf 'alpha\ngamma  # new\n' > "$tmp/norule/fuzz/targets.txt"
expect FAIL "gamma has no atf_fuzz_target" "$tmp/norule"

fake "$tmp/twice" alpha
printf 'alpha\nalpha\n' > "$tmp/twice/fuzz/targets.txt"
expect FAIL "alpha listed twice" "$tmp/twice"

fake "$tmp/nodict" alpha
rm "$tmp/nodict/fuzz/alpha.dict"
expect FAIL "alpha.dict missing" "$tmp/nodict"

fake "$tmp/nocorpus" alpha
rm -r "$tmp/nocorpus/fuzz/corpus/alpha"
expect FAIL "fuzz/corpus/alpha/ missing or empty" "$tmp/nocorpus"

fake "$tmp/empty" alpha
printf '# nothing\n\n' > "$tmp/empty/fuzz/targets.txt"
expect FAIL "lists no target" "$tmp/empty"

exit $fail

#!/usr/bin/env bash
# The main job: a real third-party program, traced. zlib 1.2.11's own minigzip (built from the
# pinned source with -finstrument-functions, zlib included, and linked with libatf_instrument.so)
# compresses a generated text file and decompresses it again; each run writes one ATF V4 session.
# Both sessions are validated with atf-validate; a summary and the call report's top functions (by
# self time) are printed. Exit status 0 only when the round trip gave back the input and both
# sessions are valid.
#
#   bazel run -c opt //examples:trace_zlib [-- --mb N --out DIR --top K]
#
# --mb N     size of the generated input in MB (default 8)
# --out DIR  ATF_OUTPUT_ROOT for the sessions (default ./atf-out in the directory bazel run was
#            started from)
# --top K    lines of the call report to print per session (default 8)
set -euo pipefail

mb=8
out="${BUILD_WORKING_DIRECTORY:-$PWD}/atf-out"
top=8
while (($#)); do
  case $1 in
    --mb) mb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "trace_zlib: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ $mb =~ ^[0-9]+$ && $mb -ge 1 && $top =~ ^[0-9]+$ ]] || { echo "trace_zlib: --mb and --top take positive integers" >&2; exit 2; }
case $out in /*) ;; *) out="${BUILD_WORKING_DIRECTORY:-$PWD}/$out" ;; esac

# Runfiles: `bazel run` starts us in the runfiles tree.
here=$(pwd)
minigzip=$here/third_party/zlib/minigzip_traced
validate=$here/validator/atf-validate
dump=$here/validator/atf-dump
for f in "$minigzip" "$validate" "$dump"; do
  [[ -x $f ]] || { echo "trace_zlib: $f missing: run me with bazel run //examples:trace_zlib" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/trace_zlib.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Text with a word structure (so deflate finds matches), from a fixed seed.
awk -v bytes=$((mb * 1000000)) 'BEGIN {
  srand(14);
  for (i = 0; i < 512; i++) { w = ""; n = 2 + int(rand() * 9); for (j = 0; j < n; j++) w = w sprintf("%c", 97 + int(rand() * 26)); words[i] = w }
  size = 0;
  while (size < bytes) { line = ""; for (k = 0; k < 12; k++) line = line words[int(rand() * rand() * 512)] " "; print line; size += length(line) + 1 }
}' > "$work/input.txt"

# One traced run: $1 = label, rest = minigzip arguments; stdout of minigzip goes to $work/$1.out.
# Prints the session directory the run left.
traced() {
  local label=$1; shift
  local root="$work/root.$label"
  mkdir -p "$root"
  # block: a complete session (the program waits for the writer instead of dropping events);
  # 4 MiB rings: fewer such waits than the default 1 MiB (bench/README.md, atf_4m).
  ATF_OUTPUT_ROOT="$root" ATF_OVERFLOW=block ATF_RING_BYTES=4M "$minigzip" "$@" > "$work/$label.out"
  local dirs=("$root"/session_*/pid_*)
  [[ ${#dirs[@]} -eq 1 && -d ${dirs[0]} ]] || { echo "trace_zlib: no session from the $label run" >&2; exit 1; }
  # Keep it under --out, next to earlier runs.
  local session=${dirs[0]#"$root"/}
  mkdir -p "$out/${session%/*}"
  mv "${dirs[0]}" "$out/$session"
  echo "$out/$session"
}

t0=$(date +%s.%N)
gz_session=$(traced compress -c "$work/input.txt")
t1=$(date +%s.%N)
gunzip_session=$(traced decompress -d -c "$work/compress.out")
t2=$(date +%s.%N)

in_bytes=$(stat -c %s "$work/input.txt")
gz_bytes=$(stat -c %s "$work/compress.out")
if cmp -s "$work/input.txt" "$work/decompress.out"; then roundtrip="round trip OK"; ok=1; else roundtrip="ROUND TRIP FAILED"; ok=0; fi

echo "program    zlib 1.2.11 minigzip, instrumented: compress $in_bytes bytes -> $gz_bytes bytes, decompress: $roundtrip"
summary() {
  local label=$1 session=$2 seconds=$3
  local json
  json=$("$validate" --json "$session") || true
  # Fields of atf-validate's JSON report (exact integers).
  local valid records bytes calls returns threads dropped
  valid=$(grep -o '"valid":[a-z]*' <<<"$json" | head -1 | cut -d: -f2)
  records=$(grep -o '"records":[0-9]*' <<<"$json" | head -1 | cut -d: -f2)
  bytes=$(grep -o '"bytes":[0-9]*' <<<"$json" | head -1 | cut -d: -f2)
  calls=$(grep -o '"function_call":[0-9]*' <<<"$json" | cut -d: -f2)
  returns=$(grep -o '"function_return":[0-9]*' <<<"$json" | cut -d: -f2)
  threads=$(grep -o '"threads":[0-9]*' <<<"$json" | cut -d: -f2)
  dropped=$(grep -o '"dropped_events":[0-9a-z]*' <<<"$json" | cut -d: -f2)
  [[ $dropped == null ]] && dropped=0
  echo
  echo "$label"
  echo "  session    $session"
  echo "  events     $calls calls, $returns returns, $records records in events.bin ($bytes bytes), $threads threads, $dropped dropped"
  printf '  run time   %.3f s traced\n' "$seconds"
  if [[ $valid == true ]]; then echo "  validator  VALID"; else echo "  validator  INVALID"; ok=0; fi
  echo "  top functions by self time (atf-dump --format=report --sort=self):"
  "$dump" --format=report --sort=self "$session" > "$work/report" || ok=0  # whole, then cut
  awk -v n=$((top + 4)) '!/^# (call report|total and self)/ && c++ < n { print "    " $0 }' "$work/report"
}
summary "compress (deflate)" "$gz_session" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
summary "decompress (inflate)" "$gunzip_session" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
((ok)) || exit 1

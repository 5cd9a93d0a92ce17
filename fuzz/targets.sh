# fuzz/targets.sh: sourced by the fuzz scripts; reads fuzz/targets.txt, the one list of fuzz targets.
#   . fuzz/targets.sh; atf_fuzz_targets REPO_DIR   -> sets the array `targets`
# Fails (returns 1, message on stderr) when the list is missing or empty.
atf_fuzz_targets() {
  local list="$1/fuzz/targets.txt" line
  targets=()
  [ -f "$list" ] || { echo "fuzz: $list missing" >&2; return 1; }
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [ -n "$line" ] && targets+=("$line")
  done < "$list"
  [ "${#targets[@]}" -gt 0 ] || { echo "fuzz: $list lists no target" >&2; return 1; }
}

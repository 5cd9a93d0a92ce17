#!/usr/bin/env bash
# The house format for our C and C++ sources (every tracked .c, .h and .cc; third-party source is
# not in the repository): clang-format 14 with .clang-format, and /* */ comments in C files
# (tools/c_comments.py).
#   tools/format.sh          rewrites the files in place
#   tools/format.sh --check  changes nothing; lists what differs and exits 1 if anything does
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null; then
  echo "format: $CLANG_FORMAT not found (./tools/install-deps.sh installs Debian's clang-format)" >&2
  exit 2
fi
version=$("$CLANG_FORMAT" --version)
if [[ ! $version =~ version\ 14\. ]]; then
  echo "format: the house format is pinned to clang-format 14; found: $version" >&2
  exit 2
fi

# Our sources: the tracked files in a git checkout; elsewhere (an exported tree) every source
# outside Bazel's output links and the fetched third-party copies (third_party/*/upstream).
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files -- '*.c' '*.h' '*.cc')
else
  mapfile -t files < <(find . \( -name 'bazel-*' -o -path './third_party/*/upstream' -o -name .git \) \
    -prune -o -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) -print | sed 's|^\./||' | sort)
fi
if ((${#files[@]} == 0)); then
  echo "format: no sources found" >&2
  exit 2
fi

if [[ ${1:-} == --check ]]; then
  status=0
  python3 tools/c_comments.py --check "${files[@]}" || status=1
  # --dry-run --Werror prints each place that differs and fails.
  "$CLANG_FORMAT" --dry-run --Werror "${files[@]}" 2>&1 | grep -E '^[^ ].*(error|warning):' |
    sed 's/ \[-Wclang-format-violations\]//' | head -50 || true
  "$CLANG_FORMAT" --dry-run --Werror "${files[@]}" >/dev/null 2>&1 || status=1
  if ((status != 0)); then
    echo "format: sources differ from the house format; run tools/format.sh" >&2
  else
    echo "format: ${#files[@]} files in the house format"
  fi
  exit $status
elif [[ $# -ne 0 ]]; then
  echo "usage: tools/format.sh [--check]" >&2
  exit 2
fi
python3 tools/c_comments.py --fix "${files[@]}"
"$CLANG_FORMAT" -i "${files[@]}"

#!/usr/bin/env bash
# Installs the Debian 12 packages the toolkit builds and tests with. Idempotent: installs only what
# is missing, and runs `apt-get update` only when something is. Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap            # Bazel 4.2.3
  build-essential            # libc headers, binutils, libstdc++ for clang
  clang libclang-rt-14-dev llvm  # compiler, sanitizer and libFuzzer runtimes, llvm-cov
  clang-format git            # tools/format.sh: the house format (clang-format 14), CI checks it
  pkg-config
  protobuf-compiler libprotobuf-dev    # protoc; Google's C++ protobuf (tests, benchmarks)
  protobuf-c-compiler libprotobuf-c-dev  # writer
  nanopb libnanopb-dev python3-protobuf  # validator (protoc-gen-nanopb runs on python3-protobuf)
  libcjson-dev                # manifest writer
  libgtest-dev                # tests
  python3                     # small tools
  curl ca-certificates patch  # tools/fetch-third-party.sh: the pinned upb/zlib tarball
  uftrace                     # bench/instrument_bench.py: the function tracer we compare with
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} != 0)); then
  SUDO=()
  if [[ $(id -u) != 0 ]]; then
    SUDO=(sudo)
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

# Third-party sources Bazel builds from (upb, zlib): fetched once, checked, patched.
"$(dirname "$0")/fetch-third-party.sh"

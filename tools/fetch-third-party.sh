#!/usr/bin/env bash
# Fetches the third-party sources the build uses and that Debian does not package usably (upb, and
# zlib as a real program to trace), from one pinned, immutable tarball: the npm package
# grpc@1.24.11, which bundles upb (2019) and zlib 1.2.11 under package/deps/grpc/third_party/.
#
#   tools/fetch-third-party.sh        (tools/install-deps.sh runs it)
#
# - The tarball is downloaded once into a cache directory ($ATF_CACHE_DIR, default
#   ${XDG_CACHE_HOME:-~/.cache}/atf-v4) and its sha512 is checked against the npm registry's
#   published integrity before anything is extracted; a mismatch deletes it and fails.
# - Only the files the build needs are extracted, into third_party/<name>/upstream/ (ignored by
#   git; never edit it: it is rebuilt from the tarball), then our patches
#   third_party/<name>/patches/*.patch are applied in name order with `patch -p1`. A stamp records
#   the tarball's hash and every patch's hash, so the step is skipped when nothing changed and
#   redone from scratch when a patch changes.
# - Nothing is downloaded at build or test time: Bazel builds from these local directories.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

VERSION=1.24.11
URL="https://registry.npmjs.org/grpc/-/grpc-${VERSION}.tgz"
# npm's integrity for grpc@1.24.11: sha512-8/AQdFCzCeCDWW3SoaMNp6ccbRvTQEH1O1u1uFtt29eWsg5gSZCJ3m6fbkduEIh3smY7WAPP+LgVJ5n3nZRxcA==
SHA512=f3f0107450b309e083596dd2a1a30da7a71c6d1bd34041f53b5bb5b85b6ddbd796b20e60499089de6e9f6e476e108877b2663b5803cff8b8152799f79d947170
PREFIX=package/deps/grpc/third_party

# What each component takes from the tarball (paths under $PREFIX/<name>/; directories are not
# recursed into, so every file the build sees is named here).
UPB_FILES=(
  LICENSE README.md
  upb/decode.c upb/decode.h upb/def.c upb/def.h upb/encode.c upb/encode.h upb/generated_util.h
  upb/legacy_msg_reflection.c upb/legacy_msg_reflection.h upb/msg.c upb/msg.h upb/msgfactory.c
  upb/msgfactory.h upb/port.c upb/port_def.inc upb/port_undef.inc upb/table.c upb/table.int.h
  upb/upb.c upb/upb.h
  generated_for_cmake/google/protobuf/descriptor.upb.c
  generated_for_cmake/google/protobuf/descriptor.upb.h
)
ZLIB_FILES=(
  README ChangeLog
  adler32.c compress.c crc32.c crc32.h deflate.c deflate.h gzclose.c gzguts.h gzlib.c gzread.c
  gzwrite.c infback.c inffast.c inffast.h inffixed.h inflate.c inflate.h inftrees.c inftrees.h
  trees.c trees.h uncompr.c zconf.h zlib.h zutil.c zutil.h
  test/minigzip.c test/example.c examples/zpipe.c
)

cache=${ATF_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/atf-v4}
tarball=$cache/grpc-${VERSION}.tgz

say() { printf 'fetch-third-party: %s\n' "$*" >&2; }

sha512_of() { sha512sum "$1" | cut -d' ' -f1; }

fetch() {
  if [[ -f $tarball && $(sha512_of "$tarball") == "$SHA512" ]]; then
    return
  fi
  mkdir -p "$cache"
  say "downloading $URL"
  local tmp
  tmp=$(mktemp "$cache/.download.XXXXXX")
  if ! curl -fsSL --retry 3 -o "$tmp" "$URL"; then
    rm -f "$tmp"
    say "download failed: $URL"
    exit 1
  fi
  local got
  got=$(sha512_of "$tmp")
  if [[ $got != "$SHA512" ]]; then
    rm -f "$tmp"
    say "sha512 mismatch for $URL: expected $SHA512, got $got (file deleted)"
    exit 1
  fi
  mv "$tmp" "$tarball"
}

# The stamp: the tarball's hash, this script's file lists, and every patch's name and hash.
stamp_of() {
  local name=$1; shift
  {
    echo "grpc-$VERSION $SHA512"
    printf '%s\n' "$@"
    local p
    for p in third_party/"$name"/patches/*.patch; do
      if [[ -e $p ]]; then echo "$(basename "$p") $(sha512_of "$p")"; fi
    done
  } | sha512sum | cut -d' ' -f1
}

# install NAME FILE... : extracts FILEs of $PREFIX/NAME into third_party/NAME/upstream and patches.
install_component() {
  local name=$1; shift
  local dest=third_party/$name/upstream
  local want
  want=$(stamp_of "$name" "$@")
  if [[ -f $dest/.atf-stamp && $(cat "$dest/.atf-stamp") == "$want" ]]; then
    return
  fi
  fetch
  mkdir -p "third_party/$name"
  local work
  work=$(mktemp -d "third_party/$name/.upstream.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  local members=()
  local f
  for f in "$@"; do members+=("$PREFIX/$name/$f"); done
  tar -xzf "$tarball" -C "$work" --strip-components=5 "${members[@]}"
  local p
  for p in third_party/"$name"/patches/*.patch; do
    [[ -e $p ]] || continue
    if ! patch -p1 --batch --forward --quiet -d "$work" < "$p"; then
      say "patch $p does not apply to $name from grpc-$VERSION"
      exit 1
    fi
  done
  find "$work" -name '*.orig' -delete
  chmod 755 "$work"
  echo "$want" > "$work/.atf-stamp"
  rm -rf "$dest"
  mv "$work" "$dest"
  trap - EXIT
  say "$name: $# files from grpc-$VERSION into $dest"
}

install_component upb "${UPB_FILES[@]}"
install_component zlib "${ZLIB_FILES[@]}"

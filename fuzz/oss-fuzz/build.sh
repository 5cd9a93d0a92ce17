#!/bin/bash -eu
# OSS-Fuzz build script for the ATF V4 toolkit's fuzz targets (the list: fuzz/targets.txt).
#
# Compiles directly with $CC / $CXX and the flags OSS-Fuzz passes ($CFLAGS, $CXXFLAGS,
# $LIB_FUZZING_ENGINE); no Bazel. The three code generators run here, from proto/atf_v4.proto:
# protoc-gen-c (protobuf-c, the writer), protoc-gen-nanopb (the validator), protoc --cpp_out
# (Google's C++ protobuf, the reference decoder); protoc --descriptor_set_out makes the schema the
# validator's upb engine reads (and upb_fuzzer's test schema), embedded as C arrays. upb's sources
# are third_party/upb/upstream/, which tools/fetch-third-party.sh extracts and patches (the
# Dockerfile runs it; this script runs it when the directory is missing). Outputs in $OUT: <target>_fuzzer, its seed corpus
# (<target>_fuzzer_seed_corpus.zip, fuzz/corpus/<target> plus fuzz/regressions/<target>) and
# dictionary (<target>_fuzzer.dict).
#
# fuzz/oss-fuzz/check_build.sh runs this script as OSS-Fuzz's `compile` does (layout, environment,
# flags) and checks that every fuzzer it produced runs; .ci/run runs it.
#
# Outside OSS-Fuzz (e.g. on the Debian 12 development image):
#   CC=clang CXX=clang++ LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out SRC=$PWD \
#     bash fuzz/oss-fuzz/build.sh
# Without $CFLAGS/$CXXFLAGS the build uses ASan + UBSan + libFuzzer's coverage instrumentation,
# as OSS-Fuzz's default address configuration does.
#
# Libraries: protobuf-c, nanopb (libprotobuf-nanopb.a) and Google's protobuf are linked statically
# when their static archives exist; cJSON is compiled from $SRC/cJSON when that checkout exists
# (OSS-Fuzz's Dockerfile clones it), else linked as -lcjson.

set -eu
: "${CC:=clang}"
: "${CXX:=clang++}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:?set OUT to the output directory}"
_default_flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
: "${CFLAGS:=$_default_flags}"
: "${CXXFLAGS:=$_default_flags}"
# OSS-Fuzz's CXXFLAGS end with -stdlib=libc++ ($CXXFLAGS_EXTRA). Google's C++ protobuf, our reference
# decoder, comes from the distribution (libprotobuf-dev), built against libstdc++: compiled with
# libc++ headers our objects would not link with it (std::__1::string vs std::__cxx11::string). So
# our C++ uses the distribution's libstdc++ (base-builder installs build-essential); libFuzzer
# keeps its own private libc++. The cost: MemorySanitizer, which needs every C++ library
# instrumented, is not supported (project.yaml does not ask for it).
CXXFLAGS=${CXXFLAGS//-stdlib=libc++/}

# The repository: $ATF_SRC, else the checkout this script sits in, else $SRC/atf_v4, else $SRC.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${ATF_SRC:-}" ]; then
  repo=$ATF_SRC
elif [ -f "$here/../../proto/atf_v4.proto" ]; then
  repo=$(cd "$here/../.." && pwd)
elif [ -f "${SRC:-}/atf_v4/proto/atf_v4.proto" ]; then
  repo=$SRC/atf_v4
else
  repo=${SRC:?set SRC (or ATF_SRC) to the repository}
fi
[ -f "$repo/proto/atf_v4.proto" ] || { echo "build.sh: no proto/atf_v4.proto under $repo" >&2; exit 1; }

work=${WORK:-$(mktemp -d)}/atf_build
rm -rf "$work"
mkdir -p "$work/gen/nanopb" "$work/obj" "$OUT"
gen=$work/gen

# ---- code generation ---------------------------------------------------------------------------
wkt=""
for d in /usr/include /usr/local/include; do
  [ -f "$d/google/protobuf/timestamp.proto" ] && wkt=$d && break
done
[ -n "$wkt" ] || { echo "build.sh: google/protobuf/timestamp.proto not found" >&2; exit 1; }
protoc -I"$repo/proto" -I"$wkt" --plugin=protoc-gen-c="$(command -v protoc-gen-c)" --c_out="$gen" \
  atf_v4.proto google/protobuf/timestamp.proto
protoc -I"$repo/proto" -I"$wkt" --plugin=protoc-gen-nanopb="$(command -v protoc-gen-nanopb)" \
  --nanopb_opt=-e.npb,-I"$repo/proto" --nanopb_out="$gen/nanopb" atf_v4.proto google/protobuf/timestamp.proto
protoc -I"$repo/proto" -I"$wkt" --cpp_out="$gen" atf_v4.proto
protoc -I"$repo/proto" -I"$wkt" --include_imports --descriptor_set_out="$gen/atf_v4_descriptor_set.desc" atf_v4.proto
protoc -I"$repo/third_party/upb/testdata" --include_imports \
  --descriptor_set_out="$gen/upb_patches_test_descriptor_set.desc" upb_patches_test.proto
embed() {  # embed NAME: $gen/NAME.desc as NAME[] and NAME_size in $gen/NAME.{c,h} (as proto/descriptor_set.bzl)
  printf '#include <stddef.h>\n#ifdef __cplusplus\nextern "C" {\n#endif\nextern const unsigned char %s[];\nextern const size_t %s_size;\n#ifdef __cplusplus\n}\n#endif\n' "$1" "$1" > "$gen/$1.h"
  { echo "#include \"$1.h\""; echo "const unsigned char $1[] = {"
    od -An -v -tx1 "$gen/$1.desc" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo "};"; echo "const size_t $1_size = sizeof $1;"; } > "$gen/$1.c"
}
embed atf_v4_descriptor_set
embed upb_patches_test_descriptor_set
upb=$repo/third_party/upb/upstream
[ -f "$upb/upb/decode.c" ] || "$repo/tools/fetch-third-party.sh"

# ---- compile -----------------------------------------------------------------------------------
includes=(-I"$repo" -I"$gen" -I"$gen/nanopb" -isystem "$upb" -isystem "$upb/generated_for_cmake")
objs=()
cc() {  # cc DEFINES SOURCE
  local defs=$1 src=$2 obj
  obj=$work/obj/$(echo "${src#"$repo"/}" | tr '/' '_').o
  # shellcheck disable=SC2086
  $CC $CFLAGS -std=c11 $defs "${includes[@]}" -c "$src" -o "$obj"
  objs+=("$obj")
}
# Not called inside $(...): bash does not apply `set -e` there, so a failed compile would go on.
cxx() {  # cxx SOURCE: compiles into $last_obj
  local src=$1
  last_obj=$work/obj/$(echo "${src#"$repo"/}" | tr '/' '_').o
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS -std=c++17 "${includes[@]}" -c "$src" -o "$last_obj"
}

# cJSON: from a source checkout when there is one (header as <cjson/cJSON.h>, like the package's).
cjson_lib=(-lcjson)
if [ -f "${SRC:-/nonexistent}/cJSON/cJSON.c" ]; then
  mkdir -p "$work/include/cjson"
  cp "$SRC/cJSON/cJSON.h" "$work/include/cjson/"
  includes+=(-I"$work/include")
  cc "" "$SRC/cJSON/cJSON.c"
  cjson_lib=()
fi
# Our library sources: every .c of writer/, validator/ and recover/ but the tools' mains (the
# directories are listed, not the files, so that a new source file cannot be forgotten here).
lib_sources() {  # lib_sources DIR...: the .c files, sorted, without *_main.c
  local d f
  for d in "$@"; do
    for f in "$repo/$d"/*.c; do [[ $f == *_main.c ]] || echo "$f"; done
  done
}
mapfile -t writer_srcs < <(lib_sources writer)
for f in "${writer_srcs[@]}"; do cc -D_GNU_SOURCE "$f"; done
cc "" "$repo/writer/fastpath/fast_encode.c"
for f in decode def legacy_msg_reflection msg msgfactory table upb; do cc "" "$upb/upb/$f.c"; done
cc "" "$upb/generated_for_cmake/google/protobuf/descriptor.upb.c"
cc "" "$gen/atf_v4_descriptor_set.c"
cc "" "$gen/upb_patches_test_descriptor_set.c"
mapfile -t validator_srcs < <(lib_sources validator validator/internal)
for f in "${validator_srcs[@]}"; do cc "-D_FILE_OFFSET_BITS=64 -D_POSIX_C_SOURCE=200809L" "$f"; done
mapfile -t recover_srcs < <(lib_sources recover)
for f in "${recover_srcs[@]}"; do cc -D_GNU_SOURCE "$f"; done
cc "" "$gen/atf_v4.pb-c.c"
cc "" "$gen/google/protobuf/timestamp.pb-c.c"
cc "" "$gen/nanopb/atf_v4.npb.c"
cc "" "$gen/nanopb/google/protobuf/timestamp.npb.c"
for src in "$gen/atf_v4.pb.cc" "$repo/validator/fuzz_check.cc" \
    "$repo/validator/testing/engine_compare.cc" "$repo/third_party/upb/upb_testing.cc" \
    "$repo"/fuzz/{event_decoders,mem_file_ops,manifest_render,writer_program}.cc; do
  cxx "$src"
  objs+=("$last_obj")
done
ar rcs "$work/libatf_fuzz.a" "${objs[@]}"

static_or_dynamic() {  # the static archive of library $1 when there is one, else -l$1
  local a
  a=$($CC -print-file-name="lib$1.a")
  if [ -f "$a" ]; then echo "$a"; else echo "-l$1"; fi
}
libs=("$(static_or_dynamic protobuf-c)" "$(static_or_dynamic protobuf-nanopb)" "$(static_or_dynamic protobuf)"
      "${cjson_lib[@]}" -lz -lpthread -ldl)

# ---- link, corpora, dictionaries ---------------------------------------------------------------
. "$repo/fuzz/targets.sh"
atf_fuzz_targets "$repo"
for t in "${targets[@]}"; do
  cxx "$repo/fuzz/${t}_fuzzer.cc"
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS $LIB_FUZZING_ENGINE "$last_obj" "$work/libatf_fuzz.a" "${libs[@]}" -o "$OUT/${t}_fuzzer"
  cp "$repo/fuzz/$t.dict" "$OUT/${t}_fuzzer.dict"
  seeds=("$repo/fuzz/corpus/$t")
  [ -d "$repo/fuzz/regressions/$t" ] && seeds+=("$repo/fuzz/regressions/$t")
  rm -f "$OUT/${t}_fuzzer_seed_corpus.zip"
  python3 -c 'import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for d in sys.argv[2:]:
        for n in sorted(os.listdir(d)):
            z.write(os.path.join(d, n), os.path.basename(d) + "_" + n)' "$OUT/${t}_fuzzer_seed_corpus.zip" "${seeds[@]}"
done
echo "build.sh: built $(ls "$OUT"/*_fuzzer | wc -l) fuzzers in $OUT"

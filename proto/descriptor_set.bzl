"""atf_descriptor_set: a protoc descriptor set, made at build time and embedded in a C library.

    atf_descriptor_set(name, proto, import_root, symbol)

runs `protoc --include_imports --descriptor_set_out` on `proto` (a .proto file of this package that
sits directly in `import_root`, its workspace-relative directory; google/protobuf/*.proto resolve to the system's
well-known types) and turns the resulting FileDescriptorSet into `<name>`, a cc_library whose
header `<name>.h` declares

    extern const unsigned char <symbol>[];
    extern const size_t <symbol>_size;

Nothing generated is committed: both steps run in the build (od from coreutils writes the bytes).
"""

_PROTOC = "@protoc_tools//:bin/protoc"

def atf_descriptor_set(name, proto, import_root, symbol, visibility = None, testonly = False):
    desc = name + ".desc"
    native.genrule(
        name = name + "_desc",
        srcs = [proto, "@protoc_tools//:well_known_protos"],
        outs = [desc],
        cmd = "$(execpath %s) -I%s -Iexternal/protoc_tools/include --include_imports " % (_PROTOC, import_root) +
              "--descriptor_set_out=$@ %s" % proto.split("/")[-1],
        tools = [_PROTOC],
        testonly = testonly,
    )
    native.genrule(
        name = name + "_c",
        srcs = [desc],
        outs = [name + ".c", name + ".h"],
        cmd = """
h=$(location {name}.h); c=$(location {name}.c)
{{ echo '/* Generated from {proto} by atf_descriptor_set: protoc --descriptor_set_out. */'
  echo '#include <stddef.h>'
  echo '#ifdef __cplusplus'
  echo 'extern "C" {{'
  echo '#endif'
  echo 'extern const unsigned char {symbol}[];'
  echo 'extern const size_t {symbol}_size;'
  echo '#ifdef __cplusplus'
  echo '}}'
  echo '#endif'; }} > $$h
{{ echo '#include "'$$(basename $$h)'"'
  echo 'const unsigned char {symbol}[] = {{'
  od -An -v -tx1 $(location {desc}) | sed -e 's/ \\([0-9a-f][0-9a-f]\\)/0x\\1,/g'
  echo '}};'
  echo 'const size_t {symbol}_size = sizeof {symbol};'; }} > $$c
""".format(name = name, proto = proto, symbol = symbol, desc = desc),
        testonly = testonly,
    )
    native.cc_library(
        name = name,
        srcs = [name + ".c"],
        hdrs = [name + ".h"],
        includes = ["."],
        visibility = visibility,
        testonly = testonly,
    )

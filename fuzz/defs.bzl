"""atf_fuzz_target: one fuzz source, two builds.

- `<name>`: the fuzzer. Under --config=fuzz (which sets --define=fuzzing=libfuzzer) it links
  libFuzzer's main; otherwise the standalone replay main, so it also runs on plain builds.
- `<name>_replay`: a test in `bazel test //...` that replays the target's seed corpus and every
  checked-in reproducer through the same entry point, without libFuzzer.
"""

def atf_fuzz_target(name, srcs, deps = [], corpus = None, dictionary = None):
    corpus = corpus or name
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        deps = deps + select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["//fuzz:standalone_main"],
        }),
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )
    data = native.glob(["corpus/%s/**" % corpus, "regressions/%s/**" % corpus])
    args = ["fuzz/corpus/%s" % corpus]
    if native.glob(["regressions/%s/*" % corpus]):
        args.append("fuzz/regressions/%s" % corpus)
    native.cc_test(
        name = name + "_replay",
        size = "medium",
        srcs = srcs,
        deps = deps + ["//fuzz:standalone_main"],
        data = data + ([dictionary] if dictionary else []),
        args = args,
    )

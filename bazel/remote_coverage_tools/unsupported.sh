#!/bin/sh
echo "bazel coverage is not supported offline; use tools/coverage.sh (llvm-cov)" >&2
exit 1

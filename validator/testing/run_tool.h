// Test helper: runs a command through /bin/sh and captures its exit status, stdout and stderr.
#ifndef ATF_VALIDATOR_TESTING_RUN_TOOL_H_
#define ATF_VALIDATOR_TESTING_RUN_TOOL_H_

#include <string>

namespace atf_test {

struct ToolResult {
  int status = -1;  // exit status, or -1 if it did not exit normally
  std::string out, err;
};

// Runs `command` (a shell command line; quote arguments yourself) with stdout and stderr captured.
ToolResult RunTool(const std::string &command);

// RunTool, and the peak resident set of the command's processes in KiB (the largest of them: the
// tool, not the shell), measured in a child of its own so earlier commands do not count.
ToolResult RunToolMeasured(const std::string &command, long *peak_rss_kib);

// A writable scratch directory for this test (TEST_TMPDIR, else /tmp).
std::string TempDir();

std::string ReadFile(const std::string &path);

}  // namespace atf_test

#endif  // ATF_VALIDATOR_TESTING_RUN_TOOL_H_

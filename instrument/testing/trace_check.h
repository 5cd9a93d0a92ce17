// Test helpers for traced programs: run one with ATF_* variables, find the sessions it left, read
// them back with Google's C++ protobuf (independent of the writer) and check call/return
// structure per thread.
#ifndef ATF_INSTRUMENT_TESTING_TRACE_CHECK_H_
#define ATF_INSTRUMENT_TESTING_TRACE_CHECK_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "atf_v4.pb.h"
#include "validator/testing/run_tool.h"

namespace atf_test {

// Runs `command` (one simple shell command, redirections allowed) with ATF_OUTPUT_ROOT=`root`
// (created fresh) and the extra environment assignments in `env` ("NAME=value NAME2=value").
ToolResult RunTraced(const std::string &root, const std::string &env, const std::string &command);

// Every <root>/session_*/pid_* directory, sorted.
std::vector<std::string> SessionDirs(const std::string &root);

// Reads <dir>/events.bin; false (and why) when it does not parse completely.
bool ReadSession(const std::string &dir, std::vector<atf::v4::Event> *events, std::string *error);

// Symbol of a FunctionCall or FunctionReturn event, "" otherwise.
const std::string &SymbolOf(const atf::v4::Event &e);

struct Structure {
  std::map<int32_t, uint64_t> calls_by_thread, returns_by_thread;
  std::map<std::string, uint64_t> calls_by_symbol, returns_by_symbol;
  std::map<int32_t, uint64_t> open_at_end;  // calls still open when the events end, per thread
  uint64_t calls = 0, returns = 0;
  std::string first_error;  // "" when every return closed the innermost open call of its thread
                            // (same address and symbol)
};

// Walks the events per thread with a stack of open calls.
Structure CheckStructure(const std::vector<atf::v4::Event> &events);

// atf-dump --format=report output: function name -> calls column (rows with calls only; a row of
// returns without calls has 0).
std::map<std::string, uint64_t> ReportCalls(const std::string &report_text);

}  // namespace atf_test

#endif  // ATF_INSTRUMENT_TESTING_TRACE_CHECK_H_

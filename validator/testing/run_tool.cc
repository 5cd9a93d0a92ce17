#include "validator/testing/run_tool.h"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace atf_test {

std::string TempDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

ToolResult RunTool(const std::string& command) {
  static int counter = 0;
  const std::string base = TempDir() + "/tool." + std::to_string(++counter);
  const std::string full = command + " >" + base + ".out 2>" + base + ".err";
  const int raw = std::system(full.c_str());
  ToolResult r;
  r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

}  // namespace atf_test

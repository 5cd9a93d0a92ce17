#include "validator/testing/run_tool.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace atf_test {

std::string TempDir() {
  const char *t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string ReadFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

namespace {

std::string NextBase() {
  static int counter = 0;
  return TempDir() + "/tool." + std::to_string(++counter);
}

ToolResult Collect(const std::string &base, int raw) {
  ToolResult r;
  r.status = raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

}  // namespace

ToolResult RunToolMeasured(const std::string &command, long *peak_rss_kib) {
  *peak_rss_kib = -1;
  const std::string base = NextBase();
  const std::string full = command + " >" + base + ".out 2>" + base + ".err";
  int fds[2];
  if (pipe(fds) != 0) return ToolResult{};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const int raw = std::system(full.c_str());
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    const long peak = ru.ru_maxrss;
    const bool sent = write(fds[1], &peak, sizeof peak) == static_cast<ssize_t>(sizeof peak);
    _exit(sent && raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : 255);
  }
  close(fds[1]);
  long peak = -1;
  const bool got = pid > 0 && read(fds[0], &peak, sizeof peak) == static_cast<ssize_t>(sizeof peak);
  close(fds[0]);
  int raw = -1;
  if (pid > 0) waitpid(pid, &raw, 0);
  if (got) *peak_rss_kib = peak;
  return Collect(base, raw);
}

ToolResult RunTool(const std::string &command) {
  const std::string base = NextBase();
  return Collect(base, std::system((command + " >" + base + ".out 2>" + base + ".err").c_str()));
}

}  // namespace atf_test

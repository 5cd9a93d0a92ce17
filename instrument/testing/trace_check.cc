#include "instrument/testing/trace_check.h"

#include <dirent.h>

#include <algorithm>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>

namespace atf_test {

ToolResult RunTraced(const std::string &root, const std::string &env, const std::string &command) {
  RunTool("rm -rf '" + root + "' && mkdir -p '" + root + "'");
  // A group, so that a redirection inside `command` is not overridden by RunTool's own.
  return RunTool("{ ATF_OUTPUT_ROOT='" + root + "' " + env + " " + command + "; }");
}

static std::vector<std::string> Children(const std::string &dir, const std::string &prefix) {
  std::vector<std::string> out;
  DIR *d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent *e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SessionDirs(const std::string &root) {
  std::vector<std::string> out;
  for (const auto &s : Children(root, "session_")) {
    for (const auto &p : Children(s, "pid_")) out.push_back(p);
  }
  return out;
}

bool ReadSession(const std::string &dir, std::vector<atf::v4::Event> *events, std::string *error) {
  const std::string data = ReadFile(dir + "/events.bin");
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t *>(data.data()),
                                            static_cast<int>(data.size()));
  in.SetTotalBytesLimit(INT32_MAX);
  while (in.CurrentPosition() < static_cast<int>(data.size())) {
    const int at = in.CurrentPosition();
    uint32_t len = 0;
    std::string body;
    atf::v4::Event e;
    if (!in.ReadVarint32(&len) || !in.ReadString(&body, static_cast<int>(len)) ||
        !e.ParseFromString(body)) {
      *error = "unreadable record at offset " + std::to_string(at) + " of " + dir + "/events.bin";
      return false;
    }
    events->push_back(std::move(e));
  }
  return true;
}

const std::string &SymbolOf(const atf::v4::Event &e) {
  static const std::string empty;
  if (e.has_function_call()) return e.function_call().symbol();
  if (e.has_function_return()) return e.function_return().symbol();
  return empty;
}

Structure CheckStructure(const std::vector<atf::v4::Event> &events) {
  Structure s;
  std::map<int32_t, std::vector<const atf::v4::Event *>> stacks;
  for (const auto &e : events) {
    const int32_t tid = e.thread_id();
    if (e.has_function_call()) {
      s.calls++;
      s.calls_by_thread[tid]++;
      s.calls_by_symbol[e.function_call().symbol()]++;
      stacks[tid].push_back(&e);
    } else if (e.has_function_return()) {
      s.returns++;
      s.returns_by_thread[tid]++;
      s.returns_by_symbol[e.function_return().symbol()]++;
      auto &st = stacks[tid];
      const auto &r = e.function_return();
      if (st.empty() || st.back()->function_call().address() != r.address() ||
          st.back()->function_call().symbol() != r.symbol()) {
        if (s.first_error.empty()) {
          s.first_error =
              "thread " + std::to_string(tid) + " event " + std::to_string(e.event_id()) +
              ": return from " + r.symbol() + " does not close the innermost open call (" +
              (st.empty() ? std::string("none") : st.back()->function_call().symbol()) + ")";
        }
        continue;
      }
      st.pop_back();
    }
  }
  for (const auto &[tid, st] : stacks) {
    if (!st.empty()) s.open_at_end[tid] = st.size();
  }
  return s;
}

std::map<std::string, uint64_t> ReportCalls(const std::string &report_text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(report_text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string total, self, name;
    uint64_t calls = 0, unreturned = 0;
    fields >> total >> self >> calls >> unreturned;
    std::getline(fields, name);
    const size_t start = name.find_first_not_of(' ');
    if (calls != 0) out[start == std::string::npos ? "" : name.substr(start)] += calls;
  }
  return out;
}

}  // namespace atf_test

#include "pipeline/testing/session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>

#include "validator/atf/validate.h"

namespace atf_test {

std::string ReadFile(const std::string &path, bool *exists) {
  std::ifstream in(path, std::ios::binary);
  if (exists != nullptr) *exists = static_cast<bool>(in);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool FileExists(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool ReadEvents(const std::string &path, std::vector<atf::v4::Event> *events, std::string *error) {
  return ForEachEvent(
      path, [events](const atf::v4::Event &ev) { events->push_back(ev); }, error);
}

bool ForEachEvent(const std::string &path, const std::function<void(const atf::v4::Event &)> &fn,
                  std::string *error) {
  bool exists = false;
  const std::string data = ReadFile(path, &exists);
  if (!exists) {
    *error = "cannot read " + path;
    return false;
  }
  return ParseEvents(data, fn, error);
}

bool ParseEvents(const std::string &data, const std::function<void(const atf::v4::Event &)> &fn,
                 std::string *error) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t *>(data.data()),
                                            static_cast<int>(data.size()));
  in.SetTotalBytesLimit(INT32_MAX);
  while (in.CurrentPosition() < static_cast<int>(data.size())) {
    uint32_t len = 0;
    const int at = in.CurrentPosition();
    if (!in.ReadVarint32(&len)) {
      *error = "bad length varint at " + std::to_string(at);
      return false;
    }
    std::string body;
    if (!in.ReadString(&body, static_cast<int>(len))) {
      *error = "truncated record at " + std::to_string(at);
      return false;
    }
    atf::v4::Event ev;
    if (!ev.ParseFromString(body)) {
      *error = "unparsable record at " + std::to_string(at);
      return false;
    }
    fn(ev);
  }
  return true;
}

Verdict Validate(const std::string &dir) {
  Verdict v;
  atf_validate_report rep{};
  atf_validate_status st = atf_validate_path(dir.c_str(), nullptr, &rep);
  if (st != ATF_VALIDATE_OK) {
    v.text = std::string("validator: ") + atf_validate_strerror(st) + ": " + rep.reason;
    atf_validate_report_free(&rep);
    return v;
  }
  v.valid = rep.valid;
  v.records = rep.records;
  v.valid_prefix_records = rep.valid_prefix_records;
  v.valid_prefix_bytes = rep.valid_prefix_bytes;
  v.has_dropped_events = rep.has_dropped_events;
  v.dropped_events = rep.dropped_events;
  v.recovered = rep.has_recovered && rep.recovered;
  for (size_t i = 0; i < rep.errors_len; i++) {
    const atf_validate_error &e = rep.errors[i];
    v.rules.push_back(e.rule);
    v.text += std::string(e.rule) + " @" + e.file + ":" + std::to_string(e.offset) + ": " +
              e.message + "\n";
  }
  atf_validate_report_free(&rep);
  return v;
}

std::string TempDir(const std::string &name) {
  const char *base = std::getenv("TEST_TMPDIR");
  std::string dir = std::string(base != nullptr ? base : "/tmp") + "/" + name;
  std::string cmd = "rm -rf '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) return dir;
  mkdir(dir.c_str(), 0755);
  return dir;
}

uint64_t Reg(const google::protobuf::Map<std::string, uint64_t> &regs, const std::string &name) {
  auto it = regs.find(name);
  return it == regs.end() ? UINT64_MAX : it->second;
}

}  // namespace atf_test

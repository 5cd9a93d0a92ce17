// trace.json: rendering (exact uint64 integers, escaping, modules, drops) and the atomic write.
// Integers are read back with an exact test-side scanner, since cJSON itself reads doubles.
#include <gtest/gtest.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "writer/internal/manifest.h"
#include "writer/testing/decode.h"
#include "writer/testing/fault_ops.h"
#include "writer/testing/session.h"

namespace {

uint64_t ExactU64(const std::string &json, const std::string &key) {
  uint64_t v = 0;
  EXPECT_TRUE(atf_test::ExactJsonU64(json, key, &v)) << key << " is not an exact integer";
  return v;
}

std::string Render(const atf_manifest &m) {
  char *json = atf_manifest_render(&m);
  EXPECT_NE(json, nullptr);
  std::string s = json ? json : "";
  atf_manifest_free(json);
  return s;
}

atf_manifest Base() {
  atf_manifest m = {};
  m.os = "linux";
  m.arch = "x86_64";
  m.pid = 4242;
  m.session_id = 77;
  m.executable_path = "/bin/app";
  m.clock = "custom";
  return m;
}

TEST(Manifest, Uint64ExtremesInEveryNumericField) {
  for (uint64_t v : {uint64_t{0}, (uint64_t{1} << 53) + 1, UINT64_MAX}) {
    atf_manifest m = Base();
    m.time_start_ns = v;
    m.time_end_ns = v;
    m.event_count = v;
    m.bytes_written = v;
    m.session_id = v;
    m.has_drops = 1;
    m.dropped_events = v;
    atf_thread_drops d = {INT32_MIN, v};
    m.drops = &d;
    m.n_drops = 1;
    const std::string json = Render(m);
    for (const char *key : {"sessionId", "timeStartNs", "timeEndNs", "eventCount", "bytesWritten",
                            "droppedEvents", "-2147483648"}) {
      EXPECT_EQ(ExactU64(json, key), v) << key << "\n" << json;
    }
    cJSON *root = cJSON_Parse(json.c_str());
    ASSERT_NE(root, nullptr) << json;
    cJSON_Delete(root);
  }
}

TEST(Manifest, PidExtremes) {
  for (int32_t pid : {0, 1, INT32_MAX}) {
    atf_manifest m = Base();
    m.pid = pid;
    EXPECT_EQ(ExactU64(Render(m), "pid"), static_cast<uint64_t>(pid));
  }
}

TEST(Manifest, KeysAndStringsEscaped) {
  atf_manifest m = Base();
  m.executable_path = "/tmp/we\"ird\\dir/tr\xc3\xa4\x63\x65\t\x01";
  const char *modules[] = {"8e9f0a1b-2c3d-4e5f-8071-92a3b4c5d6e7",
                           "01234567-89ab-cdef-0123-456789abcdef"};
  m.modules = modules;
  m.n_modules = 2;
  const std::string json = Render(m);
  cJSON *root = cJSON_Parse(json.c_str());
  ASSERT_NE(root, nullptr) << json;
  auto str = [&](const char *k) {
    cJSON *item = cJSON_GetObjectItemCaseSensitive(root, k);
    return cJSON_IsString(item) ? std::string(item->valuestring) : std::string("<missing>");
  };
  EXPECT_EQ(str("formatVersion"), "ATF V4");
  EXPECT_EQ(str("writer"), "atf-writer " ATF_WRITER_VERSION);
  EXPECT_EQ(str("os"), "linux");
  EXPECT_EQ(str("arch"), "x86_64");
  EXPECT_EQ(ExactU64(json, "sessionId"), 77u);
  EXPECT_EQ(str("executablePath"), m.executable_path);
  EXPECT_EQ(str("clock"), "custom");
  cJSON *mods = cJSON_GetObjectItemCaseSensitive(root, "modules");
  ASSERT_TRUE(cJSON_IsArray(mods));
  ASSERT_EQ(cJSON_GetArraySize(mods), 2);
  EXPECT_STREQ(cJSON_GetArrayItem(mods, 1)->valuestring, modules[1]);
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(root, "droppedEvents"), nullptr);
  EXPECT_EQ(cJSON_GetObjectItemCaseSensitive(root, "droppedEventsByThread"), nullptr);
  cJSON_Delete(root);
}

TEST(Manifest, ZeroEventsNoModulesAndManyModules) {
  atf_manifest m = Base();
  std::string json = Render(m);
  EXPECT_NE(json.find("\"modules\":\t[]"), std::string::npos) << json;
  EXPECT_EQ(ExactU64(json, "eventCount"), 0u);

  std::vector<std::string> names;
  for (int i = 0; i < 1000; i++) {
    char u[40];
    snprintf(u, sizeof u, "%08x-0000-4000-8000-%012x", i, i * 7);
    names.push_back(u);
  }
  std::vector<const char *> ptrs;
  for (auto &n : names) ptrs.push_back(n.c_str());
  m.modules = ptrs.data();
  m.n_modules = ptrs.size();
  json = Render(m);
  cJSON *root = cJSON_Parse(json.c_str());
  ASSERT_NE(root, nullptr);
  cJSON *mods = cJSON_GetObjectItemCaseSensitive(root, "modules");
  ASSERT_EQ(cJSON_GetArraySize(mods), 1000);
  EXPECT_EQ(std::string(cJSON_GetArrayItem(mods, 999)->valuestring), names[999]);
  cJSON_Delete(root);
}

TEST(Manifest, VerbatimMembersReplaceInPlaceOrFollow) {
  atf_manifest m = Base();
  const atf_manifest_member members[] = {
      {"pid", "18446744073709551615"},  // beyond int32: exact, in pid's place
      {"os", "\"lin\\u0000ux\""},       // a string cJSON could not hold (a NUL)
      {"recovered", "true"},            // a new key, after the others
      {"extra", "{\"a\": [1, 18446744073709551614]}"},
  };
  m.members = members;
  m.n_members = 4;
  const std::string json = Render(m);
  EXPECT_EQ(ExactU64(json, "pid"), UINT64_MAX) << json;
  EXPECT_NE(json.find("\"os\":\t\"lin\\u0000ux\""), std::string::npos) << json;
  EXPECT_LT(json.find("\"pid\""), json.find("\"sessionId\"")) << "replaced in place: " << json;
  EXPECT_LT(json.find("\"modules\""), json.find("\"recovered\"")) << json;
  EXPECT_NE(json.find("18446744073709551614"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"pid\"", json.find("\"pid\"") + 1), std::string::npos)
      << "one pid: " << json;
  cJSON *root = cJSON_Parse(json.c_str());
  ASSERT_NE(root, nullptr) << json;
  EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "recovered")));
  cJSON_Delete(root);
}

class ManifestWrite : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/manifest_XXXXXX";
    ASSERT_NE(mkdtemp(&tmpl[0]), nullptr);
    dir_ = tmpl;
  }
  bool Exists(const char *name) {
    struct stat st;
    return lstat((dir_ + "/" + name).c_str(), &st) == 0;
  }
  std::string dir_;
};

TEST_F(ManifestWrite, WritesAtomicallyAndReplaces) {
  int err = -1;
  atf_test::FaultOps f;
  f.eintr = true;  // every write/fsync/rename interrupted once
  EXPECT_EQ(atf_manifest_write(f.ops(), dir_.c_str(), "{\"a\":1}", 7, &err), ATF_WRITER_OK);
  EXPECT_EQ(err, 0);
  EXPECT_EQ(atf_test::ReadFile(dir_ + "/trace.json"), "{\"a\":1}");
  EXPECT_FALSE(Exists("trace.json.tmp"));
  EXPECT_GT(f.eintrs, 2);
  EXPECT_TRUE(f.open_fds.empty());
  EXPECT_EQ(atf_manifest_write(f.ops(), dir_.c_str(), "{}", 2, &err), ATF_WRITER_OK);
  EXPECT_EQ(atf_test::ReadFile(dir_ + "/trace.json"), "{}");
}

TEST_F(ManifestWrite, FailuresLeaveNoTemporaryAndNoManifest) {
  struct {
    const char *what;
    void (*setup)(atf_test::FaultOps *);
    atf_writer_status status;
  } cases[] = {
      {"ENOSPC on write", [](atf_test::FaultOps *f) { f->space_left = 3; }, ATF_WRITER_E_NO_SPACE},
      {"EIO on write", [](atf_test::FaultOps *f) { f->write_fail_at = 0, f->write_errno = EIO; },
       ATF_WRITER_E_IO},
      {"EIO on fsync", [](atf_test::FaultOps *f) { f->fsync_fail_at = 0, f->fsync_errno = EIO; },
       ATF_WRITER_E_IO},
      {"EXDEV on rename", [](atf_test::FaultOps *f) { f->rename_errno = EXDEV; }, ATF_WRITER_E_IO},
      {"EDQUOT on open",
       [](atf_test::FaultOps *f) { f->fail_open_suffix = ".tmp", f->open_errno = EDQUOT; },
       ATF_WRITER_E_NO_SPACE},
  };
  for (const auto &c : cases) {
    atf_test::FaultOps f;
    c.setup(&f);
    int err = 0;
    EXPECT_EQ(atf_manifest_write(f.ops(), dir_.c_str(), "{\"key\":12345}", 13, &err), c.status)
        << c.what;
    EXPECT_NE(err, 0) << c.what;
    EXPECT_FALSE(Exists("trace.json.tmp")) << c.what;
    EXPECT_FALSE(Exists("trace.json")) << c.what;
    EXPECT_TRUE(f.open_fds.empty()) << c.what;
  }
}

TEST_F(ManifestWrite, DoesNotFollowASymlinkedTemporary) {
  ASSERT_EQ(symlink("/nonexistent/target", (dir_ + "/trace.json.tmp").c_str()), 0);
  int err = 0;
  EXPECT_EQ(atf_manifest_write(atf_file_ops_posix(), dir_.c_str(), "{}", 2, &err),
            ATF_WRITER_E_EXISTS);
  EXPECT_EQ(err, EEXIST);
}

}  // namespace

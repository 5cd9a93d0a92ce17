// Opening a session's files without trusting them (file.h): kinds refused, reads sized by a hint
// that may be wrong, directories of paths, the pid in a session path.
#include "validator/internal/file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace {

std::string Dir() {
  const char *t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string Put(const std::string &name, const std::string &data) {
  const std::string path = Dir() + "/" + name;
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
  return path;
}

TEST(File, ReadAllWhateverTheSizeHintSays) {
  const std::string text(5000, 'j');
  const std::string path = Put("read_all", text);
  for (uint64_t hint : {uint64_t{0}, uint64_t{10}, uint64_t{5000}, uint64_t{1} << 40}) {
    SCOPED_TRACE(hint);
    const int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    char *data = nullptr;
    size_t len = 0;
    ASSERT_EQ(atf_file_read_all(fd, hint, 1 << 20, &data, &len), 0);
    EXPECT_EQ(std::string(data, len), text);
    EXPECT_EQ(data[len], '\0');
    free(data);
    ::close(fd);
  }
  // Past the limit: limit + 1 bytes read, so the caller sees it is too large.
  const int fd = ::open(path.c_str(), O_RDONLY);
  char *data = nullptr;
  size_t len = 0;
  ASSERT_EQ(atf_file_read_all(fd, 0, 100, &data, &len), 0);
  EXPECT_EQ(len, 101u);
  free(data);
  ::close(fd);
  // A descriptor that cannot be read: its errno.
  const int dir = ::open(Dir().c_str(), O_RDONLY | O_DIRECTORY);
  EXPECT_EQ(atf_file_read_all(dir, 0, 100, &data, &len), EISDIR);
  ::close(dir);
}

TEST(File, OpenRefusesWhatIsNotARegularFile) {
  int fd;
  uint64_t size;
  const char *why;
  const std::string path = Put("regular", "abc");
  ASSERT_EQ(atf_file_open(AT_FDCWD, path.c_str(), true, &fd, &size, &why), 0);
  EXPECT_EQ(size, 3u);
  ::close(fd);
  EXPECT_EQ(atf_file_open(AT_FDCWD, (Dir() + "/none").c_str(), false, &fd, &size, &why), ENOENT);
  EXPECT_STREQ(atf_file_strerror(ENOENT, nullptr), strerror(ENOENT));
  EXPECT_EQ(atf_file_open(AT_FDCWD, Dir().c_str(), false, &fd, &size, &why), -1);
  EXPECT_STREQ(atf_file_strerror(-1, why), "not a regular file (a directory)");
  const std::string link = Dir() + "/link";
  ::unlink(link.c_str());
  ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
  ASSERT_EQ(atf_file_open(AT_FDCWD, link.c_str(), false, &fd, &size, &why), 0)
      << "followed when reading";
  ::close(fd);
  EXPECT_EQ(atf_file_open(AT_FDCWD, link.c_str(), true, &fd, &size, &why), -1);
  EXPECT_STREQ(why, "not a regular file (a symbolic link)");
  EXPECT_EQ(atf_file_open(AT_FDCWD, "/dev/null", false, &fd, &size, &why), -1);
  EXPECT_STREQ(why, "not a regular file (a character device)");
  const std::string fifo = Dir() + "/fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(atf_file_open(AT_FDCWD, fifo.c_str(), false, &fd, &size, &why), -1);
  EXPECT_STREQ(why, "not a regular file (a FIFO)");
  EXPECT_EQ(atf_file_open(AT_FDCWD, "/proc/self/status", false, &fd, &size, &why), -1);
  EXPECT_STREQ(why, "its size says 0 bytes but it holds data (a /proc file?)");
  const std::string unreadable = Put("unreadable", "x");
  ::chmod(unreadable.c_str(), 0);
  if (::access(unreadable.c_str(), R_OK) != 0) {  // root reads anything
    EXPECT_EQ(atf_file_open(AT_FDCWD, unreadable.c_str(), false, &fd, &size, &why), EACCES);
  }
}

TEST(File, DirectoryOfAPath) {
  const char *leaf = nullptr;
  bool owned = false;
  int fd = atf_file_open_dir_of(AT_FDCWD, "events.bin", false, &leaf, &owned);
  EXPECT_EQ(fd, AT_FDCWD);
  EXPECT_FALSE(owned);
  EXPECT_STREQ(leaf, "events.bin");
  const std::string in_dir = Dir() + "/events.bin";
  fd = atf_file_open_dir_of(AT_FDCWD, in_dir.c_str(), false, &leaf, &owned);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(owned);
  EXPECT_STREQ(leaf, "events.bin");
  ::close(fd);
  fd = atf_file_open_dir_of(AT_FDCWD, "/events.bin", false, &leaf, &owned);  // the root
  ASSERT_GE(fd, 0);
  ::close(fd);
  fd = atf_file_open_dir_of(AT_FDCWD, Dir().c_str(), true, &leaf, &owned);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(leaf, nullptr);
  ::close(fd);
  EXPECT_LT(atf_file_open_dir_of(AT_FDCWD, "/no/such/dir/events.bin", false, &leaf, &owned), 0);
}

TEST(File, PidFromASessionPath) {
  uint64_t pid = 0;
  EXPECT_TRUE(atf_file_pid_from_path("out/session_1/pid_4242", false, &pid));
  EXPECT_EQ(pid, 4242u);
  EXPECT_TRUE(atf_file_pid_from_path("out/session_1/pid_4242///", false, &pid));
  EXPECT_EQ(pid, 4242u);
  EXPECT_TRUE(atf_file_pid_from_path("pid_7/events.bin", true, &pid));
  EXPECT_EQ(pid, 7u);
  EXPECT_TRUE(atf_file_pid_from_path("pid_2147483647", false, &pid));
  EXPECT_EQ(pid, 2147483647u);
  EXPECT_TRUE(atf_file_pid_from_path("pid_0", false, &pid));
  EXPECT_EQ(pid, 0u);
  for (const char *bad :
       {"pid_", "pid_2147483648", "pid_12a", "xpid_1", "pid_1/x", "pid_99999999999", "", "/"}) {
    EXPECT_FALSE(atf_file_pid_from_path(bad, false, &pid)) << bad;
  }
  EXPECT_TRUE(atf_file_pid_from_path("pid_1/pid_2", true, &pid));
  EXPECT_EQ(pid, 1u) << "the directory's, not the file's";
}

}  // namespace

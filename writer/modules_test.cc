// Module identities: UUID formatting of build ids (short, long, exact), validation, and collection
// of the real loaded objects' build ids.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "writer/internal/modules.h"

namespace {

std::string Format(const std::vector<uint8_t> &id) {
  char out[ATF_UUID_STRING_SIZE];
  atf_uuid_format(id.data(), id.size(), out);
  return out;
}

TEST(Uuid, FormatsFirstSixteenBytesZeroPadded) {
  std::vector<uint8_t> sha1;
  for (int i = 0; i < 20; i++) sha1.push_back(static_cast<uint8_t>(0xa0 + i));
  EXPECT_EQ(Format(sha1), "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
  EXPECT_EQ(Format({0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04}),
            "deadbeef-0102-0304-0000-000000000000");
  EXPECT_EQ(Format({}), "00000000-0000-0000-0000-000000000000");
}

TEST(Uuid, Validation) {
  EXPECT_TRUE(atf_uuid_valid("01234567-89ab-cdef-0123-456789ABCDEF"));
  EXPECT_FALSE(atf_uuid_valid("01234567-89ab-cdef-0123-456789abcde"));
  EXPECT_FALSE(atf_uuid_valid("01234567-89ab-cdef-0123-456789abcdef0"));
  EXPECT_FALSE(atf_uuid_valid("0123456789ab-cdef-0123-456789abcdef-"));
  EXPECT_FALSE(atf_uuid_valid("g1234567-89ab-cdef-0123-456789abcdef"));
  EXPECT_FALSE(atf_uuid_valid(""));
}

TEST(Modules, CollectsLoadedBuildIds) {
  std::vector<std::string> found;
  size_t n = atf_modules_collect(
      [](void *ctx, const char *uuid) {
        static_cast<std::vector<std::string> *>(ctx)->push_back(uuid);
      },
      &found);
  EXPECT_EQ(n, found.size());
#if defined(__linux__)
  // Debian's libc and libstdc++ carry GNU build ids.
  EXPECT_GE(found.size(), 1u);
#endif
  for (const std::string &u : found) EXPECT_TRUE(atf_uuid_valid(u.c_str())) << u;
}

}  // namespace

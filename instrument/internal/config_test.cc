// The ATF_* variables: defaults, every accepted form, and a one-line error for each bad value.
#include "instrument/internal/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace {

std::map<std::string, std::string> g_env;

const char *FakeGetenv(const char *name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

struct Parsed {
  int rc;
  atf_instrument_config c;
  std::string err;
};

Parsed Parse(std::map<std::string, std::string> env) {
  g_env = std::move(env);
  Parsed p;
  char err[256];
  p.rc = atf_instrument_config_read(FakeGetenv, &p.c, err, sizeof err);
  p.err = err;
  return p;
}

TEST(Config, Defaults) {
  Parsed p = Parse({});
  ASSERT_EQ(p.rc, 0);
  EXPECT_EQ(p.c.enabled, 1);
  EXPECT_STREQ(p.c.output_root, "./atf-out");
  EXPECT_EQ(p.c.session_label, nullptr);
  EXPECT_EQ(p.c.ring_bytes, 1024u * 1024u);
  EXPECT_EQ(p.c.overflow_block, 0);
  EXPECT_EQ(p.c.keep_page_cache, 0);
  EXPECT_EQ(p.c.direct_io, 0);
  EXPECT_EQ(p.c.stack_bytes, 0u);
  EXPECT_EQ(p.c.max_threads, 1024u);
  EXPECT_EQ(p.c.flush_interval_ms, 100u);
  EXPECT_EQ(p.c.verbose, 0);
  EXPECT_EQ(p.err, "");
}

TEST(Config, EverySetting) {
  Parsed p = Parse({{"ATF_OUTPUT_ROOT", "/tmp/x"},
                    {"ATF_SESSION_LABEL", "run1"},
                    {"ATF_RING_BYTES", "4M"},
                    {"ATF_OVERFLOW", "block"},
                    {"ATF_PAGE_CACHE", "keep"},
                    {"ATF_STACK_BYTES", "128"},
                    {"ATF_MAX_THREADS", "64"},
                    {"ATF_FLUSH_MS", "0"},
                    {"ATF_VERBOSE", "yes"},
                    {"ATF_TRACE", "on"}});
  ASSERT_EQ(p.rc, 0) << p.err;
  EXPECT_STREQ(p.c.output_root, "/tmp/x");
  EXPECT_STREQ(p.c.session_label, "run1");
  EXPECT_EQ(p.c.ring_bytes, 4u << 20);
  EXPECT_EQ(p.c.overflow_block, 1);
  EXPECT_EQ(p.c.keep_page_cache, 1);
  EXPECT_EQ(p.c.stack_bytes, 128u);
  EXPECT_EQ(p.c.max_threads, 64u);
  EXPECT_EQ(p.c.flush_interval_ms, 0u);
  EXPECT_EQ(p.c.verbose, 1);
  EXPECT_EQ(Parse({{"ATF_RING_BYTES", "1024"}}).c.ring_bytes, 1024u);
  EXPECT_EQ(Parse({{"ATF_RING_BYTES", "64k"}}).c.ring_bytes, 65536u);
  EXPECT_EQ(Parse({{"ATF_OVERFLOW", "drop"}}).c.overflow_block, 0);
  EXPECT_EQ(Parse({{"ATF_PAGE_CACHE", "window"}}).c.keep_page_cache, 0);
  EXPECT_EQ(Parse({{"ATF_PAGE_CACHE", "window"}}).c.direct_io, 0);
  EXPECT_EQ(Parse({{"ATF_PAGE_CACHE", "keep"}}).c.direct_io, 0);
  EXPECT_EQ(Parse({{"ATF_PAGE_CACHE", "direct"}}).c.direct_io, 1);
  EXPECT_EQ(Parse({{"ATF_PAGE_CACHE", "direct"}}).c.keep_page_cache, 0);
  EXPECT_EQ(Parse({{"ATF_STACK_BYTES", "4096"}}).c.stack_bytes, 4096u);
  EXPECT_EQ(Parse({{"ATF_OUTPUT_ROOT", ""}}).c.output_root,
            std::string("./atf-out"));  // empty = unset
}

TEST(Config, OffIgnoresTheRest) {
  for (const char *off : {"0", "off", "no", "false"}) {
    Parsed p = Parse({{"ATF_TRACE", off}, {"ATF_RING_BYTES", "garbage"}});
    EXPECT_EQ(p.rc, 0) << off;
    EXPECT_EQ(p.c.enabled, 0) << off;
  }
}

TEST(Config, BadValuesNameTheVariable) {
  const std::map<std::string, std::string> bad = {
      {"ATF_TRACE", "ATF_TRACE='maybe': expected 1/0, on/off, yes/no or true/false"},
      {"ATF_OVERFLOW", "ATF_OVERFLOW='maybe': expected drop or block"},
      {"ATF_PAGE_CACHE", "ATF_PAGE_CACHE='maybe': expected window, keep or direct"},
      {"ATF_VERBOSE", "ATF_VERBOSE='maybe': expected 1/0, on/off, yes/no or true/false"},
  };
  for (const auto &[name, message] : bad) {
    Parsed p = Parse({{name, "maybe"}});
    EXPECT_EQ(p.rc, -1) << name;
    EXPECT_EQ(p.err, message);
  }
  struct Case {
    const char *name;
    const char *value;
    const char *message;
  };
  const Case cases[] = {
      {"ATF_RING_BYTES", "3000", "ATF_RING_BYTES='3000': not a power of two"},
      {"ATF_RING_BYTES", "512",
       "ATF_RING_BYTES='512': expected a power of two from 1024 to 1G (K and M suffixes allowed)"},
      {"ATF_RING_BYTES", "2048M",
       "ATF_RING_BYTES='2048M': expected a power of two from 1024 to 1G (K and M suffixes "
       "allowed)"},
      {"ATF_RING_BYTES", "4G",
       "ATF_RING_BYTES='4G': expected a power of two from 1024 to 1G (K and M suffixes allowed)"},
      {"ATF_RING_BYTES", "-1024",
       "ATF_RING_BYTES='-1024': expected a power of two from 1024 to 1G (K and M suffixes "
       "allowed)"},
      {"ATF_RING_BYTES", "99999999999999999999999",
       "ATF_RING_BYTES='99999999999999999999999': expected a power of two from 1024 to 1G (K and M "
       "suffixes "
       "allowed)"},
      {"ATF_STACK_BYTES", "4097", "ATF_STACK_BYTES='4097': expected 0 to 4096"},
      {"ATF_STACK_BYTES", "12 ", "ATF_STACK_BYTES='12 ': expected 0 to 4096"},
      {"ATF_MAX_THREADS", "0", "ATF_MAX_THREADS='0': expected 1 to 4096"},
      {"ATF_MAX_THREADS", "5000", "ATF_MAX_THREADS='5000': expected 1 to 4096"},
      {"ATF_FLUSH_MS", "x", "ATF_FLUSH_MS='x': expected milliseconds, 0 to 86400000"},
  };
  for (const Case &c : cases) {
    Parsed p = Parse({{c.name, c.value}});
    EXPECT_EQ(p.rc, -1) << c.name << "=" << c.value;
    EXPECT_EQ(p.err, c.message);
  }
}

}  // namespace

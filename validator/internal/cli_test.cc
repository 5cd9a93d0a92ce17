// The one command-line grammar of atf-validate, atf-dump and atf-recover (cli.h), and its value
// parsers. The tools' own tests run the binaries with the same spellings.
#include "validator/internal/cli.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

enum { FLAG, VALUE };

const atf_cli_option kOptions[] = {
    {"--flag", "-f", false, FLAG},
    {"--value", nullptr, true, VALUE},
    {nullptr, nullptr, false, 0},
};

// Each item: "id=value" for options and operands ("operand=PATH"), "error" for a usage error.
std::vector<std::string> Items(std::vector<std::string> args) {
  args.insert(args.begin(), "tool");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(&a[0]);
  atf_cli c;
  atf_cli_init(&c, "tool", static_cast<int>(argv.size()), argv.data());
  std::vector<std::string> out;
  for (;;) {
    const char* value;
    const int id = atf_cli_next(&c, kOptions, &value);
    if (id == ATF_CLI_END) break;
    if (id == ATF_CLI_ERROR) {
      out.push_back("error");
      break;
    }
    const std::string name = id == ATF_CLI_OPERAND ? "operand" : id == FLAG ? "flag" : "value";
    out.push_back(name + "=" + (value ? value : "(none)"));
  }
  return out;
}

TEST(CliGrammar, ValuesInBothSpellingsAndFlags) {
  EXPECT_EQ(Items({"--value", "1", "--value=2", "--flag", "-f", "p"}),
            (std::vector<std::string>{"value=1", "value=2", "flag=(none)", "flag=(none)", "operand=p"}));
  EXPECT_EQ(Items({"--value="}), (std::vector<std::string>{"value="}));  // empty: the parser decides
}

TEST(CliGrammar, DoubleDashEndsOptionsAndADashIsAnOperand) {
  EXPECT_EQ(Items({"-", "--", "--flag", "-x"}),
            (std::vector<std::string>{"operand=-", "operand=--flag", "operand=-x"}));
}

TEST(CliGrammar, UsageErrors) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--bogus"}, {"--flag=1"}, {"--value"}, {"-f=1"}, {"--valuex=1"}, {"-x"}}) {
    SCOPED_TRACE(args[0]);
    const auto items = Items(args);
    ASSERT_FALSE(items.empty());
    EXPECT_EQ(items.back(), "error");
  }
}

TEST(CliGrammar, Sizes) {
  uint64_t v = 0;
  EXPECT_TRUE(atf_cli_size("64M", &v));
  EXPECT_EQ(v, 64u << 20);
  EXPECT_TRUE(atf_cli_size("1k", &v));
  EXPECT_EQ(v, 1024u);
  EXPECT_TRUE(atf_cli_size("2G", &v));
  EXPECT_EQ(v, 2ull << 30);
  EXPECT_TRUE(atf_cli_size("18446744073709551615", &v));
  EXPECT_EQ(v, UINT64_MAX);
  for (const char* bad : {"", "K", "12Q", "1KB", "-1", "+1", " 1", "18446744073709551616", "17179869184G"}) {
    EXPECT_FALSE(atf_cli_size(bad, &v)) << bad;
  }
}

TEST(CliGrammar, CountsTakeNoSuffix) {
  uint64_t v = 0;
  EXPECT_TRUE(atf_cli_count("1024", 1024, &v));
  EXPECT_EQ(v, 1024u);
  for (const char* bad : {"", "1K", "1025", "-1", "x", "99999999999999999999"}) {
    EXPECT_FALSE(atf_cli_count(bad, 1024, &v)) << bad;
  }
}

TEST(CliGrammar, Int32) {
  int32_t v = 0;
  EXPECT_TRUE(atf_cli_int32("-2147483648", &v));
  EXPECT_EQ(v, INT32_MIN);
  EXPECT_TRUE(atf_cli_int32("2147483647", &v));
  EXPECT_EQ(v, INT32_MAX);
  EXPECT_TRUE(atf_cli_int32("137", &v));
  EXPECT_EQ(v, 137);
  for (const char* bad : {"", "-", "2147483648", "-2147483649", "1K", "+1", "0x10", " 1"}) {
    EXPECT_FALSE(atf_cli_int32(bad, &v)) << bad;
  }
}

}  // namespace

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
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(&a[0]);
  atf_cli c;
  atf_cli_init(&c, "tool", static_cast<int>(argv.size()), argv.data());
  std::vector<std::string> out;
  for (;;) {
    const char *value;
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
  EXPECT_EQ(
      Items({"--value", "1", "--value=2", "--flag", "-f", "p"}),
      (std::vector<std::string>{"value=1", "value=2", "flag=(none)", "flag=(none)", "operand=p"}));
  EXPECT_EQ(Items({"--value="}),
            (std::vector<std::string>{"value="}));  // empty: the parser decides
}

TEST(CliGrammar, DoubleDashEndsOptionsAndADashIsAnOperand) {
  EXPECT_EQ(Items({"-", "--", "--flag", "-x"}),
            (std::vector<std::string>{"operand=-", "operand=--flag", "operand=-x"}));
}

TEST(CliGrammar, UsageErrors) {
  for (const auto &args : std::vector<std::vector<std::string>>{
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
  for (const char *bad :
       {"", "K", "12Q", "1KB", "-1", "+1", " 1", "18446744073709551616", "17179869184G"}) {
    EXPECT_FALSE(atf_cli_size(bad, &v)) << bad;
  }
}

TEST(CliGrammar, CountsTakeNoSuffix) {
  uint64_t v = 0;
  EXPECT_TRUE(atf_cli_count("1024", 1024, &v));
  EXPECT_EQ(v, 1024u);
  for (const char *bad : {"", "1K", "1025", "-1", "x", "99999999999999999999"}) {
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
  for (const char *bad : {"", "-", "2147483648", "-2147483649", "1K", "+1", "0x10", " 1"}) {
    EXPECT_FALSE(atf_cli_int32(bad, &v)) << bad;
  }
}

// atf_cli_parse: the loop every tool runs (options applied, --help/--version, one operand).
enum { P_HELP, P_VERSION, P_COUNT };
const atf_cli_option kParseOptions[] = {
    {"--help", "-h", false, P_HELP},
    {"--version", nullptr, false, P_VERSION},
    {"--count", nullptr, true, P_COUNT},
    {nullptr, nullptr, false, 0},
};

struct Parsed {
  atf_cli_result result;
  std::string operand;
  uint64_t count = 0;
  std::string out;
};

bool ApplyCount(void *ctx, const atf_cli *c, int id, const char *value) {
  auto *p = static_cast<Parsed *>(ctx);
  if (id == P_COUNT && atf_cli_count(value, 100, &p->count)) return true;
  atf_cli_error(c, "invalid %s '%s'", atf_cli_option_name(kParseOptions, id), value);
  return false;
}

Parsed Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "tool");
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(&a[0]);
  Parsed p;
  const atf_cli_spec spec = {kParseOptions, P_HELP, P_VERSION,  "usage text\n",
                             "tool 9.9",    "PATH", ApplyCount, &p};
  const char *operand = nullptr;
  testing::internal::CaptureStdout();
  p.result = atf_cli_parse("tool", static_cast<int>(argv.size()), argv.data(), &spec, &operand);
  p.out = testing::internal::GetCapturedStdout();
  if (operand != nullptr) p.operand = operand;
  return p;
}

TEST(CliParse, OptionsHelpVersionAndOneOperand) {
  Parsed p = Parse({"--count", "7", "dir"});
  EXPECT_EQ(p.result, ATF_CLI_PARSED);
  EXPECT_EQ(p.operand, "dir");
  EXPECT_EQ(p.count, 7u);
  EXPECT_EQ(Parse({"-h", "dir"}).out, "usage text\n");
  EXPECT_EQ(Parse({"-h"}).result, ATF_CLI_DONE);
  p = Parse({"--version"});
  EXPECT_EQ(p.result, ATF_CLI_DONE);
  EXPECT_EQ(p.out, "tool 9.9\n");
  EXPECT_EQ(Parse({}).result, ATF_CLI_USAGE);                    // missing PATH
  EXPECT_EQ(Parse({"a", "b"}).result, ATF_CLI_USAGE);            // two
  EXPECT_EQ(Parse({"--count=101", "a"}).result, ATF_CLI_USAGE);  // apply refuses
  EXPECT_EQ(Parse({"--nope", "a"}).result, ATF_CLI_USAGE);
  EXPECT_EQ(Parse({"--", "--count"}).operand, "--count");
  EXPECT_STREQ(atf_cli_option_name(kParseOptions, P_COUNT), "--count");
  EXPECT_STREQ(atf_cli_option_name(kParseOptions, 42), "");
}

}  // namespace

// testdata/malformed: every case is rejected, first, with the rule EXPECTED names, by the library
// and by the atf-validate binary (exit status 1); and the files are what the generator makes.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "validator/atf/validate.h"
#include "validator/internal/json_reader.h"
#include "validator/testing/malformed_cases.h"
#include "validator/testing/run_tool.h"

namespace {

const char kDir[] = "testdata/malformed";

struct Expected {
  std::string name, rule;
};

std::vector<Expected> ReadExpected() {
  std::istringstream in(atf_test::ReadFile(std::string(kDir) + "/EXPECTED"));
  std::vector<Expected> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Expected e;
    fields >> e.name >> e.rule;
    out.push_back(e);
  }
  return out;
}

TEST(MalformedCorpus, HasAtLeastThirtyCasesCoveringEveryRule) {
  const auto cases = ReadExpected();
  EXPECT_GE(cases.size(), 30u);
  std::set<std::string> rules;
  for (const auto &c : cases) rules.insert(c.rule);
  for (const char *rule : {"framing.varint",
                           "framing.truncated",
                           "framing.too_large",
                           "wire.decode",
                           "schema.timestamp",
                           "schema.payload",
                           "schema.utf8",
                           "schema.register_name",
                           "order.event_id",
                           "order.timestamp",
                           "session.first",
                           "session.last",
                           "session.duplicate_start",
                           "session.duplicate_end",
                           "manifest.json",
                           "manifest.type",
                           "manifest.range",
                           "manifest.missing_key",
                           "manifest.duplicate_key",
                           "manifest.uuid",
                           "manifest.event_count",
                           "manifest.bytes_written",
                           "manifest.time_range"}) {
    EXPECT_EQ(rules.count(rule), 1u) << "no case for " << rule;
  }
}

TEST(MalformedCorpus, CheckedInFilesMatchTheGenerator) {
  const auto cases = atf_test::MalformedCases();
  EXPECT_EQ(atf_test::ReadFile(std::string(kDir) + "/EXPECTED"), atf_test::ExpectedList(cases))
      << "regenerate: bazel run //validator:make_malformed -- $PWD/testdata/malformed";
  for (const auto &c : cases) {
    const std::string dir = std::string(kDir) + "/" + c.name;
    EXPECT_EQ(atf_test::ReadFile(dir + "/events.bin"), c.events) << c.name;
    if (c.has_manifest) EXPECT_EQ(atf_test::ReadFile(dir + "/trace.json"), c.manifest) << c.name;
  }
}

TEST(MalformedCorpus, LibraryRejectsEachWithItsRule) {
  for (const auto &c : ReadExpected()) {
    SCOPED_TRACE(c.name);
    atf_validate_report r;
    ASSERT_EQ(atf_validate_path((std::string(kDir) + "/" + c.name).c_str(), nullptr, &r),
              ATF_VALIDATE_OK)
        << r.reason;
    EXPECT_FALSE(r.valid);
    ASSERT_GT(r.errors_len, 0u);
    EXPECT_STREQ(r.errors[0].rule, c.rule.c_str()) << r.errors[0].message;
    // The report's recovery point never lies beyond the file.
    EXPECT_LE(r.valid_prefix_bytes, r.bytes);
    atf_validate_report_free(&r);
  }
}

// The first error's rule in atf-validate --json output, read with the validator's JSON reader.
std::string FirstRule(const std::string &json) {
  atf_json_doc doc;
  std::string rule = "(unparsable)";
  if (atf_json_parse(json.data(), json.size(), &doc) == ATF_JSON_OK) {
    const size_t errors = atf_json_get(&doc, 0, "errors");
    if (errors != ATF_JSON_NONE && doc.nodes[errors].first != ATF_JSON_NONE) {
      const size_t r = atf_json_get(&doc, doc.nodes[errors].first, "rule");
      if (r != ATF_JSON_NONE) rule.assign(doc.nodes[r].text, doc.nodes[r].len);
    } else {
      rule = "(no errors)";
    }
  }
  atf_json_free(&doc);
  return rule;
}

TEST(MalformedCorpus, BinaryExitsOneWithItsRule) {
  for (const auto &c : ReadExpected()) {
    SCOPED_TRACE(c.name);
    const auto r =
        atf_test::RunTool("validator/atf-validate --json " + std::string(kDir) + "/" + c.name);
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(FirstRule(r.out), c.rule) << r.out;
    EXPECT_EQ(r.err, "");
  }
}

}  // namespace

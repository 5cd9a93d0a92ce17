// The malformed corpus (testdata/malformed/): one defect per case, with the rule that must reject
// it. make_malformed writes these files; malformed_corpus_test checks the checked-in copies against
// this list and against atf-validate.
#ifndef ATF_VALIDATOR_TESTING_MALFORMED_CASES_H_
#define ATF_VALIDATOR_TESTING_MALFORMED_CASES_H_

#include <string>
#include <vector>

namespace atf_test {

struct MalformedCase {
  std::string name;         // directory name under testdata/malformed/
  std::string rule;         // the first error atf-validate must report
  std::string description;  // the defect, one line
  std::string events;       // events.bin
  bool has_manifest = false;
  std::string manifest;  // trace.json
};

std::vector<MalformedCase> MalformedCases();

// The EXPECTED file: "name rule  # description" lines.
std::string ExpectedList(const std::vector<MalformedCase> &cases);

}  // namespace atf_test

#endif  // ATF_VALIDATOR_TESTING_MALFORMED_CASES_H_

// The fixed synthetic session behind testdata/golden/<os>-<arch>/: the same records, options and
// clock for every target; only the target OS and architecture differ. Every payload type, a fixed
// clock, pid, session id, thread ids and executable path, modules given explicitly
// (collect_modules = 0): the bytes depend on nothing of the host, so a linux, darwin, x86_64 or
// arm64 host writes the same four sessions.
#ifndef ATF_WRITER_TESTING_GOLDEN_SESSION_H_
#define ATF_WRITER_TESTING_GOLDEN_SESSION_H_

#include <string>
#include <vector>

#include "writer/atf/writer.h"

namespace atf_test {

struct GoldenTarget {
  atf_os os;
  atf_arch arch;
  const char *dir;  // "<os>-<arch>" under testdata/golden: "linux-x86_64", "darwin-arm64", ...
};

// The four targets: linux and darwin, each x86_64 and arm64.
const std::vector<GoldenTarget> &GoldenTargets();

// Writes the session for `target` under `root` (which must not contain session_golden). Returns ""
// and sets *session_dir (…/session_golden/pid_4242) on success, else an error description.
std::string WriteGoldenSession(const std::string &root, const GoldenTarget &target,
                               std::string *session_dir);

}  // namespace atf_test

#endif  // ATF_WRITER_TESTING_GOLDEN_SESSION_H_

// The fixed synthetic session behind testdata/golden/: every payload type, a fixed clock, pid,
// session id, thread ids, os "linux" and arch x86_64, modules given explicitly (collect_modules =
// 0), so the bytes depend on nothing of the host.
#ifndef ATF_WRITER_TESTING_GOLDEN_SESSION_H_
#define ATF_WRITER_TESTING_GOLDEN_SESSION_H_

#include <string>

namespace atf_test {

// Writes the session under `root` (which must not contain session_golden). Returns "" and sets
// *session_dir (…/session_golden/pid_4242) on success, else an error description.
std::string WriteGoldenSession(const std::string& root, std::string* session_dir);

}  // namespace atf_test

#endif  // ATF_WRITER_TESTING_GOLDEN_SESSION_H_

// The validator fuzz target's body, shared by the libFuzzer/standalone binary and the regression
// test. Input layout: 2 bytes little-endian manifest length M (0xffff: no manifest), then
// events.bin bytes, then the last M bytes are trace.json. Aborts when an invariant of
// docs/security.md breaks.
#ifndef ATF_VALIDATOR_FUZZ_CHECK_H_
#define ATF_VALIDATOR_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace atf_fuzz {

void CheckOne(const uint8_t *data, size_t size);

// Packs events and (optionally) a manifest into the input layout above.
std::string Pack(const std::string &events, const std::string *manifest);

}  // namespace atf_fuzz

#endif  // ATF_VALIDATOR_FUZZ_CHECK_H_

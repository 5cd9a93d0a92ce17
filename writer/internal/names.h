/* internal/names.h: names that depend on the traced OS rather than the host. */
#ifndef ATF_WRITER_INTERNAL_NAMES_H_
#define ATF_WRITER_INTERNAL_NAMES_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Signal name for `number` as numbered on `os` ("linux" or "darwin"; anything else has no names):
 * "SIGUSR1" is 10 on linux and 30 on darwin. Unnamed numbers are formatted "SIG<n>" into buf.
 * The writer names signals by the session's os, so a session written for "linux" is the same
 * bytes on any host. */
const char *atf_signal_name_for_os(const char *os, int number, char buf[16]);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_NAMES_H_ */

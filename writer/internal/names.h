/* internal/names.h: signal names by the target OS's name (the encoder's view of atf_signal_name).
 */
#ifndef ATF_WRITER_INTERNAL_NAMES_H_
#define ATF_WRITER_INTERNAL_NAMES_H_

#ifdef __cplusplus
extern "C" {
#endif

/* atf_signal_name() for an OS given by name: "linux" and "darwin" name signals, anything else
 * (NULL included) formats "SIG<n>". The encoder keeps the session's OS as the name it writes
 * (atf_os_name()), so the same records give the same bytes on any host. */
const char *atf_signal_name_for_os(const char *os, int number, char buf[16]);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_NAMES_H_ */

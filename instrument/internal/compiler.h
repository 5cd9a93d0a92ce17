/* compiler.h: attributes every function of the instrument library carries.
 *
 * ATF_NOINSTR keeps a function out of -finstrument-functions even when someone builds this
 * library with the flag (a hook that called an instrumented function would re-enter itself).
 */
#ifndef ATF_INSTRUMENT_INTERNAL_COMPILER_H_
#define ATF_INSTRUMENT_INTERNAL_COMPILER_H_

#define ATF_NOINSTR __attribute__((no_instrument_function))
#define ATF_LIKELY(x) __builtin_expect(!!(x), 1)
#define ATF_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif /* ATF_INSTRUMENT_INTERNAL_COMPILER_H_ */

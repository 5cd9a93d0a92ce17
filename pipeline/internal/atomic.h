/* internal/atomic.h: C11 atomics in headers that C++ tests also include.
 *
 * C++ before C++23 cannot include <stdatomic.h>; std::atomic<T> of a lock-free integer has the
 * same size, alignment and representation as _Atomic(T) with clang and gcc, so the structs below
 * mean the same to both languages. The .c files use the C11 functions; tests use std::atomic.
 */
#ifndef ATF_PIPELINE_INTERNAL_ATOMIC_H_
#define ATF_PIPELINE_INTERNAL_ATOMIC_H_

#ifdef __cplusplus
#include <atomic>
#define ATF_ATOMIC(T) std::atomic<T>
#else
#include <stdalign.h>
#include <stdatomic.h>
#define ATF_ATOMIC(T) _Atomic(T)
#endif

#endif /* ATF_PIPELINE_INTERNAL_ATOMIC_H_ */

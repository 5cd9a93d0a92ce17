/* internal/compiler.h: attributes for the writer's internal functions. */
#ifndef ATF_WRITER_INTERNAL_COMPILER_H_
#define ATF_WRITER_INTERNAL_COMPILER_H_

/* A status or error result that must not be dropped (first error wins, so none may be lost). */
#if defined(__GNUC__) || defined(__clang__)
#define ATF_MUST_USE __attribute__((warn_unused_result))
#else
#define ATF_MUST_USE
#endif

/* Branch hints for the per-event path. */
#if defined(__GNUC__) || defined(__clang__)
#define ATF_LIKELY(x) __builtin_expect(!!(x), 1)
#define ATF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define ATF_LIKELY(x) (x)
#define ATF_UNLIKELY(x) (x)
#endif

#endif /* ATF_WRITER_INTERNAL_COMPILER_H_ */

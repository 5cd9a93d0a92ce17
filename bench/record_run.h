/* record_run.h: what a traced thread pays per event in atf_tracer_record_call/return, against the
 * speed of light: a copy of the same bytes. */
#ifndef ATF_BENCH_RECORD_RUN_H_
#define ATF_BENCH_RECORD_RUN_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_record_result {
  double record_ns;           /* atf_tracer_record_call: 6 registers + 128-byte stack copy */
  double record_return_ns;    /* atf_tracer_record_return: 1 register */
  double record_monotonic_ns; /* record_call with ATF_TRACER_CLOCK_MONOTONIC (clock_gettime) */
  double record_drop_ns;      /* a call and its return, both dropped (full ring), per event */
  double record_memcpy_ns;    /* the call's 216 bytes copied into a buffer as large as the ring */
  double drop_fraction;       /* of the events of the drop run, the share dropped */
  const char *clock;          /* the session clock's source ("tsc", "cntvct", "monotonic") */
} bench_record_result;

/* Runs every measurement `reps` times in turn (sessions under `dir`); each figure is the median. */
int bench_record(const char *dir, int reps, bench_record_result *out);

#ifdef __cplusplus
}
#endif

#endif /* ATF_BENCH_RECORD_RUN_H_ */

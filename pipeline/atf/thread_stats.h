/* pipeline/atf/thread_stats.h: one traced thread lifetime's event accounting, as the drain records
 * it when the thread's slot is freed and as atf_tracer_stats hands it out (one struct, no copy
 * field by field). Included by atf/tracer.h. */
#ifndef ATF_PIPELINE_ATF_THREAD_STATS_H_
#define ATF_PIPELINE_ATF_THREAD_STATS_H_

#include <stdint.h>

typedef struct atf_tracer_thread_stats {
  int32_t thread_id;
  uint32_t generation;
  uint64_t produced, written, dropped, lost;
  uint64_t dropped_unmatched; /* of dropped: returns whose call was not recorded */
} atf_tracer_thread_stats;

#endif /* ATF_PIPELINE_ATF_THREAD_STATS_H_ */

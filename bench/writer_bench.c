/* writer_bench: the standard mix (bench/mix.h) through the writer and the alternatives, the
 * tracer's record path, the whole pipeline and the validator, in one process and one run. Times
 * are medians of --reps repetitions, in nanoseconds per event; bench/README.md lists every key.
 *
 *   bazel run -c opt //bench:writer_bench -- [--json] [--only record,writer,pipeline,validator]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/baselines.h"
#include "bench/mix.h"
#include "bench/pipeline_run.h"
#include "bench/record_run.h"
#include "bench/writer_run.h"
#include "validator/atf/validate.h"

typedef struct options {
  int json;
  size_t events;
  int reps;
  const char *dir;
  double pipeline_seconds; /* the producers' run per pipeline row */
  uint32_t ring_bytes;
  uint64_t validator_bytes;
  int keep_validator_session;
  int drain_nice;
  int pipeline_io_thread; /* -1: the tracer's default */
  int pipeline_reps;      /* runs per pipeline row; the median by events/s is reported */
  unsigned sections;      /* SECTION_* bits */
} options;

enum { SECTION_RECORD = 1, SECTION_WRITER = 2, SECTION_PIPELINE = 4, SECTION_VALIDATOR = 8 };

static int parse_sections(const char *list, unsigned *out) {
  static const struct {
    const char *name;
    unsigned bit;
  } kSections[] = {{"record", SECTION_RECORD},
                   {"writer", SECTION_WRITER},
                   {"pipeline", SECTION_PIPELINE},
                   {"validator", SECTION_VALIDATOR}};
  *out = 0;
  const char *p = list;
  while (*p != '\0') {
    size_t n = strcspn(p, ",");
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof kSections / sizeof kSections[0]; i++) {
      if (strlen(kSections[i].name) == n && strncmp(p, kSections[i].name, n) == 0) {
        bit = kSections[i].bit;
      }
    }
    if (bit == 0) return -1;
    *out |= bit;
    p += n;
    if (*p == ',') p++;
  }
  return *out == 0 ? -1 : 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double median_ns_per_event(uint64_t *samples, int n, size_t events) {
  qsort(samples, (size_t)n, sizeof *samples, cmp_u64);
  uint64_t mid = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  return (double)mid / (double)events;
}

static double median3(const double *v) {
  const double a = v[0], b = v[1], c = v[2];
  return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

static double max3(const double *v) {
  const double m = v[0] > v[1] ? v[0] : v[1];
  return m > v[2] ? m : v[2];
}

/* CPU seconds (user + system) of the children waited for so far. */
static double children_cpu_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_CHILDREN, &ru) != 0) return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: writer_bench [--json] [--events N] [--reps R] [--dir DIR]\n"
      "                    [--pipeline-seconds S] [--ring-bytes N] [--drain-nice N] "
      "[--validator-mib N]\n"
      "                    [--pipeline-io-thread 0|1] [--pipeline-reps R] [--keep-page-cache 0|1]\n"
      "                    [--only record,writer,pipeline,validator] [--keep-validator-session]\n");
}

static int parse(int argc, char **argv, options *o) {
  o->json = 0;
  o->events = 2000000;
  o->reps = 5;
  o->dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  o->pipeline_seconds = 1.0;
  o->ring_bytes = 256 * 1024;
  o->validator_bytes = 1100ull << 20; /* a little over 1 GiB */
  o->drain_nice = 0;
  o->pipeline_io_thread = -1;
  o->pipeline_reps = 3;
  o->keep_validator_session = 0;
  o->sections = SECTION_RECORD | SECTION_WRITER | SECTION_PIPELINE | SECTION_VALIDATOR;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json")) {
      o->json = 1;
    } else if (!strcmp(argv[i], "--events") && i + 1 < argc) {
      o->events = strtoull(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      o->reps = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
      o->dir = argv[++i];
    } else if (!strcmp(argv[i], "--pipeline-seconds") && i + 1 < argc) {
      o->pipeline_seconds = strtod(argv[++i], NULL);
    } else if (!strcmp(argv[i], "--ring-bytes") && i + 1 < argc) {
      o->ring_bytes = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--drain-nice") && i + 1 < argc) {
      o->drain_nice = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--pipeline-io-thread") && i + 1 < argc) {
      o->pipeline_io_thread = atoi(argv[++i]) != 0;
    } else if (!strcmp(argv[i], "--keep-page-cache") && i + 1 < argc) {
      bench_keep_page_cache = atoi(argv[++i]) != 0;
    } else if (!strcmp(argv[i], "--direct-io") && i + 1 < argc) {
      bench_direct_io = atoi(argv[++i]) != 0;
    } else if (!strcmp(argv[i], "--pipeline-reps") && i + 1 < argc) {
      o->pipeline_reps = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
      if (parse_sections(argv[++i], &o->sections) != 0) {
        fprintf(stderr,
                "writer_bench: --only takes a comma-separated list of record, writer, "
                "pipeline, validator\n");
        return -1;
      }
    } else if (!strcmp(argv[i], "--keep-validator-session")) {
      o->keep_validator_session = 1; /* for profiling the validator on the bench's session */
    } else if (!strcmp(argv[i], "--validator-mib") && i + 1 < argc) {
      o->validator_bytes = strtoull(argv[++i], NULL, 10) << 20;
    } else if (!strcmp(argv[i], "--help")) {
      usage(stdout);
      exit(0);
    } else {
      usage(stderr);
      return -1;
    }
  }
  if (o->events < 1000 || o->reps < 1 || o->reps > 99 || o->pipeline_reps < 1 ||
      o->pipeline_reps > 15 || !(o->pipeline_seconds >= 0.01 && o->pipeline_seconds <= 600)) {
    fprintf(stderr,
            "writer_bench: --events must be >= 1000, --reps in 1..99, --pipeline-reps in "
            "1..15, --pipeline-seconds in 0.01..600\n");
    return -1;
  }
  return 0;
}

/* One pipeline row: `reps` runs, the median by events/s; the writer alone (one thread, write(2)
 * included: the work the drain thread does) is measured right before each run on the same mix,
 * and its median reported. */
typedef struct pipeline_row {
  bench_pipeline_result r;
  double writer_alone_events_per_s;
  double writer_alone_cpu_ns_per_event;         /* the writer-alone thread's CPU time per event */
  double write_mb_per_s, write_cpu_ns_per_byte; /* bench_write_fresh, same reps */
} pipeline_row;

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double bytes_per_event(const bench_pipeline_result *r) {
  return r->file_events ? (double)r->file_bytes / (double)r->file_events : 1.0;
}

static int cmp_row(const void *a, const void *b) {
  const double x = ((const pipeline_row *)a)->r.events_per_s;
  const double y = ((const pipeline_row *)b)->r.events_per_s;
  return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int pipeline_row_run(const options *o, const bench_mix *mix, int producers, int block,
                            pipeline_row *out) {
  pipeline_row runs[15];
  double alone[15], alone_cpu[15], wmb[15], wcpu[15];
  for (int r = 0; r < o->pipeline_reps; ++r) {
    bench_writer_result res;
    const uint64_t cpu0 = thread_cpu_ns();
    if (bench_writer_mix(mix, o->dir, 1000, 0, &res, NULL, 0) != 0) return -1;
    alone_cpu[r] = (double)(thread_cpu_ns() - cpu0) / (double)mix->events;
    alone[r] = (double)mix->events / ((double)res.write_ns / 1e9);
    if (bench_write_fresh(o->dir, 256, &wmb[r], &wcpu[r]) != 0) return -1;
    if (bench_pipeline(o->dir, producers, o->pipeline_seconds, o->ring_bytes, o->drain_nice,
                       o->pipeline_io_thread, block, &runs[r].r) != 0) {
      return -1;
    }
  }
  qsort(runs, (size_t)o->pipeline_reps, sizeof runs[0], cmp_row);
  qsort(alone, (size_t)o->pipeline_reps, sizeof alone[0], cmp_double);
  qsort(alone_cpu, (size_t)o->pipeline_reps, sizeof alone_cpu[0], cmp_double);
  *out = runs[o->pipeline_reps / 2];
  out->writer_alone_events_per_s = alone[o->pipeline_reps / 2];
  out->writer_alone_cpu_ns_per_event = alone_cpu[o->pipeline_reps / 2];
  qsort(wmb, (size_t)o->pipeline_reps, sizeof wmb[0], cmp_double);
  qsort(wcpu, (size_t)o->pipeline_reps, sizeof wcpu[0], cmp_double);
  out->write_mb_per_s = wmb[o->pipeline_reps / 2];
  out->write_cpu_ns_per_byte = wcpu[o->pipeline_reps / 2];
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--rss-child")) {
    return bench_writer_rss_child(strtoull(argv[2], NULL, 10), argv[3]);
  }
  if (argc == 5 && !strcmp(argv[1], "--validate-child")) {
    return bench_validator_child(argv[2], (unsigned)strtoul(argv[3], NULL, 10), argv[4]);
  }
  options o;
  if (parse(argc, argv, &o) != 0) return 2;
  const int want_writer = (o.sections & SECTION_WRITER) != 0;
  const int want_pipeline = (o.sections & SECTION_PIPELINE) != 0;
  const int want_validator = (o.sections & SECTION_VALIDATOR) != 0;

  /* The record path first, on a quiet process. */
  bench_record_result rec;
  memset(&rec, 0, sizeof rec);
  if ((o.sections & SECTION_RECORD) && bench_record(o.dir, o.reps, &rec) != 0) {
    fprintf(stderr, "writer_bench: the record benchmark failed in %s\n", o.dir);
    return 1;
  }

  bench_mix mix;
  memset(&mix, 0, sizeof mix);
  if ((want_writer || want_pipeline || want_validator) &&
      bench_mix_build(&mix, o.events, 42) != 0) {
    fprintf(stderr, "writer_bench: out of memory building %zu events\n", o.events);
    return 1;
  }
  uint64_t sink = 0;
  uint64_t raw[99], pbc[99], cpp[99], orig[99], wr[99], wd[99], wn[99], wt[99];
  double p50 = 0, p99 = 0, p999 = 0, rss_small = 0, rss_large = 0;
  /* The original writer makes two syscalls per event: run it on a tenth of the mix. */
  const size_t orig_events = mix.events / 10;
  if (want_writer) {
    char orig_path[4096];
    snprintf(orig_path, sizeof orig_path, "%s/atf_bench_original_v4.%d.bin", o.dir, (int)getpid());
    for (int r = 0; r < o.reps; ++r) {
      raw[r] = bench_raw_copy(&mix, &sink);
      pbc[r] = bench_protobuf_c_pack(&mix, &sink);
      cpp[r] = bench_libprotobuf(&mix, &sink);
      orig[r] = bench_original_v4(&mix, orig_events, orig_path, &sink);
      if (!raw[r] || !pbc[r] || !cpp[r] || !orig[r]) {
        fprintf(stderr, "writer_bench: a baseline failed (%s)\n", strerror(errno));
        return 1;
      }
      bench_writer_result res;
      if (bench_writer_mix(&mix, o.dir, 1000, 0, &res, NULL, 0) != 0 ||
          res.events != mix.events + 1) {
        fprintf(stderr, "writer_bench: the writer failed in %s\n", o.dir);
        return 1;
      }
      wr[r] = res.write_ns;
      wd[r] = res.durable_ns;
      if (bench_writer_mix(&mix, o.dir, 1000, BENCH_WRITER_DISCARD, &res, NULL, 0) != 0) {
        fprintf(stderr, "writer_bench: the writer (no I/O) failed in %s\n", o.dir);
        return 1;
      }
      wn[r] = res.write_ns;
      if (bench_writer_mix(&mix, o.dir, 1000, BENCH_WRITER_IO_THREAD, &res, NULL, 0) != 0 ||
          res.events != mix.events + 1) {
        fprintf(stderr, "writer_bench: the writer (I/O thread) failed in %s\n", o.dir);
        return 1;
      }
      wt[r] = res.write_ns;
    }
    if (bench_writer_batch_latency(&mix, o.dir, &p50, &p99, &p999) != 0) {
      fprintf(stderr, "writer_bench: latency run failed\n");
      return 1;
    }
    /* Peak RSS at two session sizes: equal figures show it does not grow with the event count. */
    rss_small = bench_writer_peak_rss_mib(o.dir, 100000);
    rss_large = bench_writer_peak_rss_mib(o.dir, 10 * (uint64_t)mix.events);
  }

  /* Pipeline: producers -> rings -> drain -> writer -> file, validated afterwards; DROP rows, then
   * BLOCK rows. */
  const int producer_counts[4] = {1, 2, 4, 8};
  pipeline_row pipe[8];
  if (want_pipeline) {
    for (int i = 0; i < 8; ++i) {
      if (pipeline_row_run(&o, &mix, producer_counts[i % 4], i / 4, &pipe[i]) != 0) {
        fprintf(stderr, "writer_bench: pipeline run with %d producers (%s) failed\n",
                producer_counts[i % 4], i / 4 ? "block" : "drop");
        return 1;
      }
    }
  }

  /* Validator on a file of at least --validator-mib MiB written by the writer: the default engine
   * with one decoding thread (the library's default) and two, then each engine (upb, nanopb,
   * both) with one thread, alternating, three runs each; medians. With each run the cores it
   * had: the child's CPU time (user + system, from RUSAGE_CHILDREN around it) over its wall
   * time. On a shared machine a two-thread run that got one core measures the machine, not the
   * validator: this says which. */
  static const char *const kEngines[3] = {"upb", "nanopb", "both"};
  double val_mb_s = 0, val_rss = 0, val2_mb_s = 0, val2_rss = 0, val_cores = 0, val2_cores = 0;
  double eng_mb_s[3] = {0, 0, 0}, eng_rss[3] = {0, 0, 0};
  uint64_t val_bytes = 0;
  if (want_validator) {
    char big[4096];
    if (bench_writer_big_session(&mix, o.dir, o.validator_bytes, big, sizeof big) != 0) {
      fprintf(stderr, "writer_bench: writing the validator's session failed in %s\n", o.dir);
      return 1;
    }
    double rate[5][3], rss[5][3], cores[2][3];
    for (int r = 0; r < 3; ++r) {
      for (int k = 0; k < 5; ++k) {
        const unsigned threads = k == 1 ? 2 : 1;
        const char *engine = k < 2 ? NULL : kEngines[k - 2];
        const double cpu0 = children_cpu_s();
        if (bench_validator(big, threads, engine, &rate[k][r], &rss[k][r], &val_bytes) != 0) {
          fprintf(stderr, "writer_bench: validator run failed (%s)\n", big);
          return 1;
        }
        if (k < 2) cores[k][r] = (children_cpu_s() - cpu0) / ((double)val_bytes / 1e6 / rate[k][r]);
      }
    }
    val_mb_s = median3(rate[0]);
    val2_mb_s = median3(rate[1]);
    val_cores = median3(cores[0]);
    val2_cores = median3(cores[1]);
    val_rss = max3(rss[0]);
    val2_rss = max3(rss[1]);
    for (int k = 0; k < 3; ++k) eng_mb_s[k] = median3(rate[k + 2]), eng_rss[k] = max3(rss[k + 2]);
    if (o.keep_validator_session) {
      fprintf(stderr, "writer_bench: the validator's session is kept in %s\n", big);
    } else {
      bench_remove_session(big);
    }
  }

  const char *sep = "";
  if (o.json) printf("{\"events\": %zu, \"reps\": %d", mix.events, o.reps), sep = ", ";
  if (o.sections & SECTION_RECORD) {
    if (o.json) {
      printf(
          "%s\"record\": {\"record_ns\": %.2f, \"record_return_ns\": %.2f, "
          "\"record_monotonic_ns\": %.2f, \"record_drop_ns\": %.2f, \"record_memcpy_ns\": %.2f, "
          "\"record_over_memcpy\": %.2f, \"record_drop_over_memcpy\": %.2f, "
          "\"drop_fraction\": %.4f, \"clock\": \"%s\"}",
          sep, rec.record_ns, rec.record_return_ns, rec.record_monotonic_ns, rec.record_drop_ns,
          rec.record_memcpy_ns, rec.record_ns / rec.record_memcpy_ns,
          rec.record_drop_ns / rec.record_memcpy_ns, rec.drop_fraction, rec.clock);
    } else {
      printf("record path (median of %d runs; clock %s):\n", o.reps, rec.clock);
      printf("  %-44s %8.2f ns\n", "memcpy of the call's 216 bytes", rec.record_memcpy_ns);
      printf("  %-44s %8.2f ns  (%.2fx memcpy)\n", "atf_tracer_record_call (6 regs, 128 B stack)",
             rec.record_ns, rec.record_ns / rec.record_memcpy_ns);
      printf("  %-44s %8.2f ns\n", "atf_tracer_record_return (1 reg)", rec.record_return_ns);
      printf("  %-44s %8.2f ns\n", "record_call with the monotonic clock", rec.record_monotonic_ns);
      printf("  %-44s %8.2f ns  (%.2fx memcpy; %.1f%% dropped)\n", "drop path, per event",
             rec.record_drop_ns, rec.record_drop_ns / rec.record_memcpy_ns,
             100.0 * rec.drop_fraction);
    }
  }
  if (want_writer) {
    const double raw_ns = median_ns_per_event(raw, o.reps, mix.events);
    const double pbc_ns = median_ns_per_event(pbc, o.reps, mix.events);
    const double cpp_ns = median_ns_per_event(cpp, o.reps, mix.events);
    const double orig_ns = median_ns_per_event(orig, o.reps, orig_events);
    const double bytes_per_event = (double)bench_encoded_bytes(&mix) / (double)mix.events;
    const double writer_ns = median_ns_per_event(wr, o.reps, mix.events);
    const double durable_ns = median_ns_per_event(wd, o.reps, mix.events);
    const double no_io_ns = median_ns_per_event(wn, o.reps, mix.events);
    const double io_thread_ns = median_ns_per_event(wt, o.reps, mix.events);
    if (o.json) {
      printf(
          "%s\"mix\": {\"raw_copy_ns\": %.2f, \"original_v4_ns\": %.2f, "
          "\"protobuf_c_pack_ns\": %.2f, \"libprotobuf_ns\": %.2f, \"writer_ns\": %.2f, "
          "\"writer_durable_ns\": %.2f, \"writer_no_io_ns\": %.2f, \"writer_events_per_s\": %.0f, "
          "\"bytes_per_event\": %.1f, \"writer_over_raw_copy\": %.2f, "
          "\"original_v4_over_writer\": %.1f, \"writer_io_thread_ns\": %.2f, "
          "\"writer_io_thread_events_per_s\": %.0f, \"writer_io_thread_over_raw_copy\": %.2f, "
          "\"direct_io\": %d, \"direct_io_used\": %d, \"direct_io_refused_errno\": %d}, "
          "\"batch_1k_latency_us\": {\"p50\": %.2f, \"p99\": %.2f, \"p999\": %.2f}, "
          "\"writer_peak_rss_mib\": %.1f, "
          "\"writer_peak_rss_mib_by_events\": {\"100000\": %.1f, \"%zu\": %.1f}",
          sep, raw_ns, orig_ns, pbc_ns, cpp_ns, writer_ns, durable_ns, no_io_ns, 1e9 / writer_ns,
          bytes_per_event, writer_ns / raw_ns, orig_ns / writer_ns, io_thread_ns,
          1e9 / io_thread_ns, io_thread_ns / raw_ns, bench_direct_io, bench_direct_io_used,
          bench_direct_io_refused, p50, p99, p999, rss_small > rss_large ? rss_small : rss_large,
          rss_small, 10 * mix.events, rss_large);
      sep = ", ";
    } else {
      printf("standard mix: %zu events, median of %d runs\n", mix.events, o.reps);
      printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "raw_copy", raw_ns, 1e3 / raw_ns);
      printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "original_v4", orig_ns, 1e3 / orig_ns);
      printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "protobuf_c_pack", pbc_ns, 1e3 / pbc_ns);
      printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "libprotobuf", cpp_ns, 1e3 / cpp_ns);
      printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "writer", writer_ns, 1e3 / writer_ns);
      printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "writer + fsync", durable_ns,
             1e3 / durable_ns);
      printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "writer, no I/O", no_io_ns,
             1e3 / no_io_ns);
      printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "writer, I/O thread", io_thread_ns,
             1e3 / io_thread_ns);
      printf("  bytes/event on the wire: %.1f; direct_io %d (used: %d, refused errno %d)\n",
             bytes_per_event, bench_direct_io, bench_direct_io_used, bench_direct_io_refused);
      printf("  writer/raw_copy: %.2fx   original_v4/writer: %.1fx\n", writer_ns / raw_ns,
             orig_ns / writer_ns);
      printf("1 KiB batch latency: p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n", p50, p99, p999);
      printf("writer peak RSS: %.1f MiB at 100,000 events, %.1f MiB at %zu events\n", rss_small,
             rss_large, 10 * mix.events);
    }
  }
  if (want_pipeline) {
    if (o.json) {
      printf("%s\"pipeline\": [", sep);
      for (int i = 0; i < 8; ++i) {
        const bench_pipeline_result *r = &pipe[i].r;
        printf(
            "%s{\"producers\": %d, \"policy\": \"%s\", \"events_per_s\": %.0f, "
            "\"events_per_s_with_stop\": %.0f, \"writer_alone_events_per_s\": %.0f, "
            "\"over_writer_alone\": %.3f, \"drain_cpu_ns_per_event\": %.1f, "
            "\"writer_alone_cpu_ns_per_event\": %.1f, \"bytes_per_event\": %.1f, "
            "\"write_mb_per_s\": %.0f, \"write_cpu_ns_per_byte\": %.3f, "
            "\"storage_bound_events_per_s\": %.0f, "
            "\"produced\": %" PRIu64 ", \"written\": %" PRIu64 ", \"dropped\": %" PRIu64
            ", \"dropped_unmatched\": %" PRIu64 ", \"dropped_no_slot\": %" PRIu64
            ", \"drop_rate\": %.4f, \"valid\": %s}",
            i ? ", " : "", r->producers, r->block ? "block" : "drop", r->events_per_s,
            r->events_per_s_with_stop, pipe[i].writer_alone_events_per_s,
            r->events_per_s / pipe[i].writer_alone_events_per_s, r->drain_cpu_ns_per_event,
            pipe[i].writer_alone_cpu_ns_per_event, bytes_per_event(r), pipe[i].write_mb_per_s,
            pipe[i].write_cpu_ns_per_byte, pipe[i].write_mb_per_s * 1e6 / bytes_per_event(r),
            r->produced, r->written, r->dropped, r->dropped_unmatched, r->dropped_no_slot,
            r->produced ? (double)r->dropped / (double)r->produced : 0.0,
            r->valid ? "true" : "false");
      }
      printf(
          "], \"pipeline_reps\": %d, \"pipeline_seconds\": %.2f, \"drain_nice\": %d, "
          "\"bytes_per_producer\": %u, \"keep_page_cache\": %d, \"direct_io\": %d",
          o.pipeline_reps, o.pipeline_seconds, o.drain_nice, o.ring_bytes, bench_keep_page_cache,
          bench_direct_io);
      sep = ", ";
    } else {
      printf(
          "pipeline (rings of %u bytes per producer, producers run %.2f s per row, drain nice %d, "
          "keep_page_cache %d, direct_io %d, median of %d runs):\n",
          o.ring_bytes, o.pipeline_seconds, o.drain_nice, bench_keep_page_cache, bench_direct_io,
          o.pipeline_reps);
      for (int i = 0; i < 8; ++i) {
        const bench_pipeline_result *r = &pipe[i].r;
        printf(
            "  %d producers, %-5s %6.2f M events/s written (%.2fx the writer alone: %.2f M/s; "
            "%5.2f M/s counting stop; CPU ns/event: drain %.1f, writer alone %.1f; %.0f B/event, "
            "storage bound %.2f M/s at %.0f MB/s), %" PRIu64 " dropped of %" PRIu64
            " (%.1f%%), %s\n",
            r->producers, r->block ? "block" : "drop", r->events_per_s / 1e6,
            r->events_per_s / pipe[i].writer_alone_events_per_s,
            pipe[i].writer_alone_events_per_s / 1e6, r->events_per_s_with_stop / 1e6,
            r->drain_cpu_ns_per_event, pipe[i].writer_alone_cpu_ns_per_event, bytes_per_event(r),
            pipe[i].write_mb_per_s / bytes_per_event(r), pipe[i].write_mb_per_s, r->dropped,
            r->produced, r->produced ? 100.0 * (double)r->dropped / (double)r->produced : 0.0,
            r->valid ? "valid" : "INVALID");
      }
    }
  }
  if (want_validator) {
    atf_validate_options defaults;
    atf_validate_options_init(&defaults);
    if (o.json) {
      printf(
          "%s\"validator_mb_per_s\": %.1f, \"validator_peak_rss_mib\": %.1f, "
          "\"validator_2_threads_mb_per_s\": %.1f, \"validator_2_threads_peak_rss_mib\": %.1f, "
          "\"validator_file_bytes\": %" PRIu64
          ", \"validator_engine\": \"%s\", "
          "\"validator_cores_used\": %.2f, \"validator_2_threads_cores_used\": %.2f",
          sep, val_mb_s, val_rss, val2_mb_s, val2_rss, val_bytes,
          atf_validate_engine_name(defaults.engine), val_cores, val2_cores);
      printf(", \"validator_engines\": {\"upb\": %.1f, \"nanopb\": %.1f, \"both\": %.1f}",
             eng_mb_s[0], eng_mb_s[1], eng_mb_s[2]);
      printf(
          ", \"validator_engines_peak_rss_mib\": {\"upb\": %.1f, \"nanopb\": %.1f, \"both\": %.1f}",
          eng_rss[0], eng_rss[1], eng_rss[2]);
    } else {
      printf(
          "validator (%s engine): %.1f MB/s on %.2f GiB, peak RSS %.1f MiB, %.2f cores used (2 "
          "threads: %.1f MB/s, %.1f MiB, %.2f cores used)\n",
          atf_validate_engine_name(defaults.engine), val_mb_s, (double)val_bytes / (1 << 30),
          val_rss, val_cores, val2_mb_s, val2_rss, val2_cores);
      printf(
          "validator engines, 1 thread: upb %.1f MB/s (%.1f MiB), nanopb %.1f MB/s (%.1f MiB), "
          "both %.1f MB/s "
          "(%.1f MiB)\n",
          eng_mb_s[0], eng_rss[0], eng_mb_s[1], eng_rss[1], eng_mb_s[2], eng_rss[2]);
    }
  }
  if (o.json) printf(", \"sink\": %" PRIu64 "}\n", sink % 2);
  bench_mix_free(&mix);
  return 0;
}

/* writer_bench: the standard mix (bench/mix.h) through the writer and the alternatives, in one
 * process and one run. Times are medians of --reps repetitions, in nanoseconds per event.
 *
 *   bazel run -c opt //bench:writer_bench -- [--json] [--events N] [--reps R] [--dir DIR]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/baselines.h"
#include "bench/mix.h"
#include "bench/pipeline_run.h"
#include "bench/writer_run.h"

typedef struct options {
  int json;
  size_t events;
  int reps;
  const char *dir;
  uint64_t pipeline_events; /* total per pipeline row */
  uint32_t ring_bytes;
  uint64_t validator_bytes;
  int drain_nice;
  int pipeline_io_thread; /* -1: the tracer's default */
} options;

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

static void usage(FILE *f) {
  fprintf(f,
          "usage: writer_bench [--json] [--events N] [--reps R] [--dir DIR]\n"
          "                    [--pipeline-events N] [--ring-bytes N] [--drain-nice N] [--validator-mib N]\n"
          "                    [--pipeline-io-thread 0|1]\n");
}

static int parse(int argc, char **argv, options *o) {
  o->json = 0;
  o->events = 2000000;
  o->reps = 5;
  o->dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  o->pipeline_events = 4000000;
  o->ring_bytes = 256 * 1024;
  o->validator_bytes = 1100ull << 20; /* a little over 1 GiB */
  o->drain_nice = 0;
  o->pipeline_io_thread = -1;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json")) {
      o->json = 1;
    } else if (!strcmp(argv[i], "--events") && i + 1 < argc) {
      o->events = strtoull(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      o->reps = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
      o->dir = argv[++i];
    } else if (!strcmp(argv[i], "--pipeline-events") && i + 1 < argc) {
      o->pipeline_events = strtoull(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--ring-bytes") && i + 1 < argc) {
      o->ring_bytes = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--drain-nice") && i + 1 < argc) {
      o->drain_nice = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--pipeline-io-thread") && i + 1 < argc) {
      o->pipeline_io_thread = atoi(argv[++i]) != 0;
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
  if (o->events < 1000 || o->reps < 1 || o->reps > 99) {
    fprintf(stderr, "writer_bench: --events must be >= 1000 and --reps in 1..99\n");
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "--rss-child")) {
    return bench_writer_rss_child(strtoull(argv[2], NULL, 10), argv[3]);
  }
  if (argc == 4 && !strcmp(argv[1], "--validate-child")) {
    return bench_validator_child(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
  }
  options o;
  if (parse(argc, argv, &o) != 0) return 2;
  bench_mix mix;
  if (bench_mix_build(&mix, o.events, 42) != 0) {
    fprintf(stderr, "writer_bench: out of memory building %zu events\n", o.events);
    return 1;
  }
  uint64_t sink = 0;
  uint64_t raw[99], pbc[99], cpp[99], orig[99], wr[99], wd[99], wn[99], wt[99];
  /* The original writer makes two syscalls per event: run it on a tenth of the mix. */
  const size_t orig_events = mix.events / 10;
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
    if (bench_writer_mix(&mix, o.dir, 1000, 0, &res, NULL, 0) != 0 || res.events != mix.events + 1) {
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
  double p50 = 0, p99 = 0, p999 = 0;
  if (bench_writer_batch_latency(&mix, o.dir, &p50, &p99, &p999) != 0) {
    fprintf(stderr, "writer_bench: latency run failed\n");
    return 1;
  }
  /* Peak RSS at two session sizes: equal figures show it does not grow with the event count. */
  const double rss_small = bench_writer_peak_rss_mib(o.dir, 100000);
  const double rss_large = bench_writer_peak_rss_mib(o.dir, 10 * (uint64_t)mix.events);

  /* Pipeline: producers -> rings -> drain -> writer -> file, validated afterwards. */
  const int producer_counts[4] = {1, 2, 4, 8};
  bench_pipeline_result pipe[4];
  for (int i = 0; i < 4; ++i) {
    if (bench_pipeline(o.dir, producer_counts[i], o.pipeline_events / producer_counts[i],
                       o.ring_bytes, o.drain_nice, o.pipeline_io_thread, &pipe[i]) != 0) {
      fprintf(stderr, "writer_bench: pipeline run with %d producers failed\n", producer_counts[i]);
      return 1;
    }
  }

  /* Validator on a file of at least --validator-mib MiB written by the writer: one decoding
   * thread (the default) and two, alternating, three runs each; medians. */
  char big[4096];
  double val_mb_s = 0, val_rss = 0, val2_mb_s = 0, val2_rss = 0;
  uint64_t val_bytes = 0;
  if (bench_writer_big_session(&mix, o.dir, o.validator_bytes, big, sizeof big) != 0) {
    fprintf(stderr, "writer_bench: writing the validator's session failed in %s\n", o.dir);
    return 1;
  }
  {
    double rate[2][3], rss[2][3];
    for (int r = 0; r < 3; ++r) {
      for (int k = 0; k < 2; ++k) {
        if (bench_validator(big, (unsigned)k + 1, &rate[k][r], &rss[k][r], &val_bytes) != 0) {
          fprintf(stderr, "writer_bench: validator run failed (%s)\n", big);
          return 1;
        }
      }
    }
    val_mb_s = median3(rate[0]);
    val2_mb_s = median3(rate[1]);
    val_rss = max3(rss[0]);
    val2_rss = max3(rss[1]);
  }
  bench_remove_session(big);
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
    printf("{\"events\": %zu, \"reps\": %d, \"mix\": {\"raw_copy_ns\": %.2f, \"original_v4_ns\": %.2f, "
           "\"protobuf_c_pack_ns\": %.2f, \"libprotobuf_ns\": %.2f, \"writer_ns\": %.2f, "
           "\"writer_durable_ns\": %.2f, \"writer_no_io_ns\": %.2f, \"writer_events_per_s\": %.0f, \"bytes_per_event\": %.1f, "
           "\"writer_over_raw_copy\": %.2f, \"original_v4_over_writer\": %.1f, "
           "\"writer_io_thread_ns\": %.2f, \"writer_io_thread_events_per_s\": %.0f, "
           "\"writer_io_thread_over_raw_copy\": %.2f}, "
           "\"batch_1k_latency_us\": {\"p50\": %.2f, \"p99\": %.2f, \"p999\": %.2f}, "
           "\"writer_peak_rss_mib\": %.1f, \"writer_peak_rss_mib_by_events\": {\"100000\": %.1f, \"%zu\": %.1f}, ",
           mix.events, o.reps, raw_ns, orig_ns, pbc_ns, cpp_ns, writer_ns, durable_ns, no_io_ns, 1e9 / writer_ns,
           bytes_per_event, writer_ns / raw_ns, orig_ns / writer_ns, io_thread_ns, 1e9 / io_thread_ns,
           io_thread_ns / raw_ns, p50, p99, p999,
           rss_small > rss_large ? rss_small : rss_large, rss_small, 10 * mix.events, rss_large);
    printf("\"pipeline\": [");
    for (int i = 0; i < 4; ++i) {
      printf("%s{\"producers\": %d, \"events_per_s\": %.0f, \"events_per_s_with_stop\": %.0f, \"produced\": %" PRIu64
             ", \"written\": %" PRIu64 ", \"dropped\": %" PRIu64 ", \"valid\": %s}",
             i ? ", " : "", pipe[i].producers, pipe[i].events_per_s, pipe[i].events_per_s_with_stop, pipe[i].produced,
             pipe[i].written, pipe[i].dropped, pipe[i].valid ? "true" : "false");
    }
    printf("], \"drain_nice\": %d, \"bytes_per_producer\": %u, \"validator_mb_per_s\": %.1f, "
           "\"validator_peak_rss_mib\": %.1f, \"validator_2_threads_mb_per_s\": %.1f, "
           "\"validator_2_threads_peak_rss_mib\": %.1f, \"validator_file_bytes\": %" PRIu64
           ", \"sink\": %" PRIu64 "}\n",
           o.drain_nice, o.ring_bytes, val_mb_s, val_rss, val2_mb_s, val2_rss, val_bytes, sink % 2);
  } else {
    printf("standard mix: %zu events, median of %d runs\n", mix.events, o.reps);
    printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "raw_copy", raw_ns, 1e3 / raw_ns);
    printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "original_v4", orig_ns, 1e3 / orig_ns);
    printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "protobuf_c_pack", pbc_ns, 1e3 / pbc_ns);
    printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "libprotobuf", cpp_ns, 1e3 / cpp_ns);
    printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "writer", writer_ns, 1e3 / writer_ns);
    printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "writer + fsync", durable_ns, 1e3 / durable_ns);
    printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "writer, no I/O", no_io_ns, 1e3 / no_io_ns);
    printf("  %-18s %9.2f ns/event  %8.2f M events/s\n", "writer, I/O thread", io_thread_ns,
           1e3 / io_thread_ns);
    printf("  bytes/event on the wire: %.1f\n", bytes_per_event);
    printf("  writer/raw_copy: %.2fx   original_v4/writer: %.1fx\n", writer_ns / raw_ns, orig_ns / writer_ns);
    printf("1 KiB batch latency: p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n", p50, p99, p999);
    printf("writer peak RSS: %.1f MiB at 100,000 events, %.1f MiB at %zu events\n", rss_small,
           rss_large, 10 * mix.events);
    printf("pipeline (rings of %u bytes per producer, %" PRIu64 " events per row, drain nice %d):\n",
           o.ring_bytes, o.pipeline_events, o.drain_nice);
    for (int i = 0; i < 4; ++i) {
      printf("  %d producers: %6.2f M events/s written (%5.2f M/s counting stop's drain and fsync), %" PRIu64
             " dropped of %" PRIu64 ", %s\n",
             pipe[i].producers, pipe[i].events_per_s / 1e6, pipe[i].events_per_s_with_stop / 1e6,
             pipe[i].dropped, pipe[i].produced,
             pipe[i].valid ? "valid" : "INVALID");
    }
    printf("validator: %.1f MB/s on %.2f GiB, peak RSS %.1f MiB (2 threads: %.1f MB/s, %.1f MiB)\n",
           val_mb_s, (double)val_bytes / (1 << 30), val_rss, val2_mb_s, val2_rss);
  }
  bench_mix_free(&mix);
  return 0;
}

/* engine_bench (//validator:engine_bench): the validator's two record engines, one thread, on one
 * events.bin.
 *
 *   bazel run -c opt //validator:engine_bench -- [--engine nanopb|upb] [--visitor] [--runs N] FILE
 *
 * Without --engine it runs itself once per engine and run (child processes, alternating
 * nanopb, upb, nanopb, ...; each child's peak RSS is its own) and prints each engine's median.
 * A child (1) reads FILE as the validator does (a 1 MiB window, pread), frames every record and
 * decodes it with the engine, atf_decode_record() or atf_upb_decode_record() (with --visitor, a
 * visitor that touches every text chunk and register), and notes its peak RSS; then (2) decodes
 * the records of the file's first 256 MiB again from memory, framed beforehand, to time the
 * engine alone (scaled to the file's size). It prints the records, the bytes, both times and the
 * RSS of (1). A record that does not fit the window is decoded by the nanopb engine in both
 * modes (counted: "beyond the window").
 * Speed only; correctness is upb_engine_test's and engines_test's. */
#define _GNU_SOURCE /* getrusage's ru_maxrss */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "validator/internal/decode.h"
#include "validator/internal/reader.h"
#include "validator/internal/upb_engine.h"

typedef struct result {
  uint64_t records, bytes, streamed, invalid;
  double pass_s, decode_s, rss_mib;
} result;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t g_sink; /* what the visitor saw, so nothing is optimised away */

static void on_text(void *ctx, atf_text_field f, const uint8_t *p, size_t n, unsigned flags) {
  (void)ctx;
  g_sink += (uint64_t)f + n + flags + (n ? p[0] : 0);
}

static void on_reg(void *ctx, uint64_t v) {
  (void)ctx;
  g_sink += v;
}

/* Decodes the record at body[0, len) (absolute offset `off`) with the chosen engine. */
static bool decode_one(atf_upb_engine *e, atf_reader *r, const uint8_t *body, uint64_t off,
                       uint64_t len, const atf_event_visitor *v, result *res) {
  atf_event ev;
  atf_decode_error err;
  memset(&err, 0, sizeof err); /* quiet false: set before the call (decode.h) */
  bool ok;
  if (e != NULL && body != NULL) {
    ok = atf_upb_decode_record(e, body, (size_t)len, off, v, &ev, &err);
  } else {
    res->streamed += body == NULL;
    ok = atf_decode_record(r, off, len, v, &ev, &err);
  }
  g_sink += ev.event_id;
  return ok;
}

static int run_child(const char *path, int upb, int visit) {
  const int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    fprintf(stderr, "engine_bench: %s: %s\n", path, strerror(errno));
    return 2;
  }
  atf_reader r;
  if (!atf_reader_init_fd(&r, fd, (uint64_t)st.st_size, ATF_READER_DEFAULT_WINDOW)) return 2;
  atf_upb_engine *e = upb ? atf_upb_engine_new(0) : NULL;
  if (upb && e == NULL) {
    fprintf(stderr, "engine_bench: upb engine: %s\n", atf_upb_engine_schema_error());
    return 2;
  }
  const atf_event_visitor visitor = {NULL, on_text, on_reg};
  const atf_event_visitor *v = visit ? &visitor : NULL;
  result res = {0};

  /* 1. The validator's pass: window, framing, decoding. */
  double start = now_s();
  uint64_t off = 0;
  atf_frame f;
  atf_frame_status fs;
  while ((fs = atf_reader_frame(&r, off, &f)) == ATF_FRAME_OK) {
    const uint8_t *body =
        f.length <= r.cap ? atf_reader_get(&r, f.body_offset, (size_t)f.length) : NULL;
    res.invalid += !decode_one(e, &r, body, f.body_offset, f.length, v, &res);
    res.records++;
    off = f.body_offset + f.length;
  }
  res.pass_s = now_s() - start;
  res.bytes = off;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  res.rss_mib = (double)ru.ru_maxrss / 1024.0;

  /* 2. Decoding alone: the first 256 MiB of records from memory, framed beforehand. */
  const size_t mem_len = (size_t)(off < (256u << 20) ? off : (256u << 20));
  uint8_t *mem = malloc(mem_len ? mem_len : 1);
  uint64_t *frames = malloc(sizeof *frames * 2 * (mem_len / 2 + 1));
  if (mem == NULL || frames == NULL || pread(fd, mem, mem_len, 0) != (ssize_t)mem_len) return 2;
  atf_reader m;
  atf_reader_init_mem(&m, mem, mem_len);
  size_t n = 0;
  uint64_t mem_bytes = 0;
  for (uint64_t o = 0; atf_reader_frame(&m, o, &f) == ATF_FRAME_OK;
       o = f.body_offset + f.length, ++n) {
    frames[2 * n] = f.body_offset;
    frames[2 * n + 1] = f.length;
    mem_bytes = f.body_offset + f.length;
  }
  start = now_s();
  for (size_t i = 0; i < n; ++i) {
    (void)decode_one(e, &m, mem + frames[2 * i], frames[2 * i], frames[2 * i + 1], v, &res);
  }
  res.decode_s = (now_s() - start) * (double)off /
                 (double)(mem_bytes ? mem_bytes : 1); /* scaled to the file */

  printf("%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %.6f %.6f %.2f %d %" PRIu64 "\n",
         res.records, res.bytes, res.streamed, res.invalid, res.pass_s, res.decode_s, res.rss_mib,
         fs, g_sink & 1);
  free(frames);
  free(mem);
  atf_upb_engine_free(e);
  atf_reader_free(&r);
  close(fd);
  return 0;
}

/* Runs this program as a child for one engine; parses its line. */
static int spawn(const char *self, const char *path, const char *engine, int visit, result *out) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' --engine %s %s '%s'", self, engine, visit ? "--visitor" : "",
           path);
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  int status_code = -1;
  unsigned long long sink;
  const int n = fscanf(p, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %lf %lf %lf %d %llu",
                       &out->records, &out->bytes, &out->streamed, &out->invalid, &out->pass_s,
                       &out->decode_s, &out->rss_mib, &status_code, &sink);
  const int rc = pclose(p);
  return n == 9 && rc == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
  const char *engine = NULL;
  const char *path = NULL;
  int visit = 0, runs = 3;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
      engine = argv[++i];
    } else if (!strcmp(argv[i], "--visitor")) {
      visit = 1;
    } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = atoi(argv[++i]);
    } else if (argv[i][0] != '-' && path == NULL) {
      path = argv[i];
    } else {
      path = NULL;
      break;
    }
  }
  if (path == NULL || runs < 1 || runs > 99 ||
      (engine != NULL && strcmp(engine, "nanopb") != 0 && strcmp(engine, "upb") != 0)) {
    fprintf(stderr,
            "usage: engine_bench [--engine nanopb|upb] [--visitor] [--runs N] events.bin\n");
    return 2;
  }
  if (engine != NULL) return run_child(path, !strcmp(engine, "upb"), visit);

  static const char *const kEngines[2] = {"nanopb", "upb"};
  double pass[2][99], dec[2][99], rss[2][99];
  result last[2];
  for (int r = 0; r < runs; ++r) {
    for (int k = 0; k < 2; ++k) {
      if (spawn(argv[0], path, kEngines[k], visit, &last[k]) != 0) {
        fprintf(stderr, "engine_bench: the %s run failed\n", kEngines[k]);
        return 1;
      }
      pass[k][r] = last[k].pass_s;
      dec[k][r] = last[k].decode_s;
      rss[k][r] = last[k].rss_mib;
    }
  }
  printf("file %s: %" PRIu64 " records, %" PRIu64 " bytes, %" PRIu64 " invalid, %" PRIu64
         " beyond the window; %d runs each, medians, one thread%s\n",
         path, last[0].records, last[0].bytes, last[0].invalid, last[0].streamed, runs,
         visit ? ", with a visitor" : "");
  double m_pass[2], m_dec[2];
  for (int k = 0; k < 2; ++k) {
    m_pass[k] = median(pass[k], runs);
    m_dec[k] = median(dec[k], runs);
    printf(
        "%-7s pass %8.1f MB/s (%.3f s)   decoding alone %8.1f MB/s (%.3f s)   pass peak RSS %.1f "
        "MiB\n",
        kEngines[k], (double)last[k].bytes / m_pass[k] / 1e6, m_pass[k],
        (double)last[k].bytes / m_dec[k] / 1e6, m_dec[k], median(rss[k], runs));
  }
  printf("upb / nanopb speed: pass %.2fx, decoding alone %.2fx\n", m_pass[0] / m_pass[1],
         m_dec[0] / m_dec[1]);
  return last[0].invalid == last[1].invalid ? 0 : 1;
}

/* examples/demo.c: the main job. A multi-threaded workload traced through atf/tracer.h, written as
 * an ATF V4 session, checked with the validator library, and summarised.
 *
 *   bazel run -c opt //examples:demo -- [--threads N] [--events N] [--out DIR] [--depth N]
 *                                       [--ring-kib N] [--signal-every N] [--work N] [--flush-ms N]
 *
 * Each thread repeatedly descends a real recursive function, walk(), `depth` levels deep. Every
 * entry records a FunctionCall with walk's actual argument values and a stack snapshot, every
 * exit a FunctionReturn with its actual return value; every `signal-every` calls the thread sends
 * itself SIGUSR1, and the handler records a SignalDelivery with the interrupted context's
 * registers (Linux x86_64/arm64; zeros elsewhere).
 *
 * What the register values are, honestly: the tracer API takes values, not hardware state. For
 * calls, the demo passes walk()'s C arguments in the ABI's argument-register order (x86_64: RDI
 * RSI RDX RCX; arm64: X0..X3), which is what those registers hold at entry under the System V /
 * AAPCS64 calling convention; for returns, the value walk() returns (RAX / X0). The signal
 * registers are the real ones, from the ucontext the kernel hands the handler.
 *
 * Default output: ./atf-out, relative to the directory `bazel run` was started from
 * (BUILD_WORKING_DIRECTORY), else to the current directory.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <ucontext.h>
#endif

#include "pipeline/atf/tracer.h"
#include "validator/atf/validate.h"

typedef struct config {
  int threads;
  uint64_t events; /* total requested (calls + returns), split across threads */
  int depth;
  uint32_t ring_kib;
  uint64_t signal_every;
  uint64_t work;
  uint64_t flush_ms;
  int block; /* --overflow block */
  char out[PATH_MAX];
} config;

typedef struct worker {
  pthread_t thread;
  uint64_t quota; /* call + return events this thread produces */
  uint64_t ok, dropped;
  uint64_t checksum;
} worker;

static uint32_t g_walk_symbol;
static atomic_uint_fast64_t g_signals_sent;
static atomic_uint_fast64_t g_signals_recorded;
static atomic_uint_fast64_t g_signals_dropped;

/* ---- the signal handler: real registers from the interrupted context ----------------------- */

static unsigned context_registers(void *uctx, uint64_t *out) {
#if defined(__linux__) && defined(__x86_64__)
  const greg_t *g = ((const ucontext_t *)uctx)->uc_mcontext.gregs;
  static const int order[] = {REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI,
                              REG_RBP, REG_RSP, REG_R8,  REG_R9,  REG_R10, REG_R11,
                              REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP, REG_EFL};
  for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++) out[i] = (uint64_t)g[order[i]];
  return sizeof order / sizeof order[0];
#elif defined(__linux__) && defined(__aarch64__)
  const mcontext_t *m = &((const ucontext_t *)uctx)->uc_mcontext;
  for (unsigned i = 0; i < 31; i++) out[i] = m->regs[i]; /* X0..X28, FP, LR */
  out[31] = m->sp;
  out[32] = m->pc;
  out[33] = m->pstate;
  return 34;
#else
  (void)uctx;
  memset(out, 0, 8 * 18);
  return 18;
#endif
}

static void on_sigusr1(int signo, siginfo_t *info, void *uctx) {
  (void)info;
  uint64_t regs[64];
  unsigned n = context_registers(uctx, regs);
  if (atf_tracer_record_signal(signo, regs, n) == ATF_TRACER_OK) {
    atomic_fetch_add(&g_signals_recorded, 1);
  } else {
    atomic_fetch_add(&g_signals_dropped, 1);
  }
}

/* ---- the traced workload ------------------------------------------------------------------- */

/* Copies up to `len` bytes of the stack from this function's frame upwards (its caller's frames):
 * raw memory above the frame address, so it is not instrumented by ASan. */
__attribute__((noinline, no_sanitize("address"))) static size_t snapshot_stack(unsigned char *out,
                                                                               size_t len) {
  const volatile unsigned char *sp = (const volatile unsigned char *)__builtin_frame_address(0);
  for (size_t i = 0; i < len; i++) out[i] = sp[i];
  return len;
}

static void record(atf_tracer_status st, worker *w) {
  if (st == ATF_TRACER_OK) {
    w->ok++;
  } else {
    w->dropped++;
  }
}

/* A real recursive function: mixes its arguments, recurses, returns a checksum. */
static uint64_t g_work = 16;

__attribute__((noinline)) static uint64_t walk(uint64_t depth, uint64_t seed, worker *w,
                                               uint64_t call_index) {
  uint64_t args[4] = {depth, seed, (uint64_t)(uintptr_t)w, call_index};
  unsigned char stack[128];
  size_t stack_len = snapshot_stack(stack, sizeof stack);
  record(
      atf_tracer_record_call(g_walk_symbol, (uint64_t)(uintptr_t)&walk, args, 4, stack, stack_len),
      w);
  uint64_t x = seed ^ (depth * 0x9E3779B97F4A7C15u);
  for (uint64_t i = 0; i < g_work; i++) { /* the function's own work */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  uint64_t result = depth > 1 ? walk(depth - 1, x, w, call_index + 1) + x : x;
  uint64_t rets[2] = {result, 0};
  record(atf_tracer_record_return(g_walk_symbol, (uint64_t)(uintptr_t)&walk, rets, 1), w);
  return result;
}

typedef struct worker_args {
  worker *w;
  const config *cfg;
} worker_args;

static void *run_worker(void *arg) {
  worker_args *a = (worker_args *)arg;
  worker *w = a->w;
  uint64_t calls = 0, seed = (uint64_t)(uintptr_t)w;
  uint64_t produced = 0;
  uint64_t per_descent = 2u * (uint64_t)a->cfg->depth;
  while (produced + per_descent <= w->quota) {
    w->checksum += walk((uint64_t)a->cfg->depth, seed + calls, w, calls);
    produced += per_descent;
    calls += (uint64_t)a->cfg->depth;
    if (a->cfg->signal_every != 0 && (calls / a->cfg->depth) % a->cfg->signal_every == 0) {
      atomic_fetch_add(&g_signals_sent, 1);
      pthread_kill(pthread_self(), SIGUSR1);
    }
  }
  return NULL;
}

/* ---- command line ---------------------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') return 0;
  *out = v;
  return 1;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: demo [--threads N] [--events N] [--out DIR] [--depth N] [--ring-kib N]\n"
          "            [--signal-every N] [--work N] [--flush-ms N] [--overflow drop|block]\n"
          "  --threads N       worker threads (default 4)\n"
          "  --events N        call+return events in total (default 1000000)\n"
          "  --out DIR         output root (default ./atf-out in the directory bazel run was\n"
          "                    started from)\n"
          "  --depth N         recursion depth of each descent (default 8)\n"
          "  --ring-kib N      ring per thread in KiB, a power of two (default 4096)\n"
          "  --signal-every N  SIGUSR1 every N descents per thread, 0 = never (default 1000)\n"
          "  --work N          xorshift rounds each call does besides tracing (default 3000);\n"
          "                    0 makes the workload outrun the writer, so events drop\n"
          "  --flush-ms N      write out events.bin every N ms while tracing (no fsync; the fsync\n"
          "                    comes at the end), 0 = only at the end\n"
          "                    (default 1000)\n"
          "  --overflow P      a full ring: drop (default: the event and its call subtree are\n"
          "                    dropped and counted, the thread never waits) or block (the thread\n"
          "                    waits for the drain: nothing is lost)\n");
}

static int parse(int argc, char **argv, config *c) {
  c->threads = 4;
  c->events = 1000000;
  c->depth = 8;
  c->ring_kib = 4096;
  c->signal_every = 1000;
  c->work = 3000;
  c->flush_ms = 1000;
  c->block = 0;
  const char *base = getenv("BUILD_WORKING_DIRECTORY");
  snprintf(c->out, sizeof c->out, "%s%satf-out", base ? base : "", base ? "/" : "");
  for (int i = 1; i < argc; i++) {
    uint64_t v = 0;
    const char *a = argv[i];
    const char *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      exit(0);
    }
    if (val == NULL) goto bad;
    i++;
    if (strcmp(a, "--out") == 0) {
      snprintf(c->out, sizeof c->out, "%s", val);
    } else if (strcmp(a, "--overflow") == 0) {
      if (strcmp(val, "drop") == 0) {
        c->block = 0;
      } else if (strcmp(val, "block") == 0) {
        c->block = 1;
      } else {
        goto bad;
      }
    } else if (!parse_u64(val, &v)) {
      goto bad;
    } else if (strcmp(a, "--threads") == 0 && v >= 1 && v <= 1024) {
      c->threads = (int)v;
    } else if (strcmp(a, "--events") == 0 && v >= 2) {
      c->events = v;
    } else if (strcmp(a, "--depth") == 0 && v >= 1 && v <= 1000) {
      c->depth = (int)v;
    } else if (strcmp(a, "--ring-kib") == 0 && v >= 1 && v <= (1u << 20)) {
      c->ring_kib = (uint32_t)v;
    } else if (strcmp(a, "--signal-every") == 0) {
      c->signal_every = v;
    } else if (strcmp(a, "--flush-ms") == 0) {
      c->flush_ms = v;
    } else if (strcmp(a, "--work") == 0) {
      c->work = v;
    } else {
      goto bad;
    }
  }
  return 1;
bad:
  fprintf(stderr, "demo: bad argument near '%s'\n", argv[argc - 1]);
  usage(stderr);
  return 0;
}

/* ---- main ------------------------------------------------------------------------------------ */

static int validate(const char *dir, uint64_t *records) {
  atf_validate_report rep;
  memset(&rep, 0, sizeof rep);
  atf_validate_status vs = atf_validate_path(dir, NULL, &rep);
  int valid = vs == ATF_VALIDATE_OK && rep.valid;
  *records = rep.records;
  if (vs != ATF_VALIDATE_OK) {
    printf("validator  ERROR: %s: %s\n", atf_validate_strerror(vs), rep.reason);
  } else if (valid) {
    printf("validator  VALID (%" PRIu64 " records, %" PRIu64 " threads)\n", rep.records,
           rep.threads);
  } else {
    printf("validator  INVALID: %" PRIu64 " error(s)\n", rep.error_count);
    for (size_t i = 0; i < rep.errors_len && i < 10; i++) {
      printf("  %s @%s:%" PRIu64 ": %s\n", rep.errors[i].rule, rep.errors[i].file,
             rep.errors[i].offset, rep.errors[i].message);
    }
  }
  atf_validate_report_free(&rep);
  return valid;
}

int main(int argc, char **argv) {
  config cfg;
  if (!parse(argc, argv, &cfg)) return 2;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigusr1;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);

  atf_tracer_options o;
  atf_tracer_options_init(&o);
  o.writer.output_root = cfg.out;
  atf_writer_open_error open_error; /* why the session could not be created, if it could not */
  o.writer.open_error = &open_error;
  o.writer.argv = (const char *const *)argv;
  o.writer.argc = (size_t)argc;
  o.ring_bytes = cfg.ring_kib * 1024u;
  o.max_stack_bytes = 128;
  o.flush_interval_ns = cfg.flush_ms * 1000000u;
  o.overflow = cfg.block ? ATF_TRACER_OVERFLOW_BLOCK : ATF_TRACER_OVERFLOW_DROP;
  g_work = cfg.work;
  /* A session directory is named after the second it starts in; when it exists already (two
   * runs in one second), take session_<date>_<time>_<n> instead. */
  char label[64];
  atf_tracer_status st = atf_tracer_start(&o);
  for (int n = 2; n < 100 && st == ATF_TRACER_E_WRITER && open_error.status == ATF_WRITER_E_EXISTS;
       n++) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(label, sizeof label, "%Y%m%d_%H%M%S", &tm);
    snprintf(label + strlen(label), sizeof label - strlen(label), "_%d", n);
    o.writer.session_label = label;
    st = atf_tracer_start(&o);
  }
  if (st != ATF_TRACER_OK) {
    char why[sizeof open_error.path + 128];
    if (st == ATF_TRACER_E_WRITER) {
      atf_writer_format_open_error(&open_error, why, sizeof why); /* names path and errno */
    } else {
      snprintf(why, sizeof why, "%s", atf_tracer_strerror(st));
    }
    fprintf(stderr, "demo: cannot start the tracer in %s: %s\n", cfg.out, why);
    return 1;
  }
  if (atf_tracer_symbol("walk", &g_walk_symbol) != ATF_TRACER_OK) {
    fprintf(stderr, "demo: cannot intern a symbol\n");
  }

  worker *workers = calloc((size_t)cfg.threads, sizeof *workers);
  worker_args *args = calloc((size_t)cfg.threads, sizeof *args);
  if (workers == NULL || args == NULL) {
    fprintf(stderr, "demo: out of memory\n");
    return 1;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int started = 0;
  for (int i = 0; i < cfg.threads; i++) {
    workers[i].quota = cfg.events / (uint64_t)cfg.threads;
    args[i].w = &workers[i];
    args[i].cfg = &cfg;
    if (pthread_create(&workers[i].thread, NULL, run_worker, &args[i]) != 0) break;
    started++;
  }
  for (int i = 0; i < started; i++) pthread_join(workers[i].thread, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);

  atf_tracer_stats stats;
  memset(&stats, 0, sizeof stats);
  st = atf_tracer_stop(0, &stats);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  double total_secs = (double)stats.elapsed_ns / 1e9;

  printf("ATF V4 demo: %d threads x depth-%d recursion, %" PRIu64 " events requested, work %" PRIu64
         ", overflow %s, clock %s\n",
         started, cfg.depth, cfg.events, cfg.work, cfg.block ? "block" : "drop",
         stats.clock ? stats.clock : "?");
  char shown[PATH_MAX];
  if (realpath(stats.session_dir, shown) == NULL)
    snprintf(shown, sizeof shown, "%s", stats.session_dir);
  printf("session    %s\n", shown);
  printf("events     %" PRIu64 " traced (%" PRIu64 " written, %" PRIu64 " dropped), %" PRIu64
         " in events.bin with TraceStart/TraceEnd\n",
         stats.produced, stats.written, stats.dropped, stats.file_events);
  printf("bytes      %" PRIu64 " (events.bin)\n", stats.file_bytes);
  printf("threads    %" PRIu64 "\n", stats.threads);
  printf("drops      %" PRIu64 " (%.2f%%)%s\n", stats.dropped,
         stats.produced ? 100.0 * (double)stats.dropped / (double)stats.produced : 0.0,
         stats.dropped ? "  [full rings: whole call subtrees dropped; try --overflow block, "
                         "--ring-kib larger or fewer --threads]"
                       : "");
  printf("signals    %" PRIu64 " sent, %" PRIu64 " recorded, %" PRIu64 " dropped\n",
         (uint64_t)atomic_load(&g_signals_sent), (uint64_t)atomic_load(&g_signals_recorded),
         (uint64_t)atomic_load(&g_signals_dropped));
  printf(
      "rate       %.2f M events/s traced (%.3f s workload), %.2f M events/s written "
      "(%.3f s start to stop)\n",
      secs > 0 ? (double)stats.produced / secs / 1e6 : 0.0, secs,
      total_secs > 0 ? (double)stats.written / total_secs / 1e6 : 0.0, total_secs);
  if (st != ATF_TRACER_OK) {
    printf("tracer     %s (writer: %s)\n", atf_tracer_strerror(st),
           atf_writer_strerror(stats.writer_status));
  }
  uint64_t records = 0;
  int valid = stats.session_dir[0] != '\0' && validate(stats.session_dir, &records);
  free(workers);
  free(args);
  return st == ATF_TRACER_OK && valid ? 0 : 1;
}

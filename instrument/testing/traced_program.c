/* traced_program: a small program compiled with -finstrument-functions that exercises what the
 * instrument library must survive. instrument_test.cc runs it with ATF_* variables and checks the
 * session it leaves. One mode per run:
 *
 *   simple CODE            main -> outer -> inner (static) ... ; returns CODE from main
 *   threads-return         4 threads created and joined while tracing; returns 5
 *   threads-exit           2 threads joined, 2 still running, a fifth thread calls exit(7)
 *   fork                   the child calls functions and exits 0; the parent goes on; prints
 *                          "child PID"
 *   signals N              N SIGUSR1 deliveries to the main thread (handler on an alternate
 *                          stack) from another thread while it calls functions, then 20 more
 *                          raised by the main thread itself outside any hook; prints "handled M
 *                          altstack K", K the handlers that did run on the alternate stack
 *                          (ThreadSanitizer runs them on the thread's stack); returns 0
 *   crash                  calls functions, waits for a periodic flush, then abort()
 *   atexit                 registers an atexit handler and has a destructor, both calling
 *                          functions; returns 0
 *   dlopen LIB_A LIB_B [dlmopen]
 *                          dlopen/call/dlclose LIB_A, then the same with LIB_B (loaded with
 *                          dlmopen(LM_ID_BASE), which the library does not wrap, when the third
 *                          argument says so); prints "entry A 0x..." and "entry B 0x..."
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static _Atomic uint64_t g_sink; /* written by every thread */
static atomic_int g_stop;

__attribute__((noinline)) static uint64_t inner_leaf(uint64_t x) {
  atomic_fetch_add_explicit(&g_sink, x, memory_order_relaxed);
  return x * 3 + 1;
}

__attribute__((noinline)) uint64_t recurse(int depth, uint64_t x) {
  if (depth == 0) return inner_leaf(x);
  return recurse(depth - 1, x + 1) + 1;
}

__attribute__((noinline)) uint64_t outer(int n) {
  uint64_t s = 0;
  for (int i = 0; i < n; i++) s += recurse(i % 4, (uint64_t)i);
  return s;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- threads ------------------------------------------------------------------------------- */

__attribute__((noinline)) static void *joined_worker(void *arg) {
  outer((int)(intptr_t)arg);
  return NULL;
}

__attribute__((noinline)) static void *running_worker(void *arg) {
  (void)arg;
  while (!atomic_load(&g_stop)) outer(50);
  return NULL;
}

__attribute__((noinline)) static void *exiting_worker(void *arg) {
  (void)arg;
  outer(100);
  sleep_ms(50); /* the running workers keep tracing meanwhile */
  exit(7);
}

static int threads_return(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, joined_worker, (void *)(intptr_t)(1000 + i));
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  outer(10);
  return 5;
}

static int threads_exit(void) {
  pthread_t j[2], r[2], x;
  for (int i = 0; i < 2; i++) pthread_create(&j[i], NULL, joined_worker, (void *)(intptr_t)500);
  for (int i = 0; i < 2; i++) pthread_join(j[i], NULL);
  for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, running_worker, NULL);
  pthread_create(&x, NULL, exiting_worker, NULL);
  pthread_join(x, NULL); /* never returns: the worker exits the process */
  return 1;
}

/* ---- fork ---------------------------------------------------------------------------------- */

__attribute__((noinline)) static uint64_t child_only_function(void) { return outer(20); }
__attribute__((noinline)) static uint64_t parent_after_fork(void) { return outer(20); }

static int fork_mode(void) {
  outer(5);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return 2;
  if (pid == 0) {
    child_only_function();
    exit(0);
  }
  printf("child %d\n", (int)pid);
  int status = 0;
  waitpid(pid, &status, 0);
  parent_after_fork();
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 3;
}

/* ---- signals ------------------------------------------------------------------------------- */

static atomic_int g_handled, g_on_altstack;
static char g_alt[64 * 1024];

__attribute__((noinline)) static uint64_t handler_helper(int signo) {
  return inner_leaf((uint64_t)signo);
}

static void on_signal(int signo) {
  char here;
  if (&here >= g_alt && &here < g_alt + sizeof g_alt) atomic_fetch_add(&g_on_altstack, 1);
  handler_helper(signo);
  atomic_fetch_add(&g_handled, 1);
}

struct sender {
  pthread_t target;
  int count;
};

static void *send_signals(void *arg) {
  struct sender *s = arg;
  for (int i = 0; i < s->count; i++) {
    int before = atomic_load(&g_handled);
    pthread_kill(s->target, SIGUSR1);
    while (atomic_load(&g_handled) == before) sched_yield(); /* one at a time */
  }
  atomic_store(&g_stop, 1);
  return NULL;
}

static int signals_mode(int count) {
  stack_t ss = {.ss_sp = g_alt, .ss_size = sizeof g_alt, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_ONSTACK | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  struct sender s = {pthread_self(), count};
  pthread_t t;
  pthread_create(&t, NULL, send_signals, &s);
  while (!atomic_load(&g_stop)) outer(20);
  pthread_join(t, NULL);
  for (int i = 0; i < 20; i++) raise(SIGUSR1); /* handled here, not inside the tracer */
  printf("handled %d altstack %d\n", atomic_load(&g_handled), atomic_load(&g_on_altstack));
  return 0;
}

/* ---- crash --------------------------------------------------------------------------------- */

__attribute__((noinline)) static void crash_now(void) { abort(); }

static int crash_mode(void) {
  outer(1000);
  sleep_ms(400); /* a few periodic flushes (ATF_FLUSH_MS) */
  crash_now();
  return 0;
}

/* ---- atexit and destructors ------------------------------------------------------------ */

static int g_atexit_mode;

__attribute__((noinline)) static void in_atexit_handler(void) { outer(2); }
__attribute__((noinline)) static void in_destructor(void) { outer(2); }

static void atexit_handler(void) { in_atexit_handler(); }

__attribute__((destructor)) static void program_destructor(void) {
  if (g_atexit_mode) in_destructor();
}

static int atexit_mode(void) {
  g_atexit_mode = 1;
  atexit(atexit_handler);
  outer(2);
  return 0;
}

/* ---- dlopen -------------------------------------------------------------------------------- */

static int use_library(const char *path, const char *label, int unwrapped) {
  void *h = unwrapped ? dlmopen(LM_ID_BASE, path, RTLD_NOW | RTLD_LOCAL)
                      : dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
    return 1;
  }
  uint64_t (*entry)(uint64_t) = (uint64_t(*)(uint64_t))dlsym(h, "plugin_entry");
  if (entry == NULL) return 1;
  printf("entry %s %p\n", label, (void *)entry);
  entry(10);
  fflush(stdout);
  return dlclose(h) != 0;
}

static int dlopen_mode(const char *a, const char *b, int unwrapped) {
  if (use_library(a, "A", 0) != 0) return 1;
  return use_library(b, "B", unwrapped);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: traced_program MODE ...\n");
    return 2;
  }
  const char *mode = argv[1];
  if (strcmp(mode, "simple") == 0 && argc == 3) {
    outer(8);
    return atoi(argv[2]);
  }
  if (strcmp(mode, "threads-return") == 0) return threads_return();
  if (strcmp(mode, "threads-exit") == 0) return threads_exit();
  if (strcmp(mode, "fork") == 0) return fork_mode();
  if (strcmp(mode, "signals") == 0 && argc == 3) return signals_mode(atoi(argv[2]));
  if (strcmp(mode, "crash") == 0) return crash_mode();
  if (strcmp(mode, "atexit") == 0) return atexit_mode();
  if (strcmp(mode, "dlopen") == 0 && (argc == 4 || argc == 5)) {
    return dlopen_mode(argv[2], argv[3], argc == 5 && strcmp(argv[4], "dlmopen") == 0);
  }
  fprintf(stderr, "traced_program: bad arguments\n");
  return 2;
}

/* hooks.c: __cyg_profile_func_enter/exit on top of the tracer, and the session around main.
 *
 * Hot path (an address seen before): one relaxed load of `active`, the per-thread depth counter,
 * one probe of the address cache (addr_cache.h, lock-free), one tracer record. The depth counter
 * has two jobs: a hook entered while the same thread is inside a hook (a signal handler, or an
 * instrumented function called by the tracer) never takes the resolver's lock (it could be the
 * interrupted holder) and records an uncached address with symbol 0; and nesting deeper than
 * MAX_DEPTH returns at once, so a tracer built with -finstrument-functions cannot recurse without
 * end.
 *
 * Slow path (first call for an address that is not cached): under g_lock, look the address up in
 * the objects' symbol tables (objects.h; reread the loader's list when the address is in no known
 * object), intern the name in the session (atf_tracer_symbol) and cache the id. Functions of
 * instrumented objects are interned and cached in one go when the object is first seen, so their
 * hooks never take this path.
 *
 * Lock order: g_lock, then the tracer's lifecycle lock (taken inside atf_tracer_symbol).
 *
 * Lifetime: a constructor starts the session (priority 101: before the program's own
 * constructors in the static variant; a shared library's constructors run before the program's
 * anyway), the exit handler stops it with exit()'s status. fork(): the tracer ends the session in
 * the child; `active` is cleared there too and the child's exit handler does nothing.
 */
#include "instrument/atf/instrument.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/atf/tracer.h"
#include "instrument/internal/addr_cache.h"
#include "instrument/internal/compiler.h"
#include "instrument/internal/config.h"
#include "instrument/internal/objects.h"

#define MAX_DEPTH 3u /* hooks nested on one thread beyond this return at once */
#define EXPECTED_FUNCTIONS 4096u

/* What every hook reads, on its own cache line. */
static struct hot {
  alignas(64) _Atomic int active;
  uint32_t stack_bytes;
  atf_addr_cache cache;
} g_hot;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* objects, cache writers */
static atf_objects g_objects;
static atf_instrument_config g_config;
static pid_t g_owner;    /* the process whose session it is */
static uint64_t g_eager; /* symbols interned when their object was first seen */
typedef void *(*dlopen_fn)(const char *, int);
typedef int (*dlclose_fn)(void *);
static _Atomic(dlopen_fn) g_real_dlopen;
static _Atomic(dlclose_fn) g_real_dlclose;

struct hook_thread {
  unsigned depth;
  int stack_known; /* 1: [stack_lo, stack_hi) holds; -1: unknown */
  uintptr_t stack_lo, stack_hi;
};
static __thread struct hook_thread t_hook __attribute__((tls_model("initial-exec")));

/* ---- names ---------------------------------------------------------------------------------- */

/* Interns `name` for `addr` and caches it. REQUIRES: g_lock. */
ATF_NOINSTR static uint32_t intern(uint64_t addr, const char *name) {
  uint32_t id = 0;
  if (atf_tracer_symbol(name, &id) != ATF_TRACER_OK) return 0; /* the session ended */
  atf_addr_cache_put(&g_hot.cache, addr, id);
  return id;
}

/* An object calls the hooks: the executable or a shared object compiled with
 * -finstrument-functions. This library's own .so defines the hooks but is not instrumented. */
ATF_NOINSTR static int instrumented(const atf_object *o) {
  return o->syms.references_hook && (!o->syms.defines_hook || o->is_main);
}

/* atf_objects_refresh callbacks. REQUIRES: g_lock. */
ATF_NOINSTR static void on_object_added(void *ctx, const atf_object *o) {
  (void)ctx;
  if (!instrumented(o)) return;
  for (size_t i = 0; i < o->syms.count; i++) {
    const atf_elf_func *f = &o->syms.funcs[i];
    if (intern(f->addr, o->syms.names + f->name) == 0) return;
    g_eager++;
  }
}

ATF_NOINSTR static void on_object_removed(void *ctx, const atf_object *o) {
  (void)ctx;
  atf_addr_cache_invalidate(&g_hot.cache, o->lo, o->hi);
}

/* First call for `addr`: name it, intern it, cache it. */
ATF_NOINSTR static uint32_t resolve(uint64_t addr) {
  pthread_mutex_lock(&g_lock);
  uint32_t id = atf_addr_cache_find(&g_hot.cache, addr);
  if (id == 0) {
    if (atf_objects_find(&g_objects, addr) == NULL) {
      atf_objects_refresh(&g_objects, on_object_added, on_object_removed, NULL);
      id = atf_addr_cache_find(&g_hot.cache, addr);
    }
  }
  if (id == 0) {
    const char *name = atf_objects_symbol(&g_objects, addr);
    char hex[2 + 16 + 1];
    if (name == NULL) {
      snprintf(hex, sizeof hex, "0x%" PRIx64, addr);
      name = hex;
    }
    id = intern(addr, name);
  }
  pthread_mutex_unlock(&g_lock);
  return id;
}

/* ---- the hooks --------------------------------------------------------------------------------
 */

ATF_NOINSTR static void find_stack(void) {
  pthread_attr_t attr;
  void *addr;
  size_t size;
  t_hook.stack_known = -1;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    t_hook.stack_lo = (uintptr_t)addr;
    t_hook.stack_hi = (uintptr_t)addr + size;
    t_hook.stack_known = 1;
  }
  pthread_attr_destroy(&attr);
}

/* Bytes of stack to copy from `sp`: at most ATF_STACK_BYTES, never past the thread's stack top,
 * none when sp is not on the thread's stack (an alternate signal stack) or the stack is unknown. */
ATF_NOINSTR static size_t stack_len(uintptr_t sp, unsigned depth) {
  if (t_hook.stack_known == 0 && depth == 0) find_stack(); /* not in a nested hook: may allocate */
  if (t_hook.stack_known != 1 || sp < t_hook.stack_lo || sp >= t_hook.stack_hi) return 0;
  size_t room = t_hook.stack_hi - sp;
  return room < g_hot.stack_bytes ? room : g_hot.stack_bytes;
}

/* The recording halves of the hooks, out of line so that a hook with tracing off is a load, a
 * test and a return (no register saves). */
ATF_NOINSTR __attribute__((noinline)) static void enter_active(uint64_t addr, uint64_t call_site,
                                                               const char *sp) {
  unsigned depth = t_hook.depth;
  if (ATF_UNLIKELY(depth >= MAX_DEPTH)) return;
  t_hook.depth = depth + 1;
  atomic_signal_fence(memory_order_seq_cst);
  uint32_t id = atf_addr_cache_find(&g_hot.cache, addr);
  if (ATF_UNLIKELY(id == 0) && depth == 0) id = resolve(addr);
  if (ATF_LIKELY(g_hot.stack_bytes == 0)) {
    atf_tracer_record_call_at(id, addr, call_site, NULL, 0, NULL, 0);
  } else {
    size_t n = stack_len((uintptr_t)sp, depth);
    atf_tracer_record_call_at(id, addr, call_site, NULL, 0, n != 0 ? sp : NULL, n);
  }
  atomic_signal_fence(memory_order_seq_cst);
  t_hook.depth = depth;
}

ATF_NOINSTR __attribute__((noinline)) static void exit_active(uint64_t addr) {
  unsigned depth = t_hook.depth;
  if (ATF_UNLIKELY(depth >= MAX_DEPTH)) return;
  t_hook.depth = depth + 1;
  atomic_signal_fence(memory_order_seq_cst);
  uint32_t id = atf_addr_cache_find(&g_hot.cache, addr);
  if (ATF_UNLIKELY(id == 0) && depth == 0) id = resolve(addr);
  atf_tracer_record_return(id, addr, NULL, 0);
  atomic_signal_fence(memory_order_seq_cst);
  t_hook.depth = depth;
}

ATF_NOINSTR void __cyg_profile_func_enter(void *this_fn, void *call_site) {
  if (ATF_UNLIKELY(!atomic_load_explicit(&g_hot.active, memory_order_relaxed))) return;
  /* The CFA: the traced function's stack pointer when it called this hook (the stack copy's
   * start). Taking it costs this function a frame pointer, nothing else. call_site is the
   * traced function's return address in its caller: FunctionCall.call_site. */
  enter_active((uint64_t)(uintptr_t)this_fn, (uint64_t)(uintptr_t)call_site, __builtin_dwarf_cfa());
}

ATF_NOINSTR void __cyg_profile_func_exit(void *this_fn, void *call_site) {
  (void)call_site;
  if (ATF_UNLIKELY(!atomic_load_explicit(&g_hot.active, memory_order_relaxed))) return;
  exit_active((uint64_t)(uintptr_t)this_fn);
}

/* ---- public API -------------------------------------------------------------------------------
 */

ATF_NOINSTR int atf_instrument_active(void) {
  return atomic_load_explicit(&g_hot.active, memory_order_acquire) && getpid() == g_owner;
}

ATF_NOINSTR const char *atf_instrument_session_dir(void) {
  return atf_instrument_active() ? atf_tracer_session_dir() : NULL;
}

/* ---- dlopen / dlclose -------------------------------------------------------------------------
 */

ATF_NOINSTR static void refresh_objects(void) {
  if (!atomic_load_explicit(&g_hot.active, memory_order_acquire) || getpid() != g_owner) return;
  t_hook.depth++; /* the loader may run instrumented constructors: no slow path meanwhile */
  pthread_mutex_lock(&g_lock);
  atf_objects_refresh(&g_objects, on_object_added, on_object_removed, NULL);
  pthread_mutex_unlock(&g_lock);
  t_hook.depth--;
}

/* The C library's dlopen/dlclose, found once (the next definition after this one). */
ATF_NOINSTR void *dlopen(const char *file, int mode) {
  dlopen_fn real = atomic_load_explicit(&g_real_dlopen, memory_order_relaxed);
  if (real == NULL) {
    real = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
    if (real == NULL) return NULL;
    atomic_store_explicit(&g_real_dlopen, real, memory_order_relaxed);
  }
  void *handle = real(file, mode);
  if (handle != NULL) refresh_objects();
  return handle;
}

ATF_NOINSTR int dlclose(void *handle) {
  dlclose_fn real = atomic_load_explicit(&g_real_dlclose, memory_order_relaxed);
  if (real == NULL) {
    real = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
    if (real == NULL) return -1;
    atomic_store_explicit(&g_real_dlclose, real, memory_order_relaxed);
  }
  int rc = real(handle);
  refresh_objects();
  return rc;
}

/* ---- session lifetime -------------------------------------------------------------------------
 */

ATF_NOINSTR static void before_fork(void) { pthread_mutex_lock(&g_lock); }
ATF_NOINSTR static void after_fork_parent(void) { pthread_mutex_unlock(&g_lock); }
ATF_NOINSTR static void after_fork_child(void) {
  atomic_store_explicit(&g_hot.active, 0, memory_order_relaxed); /* the child traces nothing */
  pthread_mutex_unlock(&g_lock);
}

ATF_NOINSTR static void on_process_exit(int status, void *arg) {
  (void)arg;
  if (getpid() != g_owner || !atomic_load(&g_hot.active)) return;
  atomic_store(&g_hot.active, 0);
  t_hook.depth++;
  atf_tracer_stats st;
  memset(&st, 0, sizeof st);
  atf_tracer_status rc = atf_tracer_stop(status, &st);
  if (rc == ATF_TRACER_E_WRITER) {
    /* What failed and why (errno), and what the files still hold: the events before the failure
     * are kept whole (the writer truncates to its last complete record). */
    fprintf(stderr,
            "atf-instrument: the session in %s is incomplete: %s%s%s%s; events.bin keeps %" PRIu64
            " whole events (%" PRIu64
            " bytes) and there is no trace.json: atf-recover completes"
            " it\n",
            st.session_dir, atf_writer_strerror(st.writer_status), st.writer_errno ? " (" : "",
            st.writer_errno ? strerror(st.writer_errno) : "", st.writer_errno ? ")" : "",
            st.file_events, st.file_bytes);
  }
  if (g_config.verbose && rc != ATF_TRACER_E_STATE) {
    fprintf(stderr,
            "atf-instrument: session %s: exit code %d, %" PRIu64 " events traced, %" PRIu64
            " written, %" PRIu64 " dropped, %" PRIu64 " threads, %" PRIu64
            " events in events.bin"
            " (%" PRIu64 " bytes)\n",
            st.session_dir, status, st.produced, st.written, st.dropped, st.threads, st.file_events,
            st.file_bytes);
  }
  t_hook.depth--;
}

ATF_NOINSTR static const char *env_get(const char *name) { return getenv(name); }

ATF_NOINSTR static int start(int argc, char **argv) {
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  o.writer.output_root = g_config.output_root;
  o.writer.session_label = g_config.session_label;
  o.writer.argv = (const char *const *)argv;
  o.writer.argc = argv != NULL && argc > 0 ? (size_t)argc : 0;
  o.ring_bytes = g_config.ring_bytes;
  o.max_threads = g_config.max_threads;
  o.max_stack_bytes = g_config.stack_bytes;
  o.flush_interval_ns = g_config.flush_interval_ms * 1000000u;
  o.overflow = g_config.overflow_block ? ATF_TRACER_OVERFLOW_BLOCK : ATF_TRACER_OVERFLOW_DROP;
  o.writer.keep_page_cache = g_config.keep_page_cache;
  o.writer.direct_io = g_config.direct_io;
  static atf_writer_open_error open_error; /* static: 4 KiB off a traced program's stack */
  o.writer.open_error = &open_error;
  atf_tracer_status st = atf_tracer_start(&o);
  if (st != ATF_TRACER_OK) {
    /* The writer names a failed system call with its path and errno ("cannot create <dir>: No
     * such file or directory"), any other failure by its status. */
    static char why[sizeof open_error.path + 128];
    if (st == ATF_TRACER_E_WRITER) {
      atf_writer_format_open_error(&open_error, why, sizeof why);
    } else {
      snprintf(why, sizeof why, "%s", atf_tracer_strerror(st));
    }
    fprintf(stderr, "atf-instrument: cannot start tracing into %s: %s; the program runs untraced\n",
            g_config.output_root, why);
    return -1;
  }
  g_owner = getpid();
  g_hot.stack_bytes = g_config.stack_bytes;
  pthread_mutex_lock(&g_lock);
  int rc = atf_addr_cache_init(&g_hot.cache, EXPECTED_FUNCTIONS);
  if (rc == 0) atf_objects_refresh(&g_objects, on_object_added, on_object_removed, NULL);
  pthread_mutex_unlock(&g_lock);
  if (rc != 0) {
    fprintf(stderr, "atf-instrument: out of memory; the program runs untraced\n");
    atf_tracer_stop(0, NULL);
    return -1;
  }
  /* After atf_tracer_start: the tracer's fork handlers are registered first, so in the child
   * they run before ours (they release the tracer's lock). */
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
  on_exit(on_process_exit, NULL);
  atomic_store_explicit(&g_hot.active, 1, memory_order_release);
  if (g_config.verbose) {
    fprintf(stderr, "atf-instrument: tracing into %s (%" PRIu64 " function names preloaded)\n",
            atf_tracer_session_dir(), g_eager);
  }
  return 0;
}

/* glibc passes (argc, argv, envp) to ELF constructors. */
ATF_NOINSTR __attribute__((constructor(101))) static void atf_instrument_init(int argc, char **argv,
                                                                              char **envp) {
  (void)envp;
  char err[256];
  if (atf_instrument_config_read(env_get, &g_config, err, sizeof err) != 0) {
    fprintf(stderr, "atf-instrument: %s; the program runs untraced\n", err);
    return;
  }
  if (!g_config.enabled) return;
  t_hook.depth++;
  start(argc, argv);
  t_hook.depth--;
}

/* internal/writer_impl.h: the writer's state, shared by the files that make up //writer:writer.
 *
 *   writer.c    the API: options, open, the append path (check, encode, account), finalize, close
 *   session.c   the session's name, directories, executable path and id
 *   sink.c      the byte sink: the buffers, write(2), the I/O thread, errors settled, durability
 *   tables.c    the module and drop tables (any thread, under `lock`) and the manifest from them
 *
 * Nothing here is public: atf/writer.h is the contract.
 */
#ifndef ATF_WRITER_INTERNAL_WRITER_IMPL_H_
#define ATF_WRITER_INTERNAL_WRITER_IMPL_H_

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "writer/atf/file_ops.h"
#include "writer/atf/writer.h"
#include "writer/internal/batch.h"
#include "writer/internal/compiler.h"
#include "writer/internal/encode.h"
#include "writer/internal/manifest.h"
#include "writer/internal/symtab.h"

#define ATF_WRITER_DEFAULT_BUFFER_BYTES (1u << 20)
#define ATF_WRITER_MIN_BUFFER_BYTES (64u << 10)
_Static_assert(ATF_WRITER_MIN_BUFFER_BYTES >= ATF_ENCODE_FAST_BOUND_MAX,
               "a fresh buffer fits any fast bound");

enum { STATE_OPEN = 0, STATE_FINALIZED = 1, STATE_FAILED = 2 };

struct atf_writer {
  const atf_file_ops *ops;
  atf_symtab *symtab;
  atf_encoder enc;
  atf_record_limits limits; /* per-kind register counts of the session's architecture */

  atf_clock_fn clock;
  void *clock_ctx;
  char clock_name[65];
  atf_flush_policy flush_policy;
  uint64_t flush_interval_ns, max_events, max_file_bytes;
  int collect_modules;
  int32_t pid, session_tid;
  atf_arch arch;
  const char *os;        /* atf_os_name() of the target OS: static */
  char *executable_path; /* sanitised UTF-8 */
  uint64_t session_id;
  char *session_dir; /* <root>/session_.../pid_<pid> */
  int fd;

  uint8_t *buf;
  size_t cap, len;     /* buffered bytes: complete records only */
  uint64_t buf_events; /* records in buf */

  /* io_pending, io_len, io_events: what the writer holds outside buf that is not in the file yet
   * (append_record's max_file_bytes check, events_held and the stats add them when io_pending).
   * Buffered: the buffer handed to the I/O thread (io_buf), until collected. Direct I/O: io_pending
   * stays 1 and io_len / io_events count the bytes and events of the partial block carried over
   * and of the block in flight that are not committed yet (sink.c, "Direct I/O").
   * The I/O thread (io_on): io_work, io_done, io_quit, io_err and io_written are shared under
   * io_mu. */
  int io_on, io_started, io_pending, io_nice;
  uint8_t *io_buf;
  size_t io_len;
  uint64_t io_events;
  pthread_t io_tid;
  pthread_mutex_t io_mu;
  pthread_cond_t io_work_cv, io_done_cv;
  int io_work, io_done, io_quit, io_err;
  size_t io_written;
  uint64_t io_off; /* where io_buf goes in the file */

  /* The page-cache window (sink.c, options.keep_page_cache == 0 with the real system calls): the
   * last cache_window bytes of events.bin are left cached, older pages are dropped. */
  int release_cache;
  uint64_t cache_window;

  /* Direct I/O (options.direct_io; sink.c, "Direct I/O"). direct_want: asked for and possible,
   * set up at the first sink call (the file exists by then); direct: O_DIRECT is on (then buf ==
   * dbuf + carry and cap == dcap - carry: the carried partial block lies before the buffer
   * append_record sees); direct_errno: why it was refused (0: not refused). Stream offsets:
   * dbase is dbuf[0]'s (a multiple of blk), file_end how far the file holds the stream, walk_pos
   * the next record header to read (== committed_bytes, or the end of the one record that starts
   * there and is not wholly in the file). The I/O thread writes io_wlen bytes of io_buf at io_off
   * (io_phys valid bytes) and walks them from io_wc/io_wp into io_wc/io_wp/io_wk. */
  int direct_want, direct, direct_errno;
  size_t blk, dcap, carry;
  uint8_t *dbuf;
  uint64_t dbase, file_end, walk_pos;
  int io_busy;
  size_t io_wlen, io_phys;
  uint64_t io_wc, io_wp, io_wk;

  uint64_t next_event_id; /* events accepted (on disk or buffered) */
  uint64_t committed_bytes, committed_events, durable_bytes;
  uint64_t first_ts, last_ts, min_ts, max_ts;
  uint64_t last_flush_ns;
  int trace_end_written, limit_reached, last_errno;
  _Atomic int state;
  _Atomic uint64_t utf8_replacements;

  pthread_mutex_t lock; /* modules and drops: any thread */
  char **modules;
  size_t n_modules, cap_modules;
  atf_thread_drops *drops;
  size_t n_drops, cap_drops;
  uint64_t dropped_events;
  int has_drops;
};

/* Puts the writer in the failed state with `err` (an errno value); returns its status. */
atf_writer_status atf_writer_fail(atf_writer *w, int err);
/* ATF_WRITER_OK while open; ATF_WRITER_E_FAILED / ATF_WRITER_E_STATE otherwise. */
ATF_MUST_USE atf_writer_status atf_writer_check_open(const atf_writer *w);

/* ---- session.c ---- */
/* a + "/" + b, malloc'ed (NULL when out of memory). */
char *atf_session_path_join(const char *a, const char *b);
/* A label becomes a directory name: printable ASCII, no '/', not "." or "..", 1..128 bytes. */
int atf_session_label_valid(const char *label);
/* A manifest clock name: 1..64 printable ASCII characters. */
int atf_session_clock_name_valid(const char *name);
/* This process's executable path, malloc'ed ("" when unknown; NULL when out of memory). */
char *atf_session_executable_path(void);
/* A random id in [1, 2^53); 0 on failure (no entropy). */
int atf_session_random_id(uint64_t *out);
/* Records the first system call that failed during atf_writer_open() in o->open_error (if set):
 * `operation` (static) on `path` (may be NULL) with errno `err`. */
void atf_session_note_failure(const atf_writer_options *o, const char *operation, const char *path,
                              int err);
/* Creates <root>/<session>/pid_<pid>/events.bin and makes the new entries durable; a failed
 * system call is noted (atf_session_note_failure). */
ATF_MUST_USE atf_writer_status atf_session_create(atf_writer *w, const atf_writer_options *o,
                                                  uint64_t now_ns);

/* ---- sink.c ---- */
/* Starts / stops the I/O thread (options.io_thread). start: 0 or an errno value. stop: a write
 * in flight finishes first (it is not settled). */
int atf_sink_io_start(atf_writer *w);
void atf_sink_io_stop(atf_writer *w);
/* Waits for the buffer the I/O thread is writing, if any, and settles it. */
ATF_MUST_USE atf_writer_status atf_sink_collect(atf_writer *w);
/* Empties the buffer: hands it to the I/O thread (after settling the previous one), or writes it
 * on this thread. */
ATF_MUST_USE atf_writer_status atf_sink_handover(atf_writer *w);
/* Writes the buffer on this thread (after the one in flight, if any). */
ATF_MUST_USE atf_writer_status atf_sink_write_now(atf_writer *w);
/* The durability point: everything written, then fsync. */
ATF_MUST_USE atf_writer_status atf_sink_flush(atf_writer *w);
/* Writes one event larger than the buffer on this thread (nothing in flight), or fails the writer
 * and cuts the file back to its last complete record. */
ATF_MUST_USE atf_writer_status atf_sink_write_oversized(atf_writer *w, const uint8_t *bytes,
                                                        size_t len);
/* Allocates a write buffer of `bytes` (aligned for O_DIRECT when direct_want); NULL when out of
 * memory. Free with free(). */
uint8_t *atf_sink_alloc(const atf_writer *w, size_t bytes);
/* The buffers to free at close: the one being filled (its start, not buf) and the other. */
uint8_t *atf_sink_buffer_base(const atf_writer *w);

/* ---- tables.c ---- */
/* atf_modules_collect's callback: adds a module to the table. */
void atf_tables_on_module(void *ctx, const char *uuid);
/* Renders the manifest from the writer's state and writes trace.json atomically. */
ATF_MUST_USE atf_writer_status atf_tables_write_manifest(atf_writer *w);

#endif /* ATF_WRITER_INTERNAL_WRITER_IMPL_H_ */

/* The writer's byte sink: see internal/writer_impl.h for where it sits.
 *
 * Boundaries: committed_bytes is the length of events.bin made of complete records, the only length
 * the stats and the manifest report. A write error in the middle of the buffer leaves a prefix of
 * it in the file; the framing of that prefix (our own bytes) is walked to keep the complete records
 * it holds, and the file is truncated back to that boundary.
 *
 * I/O thread (options.io_thread): a second buffer of the same size and a thread that owns it while
 * it is written. A full buffer is handed over (atf_sink_handover) and encoding goes on in the other
 * one; the hand-over first waits for the previous write and settles it (atf_sink_collect), so there
 * is at most one buffer in flight and the file operations never run on two threads at once: the
 * writer's thread touches the file (fsync, ftruncate, the oversized-event write, close) only with
 * nothing in flight. A write error is settled exactly as without the thread (same truncation, same
 * failed state), by the writer's thread, at the next hand-over, flush, finalize or close; the
 * buffer being filled then is discarded like the unwritten rest of a failed buffer.
 *
 * Page-cache window (options.keep_page_cache == 0, Linux, the real system calls): after each
 * buffer reaches the file, whoever wrote it (the I/O thread or the writer's thread) hands that
 * range to write-back at once and drops the pages that lie more than cache_window bytes behind
 * the end (release_cache). Without it every buffer lands in new page-cache pages that stay dirty
 * until the kernel's flusher runs; with it the same few pages come back from the allocator warm.
 * Nothing here waits for the device: a page not yet written back is simply not dropped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#if defined(__linux__)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "writer/internal/fileio.h"
#include "writer/internal/varint.h"
#include "writer/internal/writer_impl.h"

static int truncate_to(atf_writer *w, uint64_t length) {
  for (;;) {
    if (w->ops->ftruncate(w->ops->ctx, w->fd, (off_t)length) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

/* Accounts for a buffer of `len` bytes holding `events` records whose write ended with `err` after
 * `done` bytes reached the file. On error keeps the complete records of that prefix, truncates
 * the rest, and fails the writer. REQUIRES: nothing in flight (the writer's thread owns the fd). */
static atf_writer_status settle(atf_writer *w, const uint8_t *buf, size_t len, uint64_t events,
                                int err, size_t done) {
  if (err == 0) {
    w->committed_bytes += len;
    w->committed_events += events;
    return ATF_WRITER_OK;
  }
  size_t keep = 0;
  for (;;) {
    uint64_t n;
    size_t h = atf_varint_decode(buf + keep, done - keep, &n);
    if (h == 0 || n > (uint64_t)(done - keep - h)) break;
    keep += h + (size_t)n;
    w->committed_events++;
  }
  w->committed_bytes += keep;
  truncate_to(w,
              w->committed_bytes); /* if this fails too, a torn tail remains (as after a crash) */
  return atf_writer_fail(w, err);
}

/* After [off, off + n) reached the file: starts its write-back, and drops the pages of the
 * window's width before the last window (those written back by now; pages still dirty or under
 * write-back are skipped by the kernel and get a second chance at the next call). Neither call
 * waits for the device or reads the file's write-back error state: errors surface at fsync as
 * without the window. Runs on the thread that owns the file operations at that moment. */
static void release_cache(atf_writer *w, uint64_t off, size_t n) {
#if defined(__linux__)
  if (!w->release_cache || n == 0) return;
  (void)sync_file_range(w->fd, (off64_t)off, (off64_t)n, SYNC_FILE_RANGE_WRITE);
  const uint64_t end = off + n, win = w->cache_window;
  if (end <= win) return;
  const uint64_t to = (end - win) & ~(uint64_t)4095;
  const uint64_t from = to > win ? to - win : 0;
  if (to > from) (void)posix_fadvise(w->fd, (off_t)from, (off_t)(to - from), POSIX_FADV_DONTNEED);
#else
  (void)w;
  (void)off;
  (void)n;
#endif
}

/* Waits for the buffer the I/O thread is writing, if any, and settles it. */
atf_writer_status atf_sink_collect(atf_writer *w) {
  if (!w->io_pending) return ATF_WRITER_OK;
  pthread_mutex_lock(&w->io_mu);
  while (!w->io_done) pthread_cond_wait(&w->io_done_cv, &w->io_mu);
  w->io_done = 0;
  const int err = w->io_err;
  const size_t done = w->io_written;
  pthread_mutex_unlock(&w->io_mu);
  w->io_pending = 0;
  return settle(w, w->io_buf, w->io_len, w->io_events, err, done);
}

/* Writes the buffer on this thread (after the one in flight, if any). */
atf_writer_status atf_sink_write_now(atf_writer *w) {
  atf_writer_status st = atf_sink_collect(w);
  if (st == ATF_WRITER_OK && w->len != 0) {
    size_t done;
    const uint64_t off = w->committed_bytes;
    int err = atf_write_all(w->ops, w->fd, w->buf, w->len, &done);
    st = settle(w, w->buf, w->len, w->buf_events, err, done);
    if (st == ATF_WRITER_OK) release_cache(w, off, w->len);
  }
  w->len = 0;
  w->buf_events = 0;
  return st;
}

/* Empties the buffer: hands it to the I/O thread (after settling the previous one), or writes it.
 */
atf_writer_status atf_sink_handover(atf_writer *w) {
  if (!w->io_on) return atf_sink_write_now(w);
  atf_writer_status st = atf_sink_collect(w);
  if (st != ATF_WRITER_OK || w->len == 0) {
    w->len = 0;
    w->buf_events = 0;
    return st;
  }
  uint8_t *b = w->io_buf;
  w->io_buf = w->buf;
  w->io_len = w->len;
  w->io_events = w->buf_events;
  w->io_off = w->committed_bytes; /* everything before it is settled */
  w->buf = b;
  w->len = 0;
  w->buf_events = 0;
  w->io_pending = 1;
  pthread_mutex_lock(&w->io_mu);
  w->io_work = 1;
  pthread_cond_signal(&w->io_work_cv);
  pthread_mutex_unlock(&w->io_mu);
  return ATF_WRITER_OK;
}

static void *io_main(void *arg) {
  atf_writer *w = (atf_writer *)arg;
#if defined(__linux__)
  /* Per thread on Linux: PRIO_PROCESS with a thread id. A refusal keeps the default priority. */
  if (w->io_nice != 0) (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), w->io_nice);
  (void)pthread_setname_np(pthread_self(), "atf-writer-io"); /* as top, perf and gdb show it */
#endif
  pthread_mutex_lock(&w->io_mu);
  for (;;) {
    while (!w->io_work && !w->io_quit) pthread_cond_wait(&w->io_work_cv, &w->io_mu);
    if (!w->io_work) break; /* stop, nothing handed over */
    w->io_work = 0;
    const uint8_t *b = w->io_buf;
    const size_t n = w->io_len;
    const uint64_t off = w->io_off;
    pthread_mutex_unlock(&w->io_mu);
    size_t done = 0;
    const int err = atf_write_all(w->ops, w->fd, b, n, &done);
    if (err == 0) release_cache(w, off, n);
    pthread_mutex_lock(&w->io_mu);
    w->io_err = err;
    w->io_written = done;
    w->io_done = 1;
    pthread_cond_signal(&w->io_done_cv);
  }
  pthread_mutex_unlock(&w->io_mu);
  return NULL;
}

/* Starts the I/O thread with every signal blocked: a traced process's handlers never run on it. */
int atf_sink_io_start(atf_writer *w) {
  /* The two failures below (no memory, no thread) are not provoked by the tests: open returns
   * ATF_WRITER_E_NO_MEMORY / ATF_WRITER_E_IO and close releases what was made, the path every other
   * open failure takes. */
  w->io_buf = malloc(w->cap);
  if (w->io_buf == NULL) return ENOMEM;
  pthread_mutex_init(&w->io_mu, NULL);
  pthread_cond_init(&w->io_work_cv, NULL);
  pthread_cond_init(&w->io_done_cv, NULL);
  w->io_started = 1; /* the primitives exist: close destroys them */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&w->io_tid, NULL, io_main, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) return rc;
  w->io_on = 1;
  return 0;
}

/* Stops and joins the I/O thread; a write in flight finishes first (it is not settled). */
void atf_sink_io_stop(atf_writer *w) {
  if (!w->io_started) return;
  if (w->io_on) {
    pthread_mutex_lock(&w->io_mu);
    w->io_quit = 1;
    pthread_cond_signal(&w->io_work_cv);
    pthread_mutex_unlock(&w->io_mu);
    pthread_join(w->io_tid, NULL);
    w->io_on = 0;
  }
  pthread_cond_destroy(&w->io_work_cv);
  pthread_cond_destroy(&w->io_done_cv);
  pthread_mutex_destroy(&w->io_mu);
  w->io_started = 0;
}

atf_writer_status atf_sink_flush(atf_writer *w) {
  atf_writer_status st = atf_sink_write_now(w);
  if (st != ATF_WRITER_OK) return st;
  int err = atf_fsync_retry(w->ops, w->fd);
  if (err != 0) return atf_writer_fail(w, err);
  w->durable_bytes = w->committed_bytes;
  w->last_flush_ns = w->clock(w->clock_ctx);
  return ATF_WRITER_OK;
}

atf_writer_status atf_sink_write_oversized(atf_writer *w, const uint8_t *bytes, size_t len) {
  atf_writer_status st = atf_sink_collect(w); /* the file is this thread's again */
  if (st != ATF_WRITER_OK) return st;
  size_t done;
  const uint64_t off = w->committed_bytes;
  int err = atf_write_all(w->ops, w->fd, bytes, len, &done);
  if (err != 0) {
    truncate_to(w, w->committed_bytes);
    return atf_writer_fail(w, err);
  }
  w->committed_bytes += len;
  w->committed_events++;
  release_cache(w, off, len);
  return ATF_WRITER_OK;
}

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
 *
 * Direct I/O (options.direct_io, Linux, the real system calls): at the first sink call O_DIRECT
 * is set on events.bin (fcntl; a filesystem that refuses it keeps buffered writes and
 * direct_errno says why). The buffers are aligned and dcap bytes long (a multiple of any block
 * size up to 64 KiB); the partial block at the end of each write (`carry` bytes) stays at the
 * start of the buffer, and the buffer append_record fills begins right after it (buf == dbuf +
 * carry), so only whole blocks, from an aligned address to an aligned offset, go through
 * O_DIRECT. Flush, write_out, close and an oversized event write the carried bytes through the
 * page cache (O_DIRECT cleared for that pwrite), so that the file ends exactly at the last record;
 * the next direct write rewrites that block whole. Nothing is ever padded.
 *   A direct write ends on a block boundary, usually inside a record, so committed_bytes cannot
 * simply add the buffer: walk_records() follows the framing over what the file now holds
 * (walk_pos: the next header; one record may be pending across the boundary) and commits the
 * complete records, on the I/O thread when there is one (it walks a copy, io_wc/io_wp, and the
 * writer's thread takes the result when it collects). io_len / io_events count what the writer
 * holds outside `buf` and the file's complete records (the carried block, the block in flight),
 * so that append_record's max_file_bytes check and the stats read the same sums as when buffered.
 * A failed write is settled as above: the complete records the file holds are kept, the file is
 * truncated to them, the writer fails. A direct write cut short off a block boundary (a file size
 * limit) is continued through the page cache, so that the error returned is the kernel's
 * (EFBIG, ENOSPC), not EINVAL.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "writer/internal/fileio.h"
#include "writer/internal/varint.h"
#include "writer/internal/writer_impl.h"

/* Waits until the I/O thread has finished the write in flight; returns its errno (0: none) and
 * sets *done to the bytes it wrote. */
static int io_wait(atf_writer *w, size_t *done) {
  pthread_mutex_lock(&w->io_mu);
  while (!w->io_done) pthread_cond_wait(&w->io_done_cv, &w->io_mu);
  w->io_done = 0;
  const int err = w->io_err;
  *done = w->io_written;
  pthread_mutex_unlock(&w->io_mu);
  return err;
}

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

/* ---- Direct I/O (see the top comment) ------------------------------------------------------ */

#if defined(__linux__)
/* Sets (on) or clears O_DIRECT on fd. 0 or errno. */
static int set_direct(int fd, int on) {
  const int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return errno;
  const int want = on ? (fl | O_DIRECT) : (fl & ~O_DIRECT);
  if (want != fl && fcntl(fd, F_SETFL, want) != 0) return errno;
  return 0;
}

/* pwrite(2) of buf[0..n) at off, EINTR retried, short writes continued; *done = bytes written. */
static int pwrite_all(int fd, const uint8_t *buf, size_t n, uint64_t off, size_t *done) {
  *done = 0;
  while (*done < n) {
    const ssize_t r = pwrite(fd, buf + *done, n - *done, (off_t)(off + *done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno != 0 ? errno : EIO;
    if (r == 0) return EIO;
    *done += (size_t)r;
  }
  return 0;
}

/* Writes buf[0..n) at off through the page cache: O_DIRECT is cleared for the call. */
static int pwrite_buffered(atf_writer *w, const uint8_t *buf, size_t n, uint64_t off,
                           size_t *done) {
  *done = 0;
  int err = set_direct(w->fd, 0);
  if (err == 0) err = pwrite_all(w->fd, buf, n, off, done);
  const int err_on = set_direct(w->fd, 1);
  return err != 0 ? err : err_on;
}

/* Writes the whole blocks buf[0..n) at off (aligned) with O_DIRECT. A write cut short off a block
 * boundary, or refused with EINVAL (a file size limit inside the range makes the kernel shorten it
 * to an unaligned length; a device with larger blocks than st_blksize said), is continued through
 * the page cache: the bytes still reach the file, or the error is the one a buffered write gets
 * (EFBIG, ENOSPC, ...). */
static int pwrite_direct(atf_writer *w, const uint8_t *buf, size_t n, uint64_t off, size_t *done) {
  *done = 0;
  while (*done < n) {
    ssize_t r = -1;
    if ((*done & (w->blk - 1)) == 0) {
      r = pwrite(w->fd, buf + *done, n - *done, (off_t)(off + *done));
      if (r < 0 && errno == EINTR) continue;
    }
    if (r < 0 && ((*done & (w->blk - 1)) != 0 || errno == EINVAL)) {
      size_t more;
      const int err = pwrite_buffered(w, buf + *done, n - *done, off + *done, &more);
      *done += more;
      return err;
    }
    if (r < 0) return errno != 0 ? errno : EIO;
    if (r == 0) return EIO;
    *done += (size_t)r;
  }
  return 0;
}

/* The records of mem (stream bytes [base, base + len), ending on a record boundary) that end at or
 * before `upto`, from *wp on: *c (committed end) and *wp (next header) advance over them; returns
 * how many. A record pending across the last boundary (*wp > *c) is counted once it ends by
 * `upto`. REQUIRES: *wp >= base (the pending record ends in this buffer or later). */
static uint64_t walk_records(const uint8_t *mem, uint64_t base, size_t len, uint64_t upto,
                             uint64_t *c, uint64_t *wp) {
  uint64_t k = 0;
  if (*wp > *c) {
    if (*wp > upto) return 0;
    *c = *wp;
    k++;
  }
  while (*wp < upto) {
    const size_t at = (size_t)(*wp - base);
    uint64_t n;
    const size_t h = atf_varint_decode(mem + at, len - at, &n);
    if (h == 0 || n > (uint64_t)(len - at - h)) break; /* our own framing: does not happen */
    *wp += h + n;
    if (*wp > upto) break;
    *c = *wp;
    k++;
  }
  return k;
}

/* Takes the records a walk completed into the committed counts. */
static void direct_commit(atf_writer *w, uint64_t c, uint64_t wp, uint64_t k) {
  w->committed_bytes = c;
  w->walk_pos = wp;
  w->committed_events += k;
  w->io_events -= k;
}

/* buf and cap after the carried bytes; io_len from the stream offsets (see writer_impl.h). */
static void direct_place(atf_writer *w) {
  w->buf = w->dbuf + w->carry;
  w->cap = w->dcap - w->carry;
  w->len = 0;
  w->io_len = (size_t)(w->dbase + w->carry - w->committed_bytes);
}

/* The buffer's bytes join the carried ones (nothing in flight or the other buffer's). */
static void direct_absorb(atf_writer *w) {
  w->carry += w->len;
  w->io_events += w->buf_events;
  w->buf_events = 0;
  w->len = 0;
}

/* After a failed write: the file is cut back to its complete records, nothing else is held. */
static atf_writer_status direct_fail(atf_writer *w, int err) {
  truncate_to(w, w->committed_bytes); /* if this fails too, a torn tail remains */
  w->len = 0;
  w->buf_events = 0;
  w->io_len = 0;
  w->io_events = 0;
  return atf_writer_fail(w, err);
}

/* At the first sink call (the file exists, nothing written yet): O_DIRECT on, or buffered with
 * the reason kept. */
static void direct_setup(atf_writer *w) {
  w->direct_want = 0;
  struct stat st;
  size_t blk = 4096;
  if (fstat(w->fd, &st) == 0 && st.st_blksize > 4096 && st.st_blksize <= 65536 &&
      (st.st_blksize & (st.st_blksize - 1)) == 0) {
    blk = (size_t)st.st_blksize;
  }
  const int err = set_direct(w->fd, 1);
  if (err != 0) {
    w->direct_errno = err;
    return;
  }
  w->direct = 1;
  w->blk = blk;
  w->dbuf = w->buf;
  w->dbase = w->file_end = w->walk_pos = w->committed_bytes; /* 0: nothing written yet */
  w->carry = 0;
  w->release_cache = 0; /* nothing of the file's stays in the page cache */
  w->io_pending = 1;    /* io_len / io_events count the carried and in-flight records */
  w->io_events = 0;
  const size_t len = w->len;
  direct_place(w);
  w->len = len;
}

/* Whether writes are direct; sets O_DIRECT up at the first call. */
static int direct_on(atf_writer *w) {
  if (ATF_UNLIKELY(w->direct_want)) direct_setup(w);
  return w->direct;
}

/* Writes the whole blocks of the carried and buffered bytes with O_DIRECT on this thread (nothing
 * in flight); the partial last block stays carried. */
static atf_writer_status direct_write_blocks(atf_writer *w) {
  direct_absorb(w);
  const size_t cut = w->carry & ~(w->blk - 1);
  if (cut != 0) {
    size_t done;
    const int err = pwrite_direct(w, w->dbuf, cut, w->dbase, &done);
    uint64_t c = w->committed_bytes, wp = w->walk_pos;
    const uint64_t k = walk_records(w->dbuf, w->dbase, w->carry, w->dbase + done, &c, &wp);
    direct_commit(w, c, wp, k);
    if (err != 0) return direct_fail(w, err);
    if (w->dbase + cut > w->file_end) w->file_end = w->dbase + cut;
    memmove(w->dbuf, w->dbuf + cut, w->carry - cut);
    w->dbase += cut;
    w->carry -= cut;
  }
  direct_place(w);
  return ATF_WRITER_OK;
}

/* After direct_write_blocks: the carried partial block, through the page cache, so that the file
 * ends at the last record. The block stays carried: the next direct write rewrites it whole. */
static atf_writer_status direct_write_tail(atf_writer *w) {
  const uint64_t end = w->dbase + w->carry;
  if (w->file_end < end) {
    const size_t from = (size_t)(w->file_end - w->dbase);
    size_t done;
    const int err = pwrite_buffered(w, w->dbuf + from, w->carry - from, w->file_end, &done);
    uint64_t c = w->committed_bytes, wp = w->walk_pos;
    const uint64_t k = walk_records(w->dbuf, w->dbase, w->carry, w->file_end + done, &c, &wp);
    direct_commit(w, c, wp, k);
    if (err != 0) return direct_fail(w, err);
    w->file_end = end;
  }
  direct_place(w);
  return ATF_WRITER_OK;
}

/* Waits for the blocks the I/O thread is writing, if any, and takes its walk. */
static atf_writer_status direct_collect(atf_writer *w) {
  if (!w->io_busy) return ATF_WRITER_OK;
  size_t done;
  const int err = io_wait(w, &done);
  w->io_busy = 0;
  if (w->io_off + done > w->file_end) w->file_end = w->io_off + done;
  direct_commit(w, w->io_wc, w->io_wp, w->io_wk);
  if (err != 0) return direct_fail(w, err);
  w->io_len = (size_t)(w->dbase + w->carry - w->committed_bytes);
  return ATF_WRITER_OK;
}

/* The hand-over with the I/O thread: the whole blocks go to it, the partial one is copied to the
 * start of the other buffer, which is filled next. */
static atf_writer_status direct_handover_io(atf_writer *w) {
  atf_writer_status st = direct_collect(w);
  if (st != ATF_WRITER_OK) return st;
  direct_absorb(w);
  const size_t cut = w->carry & ~(w->blk - 1);
  if (cut == 0) {
    direct_place(w);
    return ATF_WRITER_OK;
  }
  uint8_t *next = w->io_buf;
  memcpy(next, w->dbuf + cut, w->carry - cut);
  w->io_buf = w->dbuf;
  w->io_wlen = cut;
  w->io_phys = w->carry;
  w->io_off = w->dbase;
  w->io_wc = w->committed_bytes;
  w->io_wp = w->walk_pos;
  w->dbuf = next;
  w->dbase += cut;
  w->carry -= cut;
  direct_place(w);
  w->io_busy = 1;
  pthread_mutex_lock(&w->io_mu);
  w->io_work = 1;
  pthread_cond_signal(&w->io_work_cv);
  pthread_mutex_unlock(&w->io_mu);
  return ATF_WRITER_OK;
}

static atf_writer_status direct_write_now(atf_writer *w) {
  atf_writer_status st = direct_collect(w);
  if (st == ATF_WRITER_OK) st = direct_write_blocks(w);
  if (st == ATF_WRITER_OK) st = direct_write_tail(w);
  return st;
}

/* An event larger than the buffer: everything before it reaches the file, then the event through
 * the page cache; its last partial block is carried for the next direct write. */
static atf_writer_status direct_write_oversized(atf_writer *w, const uint8_t *bytes, size_t len) {
  atf_writer_status st = direct_write_now(w);
  if (st != ATF_WRITER_OK) return st;
  size_t done;
  const int err = pwrite_buffered(w, bytes, len, w->committed_bytes, &done);
  if (err != 0) return direct_fail(w, err);
  w->committed_bytes += len;
  w->committed_events++;
  w->walk_pos = w->file_end = w->committed_bytes;
  w->dbase = w->committed_bytes & ~(uint64_t)(w->blk - 1);
  w->carry = (size_t)(w->committed_bytes - w->dbase); /* < blk < len */
  memcpy(w->dbuf, bytes + len - w->carry, w->carry);
  direct_place(w);
  return ATF_WRITER_OK;
}
#else /* direct_want is never set: direct_on() is 0, the rest is not reached */
static int direct_on(atf_writer *w) {
  (void)w;
  return 0;
}
static atf_writer_status direct_unreached(atf_writer *w) {
  (void)w;
  return ATF_WRITER_E_STATE;
}
#define direct_write_blocks direct_unreached
#define direct_collect direct_unreached
#define direct_handover_io direct_unreached
#define direct_write_now direct_unreached
#define direct_write_oversized(w, bytes, len) direct_unreached(w)
#endif

uint8_t *atf_sink_alloc(const atf_writer *w, size_t bytes) {
  if (!w->direct_want) return malloc(bytes);
  void *p = NULL;
  return posix_memalign(&p, 4096, w->dcap) == 0 ? (uint8_t *)p : NULL;
}

uint8_t *atf_sink_buffer_base(const atf_writer *w) { return w->direct ? w->dbuf : w->buf; }

int atf_writer_direct_io(const atf_writer *w, int *refused_errno) {
  if (refused_errno != NULL) *refused_errno = w != NULL ? w->direct_errno : 0;
  return w != NULL && w->direct;
}

/* ---- Buffered and common ------------------------------------------------------------------- */

/* Waits for the buffer the I/O thread is writing, if any, and settles it. */
atf_writer_status atf_sink_collect(atf_writer *w) {
  if (direct_on(w)) return direct_collect(w);
  if (!w->io_pending) return ATF_WRITER_OK;
  size_t done;
  const int err = io_wait(w, &done);
  w->io_pending = 0;
  return settle(w, w->io_buf, w->io_len, w->io_events, err, done);
}

/* Writes the buffer on this thread (after the one in flight, if any). */
atf_writer_status atf_sink_write_now(atf_writer *w) {
  if (direct_on(w)) return direct_write_now(w);
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
  if (direct_on(w)) return w->io_on ? direct_handover_io(w) : direct_write_blocks(w);
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
    int err;
#if defined(__linux__)
    if (w->direct) { /* whole blocks, then the walk over what the file now holds */
      err = pwrite_direct(w, b, w->io_wlen, off, &done);
      uint64_t c = w->io_wc, wp = w->io_wp;
      w->io_wk = walk_records(b, off, w->io_phys, off + done, &c, &wp);
      w->io_wc = c;
      w->io_wp = wp;
    } else
#endif
    {
      err = atf_write_all(w->ops, w->fd, b, n, &done);
      if (err == 0) release_cache(w, off, n);
    }
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
  w->io_buf = atf_sink_alloc(w, w->cap);
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
  if (direct_on(w)) return direct_write_oversized(w, bytes, len);
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

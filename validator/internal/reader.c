/* The reader's window and the framing of events.bin (see reader.h). */
#define _GNU_SOURCE 1 /* SEEK_DATA: a hole in a sparse file is zeros that need not be read */
#include "validator/internal/reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "validator/internal/varint.h"

bool atf_reader_init_fd(atf_reader *r, int fd, uint64_t size, size_t window) {
  memset(r, 0, sizeof *r);
  r->fd = fd;
  r->size = size;
  r->cap = window < ATF_READER_MIN_WINDOW ? ATF_READER_MIN_WINDOW : window;
  if (size < r->cap)
    r->cap = size > 0 ? (size_t)size : 1; /* a small file: one window holds all of it */
  r->buf = malloc(r->cap);
  r->win = r->buf;
  return r->buf != NULL;
}

void atf_reader_init_mem(atf_reader *r, const uint8_t *data, size_t len) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  r->size = len;
  r->cap = len;
  r->win = data;
  r->win_len = len;
}

void atf_reader_init_span(atf_reader *r, const uint8_t *data, uint64_t base, size_t len,
                          uint64_t size) {
  memset(r, 0, sizeof *r);
  r->fd = -1;
  r->size = size;
  r->cap = len;
  r->win = data;
  r->win_off = base;
  r->win_len = len;
}

bool atf_reader_init_like(atf_reader *r, const atf_reader *src) {
  if (src->fd >= 0) return atf_reader_init_fd(r, src->fd, src->size, src->cap);
  *r = *src;
  r->buf = NULL; /* nothing of its own to free */
  r->io_errno = 0;
  r->io_failed = false;
  return true;
}

void atf_reader_free(atf_reader *r) {
  free(r->buf);
  r->buf = NULL;
}

static bool fill(atf_reader *r, uint64_t off) {
  const uint64_t left = r->size - off;
  const size_t want = left < r->cap ? (size_t)left : r->cap;
  size_t got = 0;
  while (got < want) {
    const ssize_t n = pread(r->fd, r->buf + got, want - got, (off_t)(off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r->io_errno = n < 0 ? errno : 0;
      r->io_failed = true;
      r->win_len = 0;
      return false;
    }
    got += (size_t)n;
  }
  r->win_off = off;
  r->win_len = got;
  return true;
}

const uint8_t *atf_reader_get(atf_reader *r, uint64_t off, size_t n) {
  if (off >= r->win_off && off - r->win_off <= r->win_len && r->win_len - (off - r->win_off) >= n) {
    return r->win + (off - r->win_off);
  }
  if (r->fd < 0 || n > r->cap || !fill(r, off) || r->win_len < n) return NULL;
  return r->win;
}

atf_frame_status atf_reader_frame(atf_reader *r, uint64_t off, atf_frame *f) {
  memset(f, 0, sizeof *f);
  f->offset = off;
  if (off >= r->size) return ATF_FRAME_END;
  const uint64_t left = r->size - off;
  const size_t avail = left < ATF_VARINT64_BYTES ? (size_t)left : ATF_VARINT64_BYTES;
  const uint8_t *p = atf_reader_get(r, off, avail);
  if (p == NULL) return ATF_FRAME_IO;
  unsigned len;
  switch (atf_read_varint(p, avail, ATF_VARINT64_BYTES, ATF_VARINT64_LAST, &f->length, &len)) {
    case ATF_VARINT_OK:
      break;
    case ATF_VARINT_SHORT:
      return ATF_FRAME_TRUNCATED;
    default:
      return ATF_FRAME_VARINT;
  }
  f->prefix_len = len;
  f->body_offset = off + len;
  return f->length > r->size - f->body_offset ? ATF_FRAME_TRUNCATED : ATF_FRAME_OK;
}

size_t atf_reader_frame_window(atf_reader *r, uint64_t off, uint64_t max_length, atf_frame *frames,
                               size_t max, uint64_t *end) {
  *end = off;
  if (off >= r->size) return 0;
  const uint64_t left = r->size - off;
  if (atf_reader_get(r, off, left < r->cap ? (size_t)left : r->cap) == NULL) return 0;
  const uint64_t win_end = r->win_off + r->win_len;
  size_t n = 0;
  uint64_t at = off;
  while (n < max && at < win_end) {
    const uint64_t room = win_end - at;
    uint64_t length;
    unsigned len;
    if (atf_read_varint(r->win + (at - r->win_off),
                        room < ATF_VARINT64_BYTES ? (size_t)room : ATF_VARINT64_BYTES,
                        ATF_VARINT64_BYTES, ATF_VARINT64_LAST, &length, &len) != ATF_VARINT_OK ||
        length > room - len || length > max_length) {
      break;
    }
    atf_frame *f = &frames[n++];
    f->offset = at;
    f->prefix_len = len;
    f->body_offset = at + len;
    f->length = length;
    at = f->body_offset + length;
  }
  *end = at;
  return n;
}

/* Bytes of a hole (a range the file system stores no data for: zeros) from `at`, at most `left`. */
static uint64_t hole_at(atf_reader *r, uint64_t at, uint64_t left) {
#ifdef SEEK_DATA
  if (r->fd < 0) return 0;
  const off_t data = lseek(r->fd, (off_t)at, SEEK_DATA);
  if (data < 0 && errno == ENXIO) { /* no data up to the end of the file: if it still ends there */
    struct stat st;
    if (fstat(r->fd, &st) == 0 && (uint64_t)st.st_size >= r->size) return left;
    r->io_failed = true; /* it shrank */
    return 0;
  }
  if (data < 0) return 0; /* no SEEK_DATA here: read the bytes */
  const uint64_t hole = (uint64_t)data - at;
  return hole < left ? hole : left;
#else
  (void)r, (void)at, (void)left;
  return 0;
#endif
}

uint64_t atf_reader_zeros(atf_reader *r, uint64_t off, uint64_t max) {
  uint64_t n = 0;
  while (n < max) {
    const uint64_t at = off + n, left = max - n;
    const bool in_window = at >= r->win_off && at < r->win_off + r->win_len;
    const uint64_t hole = in_window ? 0 : hole_at(r, at, left);
    if (r->io_failed) break;
    if (hole > 0) {
      n += hole;
      continue;
    }
    const size_t want = left < r->cap ? (size_t)left : r->cap;
    const uint8_t *p = atf_reader_get(r, at, want);
    if (p == NULL) break;
    /* Eight bytes at a time: a sparse or zero-filled file is read at memory speed. */
    size_t i = 0;
    uint64_t w = 0;
    while (want - i >= 8 && (memcpy(&w, p + i, 8), w == 0)) i += 8;
    while (i < want && p[i] == 0) i++;
    n += i;
    if (i < want) break;
  }
  return n;
}

bool atf_reader_copy(atf_reader *r, uint64_t off, void *out, size_t n) {
  uint8_t *o = out;
  while (n > 0) {
    const size_t step = n < r->cap ? n : r->cap;
    const uint8_t *p = atf_reader_get(r, off, step);
    if (p == NULL) return false;
    memcpy(o, p, step);
    o += step;
    off += step;
    n -= step;
  }
  return true;
}

/* Streamed mode: copy out of the window, refilling it at the stream's position when needed. */
static bool stream_read(pb_istream_t *s, pb_byte_t *buf, size_t count) {
  atf_record_stream *rs = s->state;
  while (count > 0) {
    const uint64_t left = rs->end - rs->pos;
    if (left == 0) PB_RETURN_ERROR(s, "end-of-stream");
    size_t n = count < rs->reader->cap ? count : rs->reader->cap;
    if (n > left) n = (size_t)left;
    const uint8_t *p = atf_reader_get(rs->reader, rs->pos, n);
    if (p == NULL) PB_RETURN_ERROR(s, "read error");
    memcpy(buf, p, n);
    buf += n;
    count -= n;
    rs->pos += n;
  }
  return true;
}

/* Buffered mode: like nanopb's own buffer stream (the read pointer in `state`, so substreams copy
 * it), but without a memcpy call per byte: nanopb reads every varint one byte at a time. */
static bool mem_read(pb_istream_t *s, pb_byte_t *buf, size_t count) {
  const uint8_t *p = s->state;
  s->state = (void *)(p + count);
  if (count == 1) {
    *buf = *p;
  } else {
    memcpy(buf, p, count); /* nanopb passes a buffer of its own when it skips bytes */
  }
  return true;
}

bool atf_record_stream_open(atf_record_stream *rs, atf_reader *r, uint64_t off, uint64_t len) {
  memset(rs, 0, sizeof *rs);
  rs->reader = r;
  rs->start = rs->pos = off;
  rs->end = off + len;
  if (len <= r->cap) {
    rs->base = atf_reader_get(r, off, (size_t)len);
    if (rs->base == NULL) return false;
    rs->stream.callback = mem_read;
    rs->stream.state = (void *)rs->base;
    rs->stream.bytes_left = (size_t)len;
  } else {
    rs->stream.callback = stream_read;
    rs->stream.state = rs;
    rs->stream.bytes_left = (size_t)len;
  }
  return true;
}

const uint8_t *atf_record_stream_take(const atf_record_stream *rs, pb_istream_t *s, size_t n) {
  if (rs->base == NULL || s->callback != mem_read || s->bytes_left < n) return NULL;
  const uint8_t *p = s->state;
  s->state = (void *)(p + n);
  s->bytes_left -= n;
  return p;
}

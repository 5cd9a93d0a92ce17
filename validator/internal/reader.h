/* Bounded-memory access to events.bin and its framing: [varint length][Event bytes]...
 *
 * A file is read through one fixed-size window (pread at 64-bit offsets, so files over 4 GiB work);
 * an in-memory input is used in place. Nothing here allocates in proportion to a length read from
 * the input: a record larger than the window is decoded through a nanopb stream whose callback
 * refills the window as the decoder advances. */
#ifndef ATF_VALIDATOR_INTERNAL_READER_H_
#define ATF_VALIDATOR_INTERNAL_READER_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pb_decode.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Internal functions whose result says whether the input could be read or decoded. */
#if defined(__GNUC__) || defined(__clang__)
#define ATF_MUST_USE __attribute__((warn_unused_result))
#else
#define ATF_MUST_USE
#endif

#define ATF_READER_MIN_WINDOW (64u * 1024u)
#define ATF_READER_DEFAULT_WINDOW (1024u * 1024u)

typedef struct atf_reader {
  int fd;             /* -1 for an in-memory input */
  uint64_t size;      /* input size in bytes */
  uint8_t *buf;       /* the window's storage (files only) */
  size_t cap;         /* window capacity */
  const uint8_t *win; /* bytes [win_off, win_off + win_len) of the input */
  uint64_t win_off;
  size_t win_len;
  int io_errno;   /* set when a read failed (0: short read, the file shrank) */
  bool io_failed; /* a read failed (sticky) */
} atf_reader;

/* Reads fd (not owned) of `size` bytes through a window of `window` bytes (at least
 * ATF_READER_MIN_WINDOW; no larger than the file). Returns false when it cannot be allocated. */
ATF_MUST_USE bool atf_reader_init_fd(atf_reader *r, int fd, uint64_t size, size_t window);
/* Reads data[0, len) in place; the caller keeps it alive. */
void atf_reader_init_mem(atf_reader *r, const uint8_t *data, size_t len);
void atf_reader_free(atf_reader *r);

/* A second reader over src's input: for a file, a window of its own of the same capacity (the
 * two are read and moved independently: a batch framed in one stays put while the other is
 * refilled); in memory, the same bytes. Returns false when the window cannot be allocated. */
ATF_MUST_USE bool atf_reader_init_like(atf_reader *r, const atf_reader *src);

/* Pointer to input bytes [off, off + n), or NULL on an I/O error.
 * REQUIRES: n <= r->cap (or an in-memory input) and off + n <= r->size. */
ATF_MUST_USE const uint8_t *atf_reader_get(atf_reader *r, uint64_t off, size_t n);

typedef enum atf_frame_status {
  ATF_FRAME_OK = 0,
  ATF_FRAME_END = 1,       /* off == size: no more records */
  ATF_FRAME_VARINT = 2,    /* length prefix longer than 10 bytes or above 2^64-1 */
  ATF_FRAME_TRUNCATED = 3, /* the input ends inside the length prefix or inside the record */
  ATF_FRAME_IO = 4,
} atf_frame_status;

typedef struct atf_frame {
  uint64_t offset;      /* of the length prefix */
  uint64_t body_offset; /* of the Event bytes */
  uint64_t length;      /* of the Event bytes (valid unless status is VARINT or truncated prefix) */
  unsigned prefix_len;  /* bytes in the length prefix; 0 when the input ends inside it */
} atf_frame;

/* Framing lives here and nowhere else: these three functions are the only code that reads length
 * prefixes (through atf_read_varint). */

/* Reads the length prefix at `off` and checks that the record fits in the input. */
ATF_MUST_USE atf_frame_status atf_reader_frame(atf_reader *r, uint64_t off, atf_frame *f);

/* Moves the window to start at `off` (unless it holds the bytes there already) and frames the
 * records from `off` that lie whole in it and are at most max_length long, up to `max` of them;
 * stops at the first that does not qualify, which the caller frames alone with
 * atf_reader_frame(). *end is where the last framed record ends. Returns the number framed (0 on
 * an I/O error too: atf_reader_frame then reports it). */
size_t atf_reader_frame_window(atf_reader *r, uint64_t off, uint64_t max_length, atf_frame *frames,
                               size_t max, uint64_t *end);

/* Number of consecutive zero bytes from `off` (at most `max`). A zero byte is a whole record: an
 * empty Event. Stops early on an I/O error (r->io_failed says so). */
uint64_t atf_reader_zeros(atf_reader *r, uint64_t off, uint64_t max);

/* Copies input bytes [off, off + n) to `out`. Returns false on an I/O error.
 * REQUIRES: off + n <= r->size. */
ATF_MUST_USE bool atf_reader_copy(atf_reader *r, uint64_t off, void *out, size_t n);

/* A reader over data[0, len) that holds input bytes [base, base + len) of an input of `size`
 * bytes: lets a record copied out of a file be decoded in place with its file offsets. */
void atf_reader_init_span(atf_reader *r, const uint8_t *data, uint64_t base, size_t len,
                          uint64_t size);

/* A nanopb input stream over one record body. `pos` says where the stream is, so decoders can
 * name the byte offset of what they reject. */
typedef struct atf_record_stream {
  pb_istream_t stream;
  atf_reader *reader;
  uint64_t start, end; /* record body [start, end) */
  const uint8_t *base; /* buffered mode: the body's bytes, stream.state walks them */
  uint64_t pos;        /* streamed mode: next byte to read */
} atf_record_stream;

/* Opens a stream over [off, off + len). Returns false on an I/O error. */
ATF_MUST_USE bool atf_record_stream_open(atf_record_stream *rs, atf_reader *r, uint64_t off,
                                         uint64_t len);

/* Buffered mode only (rs->base set, `s` this stream or a substream of it): the next `n` bytes of
 * `s` in place, which the stream then steps over; NULL when `s` is not buffered or holds fewer.
 * The read position lives in `state`, which nanopb leaves to the stream's implementation (this
 * file's): nothing else reads or writes it. */
const uint8_t *atf_record_stream_take(const atf_record_stream *rs, pb_istream_t *s, size_t n);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_READER_H_ */

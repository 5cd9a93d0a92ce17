/* recover/recover.c: see recover.h.
 *
 * Order of operations, so that a crash of atf-recover itself leaves nothing worse than before:
 * the old trace.json is renamed away first (a manifest must never describe a file that changed
 * under it), then events.bin is cut and the TraceEnd appended and fsync'ed, and only then is the
 * new trace.json renamed into place. Every step re-runs safely.
 */
#include "recover/recover.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atf_v4.pb-c.h"
#include "validator/atf/validate.h"

#define MAX_DECODED_RECORD (16u << 20) /* first/last records we decode; valid ones are far smaller */

const char *atf_recover_strerror(atf_recover_status status) {
  switch (status) {
    case ATF_RECOVER_OK: return "recovered: the session validates";
    case ATF_RECOVER_ALREADY_VALID: return "the session validates already; nothing changed";
    case ATF_RECOVER_TAIL_KEPT: return "manifest written, invalid tail kept (use --truncate)";
    case ATF_RECOVER_E_USAGE: return "usage error";
    case ATF_RECOVER_E_IO: return "I/O error";
    case ATF_RECOVER_E_NO_PREFIX: return "no valid record to keep";
    case ATF_RECOVER_E_STILL_INVALID: return "the session still does not validate";
  }
  return "unknown status";
}

void atf_recover_options_init(atf_recover_options *o) {
  memset(o, 0, sizeof *o);
  o->exit_code = -1;
}

static atf_recover_status fail(atf_recover_result *r, atf_recover_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
  return st;
}

/* ---- reading frames ------------------------------------------------------------------------- */

typedef struct frame {
  uint64_t offset;      /* of the length prefix */
  uint64_t body_offset;
  uint64_t length;
} frame;

/* Finds the first and the last frame in [0, end), which the validator found to be whole records. */
static int scan_frames(int fd, uint64_t end, frame *first, frame *last) {
  uint64_t off = 0;
  int seen = 0;
  unsigned char *buf = malloc(1u << 20);
  if (buf == NULL) return 0;
  uint64_t base = 0, have = 0; /* buf holds [base, base + have) */
  while (off < end) {
    if (off < base || (off + 10 > base + have && base + have < end)) {
      base = off;
      uint64_t want = end - off < (1u << 20) ? end - off : (1u << 20);
      ssize_t n = pread(fd, buf, (size_t)want, (off_t)off);
      if (n <= 0) break;
      have = (uint64_t)n;
    }
    uint64_t len = 0;
    int k = 0, done = 0;
    for (uint64_t i = off - base; i < have && k < 10 && !done; i++, k++) {
      len |= (uint64_t)(buf[i] & 0x7f) << (7 * k);
      done = (buf[i] & 0x80) == 0;
    }
    if (!done) break;
    frame f = {off, off + (uint64_t)k, len};
    if (f.body_offset + len > end) break;
    if (!seen) *first = f;
    *last = f;
    seen = 1;
    off = f.body_offset + len;
  }
  free(buf);
  return seen && off == end;
}

static Atf__V4__Event *decode(int fd, const frame *f);

/* The first TraceEnd record in [0, end), which the validator found to be whole records: its frame
 * and the number of records up to and including it. Returns 0 when there is none. Decodes every
 * record, so it is only called when the validator counted a TraceEnd that is not the last record. */
static int find_trace_end(int fd, uint64_t end, frame *out, uint64_t *records) {
  uint64_t off = 0, n = 0;
  while (off < end) {
    unsigned char hdr[10];
    const size_t want = end - off < sizeof hdr ? (size_t)(end - off) : sizeof hdr;
    if (pread(fd, hdr, want, (off_t)off) != (ssize_t)want) return 0;
    uint64_t len = 0;
    size_t k = 0;
    for (; k < want && (hdr[k] & 0x80); k++) len |= (uint64_t)(hdr[k] & 0x7f) << (7 * k);
    if (k == want) return 0;
    len |= (uint64_t)hdr[k] << (7 * k);
    frame f = {off, off + k + 1, len};
    if (f.body_offset > end || len > end - f.body_offset) return 0;
    n++;
    Atf__V4__Event *ev = decode(fd, &f);
    const int is_end = ev != NULL && ev->payload_case == ATF__V4__EVENT__PAYLOAD_TRACE_END;
    if (ev != NULL) atf__v4__event__free_unpacked(ev, NULL);
    if (is_end) {
      *out = f;
      *records = n;
      return 1;
    }
    off = f.body_offset + len;
  }
  return 0;
}

static Atf__V4__Event *decode(int fd, const frame *f) {
  if (f->length > MAX_DECODED_RECORD) return NULL;
  unsigned char *body = malloc(f->length ? (size_t)f->length : 1);
  if (body == NULL) return NULL;
  Atf__V4__Event *ev = NULL;
  if (pread(fd, body, (size_t)f->length, (off_t)f->body_offset) == (ssize_t)f->length) {
    ev = atf__v4__event__unpack(NULL, (size_t)f->length, body);
  }
  free(body);
  return ev;
}

/* ---- writing -------------------------------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t n, uint64_t off) {
  const unsigned char *b = (const unsigned char *)p;
  while (n > 0) {
    ssize_t w = pwrite(fd, b, n, (off_t)off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    b += w;
    n -= (size_t)w;
    off += (uint64_t)w;
  }
  return 1;
}

/* Encodes a TraceEnd frame ([varint length][Event]) into a fresh buffer. */
static unsigned char *encode_trace_end(uint64_t event_id, uint64_t time_ns, int32_t exit_code,
                                       size_t *out_len) {
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  ts.seconds = (int64_t)(time_ns / 1000000000u);
  ts.nanos = (int32_t)(time_ns % 1000000000u);
  Atf__V4__TraceEnd end = ATF__V4__TRACE_END__INIT;
  end.exit_code = exit_code;
  Atf__V4__Event ev = ATF__V4__EVENT__INIT;
  ev.event_id = event_id;
  ev.thread_id = 0;
  ev.timestamp = &ts;
  ev.payload_case = ATF__V4__EVENT__PAYLOAD_TRACE_END;
  ev.trace_end = &end;
  size_t body = atf__v4__event__get_packed_size(&ev);
  unsigned char *buf = malloc(body + 10);
  if (buf == NULL) return NULL;
  size_t k = 0;
  uint64_t v = body;
  do {
    buf[k++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v != 0);
  atf__v4__event__pack(&ev, buf + k);
  *out_len = k + body;
  return buf;
}

/* Appends `s` as a JSON string (quotes included) to `f`. */
static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      fputc('\\', f);
      fputc(*p, f);
    } else if (*p < 0x20) {
      fprintf(f, "\\u%04x", *p);
    } else {
      fputc(*p, f);
    }
  }
  fputc('"', f);
}

typedef struct manifest {
  const char *os, *arch;
  uint64_t pid, time_start_ns, time_end_ns, event_count, bytes_written;
  const atf_recover_result *r;
} manifest;

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return 0;
  int ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

static int write_manifest(const char *dir, const manifest *m) {
  char tmp[4096], final_path[4096];
  snprintf(tmp, sizeof tmp, "%s/trace.json.recover-tmp", dir);
  snprintf(final_path, sizeof final_path, "%s/trace.json", dir);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
  if (fd < 0) return 0;
  FILE *f = fdopen(fd, "w");
  if (f == NULL) {
    close(fd);
    return 0;
  }
  fprintf(f, "{\n  \"formatVersion\": \"ATF V4\",\n  \"os\": ");
  json_string(f, m->os);
  fprintf(f, ",\n  \"arch\": ");
  json_string(f, m->arch);
  fprintf(f,
          ",\n  \"pid\": %" PRIu64 ",\n  \"sessionId\": 0,\n  \"timeStartNs\": %" PRIu64
          ",\n  \"timeEndNs\": %" PRIu64 ",\n  \"eventCount\": %" PRIu64
          ",\n  \"bytesWritten\": %" PRIu64 ",\n  \"modules\": [],\n  \"recovered\": true,\n",
          m->pid, m->time_start_ns, m->time_end_ns, m->event_count, m->bytes_written);
  fprintf(f,
          "  \"recoveredBy\": \"atf-recover\",\n  \"recoveredValidPrefixBytes\": %" PRIu64
          ",\n  \"recoveredValidPrefixRecords\": %" PRIu64 ",\n  \"recoveredTailBytes\": %" PRIu64
          ",\n  \"recoveredTailCut\": %s,\n  \"recoveredTraceEndAppended\": %s\n}\n",
          m->r->prefix_bytes, m->r->prefix_records, m->r->tail_bytes,
          m->r->tail_cut ? "true" : "false", m->r->trace_end_appended ? "true" : "false");
  int ok = fflush(f) == 0 && fsync(fd) == 0;
  ok = (fclose(f) == 0) && ok;
  if (ok) ok = rename(tmp, final_path) == 0;
  if (!ok) unlink(tmp);
  return ok && fsync_dir(dir);
}

/* ---- the recovery --------------------------------------------------------------------------- */

static uint64_t pid_from_dir(const char *dir) {
  const char *slash = strrchr(dir, '/');
  const char *name = slash ? slash + 1 : dir;
  if (strncmp(name, "pid_", 4) != 0) return 0;
  return strtoull(name + 4, NULL, 10);
}

static atf_validate_status validate(const char *dir, atf_validate_report *rep) {
  memset(rep, 0, sizeof *rep);
  atf_validate_options vo;
  atf_validate_options_init(&vo);
  vo.max_errors = 8;
  return atf_validate_path(dir, &vo, rep);
}

static const char *first_error(const atf_validate_report *rep) {
  return rep->errors_len > 0 ? rep->errors[0].rule : "(none)";
}

static atf_recover_status finish(const char *dir, int fd, const atf_recover_options *o,
                                 atf_recover_result *r, const char *os, const char *arch,
                                 uint64_t last_event_id, int ends_with_trace_end);

atf_recover_status atf_recover_session(const char *dir, const atf_recover_options *opt,
                                       atf_recover_result *r) {
  atf_recover_options defaults;
  atf_recover_options_init(&defaults);
  const atf_recover_options *o = opt ? opt : &defaults;
  memset(r, 0, sizeof *r);
  if (dir == NULL) return fail(r, ATF_RECOVER_E_USAGE, "no session directory");

  atf_validate_report rep;
  atf_validate_status vs = validate(dir, &rep);
  if (vs != ATF_VALIDATE_OK) {
    atf_recover_status st = fail(r, ATF_RECOVER_E_IO, "%s: %s", dir, rep.reason);
    atf_validate_report_free(&rep);
    return st;
  }
  r->file_bytes = rep.bytes;
  r->prefix_bytes = rep.valid_prefix_bytes;
  r->prefix_records = rep.valid_prefix_records;
  r->tail_bytes = rep.bytes - rep.valid_prefix_bytes;
  r->final_bytes = rep.bytes;
  r->final_records = rep.records;
  int valid = rep.valid;
  char why[64];
  snprintf(why, sizeof why, "%s", first_error(&rep));
  uint64_t all_records = rep.records, t_min = rep.time_min_ns, t_max = rep.time_max_ns;
  const uint64_t trace_ends = rep.counts[ATF_VALIDATE_TRACE_END];
  atf_validate_report_free(&rep);
  char manifest_path[4096];
  snprintf(manifest_path, sizeof manifest_path, "%s/trace.json", dir);
  struct stat sb;
  if (valid && lstat(manifest_path, &sb) == 0) {
    return fail(r, ATF_RECOVER_ALREADY_VALID, "%s validates; not touched", dir);
  }
  /* A valid events.bin without trace.json (the process died between its last flush and the
   * manifest's rename) keeps every byte and only gets the manifest. */
  if (r->prefix_records == 0) {
    return fail(r, ATF_RECOVER_E_NO_PREFIX, "%s: no valid record at the start (%s)", dir, why);
  }

  char path[4096];
  snprintf(path, sizeof path, "%s/events.bin", dir);
  int fd = open(path, (o->dry_run ? O_RDONLY : O_RDWR) | O_NOFOLLOW);
  if (fd < 0) return fail(r, ATF_RECOVER_E_IO, "%s: %s", path, strerror(errno));
  frame first, last;
  Atf__V4__Event *start = NULL, *end = NULL;
  atf_recover_status st = ATF_RECOVER_E_IO;
  if (!scan_frames(fd, r->prefix_bytes, &first, &last) || (start = decode(fd, &first)) == NULL ||
      (end = decode(fd, &last)) == NULL || start->payload_case != ATF__V4__EVENT__PAYLOAD_TRACE_START) {
    st = fail(r, ATF_RECOVER_E_IO, "%s: cannot re-read the valid prefix", path);
    goto out;
  }
  const char *os = start->trace_start->operating_system;
  const char *arch = start->trace_start->cpu_architecture;
  int ends_with_trace_end = end->payload_case == ATF__V4__EVENT__PAYLOAD_TRACE_END;
  /* A session ends at its TraceEnd: valid records after one are not part of it, so the prefix to
   * keep ends there (appending a second TraceEnd after them left the session invalid; fuzzer
   * finding, fuzz/regressions/recover/records_after_trace_end). */
  frame cut;
  uint64_t cut_records;
  if (!ends_with_trace_end && trace_ends > 0 && find_trace_end(fd, r->prefix_bytes, &cut, &cut_records)) {
    r->prefix_bytes = cut.body_offset + cut.length;
    r->prefix_records = cut_records;
    r->tail_bytes = r->file_bytes - r->prefix_bytes;
    ends_with_trace_end = 1;
  }
  /* Event ids strictly increase, so nothing can follow an event_id of 2^64-1: say so instead of
   * appending a TraceEnd the validator must reject (fuzzer finding,
   * fuzz/regressions/recover/last_event_id_max). Nothing is changed. */
  if (!ends_with_trace_end && end->event_id == UINT64_MAX) {
    st = fail(r, ATF_RECOVER_E_STILL_INVALID,
              "%s: the last valid record has event_id 2^64-1: no TraceEnd can follow it", path);
    goto out;
  }

  if (r->tail_bytes > 0 && !o->truncate) {
    /* Keep every byte; describe the file as it is and say where the valid prefix ends. */
    if (o->dry_run) {
      st = fail(r, ATF_RECOVER_TAIL_KEPT,
                "would write trace.json (recovered, valid prefix %" PRIu64 " of %" PRIu64
                " bytes); --truncate would cut %" PRIu64 " bytes",
                r->prefix_bytes, r->file_bytes, r->tail_bytes);
      goto out;
    }
    char old[4096], moved[4096];
    snprintf(old, sizeof old, "%s/trace.json", dir);
    snprintf(moved, sizeof moved, "%s/trace.json.invalid", dir);
    if (rename(old, moved) != 0 && errno != ENOENT) {
      st = fail(r, ATF_RECOVER_E_IO, "%s: %s", old, strerror(errno));
      goto out;
    }
    manifest m = {os, arch, pid_from_dir(dir), t_min, t_max, all_records, r->file_bytes, r};
    if (!write_manifest(dir, &m)) {
      st = fail(r, ATF_RECOVER_E_IO, "%s: cannot write trace.json: %s", dir, strerror(errno));
      goto out;
    }
    r->manifest_written = 1;
    st = fail(r, ATF_RECOVER_TAIL_KEPT,
              "wrote trace.json (recovered); events.bin keeps %" PRIu64
              " bytes after its valid prefix of %" PRIu64 " (%s): run with --truncate to cut them",
              r->tail_bytes, r->prefix_bytes, why);
    goto out;
  }
  st = finish(dir, fd, o, r, os, arch, end->event_id, ends_with_trace_end);
out:
  if (start) atf__v4__event__free_unpacked(start, NULL);
  if (end) atf__v4__event__free_unpacked(end, NULL);
  close(fd);
  return st;
}

/* Cuts the tail, appends a TraceEnd if needed, writes the manifest, re-validates. */
static atf_recover_status finish(const char *dir, int fd, const atf_recover_options *o,
                                 atf_recover_result *r, const char *os, const char *arch,
                                 uint64_t last_event_id, int ends_with_trace_end) {
  if (o->dry_run) {
    return fail(r, ATF_RECOVER_OK,
                "would cut %" PRIu64 " bytes, %s a TraceEnd and write trace.json (recovered)",
                r->tail_bytes, ends_with_trace_end ? "not append" : "append");
  }
  char old[4096], moved[4096];
  snprintf(old, sizeof old, "%s/trace.json", dir);
  snprintf(moved, sizeof moved, "%s/trace.json.invalid", dir);
  if (rename(old, moved) != 0 && errno != ENOENT) {
    return fail(r, ATF_RECOVER_E_IO, "%s: %s", old, strerror(errno));
  }
  if (r->tail_bytes > 0) {
    if (ftruncate(fd, (off_t)r->prefix_bytes) != 0) {
      return fail(r, ATF_RECOVER_E_IO, "%s/events.bin: truncate: %s", dir, strerror(errno));
    }
    r->tail_cut = 1;
  }
  /* The prefix's own time range (the cut tail may have held other timestamps). */
  atf_validate_report rep;
  if (validate(dir, &rep) != ATF_VALIDATE_OK) {
    atf_validate_report_free(&rep);
    return fail(r, ATF_RECOVER_E_IO, "%s: cannot re-read events.bin", dir);
  }
  uint64_t t_min = rep.time_min_ns, t_max = rep.time_max_ns, records = rep.records;
  atf_validate_report_free(&rep);
  uint64_t bytes = r->prefix_bytes;
  if (!ends_with_trace_end) {
    size_t len = 0;
    unsigned char *buf = encode_trace_end(last_event_id + 1, t_max, o->exit_code, &len);
    if (buf == NULL) return fail(r, ATF_RECOVER_E_IO, "out of memory");
    int ok = write_all(fd, buf, len, bytes);
    free(buf);
    if (!ok) return fail(r, ATF_RECOVER_E_IO, "%s/events.bin: append: %s", dir, strerror(errno));
    bytes += len;
    records++;
    r->trace_end_appended = 1;
  }
  if (fsync(fd) != 0) return fail(r, ATF_RECOVER_E_IO, "%s/events.bin: fsync: %s", dir, strerror(errno));
  manifest m = {os, arch, pid_from_dir(dir), t_min, t_max, records, bytes, r};
  if (!write_manifest(dir, &m)) {
    return fail(r, ATF_RECOVER_E_IO, "%s: cannot write trace.json: %s", dir, strerror(errno));
  }
  r->manifest_written = 1;
  r->final_bytes = bytes;
  r->final_records = records;
  atf_validate_status vs = validate(dir, &rep);
  int valid = vs == ATF_VALIDATE_OK && rep.valid;
  char why[300];
  snprintf(why, sizeof why, "%s%s%s", first_error(&rep), rep.errors_len ? ": " : "",
           rep.errors_len ? rep.errors[0].message : "");
  atf_validate_report_free(&rep);
  if (!valid) return fail(r, ATF_RECOVER_E_STILL_INVALID, "%s: still invalid: %s", dir, why);
  return fail(r, ATF_RECOVER_OK,
              "recovered %s: kept %" PRIu64 " records (%" PRIu64 " bytes), cut %" PRIu64
              " bytes, %s TraceEnd",
              dir, r->prefix_records, r->prefix_bytes, r->tail_cut ? r->tail_bytes : 0,
              r->trace_end_appended ? "appended a" : "kept the");
}

/* recover/recover.c: see atf/recover.h.
 *
 * Three steps: look (one validation pass; salvage copies the records it keeps into a new file as
 * the pass goes), plan (what to keep, the TraceEnd, the manifest, rendered and checked: anything
 * that could fail is found here, before a change), act. The acts are ordered so that a crash of
 * atf-recover itself loses nothing and leaves nothing worse than before: the old trace.json is
 * moved aside first (a manifest must never describe a file that changed under it), removed bytes
 * reach their side file (fsync'ed) before they leave events.bin, the TraceEnd is appended and
 * fsync'ed, and only then is the new trace.json renamed into place. Every file is named relative
 * to the session directory's descriptor; no path is built in a fixed buffer.
 */
#include "recover/atf/recover.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "writer/atf/file_ops.h"
#include "writer/internal/encode.h"
#include "writer/internal/manifest.h"
#include "recover/old_manifest.h"
#include "validator/atf/validate.h"
#include "validator/internal/file.h"
#include "validator/internal/json_writer.h"
#include "validator/internal/pass.h"

#define EVENTS "events.bin"
#define MANIFEST "trace.json"
#define MANIFEST_TMP "trace.json.tmp" /* the writer's temporary name (atf_manifest_write) */
#define COPY_BUFFER (1u << 20)
#define MAX_ASIDE 1000 /* side-file names tried: base, base.1, ... base.999 */

const char *atf_recover_strerror(atf_recover_status status) {
  switch (status) {
    case ATF_RECOVER_OK:
      return "recovered: the session validates";
    case ATF_RECOVER_ALREADY_VALID:
      return "the session validates already; nothing changed";
    case ATF_RECOVER_TAIL_KEPT:
      return "manifest written, invalid tail kept (use --truncate or --salvage)";
    case ATF_RECOVER_E_USAGE:
      return "usage error";
    case ATF_RECOVER_E_IO:
      return "I/O error";
    case ATF_RECOVER_E_NO_PREFIX:
      return "no valid record to keep";
    case ATF_RECOVER_E_STILL_INVALID:
      return "the session still does not validate";
    case ATF_RECOVER_E_CANNOT:
      return "the session cannot be recovered this way; nothing changed";
  }
  return "unknown status";
}

void atf_recover_options_init(atf_recover_options *o) {
  memset(o, 0, sizeof *o);
  o->exit_code = -1;
  o->engine = ATF_VALIDATE_ENGINE_UPB;
}

__attribute__((format(printf, 3, 4))) static atf_recover_status say(atf_recover_result *r,
                                                                    atf_recover_status st,
                                                                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message, sizeof r->message, fmt, ap);
  va_end(ap);
  return st;
}

/* ---- files ---------------------------------------------------------------------------------- */

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

static int exists(int dirfd, const char *name) {
  struct stat st;
  return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* base, then base.1, base.2, ...: the first name `make` succeeds with (EEXIST: try the next). */
static int first_free(int dirfd, const char *base, char *out, size_t size,
                      int (*make)(int dirfd, const char *name, void *arg), void *arg) {
  for (int i = 0; i < MAX_ASIDE; i++) {
    if (i == 0) {
      snprintf(out, size, "%s", base);
    } else {
      snprintf(out, size, "%s.%d", base, i);
    }
    if (exists(dirfd, out)) continue;
    const int rc = make(dirfd, out, arg);
    if (rc == 0) return 0;
    if (rc != EEXIST) return rc;
  }
  return EEXIST;
}

/* Moves `arg` (a name) to `name`, never replacing a file: a hard link, then the old name goes;
 * where the file system has no hard links, a rename to the name just found free. */
static int move_to(int dirfd, const char *name, void *arg) {
  const char *from = arg;
  if (linkat(dirfd, from, dirfd, name, 0) == 0) return unlinkat(dirfd, from, 0) == 0 ? 0 : errno;
  if (errno == EEXIST) return EEXIST;
  if (errno != EPERM && errno != EOPNOTSUPP && errno != EXDEV) return errno;
  return renameat(dirfd, from, dirfd, name) == 0 ? 0 : errno;
}

static int create_at(int dirfd, const char *name, void *arg) {
  int *fd = arg;
  *fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  return *fd >= 0 ? 0 : errno;
}

/* Keeps `name` aside under the first free of base, base.1, ... (out). 0 when it does not exist. */
static int keep_aside(int dirfd, const char *name, const char *base, char *out, size_t size) {
  out[0] = '\0';
  if (!exists(dirfd, name)) return 0;
  return first_free(dirfd, base, out, size, move_to, (void *)name);
}

static int fsync_dir(int dirfd) { return fsync(dirfd) == 0 ? 0 : errno; }

/* ---- the pass: salvage copies what it keeps ---------------------------------------------- */

typedef struct kept {
  uint64_t records, bytes, last_id, time_min, time_max;
  uint64_t written;   /* bytes of the new file written out (the buffer follows them) */
  int ends;           /* the last kept record is a TraceEnd */
  int fd;             /* salvage: the new events.bin (-1: count only) */
  unsigned char *buf; /* its write buffer, buf_size bytes */
  size_t buf_size;
  size_t buffered;
  int failed; /* a write failed (errno in err) */
  int err;
} kept;

static int flush_kept(kept *k) {
  if (k->buffered > 0 && !write_all(k->fd, k->buf, k->buffered, k->written)) {
    k->failed = 1;
    k->err = errno;
  }
  k->written += k->buffered;
  k->buffered = 0;
  return !k->failed;
}

static bool keep_record(void *ctx, atf_reader *reader, const atf_pass_record *rec, char *reason) {
  kept *k = ctx;
  if (!rec->keep) return true;
  const atf_frame *f = rec->frame;
  const atf_event *ev = rec->ev;
  if (k->records == 0 || ev->time_ns < k->time_min) k->time_min = ev->time_ns;
  if (k->records == 0 || ev->time_ns > k->time_max) k->time_max = ev->time_ns;
  k->records++;
  k->last_id = ev->event_id;
  k->ends = ev->payload == ATF_PAYLOAD_TRACE_END;
  uint64_t off = f->offset, left = f->body_offset + f->length - f->offset;
  k->bytes += left;
  if (k->fd < 0) return true;
  while (left > 0) { /* the record, length prefix included, through the validator's reader */
    size_t n = k->buf_size - k->buffered;
    if (n > left) n = (size_t)left;
    if (n > reader->cap) n = reader->cap;
    const uint8_t *p = atf_reader_get(reader, off, n);
    if (p == NULL) {
      snprintf(reason, 256, "%s: read error", EVENTS);
      return false;
    }
    memcpy(k->buf + k->buffered, p, n);
    k->buffered += n;
    off += n;
    left -= n;
    if (k->buffered == k->buf_size && !flush_kept(k)) break;
  }
  if (k->failed) snprintf(reason, 256, "writing the salvaged events.bin: %s", strerror(k->err));
  return !k->failed;
}

/* ---- the plan ------------------------------------------------------------------------------ */

typedef enum mode { MODE_KEEP, MODE_TRUNCATE, MODE_SALVAGE } mode;

typedef struct plan {
  mode mode;
  int tail_kept; /* MODE_KEEP with bytes after the valid prefix: describe as is */
  uint64_t keep_bytes, keep_records, last_id, time_min, time_max;
  int ends;                    /* the kept records end with a TraceEnd */
  unsigned char end_frame[64]; /* the TraceEnd to append */
  size_t end_len;
  uint64_t final_records, final_bytes;
  char *json; /* the manifest to write */
} plan;

/* [varint length][Event] of a TraceEnd, through the writer's encoder. */
static size_t encode_trace_end(uint64_t event_id, uint64_t time_ns, int32_t exit_code,
                               unsigned char *out, size_t cap) {
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  ts.seconds = (int64_t)(time_ns / 1000000000u);
  ts.nanos = (int32_t)(time_ns % 1000000000u);
  Atf__V4__TraceEnd end = ATF__V4__TRACE_END__INIT;
  end.exit_code = exit_code;
  Atf__V4__Event ev = ATF__V4__EVENT__INIT;
  ev.event_id = event_id;
  ev.timestamp = &ts;
  ev.payload_case = ATF__V4__EVENT__PAYLOAD_TRACE_END;
  ev.trace_end = &end;
  return atf_encode_event(&ev, out, cap);
}

/* The manifest's members beyond what the writer fills in: kept from the old manifest, or from
 * TraceStart, plus the recovery's own. Each value is JSON text owned by the list. */
typedef struct members {
  atf_manifest_member items[64];
  char *owned[64];
  size_t n;
  int oom;
} members;

static void put(members *ms, const char *key, char *json) {
  if (json == NULL || ms->n == sizeof ms->items / sizeof ms->items[0]) {
    ms->oom |= json == NULL;
    free(json);
    return;
  }
  ms->owned[ms->n] = json;
  ms->items[ms->n++] = (atf_manifest_member){key, json};
}

static char *dup_text(const char *s) {
  const size_t n = strlen(s);
  char *p = malloc(n + 1);
  if (p != NULL) memcpy(p, s, n + 1);
  return p;
}

/* data[0, len) as a JSON string (escaped by the validator's JSON writer: NULs and all). */
static char *json_string(const char *data, size_t len) {
  atf_buf b = {0};
  atf_buf_puts(&b, "\"");
  atf_buf_json_chars(&b, data, len);
  atf_buf_puts(&b, "\"");
  atf_buf_append(&b, "", 1);
  if (b.oom) atf_buf_free(&b); /* not reproducible in a test */
  return b.data;
}

static char *json_u64(uint64_t v) {
  char text[24];
  snprintf(text, sizeof text, "%" PRIu64, v);
  return dup_text(text);
}

/* Keys the recovery computes; an old manifest's values of them are not carried over. */
static int recomputed(const char *key) {
  static const char *const kKeys[] = {"formatVersion", "os",         "arch",        "timeStartNs",
                                      "timeEndNs",     "eventCount", "bytesWritten"};
  for (size_t i = 0; i < sizeof kKeys / sizeof kKeys[0]; i++) {
    if (strcmp(key, kKeys[i]) == 0) return 1;
  }
  return strncmp(key, "recovered", 9) == 0;
}

/* A TraceStart string for the manifest, or the old manifest's, or `fallback`. */
static char *start_text(const atf_validate_text *t, const recover_old_manifest *old,
                        const char *key, const char *fallback) {
  if (t->len > 0) return json_string(t->data, t->len);
  const recover_member *m = recover_old_manifest_get(old, key);
  if (m != NULL && m->json[0] == '"') return dup_text(m->json);
  return json_string(fallback, strlen(fallback));
}

typedef struct facts {
  const char *dir;
  const atf_recover_options *o;
  const atf_validate_report *rep;
  const recover_old_manifest *old;
  const char *mode_name;
  const char *side_files[3];
} facts;

/* Renders the manifest of the plan into p->json. Returns 0, or a status with r->message. */
static atf_recover_status render_manifest(const facts *x, plan *p, atf_recover_result *r) {
  const atf_validate_report *rep = x->rep;
  const atf_validate_text *texts[] = {&rep->operating_system, &rep->cpu_architecture,
                                      &rep->executable_path};
  const char *names[] = {"operating_system", "cpu_architecture", "executable_path"};
  for (int i = 0; i < 3; i++) {
    if (texts[i]->truncated) {
      return say(r, ATF_RECOVER_E_CANNOT,
                 "%s: TraceStart.%s is over %u bytes: no trace.json can hold it; nothing changed",
                 x->dir, names[i], ATF_VALIDATE_MAX_TEXT);
    }
  }
  members ms;
  memset(&ms, 0, sizeof ms);
  uint64_t t_min = p->time_min, t_max = p->time_max, v;
  const recover_member *m = recover_old_manifest_get(x->old, "timeStartNs");
  if (m != NULL && recover_member_u64(m, &v) && v < t_min) t_min = v;
  m = recover_old_manifest_get(x->old, "timeEndNs");
  if (m != NULL && recover_member_u64(m, &v) && v > t_max) t_max = v;
  put(&ms, "os", start_text(&rep->operating_system, x->old, "os", "unknown"));
  put(&ms, "arch", start_text(&rep->cpu_architecture, x->old, "arch", "unknown"));
  if (recover_old_manifest_get(x->old, "pid") == NULL) {
    uint64_t pid = 0;
    (void)atf_file_pid_from_path(x->dir, false, &pid);
    put(&ms, "pid", json_u64(pid));
  }
  if (recover_old_manifest_get(x->old, "executablePath") == NULL) {
    put(&ms, "executablePath",
        json_string(rep->executable_path.data ? rep->executable_path.data : "",
                    rep->executable_path.len));
  }
  if (recover_old_manifest_get(x->old, "writer") == NULL)
    put(&ms, "writer", dup_text("\"unknown\""));
  if (recover_old_manifest_get(x->old, "clock") == NULL) put(&ms, "clock", dup_text("\"unknown\""));
  for (size_t i = 0; i < x->old->n && !ms.oom; i++) {
    if (!recomputed(x->old->members[i].key))
      put(&ms, x->old->members[i].key, dup_text(x->old->members[i].json));
  }
  put(&ms, "recovered", dup_text("true"));
  put(&ms, "recoveredBy", dup_text("\"atf-recover\""));
  put(&ms, "recoveredMode", json_string(x->mode_name, strlen(x->mode_name)));
  put(&ms, "recoveredValidPrefixBytes", json_u64(rep->valid_prefix_bytes));
  put(&ms, "recoveredValidPrefixRecords", json_u64(rep->valid_prefix_records));
  put(&ms, "recoveredTailBytes", json_u64(r->tail_bytes));
  put(&ms, "recoveredTailCut", dup_text(r->tail_cut ? "true" : "false"));
  put(&ms, "recoveredDroppedRecords", json_u64(r->dropped_records));
  put(&ms, "recoveredTraceEndAppended", dup_text(!p->ends && !p->tail_kept ? "true" : "false"));
  atf_buf side = {0};
  atf_buf_puts(&side, "[");
  for (int i = 0, n = 0; i < 3; i++) {
    if (x->side_files[i] == NULL || x->side_files[i][0] == '\0') continue;
    atf_buf_puts(&side, n++ ? ", " : "");
    atf_buf_json_string(&side, x->side_files[i]);
  }
  atf_buf_append(&side, "]", 2);
  put(&ms, "recoveredSideFiles", side.oom ? NULL : side.data);

  atf_manifest man = {0};
  man.os = "";
  man.arch = "";
  man.executable_path = "";
  man.clock = "";
  man.time_start_ns = t_min;
  man.time_end_ns = t_max;
  man.event_count = p->final_records;
  man.bytes_written = p->final_bytes;
  man.members = ms.items;
  man.n_members = ms.n;
  p->json = ms.oom ? NULL : atf_manifest_render(&man);
  for (size_t i = 0; i < ms.n; i++) free(ms.owned[i]);
  if (p->json == NULL) return say(r, ATF_RECOVER_E_IO, "out of memory");
  const size_t len = strlen(p->json);
  char why[256];
  if (len > ATF_VALIDATE_MAX_MANIFEST) {
    return say(r, ATF_RECOVER_E_CANNOT,
               "%s: the rebuilt trace.json would be %zu bytes, over the %u a manifest may hold; "
               "nothing changed",
               x->dir, len, ATF_VALIDATE_MAX_MANIFEST);
  }
  if (!recover_manifest_check(p->json, len, why, sizeof why)) { /* never: a guard of the above */
    return say(r, ATF_RECOVER_E_CANNOT,
               "%s: the rebuilt trace.json would not validate (%s); nothing changed", x->dir, why);
  }
  return ATF_RECOVER_OK;
}

/* ---- the recovery -------------------------------------------------------------------------- */

static const char *first_error(const atf_validate_report *rep) {
  return rep->errors_len > 0 ? rep->errors[0].rule : "(none)";
}

/* The old trace.json's members, when it is a readable regular file. */
static void read_old_manifest(int dirfd, recover_old_manifest *old) {
  memset(old, 0, sizeof *old);
  int fd;
  uint64_t size;
  const char *why;
  if (atf_file_open(dirfd, MANIFEST, true, &fd, &size, &why) != 0) return;
  char *data = NULL;
  size_t len = 0;
  if (atf_file_read_all(fd, size, ATF_VALIDATE_MAX_MANIFEST, &data, &len) == 0 &&
      len <= ATF_VALIDATE_MAX_MANIFEST) {
    (void)recover_old_manifest_read(data, len, old); /* out of memory: nothing carried over */
  }
  free(data);
  close(fd);
}

/* Copies events.bin's bytes [from, end) to the new file fd (the truncate side file). */
static int copy_tail(int events, int fd, uint64_t from, uint64_t end) {
  const size_t size = end - from < COPY_BUFFER ? (size_t)(end - from) : COPY_BUFFER;
  unsigned char *buf = malloc(size);
  if (buf == NULL) return ENOMEM; /* not reproducible in a test */
  int err = 0;
  for (uint64_t off = from; off < end && err == 0;) {
    const size_t want = end - off < size ? (size_t)(end - off) : size;
    const ssize_t n = pread(events, buf, want, (off_t)off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO; /* the file shrank */
    } else if (!write_all(fd, buf, (size_t)n, off - from)) {
      err = errno;
    } else {
      off += (uint64_t)n;
    }
  }
  free(buf);
  return err != 0 ? err : fsync(fd) == 0 ? 0 : errno;
}

typedef struct session {
  const char *dir;
  int dirfd;
  int events; /* events.bin, read-write unless dry run */
  char salvage_tmp[64];
} session;

/* Acts, first half: moves the old manifest aside and removes what is not kept from events.bin,
 * into its side file. Names the side files in r and `tmp_aside`. */
static atf_recover_status act_aside(session *s, plan *p, atf_recover_result *r, kept *k,
                                    char *tmp_aside, size_t tmp_size) {
  int err;
  if ((err = keep_aside(s->dirfd, MANIFEST_TMP, MANIFEST_TMP ".invalid", tmp_aside, tmp_size)) !=
      0) {
    return say(r, ATF_RECOVER_E_IO, "%s/%s: keeping it aside: %s", s->dir, MANIFEST_TMP,
               strerror(err));
  }
  if ((err = keep_aside(s->dirfd, MANIFEST, MANIFEST ".invalid", r->manifest_aside,
                        sizeof r->manifest_aside)) != 0) {
    return say(r, ATF_RECOVER_E_IO, "%s/%s: keeping it aside: %s", s->dir, MANIFEST, strerror(err));
  }
  if (p->mode == MODE_TRUNCATE && r->tail_bytes > 0) {
    int fd = -1;
    err = first_free(s->dirfd, EVENTS ".cut", r->events_aside, sizeof r->events_aside, create_at,
                     &fd);
    if (err == 0) err = copy_tail(s->events, fd, p->keep_bytes, r->file_bytes);
    if (fd >= 0) close(fd);
    if (err == 0) err = fsync_dir(s->dirfd);
    if (err == 0 && ftruncate(s->events, (off_t)p->keep_bytes) != 0) err = errno;
    if (err != 0)
      return say(r, ATF_RECOVER_E_IO, "%s: cutting events.bin: %s", s->dir, strerror(err));
    r->tail_cut = 1;
  } else if (p->mode == MODE_SALVAGE) {
    if (!flush_kept(k) || fsync(k->fd) != 0) {
      return say(r, ATF_RECOVER_E_IO, "%s/%s: %s", s->dir, s->salvage_tmp,
                 strerror(k->failed ? k->err : errno));
    }
    err = keep_aside(s->dirfd, EVENTS, EVENTS ".orig", r->events_aside, sizeof r->events_aside);
    if (err == 0 && renameat(s->dirfd, s->salvage_tmp, s->dirfd, EVENTS) != 0) err = errno;
    if (err == 0) err = fsync_dir(s->dirfd);
    if (err != 0)
      return say(r, ATF_RECOVER_E_IO, "%s: replacing events.bin: %s", s->dir, strerror(err));
    s->salvage_tmp[0] = '\0';
    close(s->events);
    s->events = k->fd; /* the new events.bin */
    k->fd = -1;
    r->tail_cut = 1;
  }
  return ATF_RECOVER_OK;
}

/* Acts, second half: appends the TraceEnd if needed, makes events.bin durable, writes trace.json.
 */
static atf_recover_status act_finish(session *s, plan *p, atf_recover_result *r) {
  if (!p->ends && !p->tail_kept) {
    if (!write_all(s->events, p->end_frame, p->end_len, p->keep_bytes)) {
      return say(r, ATF_RECOVER_E_IO, "%s/events.bin: append: %s", s->dir, strerror(errno));
    }
    r->trace_end_appended = 1;
  }
  if (fsync(s->events) != 0)
    return say(r, ATF_RECOVER_E_IO, "%s/events.bin: fsync: %s", s->dir, strerror(errno));
  int err = 0;
  if (atf_manifest_write(atf_file_ops_posix(), s->dir, p->json, strlen(p->json), &err) !=
      ATF_WRITER_OK) {
    return say(r, ATF_RECOVER_E_IO, "%s: cannot write trace.json: %s", s->dir, strerror(err));
  }
  r->manifest_written = 1;
  return ATF_RECOVER_OK;
}

/* What the plan keeps, from the report (valid prefix) or the salvage pass. */
static void plan_keep(const atf_validate_report *rep, const kept *k, plan *p,
                      atf_recover_result *r) {
  if (p->mode == MODE_SALVAGE) {
    p->keep_bytes = k->bytes;
    p->keep_records = k->records;
    p->last_id = k->last_id;
    p->time_min = k->time_min;
    p->time_max = k->time_max;
    p->ends = k->ends;
    r->dropped_records = rep->records - k->records;
  } else {
    p->keep_bytes = rep->valid_prefix_bytes;
    p->keep_records = rep->valid_prefix_records;
    p->last_id = rep->valid_prefix_last_event_id;
    p->time_min = rep->valid_prefix_time_min_ns;
    p->time_max = rep->valid_prefix_time_max_ns;
    p->ends = rep->valid_prefix_ends_session;
    r->dropped_records = 0;
  }
  r->prefix_bytes = p->keep_bytes;
  r->prefix_records = p->keep_records;
  r->tail_bytes = r->file_bytes - p->keep_bytes;
  /* Without truncate or salvage, bytes after the prefix stay: the manifest describes the file. */
  p->tail_kept = p->mode == MODE_KEEP && r->tail_bytes > 0;
  if (p->tail_kept) {
    p->final_records = rep->records;
    p->final_bytes = r->file_bytes;
    p->time_min = rep->time_min_ns;
    p->time_max = rep->time_max_ns;
  }
}

static atf_recover_status validate_again(session *s, const atf_recover_options *o,
                                         atf_recover_result *r) {
  atf_validate_report rep;
  atf_validate_options vo;
  atf_validate_options_init(&vo);
  vo.max_errors = 8;
  vo.engine = (atf_validate_engine)o->engine;
  const atf_validate_status vs = atf_pass_run(s->dirfd, ".", s->dir, &vo, NULL, &rep);
  char why[300];
  snprintf(why, sizeof why, "%s%s%s", vs != ATF_VALIDATE_OK ? rep.reason : first_error(&rep),
           rep.errors_len ? ": " : "", rep.errors_len ? rep.errors[0].message : "");
  const int valid = vs == ATF_VALIDATE_OK && rep.valid;
  atf_validate_report_free(&rep);
  if (!valid) return say(r, ATF_RECOVER_E_STILL_INVALID, "%s: still invalid: %s", s->dir, why);
  return ATF_RECOVER_OK;
}

static void describe(const session *s, const plan *p, atf_recover_result *r, int dry) {
  char what[400];
  int n = snprintf(what, sizeof what, "kept %" PRIu64 " records (%" PRIu64 " bytes)",
                   p->keep_records, p->keep_bytes);
  if (p->mode == MODE_TRUNCATE && r->tail_bytes > 0) {
    n += snprintf(what + n, sizeof what - (size_t)n,
                  ", cut %" PRIu64 " bytes at offset %" PRIu64 " %s", r->tail_bytes, p->keep_bytes,
                  dry ? "(to be kept in events.bin.cut)" : "kept in ");
    if (!dry) n += snprintf(what + n, sizeof what - (size_t)n, "%s", r->events_aside);
  } else if (p->mode == MODE_SALVAGE) {
    n += snprintf(what + n, sizeof what - (size_t)n,
                  ", dropped %" PRIu64 " records (%" PRIu64 " bytes), the original %s%s",
                  r->dropped_records, r->tail_bytes,
                  dry ? "to be kept whole as events.bin.orig" : "kept whole as ",
                  dry ? "" : r->events_aside);
  }
  n += snprintf(what + n, sizeof what - (size_t)n, ", %s TraceEnd",
                p->ends ? "kept the" : "appended a");
  if (r->manifest_aside[0])
    snprintf(what + n, sizeof what - (size_t)n, "; old trace.json kept as %s", r->manifest_aside);
  say(r, ATF_RECOVER_OK, "%s %s: %s", dry ? "would recover" : "recovered", s->dir, what);
}

static atf_recover_status recover(session *s, const atf_recover_options *o, atf_recover_result *r) {
  const mode md = o->salvage ? MODE_SALVAGE : o->truncate ? MODE_TRUNCATE : MODE_KEEP;
  kept k;
  memset(&k, 0, sizeof k);
  k.fd = -1;
  if (md == MODE_SALVAGE && !o->dry_run) {
    int err = first_free(s->dirfd, EVENTS ".salvage-tmp", s->salvage_tmp, sizeof s->salvage_tmp,
                         create_at, &k.fd);
    struct stat st;
    k.buf_size = fstat(s->events, &st) == 0 && (uint64_t)st.st_size < COPY_BUFFER
                     ? (size_t)st.st_size + 1
                     : COPY_BUFFER;
    if (err == 0 && (k.buf = malloc(k.buf_size)) == NULL) err = ENOMEM;
    if (err != 0)
      return say(r, ATF_RECOVER_E_IO, "%s: creating the salvaged events.bin: %s", s->dir,
                 strerror(err));
  }
  /* Look: one pass; salvage copies the records it keeps as it goes. */
  atf_validate_options vo;
  atf_validate_options_init(&vo);
  vo.max_errors = 8;
  vo.engine = (atf_validate_engine)o->engine;
  const atf_pass_hooks hooks = {&k, true, keep_record};
  atf_validate_report rep;
  const atf_validate_status vs =
      atf_pass_run(s->dirfd, ".", s->dir, &vo, md == MODE_SALVAGE ? &hooks : NULL, &rep);
  atf_recover_status st;
  plan p;
  memset(&p, 0, sizeof p);
  p.mode = md;
  recover_old_manifest old;
  memset(&old, 0, sizeof old);
  if (vs != ATF_VALIDATE_OK) {
    st = say(r, ATF_RECOVER_E_IO, "%s: %s", s->dir, rep.reason);
    goto out;
  }
  r->file_bytes = rep.bytes;
  r->final_bytes = rep.bytes;
  r->final_records = rep.records;
  plan_keep(&rep, &k, &p, r);
  if (rep.valid && exists(s->dirfd, MANIFEST)) {
    st = say(r, ATF_RECOVER_ALREADY_VALID, "%s validates; not touched", s->dir);
    goto out;
  }
  if (p.keep_records == 0) {
    st = say(r, ATF_RECOVER_E_NO_PREFIX, "%s: no valid record at the start (%s)", s->dir,
             first_error(&rep));
    goto out;
  }
  if (md == MODE_SALVAGE && r->tail_bytes == 0)
    p.mode = MODE_KEEP; /* nothing to drop: no rewrite */
  /* Event ids strictly increase, so nothing can follow an event_id of 2^64-1. */
  if (!p.ends && !p.tail_kept && p.last_id == UINT64_MAX) {
    st = say(
        r, ATF_RECOVER_E_CANNOT,
        "%s: the last kept record has event_id 2^64-1: no TraceEnd can follow it; nothing changed",
        s->dir);
    goto out;
  }
  if (!p.ends && !p.tail_kept) {
    p.end_len =
        encode_trace_end(p.last_id + 1, p.time_max, o->exit_code, p.end_frame, sizeof p.end_frame);
  }
  if (!p.tail_kept) {
    p.final_records = p.keep_records + (p.ends ? 0 : 1);
    p.final_bytes = p.keep_bytes + p.end_len;
  }
  read_old_manifest(s->dirfd, &old);
  static const char *const kModeNames[] = {"keep", "truncate", "salvage"};
  facts x = {s->dir, o, &rep, &old, kModeNames[p.mode], {"", "", ""}};
  /* Checked before any change: the manifest rendered with the longest side-file names it could
   * list (the real ones, known once made, are no longer). */
  x.side_files[0] = p.mode == MODE_TRUNCATE && r->tail_bytes > 0 ? EVENTS ".cut.999"
                    : p.mode == MODE_SALVAGE                     ? EVENTS ".orig.999"
                                                                 : "";
  x.side_files[1] = exists(s->dirfd, MANIFEST) ? MANIFEST ".invalid.999" : "";
  x.side_files[2] = exists(s->dirfd, MANIFEST_TMP) ? MANIFEST_TMP ".invalid.999" : "";
  if ((st = render_manifest(&x, &p, r)) != ATF_RECOVER_OK) goto out;
  if (o->dry_run) {
    describe(s, &p, r, 1);
    st = p.tail_kept ? ATF_RECOVER_TAIL_KEPT : ATF_RECOVER_OK;
    if (p.tail_kept) {
      say(r, st,
          "would write trace.json (recovered, valid prefix %" PRIu64 " of %" PRIu64
          " bytes); --truncate would cut %" PRIu64 " bytes",
          r->prefix_bytes, r->file_bytes, r->tail_bytes);
    }
    goto out;
  }
  char tmp_aside[64];
  if ((st = act_aside(s, &p, r, &k, tmp_aside, sizeof tmp_aside)) != ATF_RECOVER_OK) goto out;
  x.side_files[0] = r->events_aside;
  x.side_files[1] = r->manifest_aside;
  x.side_files[2] = tmp_aside;
  free(p.json);
  p.json = NULL;
  if ((st = render_manifest(&x, &p, r)) != ATF_RECOVER_OK ||
      (st = act_finish(s, &p, r)) != ATF_RECOVER_OK)
    goto out;
  if (p.tail_kept) {
    st = say(r, ATF_RECOVER_TAIL_KEPT,
             "wrote trace.json (recovered); events.bin keeps %" PRIu64
             " bytes after its valid prefix of %" PRIu64
             " (%s)%s%s: run with --truncate or --salvage to remove them",
             r->tail_bytes, r->prefix_bytes, first_error(&rep),
             r->manifest_aside[0] ? "; old trace.json kept as " : "", r->manifest_aside);
    goto out;
  }
  r->final_bytes = p.final_bytes;
  r->final_records = p.final_records;
  if ((st = validate_again(s, o, r)) == ATF_RECOVER_OK) describe(s, &p, r, 0);
out:
  if (k.fd >= 0) close(k.fd);
  if (s->salvage_tmp[0] != '\0') unlinkat(s->dirfd, s->salvage_tmp, 0); /* our own copy, unused */
  free(k.buf);
  free(p.json);
  recover_old_manifest_free(&old);
  atf_validate_report_free(&rep);
  return st;
}

atf_recover_status atf_recover_session(const char *dir, const atf_recover_options *opt,
                                       atf_recover_result *r) {
  atf_recover_options defaults;
  atf_recover_options_init(&defaults);
  const atf_recover_options *o = opt ? opt : &defaults;
  memset(r, 0, sizeof *r);
  if (dir == NULL || dir[0] == '\0') return say(r, ATF_RECOVER_E_USAGE, "no session directory");
  if (o->truncate && o->salvage)
    return say(r, ATF_RECOVER_E_USAGE, "truncate and salvage exclude each other");
  /* The writer's manifest writer names files by path: check the room before anything changes. */
  if (strlen(dir) + sizeof "/" MANIFEST_TMP > PATH_MAX) {
    return say(r, ATF_RECOVER_E_USAGE,
               "session directory path of %zu bytes: too long for trace.json's names", strlen(dir));
  }
  session s;
  memset(&s, 0, sizeof s);
  s.dir = dir;
  s.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s.dirfd < 0) return say(r, ATF_RECOVER_E_IO, "%s: %s", dir, strerror(errno));
  int fd;
  uint64_t size;
  const char *why;
  const int err = atf_file_open(s.dirfd, EVENTS, true, &fd, &size, &why);
  if (err != 0) {
    close(s.dirfd);
    return say(r, ATF_RECOVER_E_IO, "%s/%s: %s", dir, EVENTS, atf_file_strerror(err, why));
  }
  close(fd);
  s.events = openat(s.dirfd, EVENTS,
                    (o->dry_run ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  atf_recover_status st;
  if (s.events < 0) {
    st = say(r, ATF_RECOVER_E_IO, "%s/%s: %s", dir, EVENTS, strerror(errno));
  } else {
    st = recover(&s, o, r);
    close(s.events);
  }
  close(s.dirfd);
  return st;
}

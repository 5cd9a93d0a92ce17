/* atf_validate_report_write_json: the --json output of atf-validate (docs/format.md, "Reports"). */
#include <inttypes.h>

#include "validator/atf/validate.h"
#include "validator/internal/json_writer.h"

static void key(atf_buf *b, const char *name) { atf_buf_printf(b, ",\"%s\":", name); }

static void u64_member(atf_buf *b, const char *name, uint64_t v) {
  key(b, name);
  atf_buf_u64(b, v);
}

static void bool_member(atf_buf *b, const char *name, bool v) {
  key(b, name);
  atf_buf_puts(b, v ? "true" : "false");
}

static void error_list(atf_buf *b, const char *name, const atf_validate_error *list, size_t len) {
  key(b, name);
  atf_buf_puts(b, "[");
  for (size_t i = 0; i < len; ++i) {
    const atf_validate_error *e = &list[i];
    atf_buf_puts(b, i ? ",{\"file\":" : "{\"file\":");
    atf_buf_json_string(b, e->file);
    u64_member(b, "offset", e->offset);
    key(b, "record");
    if (e->record == ATF_VALIDATE_NO_RECORD) {
      atf_buf_puts(b, "null");
    } else {
      atf_buf_u64(b, e->record);
    }
    key(b, "rule");
    atf_buf_json_string(b, e->rule);
    key(b, "message");
    atf_buf_json_string(b, e->message);
    atf_buf_puts(b, "}");
  }
  atf_buf_puts(b, "]");
}

bool atf_validate_report_write_json(const atf_validate_report *r, FILE *out) {
  atf_buf b = {0};
  atf_buf_printf(&b, "{\"valid\":%s", r->valid ? "true" : "false");
  u64_member(&b, "records", r->records);
  u64_member(&b, "bytes", r->bytes);
  key(&b, "counts");
  for (int i = 0; i < ATF_VALIDATE_PAYLOAD_COUNT; ++i) {
    atf_buf_printf(&b, "%s\"%s\":%" PRIu64, i ? "," : "{",
                   atf_validate_payload_name((atf_validate_payload)i), r->counts[i]);
  }
  atf_buf_puts(&b, "}");
  u64_member(&b, "threads", r->threads);
  bool_member(&b, "threads_capped", r->threads_capped);
  bool_member(&b, "calls_capped", r->calls_capped);
  u64_member(&b, "calls_unchecked", r->calls_unchecked);
  key(&b, "time_min_ns");
  r->has_time ? atf_buf_u64(&b, r->time_min_ns) : atf_buf_puts(&b, "null");
  key(&b, "time_max_ns");
  r->has_time ? atf_buf_u64(&b, r->time_max_ns) : atf_buf_puts(&b, "null");
  u64_member(&b, "warnings", r->warnings);
  u64_member(&b, "unknown_fields", r->unknown_fields);
  key(&b, "engine");
  atf_buf_json_string(&b, atf_validate_engine_name(r->engine));
  u64_member(&b, "engine_fallbacks", r->engine_fallbacks);
  u64_member(&b, "valid_prefix_bytes", r->valid_prefix_bytes);
  u64_member(&b, "valid_prefix_records", r->valid_prefix_records);
  bool_member(&b, "manifest_checked", r->manifest_checked);
  key(&b, "dropped_events");
  r->has_dropped_events ? atf_buf_u64(&b, r->dropped_events) : atf_buf_puts(&b, "null");
  key(&b, "recovered");
  atf_buf_puts(&b, !r->has_recovered ? "null" : r->recovered ? "true" : "false");
  u64_member(&b, "error_count", r->error_count);
  bool_member(&b, "errors_truncated", r->error_count > r->errors_len);
  error_list(&b, "errors", r->errors, r->errors_len);
  /* Allowed rules (--allow, --profile): their violations are warnings, listed apart. */
  key(&b, "allowed_rules");
  atf_buf_puts(&b, "[");
  for (int i = 0, n = 0; i < ATF_RULE_COUNT; ++i) {
    if ((r->allowed_rules & ATF_VALIDATE_RULE_BIT(i)) == 0) continue;
    if (n++) atf_buf_puts(&b, ",");
    atf_buf_json_string(&b, atf_validate_rule_name((atf_validate_rule)i));
  }
  atf_buf_puts(&b, "]");
  u64_member(&b, "rule_warning_count", r->rule_warning_count);
  bool_member(&b, "rule_warnings_truncated", r->rule_warning_count > r->rule_warnings_len);
  error_list(&b, "rule_warnings", r->rule_warnings, r->rule_warnings_len);
  atf_buf_puts(&b, "}\n");
  const bool ok = atf_buf_write(&b, out);
  atf_buf_free(&b);
  return ok;
}

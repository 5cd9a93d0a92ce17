/* The rule names of docs/format.md, in the order of atf_validate_rule. */
#include <string.h>

#include "validator/atf/validate.h"

static const char *const kRuleNames[ATF_RULE_COUNT] = {
    "framing.varint",
    "framing.too_large",
    "framing.truncated",
    "wire.decode",
    "schema.payload",
    "schema.timestamp",
    "schema.utf8",
    "schema.register_name",
    "order.event_id",
    "order.timestamp",
    "session.first",
    "session.last",
    "session.duplicate_start",
    "session.duplicate_end",
    "manifest.json",
    "manifest.duplicate_key",
    "manifest.type",
    "manifest.range",
    "manifest.missing_key",
    "manifest.uuid",
    "manifest.too_large",
    "manifest.event_count",
    "manifest.bytes_written",
    "manifest.time_range",
    "session.call_return",
    "engine.disagree",
};

const char *atf_validate_rule_name(atf_validate_rule rule) {
  return (unsigned)rule < ATF_RULE_COUNT ? kRuleNames[rule] : "unknown";
}

bool atf_validate_rule_parse(const char *text, uint64_t *mask) {
  const size_t n = strlen(text);
  /* "group.*": every rule whose name starts with "group.". */
  const bool group = n >= 3 && strcmp(text + n - 2, ".*") == 0;
  uint64_t m = 0;
  for (int i = 0; i < ATF_RULE_COUNT; ++i) {
    const bool match =
        group ? strncmp(kRuleNames[i], text, n - 1) == 0 : strcmp(kRuleNames[i], text) == 0;
    if (match) m |= ATF_VALIDATE_RULE_BIT(i);
  }
  *mask = m;
  return m != 0;
}

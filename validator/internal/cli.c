/* See cli.h. */
#include "validator/internal/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void atf_cli_init(atf_cli *c, const char *tool, int argc, char **argv) {
  memset(c, 0, sizeof *c);
  c->tool = tool;
  c->argc = argc;
  c->argv = argv;
  c->next = 1;
}

void atf_cli_error(const atf_cli *c, const char *fmt, ...) {
  fprintf(stderr, "%s: ", c->tool);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (try --help)\n", stderr);
}

int atf_cli_next(atf_cli *c, const atf_cli_option *options, const char **value) {
  *value = NULL;
  for (;;) {
    if (c->next >= c->argc) return ATF_CLI_END;
    const char *arg = c->argv[c->next++];
    if (c->options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
      *value = arg;
      return ATF_CLI_OPERAND;
    }
    if (strcmp(arg, "--") == 0) {
      c->options_done = true;
      continue;
    }
    const char *eq = strchr(arg, '=');
    const size_t name_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    for (const atf_cli_option *o = options; o->name != NULL; ++o) {
      const bool long_form = strlen(o->name) == name_len && strncmp(arg, o->name, name_len) == 0;
      const bool short_form = o->alias != NULL && eq == NULL && strcmp(arg, o->alias) == 0;
      if (!long_form && !short_form) continue;
      if (!o->takes_value) {
        if (eq != NULL) {
          atf_cli_error(c, "option '%s' takes no value", o->name);
          return ATF_CLI_ERROR;
        }
        return o->id;
      }
      if (eq != NULL) {
        *value = eq + 1;
      } else if (c->next < c->argc) {
        *value = c->argv[c->next++];
      } else {
        atf_cli_error(c, "option '%s' needs a value", o->name);
        return ATF_CLI_ERROR;
      }
      return o->id;
    }
    atf_cli_error(c, "unknown option '%s'", arg);
    return ATF_CLI_ERROR;
  }
}

atf_cli_result atf_cli_parse(const char *tool, int argc, char **argv, const atf_cli_spec *spec,
                             const char **operand) {
  atf_cli c;
  atf_cli_init(&c, tool, argc, argv);
  *operand = NULL;
  for (;;) {
    const char *value;
    const int id = atf_cli_next(&c, spec->options, &value);
    if (id == ATF_CLI_END) break;
    if (id == ATF_CLI_ERROR) return ATF_CLI_USAGE;
    if (id == spec->help_id || id == spec->version_id) {
      fputs(id == spec->help_id ? spec->usage : spec->version, stdout);
      if (id == spec->version_id) fputc('\n', stdout);
      return ATF_CLI_DONE;
    }
    if (id == ATF_CLI_OPERAND) {
      if (*operand != NULL) {
        atf_cli_error(&c, "more than one %s: '%s'", spec->operand, value);
        return ATF_CLI_USAGE;
      }
      *operand = value;
    } else if (!spec->apply(spec->ctx, &c, id, value)) {
      return ATF_CLI_USAGE;
    }
  }
  if (*operand == NULL) {
    atf_cli_error(&c, "missing %s", spec->operand);
    return ATF_CLI_USAGE;
  }
  return ATF_CLI_PARSED;
}

const char *atf_cli_option_name(const atf_cli_option *options, int id) {
  for (const atf_cli_option *o = options; o->name != NULL; ++o) {
    if (o->id == id) return o->name;
  }
  return "";
}

/* Decimal digits only, no overflow. */
static bool decimal(const char *s, const char **end, uint64_t *out) {
  uint64_t v = 0;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; ++p) {
    const uint64_t d = (uint64_t)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *end = p;
  *out = v;
  return p != s;
}

bool atf_cli_size(const char *s, uint64_t *out) {
  const char *end;
  uint64_t v;
  if (!decimal(s, &end, &v)) return false;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k')
    shift = 10, end++;
  else if (*end == 'M' || *end == 'm')
    shift = 20, end++;
  else if (*end == 'G' || *end == 'g')
    shift = 30, end++;
  if (*end != '\0' || (shift && v > (UINT64_MAX >> shift))) return false;
  *out = v << shift;
  return true;
}

bool atf_cli_count(const char *s, uint64_t max, uint64_t *out) {
  const char *end;
  uint64_t v;
  if (!decimal(s, &end, &v) || *end != '\0' || v > max) return false;
  *out = v;
  return true;
}

bool atf_cli_int32(const char *s, int32_t *out) {
  const bool negative = *s == '-';
  const char *end;
  uint64_t v;
  if (!decimal(s + negative, &end, &v) || *end != '\0' ||
      v > (negative ? (uint64_t)INT32_MAX + 1 : INT32_MAX)) {
    return false;
  }
  *out = negative ? (int32_t)(-(int64_t)v) : (int32_t)v;
  return true;
}

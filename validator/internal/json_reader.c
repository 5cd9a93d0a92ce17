/* Recursive descent over RFC 8259's grammar; the recursion depth is bounded by
 * ATF_JSON_MAX_DEPTH. Every read is preceded by a bounds check (at_end / p->pos < p->len). */
#include "validator/internal/json_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validator/internal/json_writer.h"
#include "validator/internal/utf8.h"

typedef struct parser {
  const char *s;
  size_t len, pos;
  atf_json_doc *doc;
} parser;

const char *atf_json_strerror(atf_json_status status) {
  switch (status) {
    case ATF_JSON_OK:
      return "ok";
    case ATF_JSON_SYNTAX:
      return "syntax error";
    case ATF_JSON_BAD_UTF8:
      return "invalid UTF-8";
    case ATF_JSON_TOO_DEEP:
      return "nested too deeply";
    case ATF_JSON_DUPLICATE_KEY:
      return "duplicate key";
    case ATF_JSON_NO_MEMORY:
      return "out of memory";
    case ATF_JSON_TOO_MANY_VALUES:
      return "too many values";
  }
  return "unknown";
}

__attribute__((format(printf, 4, 5))) static bool fail(parser *p, atf_json_status status,
                                                       size_t offset, const char *fmt, ...) {
  if (p->doc->status != ATF_JSON_OK) return false; /* first error wins */
  p->doc->status = status;
  p->doc->error_offset = offset;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->doc->error, sizeof p->doc->error, fmt, ap);
  va_end(ap);
  return false;
}

static bool at_end(const parser *p) { return p->pos >= p->len; }

static void skip_ws(parser *p) {
  while (!at_end(p)) {
    const char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    p->pos++;
  }
}

static size_t new_node(parser *p, atf_json_type type) {
  atf_json_doc *d = p->doc;
  if (d->n_nodes == ATF_JSON_MAX_NODES) {
    fail(p, ATF_JSON_TOO_MANY_VALUES, p->pos, "more than %u values", ATF_JSON_MAX_NODES);
    return ATF_JSON_NONE;
  }
  if (d->n_nodes == d->cap_nodes) {
    const size_t cap = d->cap_nodes ? d->cap_nodes * 2 : 64;
    atf_json_node *n = realloc(d->nodes, cap * sizeof *n);
    if (n == NULL) { /* realloc failure: the caller bounds the input, not reproducible in a test */
      fail(p, ATF_JSON_NO_MEMORY, p->pos, "out of memory");
      return ATF_JSON_NONE;
    }
    d->nodes = n;
    d->cap_nodes = cap;
  }
  atf_json_node *n = &d->nodes[d->n_nodes];
  memset(n, 0, sizeof *n);
  n->type = type;
  n->offset = p->pos;
  n->next = n->first = n->value = ATF_JSON_NONE;
  return d->n_nodes++;
}

static bool parse_value(parser *p, size_t *out, int depth);

static bool literal(parser *p, const char *word, atf_json_type type, size_t *out) {
  const size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
    return fail(p, ATF_JSON_SYNTAX, p->pos, "invalid literal");
  }
  *out = new_node(p, type);
  p->pos += n;
  return *out != ATF_JSON_NONE;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool parse_number(parser *p, size_t *out) {
  const size_t start = p->pos;
  const size_t idx = new_node(p, ATF_JSON_NUMBER);
  if (idx == ATF_JSON_NONE) return false;
  bool negative = false, integral = true, overflow = false;
  uint64_t v = 0;
  if (p->s[p->pos] == '-') negative = true, p->pos++;
  if (at_end(p) || !is_digit(p->s[p->pos]))
    return fail(p, ATF_JSON_SYNTAX, p->pos, "digit expected");
  if (p->s[p->pos] == '0') {
    p->pos++;
    if (!at_end(p) && is_digit(p->s[p->pos])) {
      return fail(p, ATF_JSON_SYNTAX, p->pos, "leading zero in number");
    }
  } else {
    while (!at_end(p) && is_digit(p->s[p->pos])) {
      const uint64_t d = (uint64_t)(p->s[p->pos] - '0');
      if (v > (UINT64_MAX - d) / 10) overflow = true;
      v = v * 10 + d;
      p->pos++;
    }
  }
  if (!at_end(p) && p->s[p->pos] == '.') {
    integral = false;
    p->pos++;
    if (at_end(p) || !is_digit(p->s[p->pos]))
      return fail(p, ATF_JSON_SYNTAX, p->pos, "digit expected after '.'");
    while (!at_end(p) && is_digit(p->s[p->pos])) p->pos++;
  }
  if (!at_end(p) && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    integral = false;
    p->pos++;
    if (!at_end(p) && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
    if (at_end(p) || !is_digit(p->s[p->pos]))
      return fail(p, ATF_JSON_SYNTAX, p->pos, "digit expected in exponent");
    while (!at_end(p) && is_digit(p->s[p->pos])) p->pos++;
  }
  atf_json_node *n = &p->doc->nodes[idx];
  n->text = p->s + start;
  n->len = p->pos - start;
  if (negative && integral && v == 0) negative = false; /* "-0" is the integer zero */
  n->negative = negative;
  n->overflow = integral && !negative && overflow;
  n->is_uint64 = integral && !negative && !overflow;
  n->u64 = n->is_uint64 ? v : 0;
  *out = idx;
  return true;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool read_hex4(parser *p, uint32_t *out) {
  if (p->len - p->pos < 4) return fail(p, ATF_JSON_SYNTAX, p->pos, "truncated \\u escape");
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = hex_value(p->s[p->pos + (size_t)i]);
    if (h < 0)
      return fail(p, ATF_JSON_SYNTAX, p->pos + (size_t)i, "invalid hex digit in \\u escape");
    v = v * 16 + (uint32_t)h;
  }
  p->pos += 4;
  *out = v;
  return true;
}

static void put_utf8(parser *p, uint32_t cp) {
  char *o = p->doc->strings + p->doc->strings_len;
  size_t n;
  if (cp < 0x80) {
    o[0] = (char)cp, n = 1;
  } else if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6)), o[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  } else if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12)), o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  } else {
    o[0] = (char)(0xF0 | (cp >> 18)), o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  }
  p->doc->strings_len += n;
}

/* Decoded output never exceeds the encoded input (an escape of k bytes yields at most k bytes), so
 * doc->strings, sized like the input, always has room. */
static bool parse_string(parser *p, size_t *out) {
  const size_t idx = new_node(p, ATF_JSON_STRING);
  if (idx == ATF_JSON_NONE) return false;
  p->pos++; /* opening quote */
  const size_t begin = p->doc->strings_len;
  atf_utf8_state u = ATF_UTF8_STATE_INIT;
  for (;;) {
    if (at_end(p)) return fail(p, ATF_JSON_SYNTAX, p->pos, "unterminated string");
    const uint8_t c = (uint8_t)p->s[p->pos];
    if (c == '"' && atf_utf8_complete(&u)) {
      p->pos++;
      break;
    }
    if (c < 0x20) return fail(p, ATF_JSON_SYNTAX, p->pos, "control character in string");
    if (c == '\\' && atf_utf8_complete(&u)) {
      if (p->len - p->pos < 2) return fail(p, ATF_JSON_SYNTAX, p->pos, "truncated escape");
      const char e = p->s[p->pos + 1];
      const size_t esc_at = p->pos;
      p->pos += 2;
      char simple = 0;
      switch (e) {
        case '"':
          simple = '"';
          break;
        case '\\':
          simple = '\\';
          break;
        case '/':
          simple = '/';
          break;
        case 'b':
          simple = '\b';
          break;
        case 'f':
          simple = '\f';
          break;
        case 'n':
          simple = '\n';
          break;
        case 'r':
          simple = '\r';
          break;
        case 't':
          simple = '\t';
          break;
        case 'u':
          break;
        default:
          return fail(p, ATF_JSON_SYNTAX, esc_at, "invalid escape");
      }
      if (simple) {
        p->doc->strings[p->doc->strings_len++] = simple;
        continue;
      }
      uint32_t cp;
      if (!read_hex4(p, &cp)) return false;
      if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(p, ATF_JSON_BAD_UTF8, esc_at, "lone low surrogate");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
          return fail(p, ATF_JSON_BAD_UTF8, esc_at, "lone high surrogate");
        }
        p->pos += 2;
        if (!read_hex4(p, &lo)) return false;
        if (lo < 0xDC00 || lo > 0xDFFF)
          return fail(p, ATF_JSON_BAD_UTF8, esc_at, "lone high surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
      put_utf8(p, cp);
      continue;
    }
    if (atf_utf8_feed(&u, &c, 1) != 1)
      return fail(p, ATF_JSON_BAD_UTF8, p->pos, "invalid UTF-8 in string");
    p->doc->strings[p->doc->strings_len++] = (char)c;
    p->pos++;
  }
  atf_json_node *n = &p->doc->nodes[idx];
  n->text = p->doc->strings + begin;
  n->len = p->doc->strings_len - begin;
  *out = idx;
  return true;
}

typedef struct key_ref {
  const char *text;
  size_t len, offset;
} key_ref;

static int compare_keys(const void *a, const void *b) {
  const key_ref *x = a;
  const key_ref *y = b;
  const size_t n = x->len < y->len ? x->len : y->len;
  const int c = n ? memcmp(x->text, y->text, n) : 0;
  if (c != 0) return c;
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  return x->offset < y->offset ? -1 : 1; /* equal keys: the earlier first */
}

/* Sorting the member keys makes duplicate detection O(n log n) whatever the object's size. */
static bool check_duplicates(parser *p, size_t obj) {
  const atf_json_node *o = &p->doc->nodes[obj];
  if (o->count < 2) return true;
  key_ref *keys = malloc(o->count * sizeof *keys);
  if (keys == NULL) return fail(p, ATF_JSON_NO_MEMORY, o->offset, "out of memory");
  size_t n = 0;
  for (size_t k = o->first; k != ATF_JSON_NONE; k = p->doc->nodes[k].next) {
    const atf_json_node *kn = &p->doc->nodes[k];
    keys[n++] = (key_ref){kn->text, kn->len, kn->offset};
  }
  qsort(keys, n, sizeof *keys, compare_keys);
  bool ok = true;
  for (size_t i = 1; i < n && ok; ++i) {
    const key_ref *a = &keys[i - 1];
    const key_ref *b = &keys[i];
    if (a->len == b->len && (a->len == 0 || memcmp(a->text, b->text, a->len) == 0)) {
      /* Quote at most 40 bytes, cut at a character boundary so the message stays valid UTF-8, and
       * escaped: a key may hold newlines or terminal escapes that would fake lines of a report. */
      size_t shown = a->len > 40 ? 40 : a->len;
      while (shown < a->len && shown > 0 && ((uint8_t)a->text[shown] & 0xC0) == 0x80) shown--;
      atf_buf quoted = {0};
      atf_buf_json_chars(&quoted, a->text, shown);
      ok = fail(p, ATF_JSON_DUPLICATE_KEY, b->offset, "duplicate key \"%.*s\"%s",
                quoted.oom ? 0 : (int)quoted.len, quoted.data ? quoted.data : "",
                shown < a->len ? " (cut)" : "");
      atf_buf_free(&quoted);
    }
  }
  free(keys);
  return ok;
}

static bool parse_container(parser *p, size_t *out, int depth, bool object) {
  if (depth >= ATF_JSON_MAX_DEPTH) {
    return fail(p, ATF_JSON_TOO_DEEP, p->pos, "nesting deeper than %d", ATF_JSON_MAX_DEPTH);
  }
  const size_t idx = new_node(p, object ? ATF_JSON_OBJECT : ATF_JSON_ARRAY);
  if (idx == ATF_JSON_NONE) return false;
  const char close = object ? '}' : ']';
  p->pos++;
  skip_ws(p);
  size_t last = ATF_JSON_NONE, count = 0;
  if (!at_end(p) && p->s[p->pos] == close) {
    p->pos++;
  } else {
    for (;;) {
      size_t item;
      skip_ws(p);
      if (object) {
        if (at_end(p) || p->s[p->pos] != '"')
          return fail(p, ATF_JSON_SYNTAX, p->pos, "object key expected");
        if (!parse_string(p, &item)) return false;
        p->doc->nodes[item].end = p->pos;
        skip_ws(p);
        if (at_end(p) || p->s[p->pos] != ':')
          return fail(p, ATF_JSON_SYNTAX, p->pos, "':' expected");
        p->pos++;
        size_t value;
        if (!parse_value(p, &value, depth + 1)) return false;
        p->doc->nodes[item].value = value;
      } else if (!parse_value(p, &item, depth + 1)) {
        return false;
      }
      if (last == ATF_JSON_NONE) {
        p->doc->nodes[idx].first = item;
      } else {
        p->doc->nodes[last].next = item;
      }
      last = item;
      count++;
      skip_ws(p);
      if (at_end(p))
        return fail(p, ATF_JSON_SYNTAX, p->pos, "unterminated %s", object ? "object" : "array");
      if (p->s[p->pos] == ',') {
        p->pos++;
        continue;
      }
      if (p->s[p->pos] == close) {
        p->pos++;
        break;
      }
      return fail(p, ATF_JSON_SYNTAX, p->pos, "',' or '%c' expected", close);
    }
  }
  p->doc->nodes[idx].count = count;
  *out = idx;
  return object ? check_duplicates(p, idx) : true;
}

static bool parse_one(parser *p, size_t *out, int depth) {
  skip_ws(p);
  if (at_end(p)) return fail(p, ATF_JSON_SYNTAX, p->pos, "value expected");
  switch (p->s[p->pos]) {
    case '{':
      return parse_container(p, out, depth, true);
    case '[':
      return parse_container(p, out, depth, false);
    case '"':
      return parse_string(p, out);
    case 't':
      return literal(p, "true", ATF_JSON_TRUE, out);
    case 'f':
      return literal(p, "false", ATF_JSON_FALSE, out);
    case 'n':
      return literal(p, "null", ATF_JSON_NULL, out);
    default:
      if (p->s[p->pos] == '-' || is_digit(p->s[p->pos])) return parse_number(p, out);
      return fail(p, ATF_JSON_SYNTAX, p->pos, "unexpected character");
  }
}

static bool parse_value(parser *p, size_t *out, int depth) {
  if (!parse_one(p, out, depth)) return false;
  p->doc->nodes[*out].end = p->pos;
  return true;
}

atf_json_status atf_json_parse(const char *data, size_t len, atf_json_doc *doc) {
  memset(doc, 0, sizeof *doc);
  parser p = {data, len, 0, doc};
  /* Invalid UTF-8 outside strings is a syntax error anyway; inside strings parse_string checks it.
   */
  doc->strings = malloc(len ? len : 1);
  if (doc->strings == NULL) { /* malloc failure (at most 1 MiB here): not reproducible in a test */
    fail(&p, ATF_JSON_NO_MEMORY, 0, "out of memory");
    return doc->status;
  }
  size_t root;
  if (parse_value(&p, &root, 0)) {
    skip_ws(&p);
    if (!at_end(&p)) fail(&p, ATF_JSON_SYNTAX, p.pos, "trailing characters after the JSON value");
  }
  return doc->status;
}

void atf_json_free(atf_json_doc *doc) {
  free(doc->nodes);
  free(doc->strings);
  memset(doc, 0, sizeof *doc);
}

size_t atf_json_get(const atf_json_doc *doc, size_t obj, const char *key) {
  if (obj >= doc->n_nodes || doc->nodes[obj].type != ATF_JSON_OBJECT) return ATF_JSON_NONE;
  const size_t n = strlen(key);
  for (size_t k = doc->nodes[obj].first; k != ATF_JSON_NONE; k = doc->nodes[k].next) {
    const atf_json_node *kn = &doc->nodes[k];
    if (kn->len == n && memcmp(kn->text, key, n) == 0) return kn->value;
  }
  return ATF_JSON_NONE;
}

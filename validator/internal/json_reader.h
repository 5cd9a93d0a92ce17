/* A strict RFC 8259 JSON reader for the session manifest (trace.json).
 *
 * Why not cJSON: it parses every number as a double, so a nanosecond timestamp above 2^53 comes
 * back rounded and "timeStartNs <= every event timestamp" could not be checked exactly. This reader
 * keeps each number's text and parses non-negative integers exactly as uint64, with overflow
 * detection. It also rejects what lenient parsers let through: invalid UTF-8 (anywhere in the
 * input), lone surrogates in \u escapes, control characters in strings, a byte order mark, trailing
 * garbage, nesting deeper than ATF_JSON_MAX_DEPTH and duplicate keys in any object.
 *
 * The whole document is parsed into one node array; memory is proportional to the input size,
 * which the caller bounds. */
#ifndef ATF_VALIDATOR_INTERNAL_JSON_READER_H_
#define ATF_VALIDATOR_INTERNAL_JSON_READER_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_JSON_MAX_DEPTH 64
#define ATF_JSON_MAX_NODES (1u << 18) /* values per document: bounds memory (~20 MiB) */
#define ATF_JSON_NONE ((size_t)-1)

typedef enum atf_json_type {
  ATF_JSON_NULL = 0,
  ATF_JSON_FALSE = 1,
  ATF_JSON_TRUE = 2,
  ATF_JSON_NUMBER = 3,
  ATF_JSON_STRING = 4,
  ATF_JSON_ARRAY = 5,
  ATF_JSON_OBJECT = 6,
} atf_json_type;

/* Why a document was rejected. */
typedef enum atf_json_status {
  ATF_JSON_OK = 0,
  ATF_JSON_SYNTAX = 1,        /* not JSON text */
  ATF_JSON_BAD_UTF8 = 2,      /* invalid UTF-8, or a \u escape naming a lone surrogate */
  ATF_JSON_TOO_DEEP = 3,      /* arrays/objects nested deeper than ATF_JSON_MAX_DEPTH */
  ATF_JSON_DUPLICATE_KEY = 4, /* an object holds the same (decoded) key twice */
  ATF_JSON_NO_MEMORY = 5,
  ATF_JSON_TOO_MANY_VALUES = 6, /* more than ATF_JSON_MAX_NODES values */
} atf_json_status;

const char *atf_json_strerror(atf_json_status status);

typedef struct atf_json_node {
  atf_json_type type;
  size_t offset; /* byte offset of the value's first character in the input */
  size_t end;    /* just past its last character: [offset, end) is the value's text */
  size_t next;   /* next element of the enclosing array, or next member key; ATF_JSON_NONE at end */
  /* ARRAY/OBJECT: first element (array) or first member key (object); count of elements/members.
   * For an object member key (a STRING node), value is the index of the member's value. */
  size_t first, count, value;
  /* STRING: the decoded bytes (valid UTF-8, may hold NUL). NUMBER: the number's source text. */
  const char *text;
  size_t len;
  /* NUMBER: is_uint64 when the text is a non-negative integer without fraction or exponent that
   * fits in 64 bits ("-0" is zero); then u64 holds it exactly. negative/overflow say why not,
   * when they apply. */
  bool is_uint64, negative, overflow;
  uint64_t u64;
} atf_json_node;

typedef struct atf_json_doc {
  atf_json_node *nodes; /* nodes[0] is the root */
  size_t n_nodes, cap_nodes;
  char *strings; /* decoded string storage */
  size_t strings_len;
  /* On failure: what and where. */
  atf_json_status status;
  size_t error_offset;
  char error[128];
} atf_json_doc;

/* Parses data[0, len). Returns ATF_JSON_OK or the first problem found (also stored in doc).
 * Always call atf_json_free afterwards. */
atf_json_status atf_json_parse(const char *data, size_t len, atf_json_doc *doc);

void atf_json_free(atf_json_doc *doc);

/* The value of member `key` of object node `obj`, or ATF_JSON_NONE. */
size_t atf_json_get(const atf_json_doc *doc, size_t obj, const char *key);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_JSON_READER_H_ */

/* The one command-line grammar of atf-validate, atf-dump and atf-recover:
 *   - an option with a value is written "--name VALUE" or "--name=VALUE"; a flag takes no value
 *     ("--json=1" is an error); short aliases (-h, -q) take no value;
 *   - "--" ends the options: every later argument is an operand (PATH), even one starting with
 *     "-"; "-" alone is an operand (a file named "-"), never an option;
 *   - an unknown option, a missing or malformed value and a second PATH are one-line usage errors;
 *   - values: sizes are decimal bytes with an optional K, M or G suffix (binary); counts are plain
 *     decimal; signed values take an optional '-'; none may be empty or overflow. */
#ifndef ATF_VALIDATOR_INTERNAL_CLI_H_
#define ATF_VALIDATOR_INTERNAL_CLI_H_

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_cli_option {
  const char *name;  /* "--max-errors" */
  const char *alias; /* "-q", or NULL */
  bool takes_value;
  int id; /* returned by atf_cli_next (>= 0) */
} atf_cli_option;

#define ATF_CLI_OPERAND (-1) /* *value is an operand */
#define ATF_CLI_END (-2)     /* no more arguments */
#define ATF_CLI_ERROR (-3)   /* a usage error, already printed */

typedef struct atf_cli {
  const char *tool; /* prefix of error messages */
  int argc;
  char **argv;
  int next;
  bool options_done;
} atf_cli;

void atf_cli_init(atf_cli *c, const char *tool, int argc, char **argv);

/* The next option (its id, with *value for one that takes a value) or operand; `options` ends
 * with an entry whose name is NULL. */
int atf_cli_next(atf_cli *c, const atf_cli_option *options, const char **value);

/* What every tool's command line is: options (applied by `apply`, which prints its own usage
 * error and returns false for a bad value), --help and --version, exactly one operand. */
typedef struct atf_cli_spec {
  const atf_cli_option *options;
  int help_id, version_id; /* ids of --help and --version in `options` */
  const char *usage;       /* printed on stdout for --help */
  const char *version;     /* printed on stdout, with a newline, for --version */
  const char *operand;     /* the operand's name in messages: "PATH", "SESSION_DIR" */
  bool (*apply)(void *ctx, const atf_cli *c, int id, const char *value);
  void *ctx;
} atf_cli_spec;

typedef enum atf_cli_result {
  ATF_CLI_PARSED = 0, /* *operand is set: run the tool */
  ATF_CLI_DONE = 1,   /* --help or --version was printed: exit successfully */
  ATF_CLI_USAGE = 2,  /* a usage error was printed (one line on stderr) */
} atf_cli_result;

/* Parses argv[1..] with `spec`. */
atf_cli_result atf_cli_parse(const char *tool, int argc, char **argv, const atf_cli_spec *spec,
                             const char **operand);

/* The name of option `id` in `options` ("" when none has it), for messages. */
const char *atf_cli_option_name(const atf_cli_option *options, int id);

/* Prints "<tool>: <message> (try --help)" on stderr, one line. */
void atf_cli_error(const atf_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Value parsers: true when `s` is well-formed and in range. */
bool atf_cli_size(const char *s, uint64_t *out);                /* "64M", "1048576" */
bool atf_cli_count(const char *s, uint64_t max, uint64_t *out); /* "20", at most max */
bool atf_cli_int32(const char *s, int32_t *out);                /* "-1", "137" */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_CLI_H_ */

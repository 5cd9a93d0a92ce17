/* internal/symtab.h: the session's interned symbol names.
 *
 * Ring records name their function by a 32-bit id so that no string is copied per event. Interning
 * (any thread, rare) takes a mutex; lookup (the writer thread, once per event) takes none: entries
 * live in fixed chunks that never move, and the count is published with release/acquire ordering
 * after the entry is complete. Names are stored already sanitised (internal/utf8.h), so the hot
 * path never looks at UTF-8.
 */
#ifndef ATF_WRITER_INTERNAL_SYMTAB_H_
#define ATF_WRITER_INTERNAL_SYMTAB_H_

#include <stddef.h>
#include <stdint.h>

#include "writer/atf/writer.h"
#include "writer/internal/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* At most this many symbols per session (ids 1..ATF_SYMTAB_MAX). */
#define ATF_SYMTAB_MAX (4096u * 1024u)

typedef struct atf_symtab atf_symtab;

atf_symtab *atf_symtab_new(void);
void atf_symtab_free(atf_symtab *t);

/* Returns the id of name[0..len) (equal bytes, equal id), interning it if new; *replacements gets
 * the number of U+FFFD substitutions made when it was newly interned (0 otherwise).
 * ATF_WRITER_E_NO_MEMORY or ATF_WRITER_E_LIMIT on failure. Thread-safe. REQUIRES: name != NULL ||
 * len == 0. */
ATF_MUST_USE atf_writer_status atf_symtab_intern(atf_symtab *t, const char *name, size_t len,
                                                 uint32_t *id, uint64_t *replacements);

/* Number of interned symbols: ids 1..count are valid. */
uint32_t atf_symtab_count(const atf_symtab *t);

/* The sanitised, NUL-terminated name of `id`; "" for id 0. REQUIRES: id <= atf_symtab_count(t). */
const char *atf_symtab_get(const atf_symtab *t, uint32_t id);

/* As atf_symtab_get, also storing the name's length in bytes (without the NUL) in *len. */
const char *atf_symtab_get_len(const atf_symtab *t, uint32_t id, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_SYMTAB_H_ */

/* objects.h: the ELF objects loaded in the process (executable, shared objects) and their
 * function symbols, for naming addresses.
 *
 * atf_objects_refresh() compares the loader's list (dl_iterate_phdr) with the objects known: new
 * ones are added and their symbols read (elf_symbols.h; the executable through /proc/self/exe),
 * vanished ones (dlclose) are reported to a callback and forgotten. Not thread-safe and not
 * async-signal-safe: the caller holds its lock and is not in a signal handler (the loader's lock
 * and malloc are used).
 */
#ifndef ATF_INSTRUMENT_INTERNAL_OBJECTS_H_
#define ATF_INSTRUMENT_INTERNAL_OBJECTS_H_

#include <stddef.h>
#include <stdint.h>

#include "instrument/internal/elf_symbols.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_object {
  uint64_t bias;         /* dlpi_addr */
  uint64_t lo, hi;       /* span of its PT_LOAD segments, run-time addresses */
  char *path;            /* "" for the executable */
  int is_main;           /* the executable */
  atf_elf_status status; /* of reading its symbols */
  atf_elf_symbols syms;
  int seen; /* refresh bookkeeping */
} atf_object;

typedef struct atf_objects {
  atf_object *v;
  size_t n, cap;
} atf_objects;

/* Called for an object added (before its symbols are used) or removed (before it is freed). */
typedef void (*atf_object_fn)(void *ctx, const atf_object *o);

/* Brings the list up to date; calls on_add / on_remove (either may be NULL). Returns 0, or -1 when
 * memory ran out (the list stays usable, objects not added are looked up again next time). */
int atf_objects_refresh(atf_objects *s, atf_object_fn on_add, atf_object_fn on_remove, void *ctx);

/* The object whose PT_LOAD span holds `addr`, or NULL. */
const atf_object *atf_objects_find(const atf_objects *s, uint64_t addr);

/* The function name for the entry address `addr`, or NULL. */
const char *atf_objects_symbol(const atf_objects *s, uint64_t addr);

void atf_objects_free(atf_objects *s);

#ifdef __cplusplus
}
#endif

#endif /* ATF_INSTRUMENT_INTERNAL_OBJECTS_H_ */

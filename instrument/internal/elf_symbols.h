/* elf_symbols.h: the function symbols of one ELF file, for naming the addresses the hooks see.
 *
 * Reads the file's full symbol table (.symtab: static functions included) or, when the file was
 * stripped of it, the dynamic one (.dynsym), keeps the defined STT_FUNC symbols and sorts them by
 * address, one name per address. Names are copied out, so nothing points into the file or into
 * the mapped object (which dlclose may unmap).
 *
 * The file is read with pread, every offset and size checked against the file's size and the
 * caps below before it is used: a file replaced or truncated since it was mapped yields an error
 * or a mismatch (see `phdrs`), never a crash. Not async-signal-safe (allocates); called at
 * session start, from the dlopen wrapper, or on a hook's first call for an address in an object
 * not read yet.
 */
#ifndef ATF_INSTRUMENT_INTERNAL_ELF_SYMBOLS_H_
#define ATF_INSTRUMENT_INTERNAL_ELF_SYMBOLS_H_

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Caps: larger tables are refused (ATF_ELF_TOO_LARGE) rather than read. */
#define ATF_ELF_MAX_SECTIONS 65536u
#define ATF_ELF_MAX_TABLE_BYTES (512u * 1024u * 1024u)

typedef enum atf_elf_status {
  ATF_ELF_OK = 0,
  ATF_ELF_IO = 1,     /* open/pread/fstat failed */
  ATF_ELF_FORMAT = 2, /* not a 64-bit ELF file of the host's byte order, or inconsistent */
  ATF_ELF_NO_MEMORY = 3,
  ATF_ELF_MISMATCH = 4,  /* the file's PT_LOAD headers differ from the mapped object's */
  ATF_ELF_TOO_LARGE = 5, /* a table above the caps */
  ATF_ELF_NO_SYMBOLS = 6 /* neither .symtab nor .dynsym */
} atf_elf_status;

const char *atf_elf_strerror(atf_elf_status status);

typedef struct atf_elf_func {
  uint64_t addr; /* run-time address: load bias + st_value */
  uint32_t name; /* offset in atf_elf_symbols.names */
  uint32_t size; /* st_size, saturated */
} atf_elf_func;

typedef struct atf_elf_symbols {
  atf_elf_func *funcs; /* sorted by addr, addresses unique */
  size_t count;
  char *names; /* NUL-terminated names, end to end */
  size_t names_len;
  int from_symtab;     /* 1: .symtab, 0: .dynsym */
  int references_hook; /* the table names __cyg_profile_func_enter (undefined: the object calls it)
                        */
  int defines_hook;    /* ... and defines it (the static variant's executable, or our .so) */
} atf_elf_symbols;

/* Reads the function symbols of the ELF file at `path`, adding `bias` to their values. When
 * `phdrs` is not NULL (the object's program headers in memory, as dl_iterate_phdr gives them),
 * each of its PT_LOAD headers must appear in the file with the same vaddr, memsz and offset, else
 * ATF_ELF_MISMATCH. Among symbols at one address the name kept is the first of: GLOBAL, then
 * WEAK, then LOCAL binding; then the shorter name; then the smaller in byte order. On error `out`
 * is left empty. */
atf_elf_status atf_elf_load(const char *path, uint64_t bias, const Elf64_Phdr *phdrs, size_t phnum,
                            atf_elf_symbols *out);

/* The name of the function whose entry is exactly `addr`, or NULL. */
const char *atf_elf_find(const atf_elf_symbols *s, uint64_t addr);

void atf_elf_free(atf_elf_symbols *s);

#ifdef __cplusplus
}
#endif

#endif /* ATF_INSTRUMENT_INTERNAL_ELF_SYMBOLS_H_ */

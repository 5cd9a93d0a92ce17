/* elf_symbols.c: see elf_symbols.h.
 *
 * Steps: ELF header -> section headers -> the symbol table (.symtab, else .dynsym) and the string
 * table its sh_link names -> candidates (defined STT_FUNC with a nonzero value) -> sort by
 * (address, preference) -> keep the first per address and copy its name into one pool.
 */
#include "instrument/internal/elf_symbols.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "instrument/internal/compiler.h"

#define HOOK_NAME "__cyg_profile_func_enter"

typedef struct candidate {
  uint64_t addr;
  uint64_t size;
  uint32_t name; /* offset in the string table */
  uint32_t name_len;
  int rank; /* higher wins */
} candidate;

typedef struct file {
  int fd;
  uint64_t size;
} file;

ATF_NOINSTR const char *atf_elf_strerror(atf_elf_status status) {
  switch (status) {
    case ATF_ELF_OK:
      return "ok";
    case ATF_ELF_IO:
      return "cannot read the file";
    case ATF_ELF_FORMAT:
      return "not a 64-bit ELF file of this machine's byte order";
    case ATF_ELF_NO_MEMORY:
      return "out of memory";
    case ATF_ELF_MISMATCH:
      return "the file is not the mapped object (program headers differ)";
    case ATF_ELF_TOO_LARGE:
      return "symbol table too large";
    case ATF_ELF_NO_SYMBOLS:
      return "no symbol table";
  }
  return "unknown status";
}

/* Reads [off, off + len) of the file into dst; the range was checked against the size. */
ATF_NOINSTR static int read_at(const file *f, uint64_t off, void *dst, size_t len) {
  if (off > f->size || len > f->size - off) return 0;
  unsigned char *p = dst;
  while (len > 0) {
    ssize_t n = pread(f->fd, p, len, (off_t)off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    p += n;
    off += (uint64_t)n;
    len -= (size_t)n;
  }
  return 1;
}

/* A whole section's bytes (malloc'ed), bounded by the caps and the file size. */
ATF_NOINSTR static atf_elf_status read_section(const file *f, const Elf64_Shdr *sh, void **out) {
  *out = NULL;
  if (sh->sh_size > ATF_ELF_MAX_TABLE_BYTES) return ATF_ELF_TOO_LARGE;
  if (sh->sh_offset > f->size || sh->sh_size > f->size - sh->sh_offset) return ATF_ELF_FORMAT;
  void *p = malloc(sh->sh_size == 0 ? 1 : sh->sh_size);
  if (p == NULL) return ATF_ELF_NO_MEMORY;
  if (!read_at(f, sh->sh_offset, p, sh->sh_size)) {
    free(p);
    return ATF_ELF_IO;
  }
  *out = p;
  return ATF_ELF_OK;
}

ATF_NOINSTR static int header_ok(const Elf64_Ehdr *eh) {
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) return 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (eh->e_ident[EI_DATA] != ELFDATA2LSB) return 0;
#else
  if (eh->e_ident[EI_DATA] != ELFDATA2MSB) return 0;
#endif
  return eh->e_shentsize == sizeof(Elf64_Shdr) || eh->e_shoff == 0;
}

/* Every PT_LOAD of the mapped object has a twin in the file. */
ATF_NOINSTR static atf_elf_status check_phdrs(const file *f, const Elf64_Ehdr *eh,
                                              const Elf64_Phdr *mem, size_t mem_n) {
  if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum >= PN_XNUM) {
    return ATF_ELF_FORMAT;
  }
  size_t n = eh->e_phnum;
  Elf64_Phdr *ph = malloc(n * sizeof *ph);
  if (ph == NULL) return ATF_ELF_NO_MEMORY;
  atf_elf_status st = ATF_ELF_OK;
  if (!read_at(f, eh->e_phoff, ph, n * sizeof *ph)) st = ATF_ELF_IO;
  for (size_t i = 0; st == ATF_ELF_OK && i < mem_n; i++) {
    if (mem[i].p_type != PT_LOAD) continue;
    int found = 0;
    for (size_t j = 0; j < n && !found; j++) {
      found = ph[j].p_type == PT_LOAD && ph[j].p_vaddr == mem[i].p_vaddr &&
              ph[j].p_memsz == mem[i].p_memsz && ph[j].p_offset == mem[i].p_offset;
    }
    if (!found) st = ATF_ELF_MISMATCH;
  }
  free(ph);
  return st;
}

static const char *g_sort_strtab; /* qsort has no context argument in C11; callers hold a lock */

ATF_NOINSTR static int candidate_cmp(const void *pa, const void *pb) {
  const candidate *a = pa, *b = pb;
  if (a->addr != b->addr) return a->addr < b->addr ? -1 : 1;
  if (a->rank != b->rank) return a->rank > b->rank ? -1 : 1;
  if (a->name_len != b->name_len) return a->name_len < b->name_len ? -1 : 1;
  return memcmp(g_sort_strtab + a->name, g_sort_strtab + b->name, a->name_len);
}

ATF_NOINSTR static int binding_rank(unsigned bind) {
  switch (bind) {
    case STB_GLOBAL:
      return 3;
    case STB_GNU_UNIQUE:
      return 3;
    case STB_WEAK:
      return 2;
    default:
      return 1;
  }
}

/* Collects the candidates of one symbol table; notes the hook's symbol. */
ATF_NOINSTR static atf_elf_status collect(const Elf64_Sym *syms, size_t nsyms, const char *strtab,
                                          size_t strtab_len, uint64_t bias, candidate **out,
                                          size_t *out_n, atf_elf_symbols *s) {
  candidate *c = malloc((nsyms == 0 ? 1 : nsyms) * sizeof *c);
  if (c == NULL) return ATF_ELF_NO_MEMORY;
  size_t n = 0;
  for (size_t i = 0; i < nsyms; i++) {
    const Elf64_Sym *sym = &syms[i];
    if (sym->st_name >= strtab_len) continue;
    const char *name = strtab + sym->st_name;
    const char *end = memchr(name, '\0', strtab_len - sym->st_name);
    if (end == NULL || end == name) continue;
    size_t len = (size_t)(end - name);
    if (len == sizeof HOOK_NAME - 1 && memcmp(name, HOOK_NAME, len) == 0) {
      s->references_hook = 1;
      if (sym->st_shndx != SHN_UNDEF) s->defines_hook = 1;
    }
    if (ELF64_ST_TYPE(sym->st_info) != STT_FUNC || sym->st_shndx == SHN_UNDEF ||
        sym->st_value == 0 || len > UINT32_MAX) {
      continue;
    }
    c[n].addr = bias + sym->st_value;
    c[n].size = sym->st_size;
    c[n].name = sym->st_name;
    c[n].name_len = (uint32_t)len;
    c[n].rank = binding_rank(ELF64_ST_BIND(sym->st_info));
    n++;
  }
  *out = c;
  *out_n = n;
  return ATF_ELF_OK;
}

/* Sorts the candidates and fills s->funcs and s->names with one entry per address. */
ATF_NOINSTR static atf_elf_status select_names(candidate *c, size_t n, const char *strtab,
                                               atf_elf_symbols *s) {
  g_sort_strtab = strtab;
  qsort(c, n, sizeof *c, candidate_cmp);
  size_t kept = 0, bytes = 0;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && c[i].addr == c[i - 1].addr) continue;
    kept++;
    bytes += (size_t)c[i].name_len + 1;
  }
  if (bytes > UINT32_MAX) return ATF_ELF_TOO_LARGE;
  s->funcs = malloc((kept == 0 ? 1 : kept) * sizeof *s->funcs);
  s->names = malloc(bytes == 0 ? 1 : bytes);
  if (s->funcs == NULL || s->names == NULL) return ATF_ELF_NO_MEMORY;
  size_t off = 0, k = 0;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && c[i].addr == c[i - 1].addr) continue;
    s->funcs[k].addr = c[i].addr;
    s->funcs[k].size = c[i].size > UINT32_MAX ? UINT32_MAX : (uint32_t)c[i].size;
    s->funcs[k].name = (uint32_t)off;
    memcpy(s->names + off, strtab + c[i].name, c[i].name_len);
    s->names[off + c[i].name_len] = '\0';
    off += (size_t)c[i].name_len + 1;
    k++;
  }
  s->count = kept;
  s->names_len = off;
  return ATF_ELF_OK;
}

/* Finds the symbol table to use (.symtab, else .dynsym) and reads it with its strings. */
ATF_NOINSTR static atf_elf_status load_tables(const file *f, const Elf64_Shdr *sh, size_t shnum,
                                              uint64_t bias, atf_elf_symbols *s) {
  const Elf64_Shdr *table = NULL;
  for (size_t i = 0; i < shnum; i++) {
    if (sh[i].sh_type == SHT_SYMTAB) table = &sh[i];
  }
  s->from_symtab = table != NULL;
  for (size_t i = 0; table == NULL && i < shnum; i++) {
    if (sh[i].sh_type == SHT_DYNSYM) table = &sh[i];
  }
  if (table == NULL) return ATF_ELF_NO_SYMBOLS;
  if (table->sh_entsize != sizeof(Elf64_Sym) || table->sh_link >= shnum ||
      sh[table->sh_link].sh_type != SHT_STRTAB) {
    return ATF_ELF_FORMAT;
  }
  void *syms = NULL, *strtab = NULL;
  candidate *c = NULL;
  size_t n = 0;
  atf_elf_status st = read_section(f, table, &syms);
  if (st == ATF_ELF_OK) st = read_section(f, &sh[table->sh_link], &strtab);
  if (st == ATF_ELF_OK) {
    st = collect(syms, table->sh_size / sizeof(Elf64_Sym), strtab, sh[table->sh_link].sh_size, bias,
                 &c, &n, s);
  }
  if (st == ATF_ELF_OK) st = select_names(c, n, strtab, s);
  free(c);
  free(strtab);
  free(syms);
  return st;
}

ATF_NOINSTR atf_elf_status atf_elf_load(const char *path, uint64_t bias, const Elf64_Phdr *phdrs,
                                        size_t phnum, atf_elf_symbols *out) {
  memset(out, 0, sizeof *out);
  file f = {open(path, O_RDONLY | O_CLOEXEC), 0};
  if (f.fd < 0) return ATF_ELF_IO;
  struct stat stt;
  atf_elf_status st = ATF_ELF_OK;
  Elf64_Ehdr eh;
  Elf64_Shdr *sh = NULL;
  if (fstat(f.fd, &stt) != 0 || !S_ISREG(stt.st_mode)) {
    st = ATF_ELF_IO;
    goto done;
  }
  f.size = (uint64_t)stt.st_size;
  if (!read_at(&f, 0, &eh, sizeof eh)) {
    st = ATF_ELF_FORMAT;
    goto done;
  }
  if (!header_ok(&eh)) {
    st = ATF_ELF_FORMAT;
    goto done;
  }
  if (phdrs != NULL && (st = check_phdrs(&f, &eh, phdrs, phnum)) != ATF_ELF_OK) goto done;
  size_t shnum = eh.e_shnum;
  if (eh.e_shoff == 0) {
    st = ATF_ELF_NO_SYMBOLS;
    goto done;
  }
  if (shnum == 0) { /* more than SHN_LORESERVE sections: the count is in section 0 */
    Elf64_Shdr first;
    if (!read_at(&f, eh.e_shoff, &first, sizeof first)) {
      st = ATF_ELF_FORMAT;
      goto done;
    }
    if (first.sh_size > ATF_ELF_MAX_SECTIONS) {
      st = ATF_ELF_TOO_LARGE;
      goto done;
    }
    shnum = (size_t)first.sh_size;
  }
  sh = malloc((shnum == 0 ? 1 : shnum) * sizeof *sh);
  if (sh == NULL) {
    st = ATF_ELF_NO_MEMORY;
    goto done;
  }
  if (!read_at(&f, eh.e_shoff, sh, shnum * sizeof *sh)) {
    st = ATF_ELF_FORMAT;
    goto done;
  }
  st = load_tables(&f, sh, shnum, bias, out);
done:
  free(sh);
  close(f.fd);
  if (st != ATF_ELF_OK) {
    int refs = out->references_hook, defs = out->defines_hook;
    atf_elf_free(out);
    out->references_hook = refs; /* still true when only the names failed */
    out->defines_hook = defs;
  }
  return st;
}

ATF_NOINSTR const char *atf_elf_find(const atf_elf_symbols *s, uint64_t addr) {
  size_t lo = 0, hi = s->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->funcs[mid].addr < addr) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < s->count && s->funcs[lo].addr == addr) return s->names + s->funcs[lo].name;
  return NULL;
}

ATF_NOINSTR void atf_elf_free(atf_elf_symbols *s) {
  free(s->funcs);
  free(s->names);
  memset(s, 0, sizeof *s);
}

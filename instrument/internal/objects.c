/* objects.c: see objects.h. */
#include "instrument/internal/objects.h"

#include <link.h>
#include <stdlib.h>
#include <string.h>

#include "instrument/internal/compiler.h"

/* Objects noted per dl_iterate_phdr pass (more: the next refresh gets them). */
#define MAX_NEW 256
#define MAX_PHDRS 64 /* program headers kept for the file check (objects have ~10) */

/* A new object as the loader listed it, copied: another thread may dlclose it before we read
 * its file. */
typedef struct seen_object {
  uint64_t bias, lo, hi;
  char *name;
  Elf64_Phdr *phdr;
  size_t phnum;
  int is_main;
} seen_object;

typedef struct scan {
  atf_objects *s;
  seen_object fresh[MAX_NEW];
  size_t nfresh;
  size_t index; /* position in the loader's list */
  int no_memory;
} scan;

ATF_NOINSTR static int same_object(const atf_object *o, uint64_t bias, uint64_t lo,
                                   const char *name) {
  return o->bias == bias && o->lo == lo && strcmp(o->path, name) == 0;
}

/* Copies what add() needs; runs under the loader's lock. */
ATF_NOINSTR static void note_fresh(scan *sc, struct dl_phdr_info *info, size_t index, uint64_t lo,
                                   uint64_t hi, const char *name) {
  if (sc->nfresh == MAX_NEW) return;
  seen_object *f = &sc->fresh[sc->nfresh];
  size_t phnum = info->dlpi_phnum;
  f->name = strdup(name);
  f->phdr = phnum <= MAX_PHDRS ? malloc((phnum == 0 ? 1 : phnum) * sizeof *f->phdr) : NULL;
  if (f->name == NULL || (phnum <= MAX_PHDRS && f->phdr == NULL)) {
    free(f->name);
    free(f->phdr);
    sc->no_memory = 1;
    return;
  }
  if (f->phdr != NULL) memcpy(f->phdr, info->dlpi_phdr, phnum * sizeof *f->phdr);
  f->phnum = f->phdr != NULL ? phnum : 0;
  f->bias = info->dlpi_addr;
  f->lo = lo;
  f->hi = hi;
  /* The loader lists the executable first, with an empty name. */
  f->is_main = index == 0 && name[0] == '\0';
  sc->nfresh++;
}

/* dl_iterate_phdr callback: marks known objects seen, copies new ones. */
ATF_NOINSTR static int on_phdr(struct dl_phdr_info *info, size_t size, void *arg) {
  scan *sc = arg;
  (void)size;
  size_t index = sc->index++;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (size_t i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uint64_t a = (uint64_t)info->dlpi_addr + ph->p_vaddr;
    if (a < lo) lo = a;
    if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
  }
  if (hi == 0) return 0;
  const char *name = info->dlpi_name != NULL ? info->dlpi_name : "";
  for (size_t i = 0; i < sc->s->n; i++) {
    if (same_object(&sc->s->v[i], info->dlpi_addr, lo, name)) {
      sc->s->v[i].seen = 1;
      return 0;
    }
  }
  note_fresh(sc, info, index, lo, hi, name);
  return 0;
}

ATF_NOINSTR static void object_free(atf_object *o) {
  atf_elf_free(&o->syms);
  free(o->path);
}

ATF_NOINSTR static int add(atf_objects *s, const seen_object *f) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 32;
    atf_object *v = realloc(s->v, cap * sizeof *v);
    if (v == NULL) return -1;
    s->v = v;
    s->cap = cap;
  }
  atf_object *o = &s->v[s->n];
  memset(o, 0, sizeof *o);
  o->path = strdup(f->name);
  if (o->path == NULL) return -1;
  o->bias = f->bias;
  o->lo = f->lo;
  o->hi = f->hi;
  o->is_main = f->is_main;
  o->seen = 1;
  const char *file = f->is_main ? "/proc/self/exe" : f->name;
  o->status =
      f->phdr == NULL ? ATF_ELF_FORMAT : atf_elf_load(file, f->bias, f->phdr, f->phnum, &o->syms);
  s->n++;
  return 0;
}

ATF_NOINSTR int atf_objects_refresh(atf_objects *s, atf_object_fn on_add, atf_object_fn on_remove,
                                    void *ctx) {
  static scan sc; /* large; the caller's lock serialises refreshes */
  memset(&sc, 0, sizeof sc);
  sc.s = s;
  for (size_t i = 0; i < s->n; i++) s->v[i].seen = 0;
  dl_iterate_phdr(on_phdr, &sc);
  /* Forget what is gone (dlclose), keeping the order of the rest. */
  size_t w = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (s->v[i].seen) {
      s->v[w++] = s->v[i];
      continue;
    }
    if (on_remove != NULL) on_remove(ctx, &s->v[i]);
    object_free(&s->v[i]);
  }
  s->n = w;
  int rc = sc.no_memory ? -1 : 0;
  for (size_t i = 0; i < sc.nfresh; i++) {
    if (rc == 0 && add(s, &sc.fresh[i]) == 0) {
      if (on_add != NULL) on_add(ctx, &s->v[s->n - 1]);
    } else {
      rc = -1;
    }
    free(sc.fresh[i].name);
    free(sc.fresh[i].phdr);
  }
  return rc;
}

ATF_NOINSTR const atf_object *atf_objects_find(const atf_objects *s, uint64_t addr) {
  for (size_t i = 0; i < s->n; i++) {
    if (addr >= s->v[i].lo && addr < s->v[i].hi) return &s->v[i];
  }
  return NULL;
}

ATF_NOINSTR const char *atf_objects_symbol(const atf_objects *s, uint64_t addr) {
  const atf_object *o = atf_objects_find(s, addr);
  return o == NULL ? NULL : atf_elf_find(&o->syms, addr);
}

ATF_NOINSTR void atf_objects_free(atf_objects *s) {
  for (size_t i = 0; i < s->n; i++) object_free(&s->v[i]);
  free(s->v);
  memset(s, 0, sizeof *s);
}

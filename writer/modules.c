/* Loaded-module identities: see internal/modules.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dl_iterate_phdr */
#endif
#include "writer/internal/modules.h"

#include <string.h>

void atf_uuid_format(const uint8_t *id, size_t len, char out[ATF_UUID_STRING_SIZE]) {
  static const char kHex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < 16; i++) {
    uint8_t b = i < len ? id[i] : 0;
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = kHex[b >> 4];
    out[o++] = kHex[b & 15];
  }
  out[o] = '\0';
}

int atf_uuid_valid(const char *s) {
  for (size_t i = 0; i < 36; i++) {
    const char c = s[i];
    const int dash = i == 8 || i == 13 || i == 18 || i == 23;
    const int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return 0;
  }
  return s[36] == '\0';
}

#if defined(__linux__)
#include <elf.h>
#include <link.h>

typedef struct collect_ctx {
  atf_module_fn fn;
  void *ctx;
  size_t found;
} collect_ctx;

static size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

/* Reports the build id in one PT_NOTE segment, if any; returns 1 when reported. */
static int scan_notes(const uint8_t *p, size_t size, size_t align, collect_ctx *c) {
  for (size_t off = 0; off + sizeof(ElfW(Nhdr)) <= size;) {
    ElfW(Nhdr) nh;
    memcpy(&nh, p + off, sizeof nh);
    size_t name = off + sizeof nh;
    size_t desc = name + align_up(nh.n_namesz, align);
    size_t next = desc + align_up(nh.n_descsz, align);
    if (desc > size || nh.n_descsz > size - desc || next < desc) return 0; /* malformed */
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(p + name, "GNU", 4) == 0 &&
        nh.n_descsz > 0) {
      char uuid[ATF_UUID_STRING_SIZE];
      atf_uuid_format(p + desc, nh.n_descsz, uuid);
      c->fn(c->ctx, uuid);
      c->found++;
      return 1;
    }
    off = next;
  }
  return 0;
}

static int on_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  collect_ctx *c = (collect_ctx *)data;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    size_t align = ph->p_align == 8 ? 8 : 4;
    if (scan_notes((const uint8_t *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz, align, c)) break;
  }
  return 0;
}

size_t atf_modules_collect(atf_module_fn fn, void *ctx) {
  collect_ctx c = {fn, ctx, 0};
  dl_iterate_phdr(on_object, &c);
  return c.found;
}

#elif defined(__APPLE__)
#include <mach-o/dyld.h>
#include <mach-o/loader.h>

size_t atf_modules_collect(atf_module_fn fn, void *ctx) {
  size_t found = 0;
  for (uint32_t i = 0; i < _dyld_image_count(); i++) {
    const struct mach_header *h = _dyld_get_image_header(i);
    if (h == NULL || h->magic != MH_MAGIC_64) continue;
    const uint8_t *p = (const uint8_t *)h + sizeof(struct mach_header_64);
    for (uint32_t k = 0; k < h->ncmds; k++) {
      const struct load_command *lc = (const struct load_command *)p;
      if (lc->cmd == LC_UUID) {
        char uuid[ATF_UUID_STRING_SIZE];
        atf_uuid_format(((const struct uuid_command *)lc)->uuid, 16, uuid);
        fn(ctx, uuid);
        found++;
        break;
      }
      p += lc->cmdsize;
    }
  }
  return found;
}

#else
size_t atf_modules_collect(atf_module_fn fn, void *ctx) {
  (void)fn;
  (void)ctx;
  return 0;
}
#endif

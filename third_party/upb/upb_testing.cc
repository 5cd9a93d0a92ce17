#include "third_party/upb/upb_testing.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "google/protobuf/descriptor.upb.h"

namespace upb_testing {

std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string Tag(uint32_t field, int wire_type) { return Varint(uint64_t{field} << 3 | wire_type); }
std::string Len(uint32_t field, const std::string &body) {
  return Tag(field, 2) + Varint(body.size()) + body;
}
std::string Var(uint32_t field, uint64_t v) { return Tag(field, 0) + Varint(v); }

Schema::Schema(const unsigned char *descriptor_set, size_t size) {
  symtab_ = upb_symtab_new();
  upb_arena *arena = upb_arena_new();
  const google_protobuf_FileDescriptorSet *set = google_protobuf_FileDescriptorSet_parse(
      reinterpret_cast<const char *>(descriptor_set), size, arena);
  if (set == nullptr) {
    error_ = "the descriptor set does not parse";
  } else {
    size_t n = 0;
    const google_protobuf_FileDescriptorProto *const *files =
        google_protobuf_FileDescriptorSet_file(set, &n);
    for (size_t i = 0; i < n && error_.empty(); ++i) {
      upb_status status;
      upb_status_clear(&status);
      if (upb_symtab_addfile(symtab_, files[i], &status) == nullptr)
        error_ = upb_status_errmsg(&status);
    }
  }
  upb_arena_free(arena);
  factory_ = upb_msgfactory_new(symtab_);
}

Schema::~Schema() {
  upb_msgfactory_free(factory_);
  upb_symtab_free(symtab_);
}

const upb_msgdef *Schema::Message(const char *full_name) const {
  return upb_symtab_lookupmsg(symtab_, full_name);
}

const upb_msglayout *Schema::Layout(const char *full_name) {
  const upb_msgdef *m = Message(full_name);
  if (m == nullptr) {
    std::fprintf(stderr, "upb_testing: no message %s\n", full_name);
    std::abort();
  }
  return Layout(m);
}

const upb_msglayout *Schema::Layout(const upb_msgdef *m) {
  return upb_msgfactory_getlayout(factory_, m);
}

int Schema::Index(const char *message, const char *field) const {
  const upb_msgdef *m = Message(message);
  const upb_fielddef *f = m ? upb_msgdef_ntofz(m, field) : nullptr;
  if (f == nullptr) {
    std::fprintf(stderr, "upb_testing: no field %s.%s\n", message, field);
    std::abort();
  }
  return static_cast<int>(upb_fielddef_index(f));
}

namespace {
constexpr size_t kCanary = 16;
constexpr unsigned char kCanaryByte = 0xA5;
}  // namespace

CheckedArena::CheckedArena(size_t limit) : limit_(limit) {
  static_assert(std::is_standard_layout<CheckedArena>::value, "alloc_ must be at offset 0");
  alloc_.func = &CheckedArena::Alloc;
}

CheckedArena::~CheckedArena() {
  for (const Block &b : blocks_) std::free(b.data);
}

void *CheckedArena::Alloc(upb_alloc *alloc, void *ptr, size_t oldsize, size_t size) {
  CheckedArena *self = reinterpret_cast<CheckedArena *>(alloc);
  if (size == 0) return nullptr;  // an arena frees nothing individually
  if (size > self->limit_ - self->used_) {
    self->refused_++;
    return nullptr;
  }
  unsigned char *p = static_cast<unsigned char *>(std::malloc(size + kCanary));
  if (p == nullptr) return nullptr;
  std::memset(p + size, kCanaryByte, kCanary);
  if (ptr != nullptr && oldsize > 0) std::memcpy(p, ptr, oldsize < size ? oldsize : size);
  self->used_ += size;
  self->blocks_.push_back({p, size});
  return p;
}

bool CheckedArena::CanariesIntact() const {
  for (const Block &b : blocks_) {
    for (size_t i = 0; i < kCanary; ++i) {
      if (b.data[b.size + i] != kCanaryByte) return false;
    }
  }
  return true;
}

}  // namespace upb_testing

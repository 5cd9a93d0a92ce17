// Test helpers for code that drives upb directly (upb_patches_test, fuzz/upb_fuzzer):
//
//  - Varint/Tag/Len/Var: protobuf wire pieces.
//  - Schema: a FileDescriptorSet (protoc --descriptor_set_out --include_imports) loaded into a
//    upb_symtab, with message layouts from a upb_msgfactory.
//  - CheckedArena: an allocator that upb_decode can use in place of a upb_arena and that gives
//    every allocation its own malloc block followed by a 16-byte canary. upb's real arena packs
//    allocations into large blocks, where AddressSanitizer cannot see a write that runs from one
//    message into the next; with this allocator ASan reports it, and CanariesIntact() catches a
//    short overrun even without ASan. It relies on upb 2019 reaching an arena's allocator only
//    through upb_arena_alloc(), a cast of the arena pointer to its first member, a upb_alloc
//    (upb.c: "This must be the first member of upb_arena!"); it is for tests and fuzzing only.
//    An optional byte limit makes allocations fail, to test out-of-memory paths.
#ifndef ATF_THIRD_PARTY_UPB_UPB_TESTING_H_
#define ATF_THIRD_PARTY_UPB_UPB_TESTING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "upb/def.h"
#include "upb/msg.h"
#include "upb/msgfactory.h"
#include "upb/upb.h"

namespace upb_testing {

// Protobuf wire pieces for hand-made inputs: a varint, a tag, a length-delimited field, a varint
// field.
std::string Varint(uint64_t v);
std::string Tag(uint32_t field, int wire_type);
std::string Len(uint32_t field, const std::string &body);
std::string Var(uint32_t field, uint64_t v);

class Schema {
 public:
  Schema(const unsigned char *descriptor_set, size_t size);
  ~Schema();
  Schema(const Schema &) = delete;
  Schema &operator=(const Schema &) = delete;

  // Empty when loading succeeded, else what failed.
  const std::string &error() const { return error_; }
  const upb_symtab *symtab() const { return symtab_; }
  // NULL when the message does not exist.
  const upb_msgdef *Message(const char *full_name) const;
  // The layout of a message (built on first use, as upb_msgfactory does).
  const upb_msglayout *Layout(const char *full_name);
  const upb_msglayout *Layout(const upb_msgdef *m);
  // The field's index in its message's layout (upb_fielddef_index); aborts if there is none.
  int Index(const char *message, const char *field) const;

 private:
  upb_symtab *symtab_ = nullptr;
  upb_msgfactory *factory_ = nullptr;
  std::string error_;
};

class CheckedArena {
 public:
  explicit CheckedArena(size_t limit = SIZE_MAX);
  ~CheckedArena();
  CheckedArena(const CheckedArena &) = delete;
  CheckedArena &operator=(const CheckedArena &) = delete;

  upb_arena *arena() { return reinterpret_cast<upb_arena *>(this); }
  bool CanariesIntact() const;
  size_t allocations() const { return blocks_.size(); }
  size_t refused() const { return refused_; }

 private:
  static void *Alloc(upb_alloc *alloc, void *ptr, size_t oldsize, size_t size);

  upb_alloc alloc_;  // must stay the first member (see above)
  size_t limit_;
  size_t used_ = 0;
  size_t refused_ = 0;
  struct Block {
    unsigned char *data;
    size_t size;
  };
  std::vector<Block> blocks_;
};

}  // namespace upb_testing

#endif  // ATF_THIRD_PARTY_UPB_UPB_TESTING_H_

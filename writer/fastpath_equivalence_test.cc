// The writer's reference encoding step (atf_encode_record_reference: convert + protobuf-c pack),
// the single-pass encoder in writer/fastpath, and the production step atf_encode_record (which
// routes calls and returns to the fast path) must produce identical bytes for every FunctionCall
// and FunctionReturn the writer can emit. Random records over all three architectures, values with
// zeros, negative thread ids, extreme timestamps, stack copies over the cap, sanitised symbols.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "writer/internal/encode.h"
#include "writer/internal/symtab.h"
#include "writer/testing/records.h"
#include "writer/fastpath/fast_encode.h"

namespace {

std::vector<const char *> Names(atf_arch arch, int kind) {
  std::vector<const char *> out;
  for (unsigned i = 0; i < atf_register_count(arch, kind); i++)
    out.push_back(atf_register_name(arch, kind, i));
  return out;
}

uint64_t RandomValue(std::mt19937_64 &rng) {
  switch (rng() % 5) {
    case 0:
      return 0;
    case 1:
      return rng() % 128;
    case 2:
      return UINT64_MAX;
    default:
      return rng() >> (rng() % 64);
  }
}

TEST(FastpathEquivalence, ByteIdenticalToReferenceStep) {
  std::mt19937_64 rng(42);
  const std::string symbols[] = {"",
                                 "main",
                                 "_ZN3foo3barEv",
                                 "bad\xff\xc0name",
                                 std::string(300, 'L'),
                                 std::string("nul\0in", 6)};
  for (atf_arch arch : {ATF_ARCH_X86_64, ATF_ARCH_ARM64, ATF_ARCH_UNKNOWN}) {
    atf_symtab *symtab = atf_symtab_new();
    std::vector<uint32_t> ids = {0};
    for (const std::string &s : symbols) {
      uint32_t id;
      uint64_t r;
      ASSERT_EQ(atf_symtab_intern(symtab, s.data(), s.size(), &id, &r), ATF_WRITER_OK);
      ids.push_back(id);
    }
    const uint32_t max_stack = 200;
    std::unique_ptr<atf_encoder> enc(new atf_encoder);
    atf_encoder_init(enc.get(), arch, "linux", symtab, max_stack);
    const std::vector<const char *> call = Names(arch, ATF_KIND_CALL);
    const std::vector<const char *> ret = Names(arch, ATF_KIND_RETURN);
    atf_fast_tables tables;
    ASSERT_EQ(atf_fast_tables_init(&tables, call.data(), static_cast<unsigned>(call.size()),
                                   ret.data(), static_cast<unsigned>(ret.size())),
              0);
    for (int i = 0; i < 3000; i++) {
      const bool is_call = rng() % 2;
      const unsigned max_regs = static_cast<unsigned>(is_call ? call.size() : ret.size());
      std::vector<uint64_t> regs(rng() % (max_regs + 1));
      for (auto &v : regs) v = RandomValue(rng);
      std::string stack;
      if (is_call && rng() % 3) stack.assign(rng() % 300, static_cast<char>(rng()));
      const int32_t tid = static_cast<int32_t>(rng() % 3 == 0 ? -static_cast<int32_t>(rng() % 1000)
                                                              : rng() % 100000);
      const uint64_t ts = RandomValue(rng);
      const uint64_t address = RandomValue(rng);
      const uint32_t sym = ids[rng() % ids.size()];
      const uint64_t event_id = RandomValue(rng);
      atf_test::Batch b;
      atf_ring_record *r = is_call ? b.Call(tid, ts, address, sym, regs, stack)
                                   : b.Return(tid, ts, address, sym, regs);
      uint64_t call_site = 0;
      if (is_call && rng() % 2) {  // a call site, of any varint length (0 included: none)
        call_site = RandomValue(rng);
        r->flags = ATF_RECORD_FLAG_CALL_SITE;
        r->value = static_cast<int32_t>(static_cast<uint32_t>(call_site));
        r->reserved = static_cast<uint32_t>(call_site >> 32);
      }

      std::vector<uint8_t> want(ATF_RECORD_MAX_SIZE * 4);
      const size_t n =
          atf_encode_record_reference(enc.get(), r, event_id, want.data(), want.size());
      ASSERT_LE(n, want.size());
      std::vector<uint8_t> production(want.size());
      int converted = 0;
      const size_t p = atf_encode_record(enc.get(), r, event_id, production.data(),
                                         production.size(), &converted);
      ASSERT_EQ(converted, 0) << "calls and returns take the fast path";
      ASSERT_EQ(std::vector<uint8_t>(production.begin(), production.begin() + p),
                std::vector<uint8_t>(want.begin(), want.begin() + n))
          << "production path, arch " << arch << " record " << i;

      const char *text = atf_symtab_get(symtab, sym);
      atf_fast_event e = {};
      e.kind = is_call ? ATF_FAST_CALL : ATF_FAST_RETURN;
      e.event_id = event_id;
      e.thread_id = tid;
      e.timestamp_ns = ts;
      e.symbol = reinterpret_cast<const uint8_t *>(text);
      e.symbol_len = std::strlen(text);
      e.address = address;
      e.regs = regs.data();
      e.reg_count = static_cast<unsigned>(regs.size());
      e.stack = reinterpret_cast<const uint8_t *>(stack.data());
      e.stack_len = std::min<size_t>(stack.size(), max_stack);
      e.call_site = call_site;
      std::vector<uint8_t> got(atf_fast_max_size(e.symbol_len, e.reg_count, e.stack_len));
      const size_t m = atf_fast_encode(&tables, &e, got.data());
      ASSERT_EQ(std::vector<uint8_t>(got.begin(), got.begin() + m),
                std::vector<uint8_t>(want.begin(), want.begin() + n))
          << "arch " << arch << " record " << i;
    }
    atf_symtab_free(symtab);
  }
}

}  // namespace

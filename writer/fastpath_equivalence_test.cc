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
#include "writer/testing/session.h"
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

// The writer's file, event by event, equals the reference step (convert + protobuf-c pack) of the
// same records with the same event ids: through atf_writer_write (records checked once, before the
// walk) and atf_writer_append (checked in the walk), with a 64 KiB buffer so that many events land
// at a buffer's end, where the hot path finds no room and the event goes to a fresh buffer. A long
// stream on one encoder: the cached thread id, seconds and event-id fields change under it.
TEST(FastpathEquivalence, WriterFileEqualsReferenceStepAcrossBufferEnds) {
  const std::string symbols[] = {"main", "_ZN3foo3barEv", "bad\xff\xc0name", std::string(300, 'L')};
  const uint32_t max_stack = 200;
  for (int append = 0; append < 2; ++append) {
    const std::string root = atf_test::MakeTempDir(append ? "equiv_append" : "equiv_write");
    atf_writer_options o;
    atf_writer_options_init(&o);
    o.output_root = root.c_str();
    o.buffer_bytes = 64 << 10;
    o.arch = ATF_ARCH_X86_64;
    o.os = ATF_OS_LINUX;
    o.collect_modules = 0;
    o.max_stack_bytes = max_stack;
    atf_writer *w = nullptr;
    ASSERT_EQ(atf_writer_open(&o, &w), ATF_WRITER_OK);
    atf_symtab *symtab = atf_symtab_new();
    std::vector<uint32_t> ids = {0};
    for (const std::string &s : symbols) {
      uint32_t id, mirror;
      uint64_t r;
      ASSERT_EQ(atf_writer_intern_symbol(w, s.data(), s.size(), &id), ATF_WRITER_OK);
      ASSERT_EQ(atf_symtab_intern(symtab, s.data(), s.size(), &mirror, &r), ATF_WRITER_OK);
      ASSERT_EQ(id, mirror);
      ids.push_back(id);
    }
    std::mt19937_64 rng(1234 + append);
    std::vector<std::vector<uint8_t>> records;  // every non-PAD record, in order
    uint64_t ts = 1767225599999990000ull;       // a second boundary within the first events
    for (int batch = 0; batch < 60; ++batch) {
      atf_test::Batch b;
      const int n = 1 + static_cast<int>(rng() % 400);
      for (int i = 0; i < n; ++i) {
        ts += rng() % 4 == 0 ? rng() % 3000000000u : rng() % 100;
        const int32_t tid = static_cast<int32_t>(rng() % 8 == 0 ? rng() : 4242 + rng() % 2);
        const uint32_t sym = ids[rng() % ids.size()];
        const unsigned kind = static_cast<unsigned>(rng() % 100);
        std::vector<uint64_t> regs;
        if (kind < 48) {
          regs.resize(rng() % 7);
          for (auto &v : regs) v = RandomValue(rng);
          std::string stack(rng() % 4 == 0 ? rng() % 300 : 128, static_cast<char>(rng()));
          b.Call(tid, ts, RandomValue(rng), sym, regs, stack);
        } else if (kind < 96) {
          regs.resize(rng() % 3);
          for (auto &v : regs) v = RandomValue(rng);
          b.Return(tid, ts, RandomValue(rng), sym, regs);
        } else if (kind < 98) {
          regs.resize(18);
          for (auto &v : regs) v = RandomValue(rng);
          b.Signal(tid, ts, 10, regs);
        } else {
          b.Pad(48);
        }
      }
      const uint8_t *p = static_cast<const uint8_t *>(b.data());
      for (size_t off = 0; off < b.size();) {
        const auto *r = reinterpret_cast<const atf_ring_record *>(p + off);
        if (r->kind != ATF_KIND_PAD) records.emplace_back(p + off, p + off + r->size);
        off += r->size;
      }
      if (append) {
        uint64_t events = 0;
        ASSERT_EQ(atf_writer_append(w, b.data(), b.size(), &events), ATF_WRITER_OK);
      } else {
        ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_WRITER_OK);
      }
    }
    ASSERT_EQ(atf_writer_finalize(w, 0), ATF_WRITER_OK);
    const std::string file =
        atf_test::ReadFile(std::string(atf_writer_session_dir(w)) + "/events.bin");
    atf_writer_close(w);
    std::vector<std::string> frames;
    size_t complete = 0;
    ASSERT_TRUE(atf_test::SplitFraming(file, &frames, &complete));
    ASSERT_EQ(frames.size(), records.size() + 2);  // TraceStart, the records, TraceEnd
    ASSERT_GT(file.size(), 20u * (64u << 10)) << "the stream crosses many buffer ends";

    std::unique_ptr<atf_encoder> enc(new atf_encoder);
    atf_encoder_init(enc.get(), ATF_ARCH_X86_64, "linux", symtab, max_stack);
    std::vector<uint8_t> want(ATF_RECORD_MAX_SIZE * 4);
    std::vector<std::string> framed_record;
    for (size_t i = 0; i < records.size(); ++i) {
      const auto *r = reinterpret_cast<const atf_ring_record *>(records[i].data());
      const uint64_t id = ATF_WRITER_FIRST_EVENT_ID + 1 + i;  // TraceStart has the first id
      const size_t n = atf_encode_record_reference(enc.get(), r, id, want.data(), want.size());
      ASSERT_LE(n, want.size());
      // SplitFraming's records are the bodies: drop the reference's length prefix.
      std::vector<std::string> one;
      size_t c = 0;
      ASSERT_TRUE(atf_test::SplitFraming(std::string(want.begin(), want.begin() + n), &one, &c));
      ASSERT_EQ(one.size(), 1u);
      ASSERT_EQ(frames[i + 1], one[0]) << (append ? "append" : "write") << ", record " << i
                                       << " kind " << static_cast<int>(r->kind);
    }
    atf_symtab_free(symtab);
  }
}

}  // namespace

// ns/event of the write path against protobuf-c packing alone.
//   bazel run -c opt //writer:write_benchmark
// Workload: alternating FunctionCall (6 registers, 64-byte stack copy) and FunctionReturn
// (2 registers) records, x86_64, one 12-byte symbol. Each figure is the median of 11 runs.
//   pack        get_packed_size + pack of one already converted Event (protobuf-c alone)
//   encode      atf_encode_record, the writer's per-event step (the fast path for these records)
//   write/null  atf_writer_write with file operations that discard the bytes (no syscalls)
//   write/file  atf_writer_write + flush to a real events.bin under $TMPDIR (write(2) per 1 MiB)
//   fastpath    writer/fastpath's single-pass encoder alone on the same records (what
//               atf_encode_record uses for calls and returns)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "writer/atf/file_ops.h"
#include "writer/atf/writer.h"
#include "writer/internal/encode.h"
#include "writer/internal/symtab.h"
#include "writer/fastpath/fast_encode.h"

namespace {

constexpr int kRecords = 1 << 16;
constexpr int kRuns = 11;

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::vector<uint64_t> MakeBatch(uint32_t symbol) {
  std::vector<uint64_t> words;
  for (int i = 0; i < kRecords; i++) {
    const bool call = i % 2 == 0;
    const unsigned regs = call ? 6 : 2, stack = call ? 64 : 0;
    const size_t size = atf_record_size(regs, stack);
    const size_t at = words.size();
    words.resize(at + size / 8, 0);
    auto *r = reinterpret_cast<atf_ring_record *>(&words[at]);
    r->size = static_cast<uint16_t>(size);
    r->kind = call ? ATF_KIND_CALL : ATF_KIND_RETURN;
    r->reg_count = static_cast<uint8_t>(regs);
    r->stack_len = static_cast<uint16_t>(stack);
    r->thread_id = 12345;
    r->timestamp_ns = 1700000000000000000ull + 150ull * i;
    r->address = 0x55555555a000ull + 16 * (i % 64);
    r->symbol_id = symbol;
    for (unsigned k = 0; k < regs; k++) atf_record_regs(r)[k] = 0x7ffd00000000ull + i * 8 + k;
    memset(atf_record_stack(r), 0x5a, stack);
  }
  return words;
}

// File operations that accept every write and touch nothing.
ssize_t NullWrite(void *, int, const void *, size_t len) { return static_cast<ssize_t>(len); }
int NullFsync(void *, int) { return 0; }

}  // namespace

int main() {
  atf_symtab *symtab = atf_symtab_new();
  uint32_t sym;
  uint64_t repl;
  if (atf_symtab_intern(symtab, "_Z7computei", 11, &sym, &repl) != ATF_WRITER_OK) return 1;
  const std::vector<uint64_t> batch = MakeBatch(sym);
  std::vector<uint8_t> out(64u << 20);
  auto *enc = new atf_encoder;
  atf_encoder_init(enc, ATF_ARCH_X86_64, "linux", symtab, 256);

  std::vector<const char *> call_names, ret_names;
  for (unsigned i = 0; i < atf_register_count(ATF_ARCH_X86_64, ATF_KIND_CALL); i++) {
    call_names.push_back(atf_register_name(ATF_ARCH_X86_64, ATF_KIND_CALL, i));
  }
  for (unsigned i = 0; i < atf_register_count(ATF_ARCH_X86_64, ATF_KIND_RETURN); i++) {
    ret_names.push_back(atf_register_name(ATF_ARCH_X86_64, ATF_KIND_RETURN, i));
  }
  atf_fast_tables tables;
  if (atf_fast_tables_init(&tables, call_names.data(), static_cast<unsigned>(call_names.size()),
                           ret_names.data(), static_cast<unsigned>(ret_names.size())) != 0) {
    return 1;
  }
  const char *symbol_text = atf_symtab_get(symtab, sym);

  std::vector<double> pack, encode, write_null, write_file, fast;
  size_t fast_bytes = 0;
  size_t total_bytes = 0;
  for (int run = 0; run < kRuns; run++) {
    // pack: the protobuf-c baseline, on the converted first call and first return.
    const auto *first = reinterpret_cast<const atf_ring_record *>(batch.data());
    const auto *second = reinterpret_cast<const atf_ring_record *>(
        reinterpret_cast<const uint8_t *>(batch.data()) + first->size);
    atf_encoder *e2 = new atf_encoder;
    atf_encoder_init(e2, ATF_ARCH_X86_64, "linux", symtab, 256);
    int conv;
    atf_encode_record(enc, first, 1, out.data(), out.size(), &conv);
    atf_encode_record(e2, second, 2, out.data(), out.size(), &conv);
    double t0 = Now();
    size_t off = 0;
    for (int i = 0; i < kRecords; i++) {
      const Atf__V4__Event *ev = i % 2 ? &e2->scratch.event : &enc->scratch.event;
      size_t n = atf__v4__event__get_packed_size(ev);
      off += atf__v4__event__pack(ev, out.data() + off);
      (void)n;
    }
    pack.push_back((Now() - t0) / kRecords);
    delete e2;

    // encode: the per-event step of the writer.
    t0 = Now();
    off = 0;
    const uint8_t *p = reinterpret_cast<const uint8_t *>(batch.data());
    for (int i = 0; i < kRecords; i++) {
      const auto *r = reinterpret_cast<const atf_ring_record *>(p);
      int conv;
      off += atf_encode_record(enc, r, i + 1, out.data() + off, out.size() - off, &conv);
      p += r->size;
    }
    encode.push_back((Now() - t0) / kRecords);
    total_bytes = off;

    // fastpath: the same records through the single-pass encoder.
    t0 = Now();
    off = 0;
    p = reinterpret_cast<const uint8_t *>(batch.data());
    for (int i = 0; i < kRecords; i++) {
      const auto *r = reinterpret_cast<const atf_ring_record *>(p);
      atf_fast_event e;
      e.kind = r->kind == ATF_KIND_CALL ? ATF_FAST_CALL : ATF_FAST_RETURN;
      e.event_id = static_cast<uint64_t>(i) + 1;
      e.thread_id = r->thread_id;
      e.timestamp_ns = r->timestamp_ns;
      e.symbol = reinterpret_cast<const uint8_t *>(symbol_text);
      e.symbol_len = 11;
      e.address = r->address;
      e.regs = atf_record_regs_const(r);
      e.reg_count = r->reg_count;
      e.stack = atf_record_stack_const(r);
      e.stack_len = r->stack_len;
      off += atf_fast_encode(&tables, &e, out.data() + off);
      p += r->size;
    }
    fast.push_back((Now() - t0) / kRecords);
    fast_bytes = off;

    // write/null and write/file: the whole write path.
    for (int to_file = 0; to_file < 2; to_file++) {
      atf_file_ops null_ops = *atf_file_ops_posix();
      null_ops.write = NullWrite;
      null_ops.fsync = NullFsync;
      const char *tmp = getenv("TMPDIR");
      std::string root = std::string(tmp ? tmp : "/tmp") + "/atf_bench_" + std::to_string(getpid());
      atf_writer_options o;
      atf_writer_options_init(&o);
      o.output_root = root.c_str();
      std::string label = "run" + std::to_string(run) + "_" + std::to_string(to_file);
      o.session_label = label.c_str();
      o.collect_modules = 0;
      o.arch = ATF_ARCH_X86_64;
      if (!to_file) o.file_ops = &null_ops;
      atf_writer *w = nullptr;
      if (atf_writer_open(&o, &w) != ATF_WRITER_OK) {
        fprintf(stderr, "open failed\n");
        return 1;
      }
      uint32_t id;
      atf_writer_intern_symbol(w, "_Z7computei", 11, &id);
      t0 = Now();
      if (atf_writer_write(w, batch.data(), batch.size() * 8) != ATF_WRITER_OK) return 1;
      if (atf_writer_flush(w) != ATF_WRITER_OK)
        return 1;  // includes the last drain (+ one fsync for file)
      (to_file ? write_file : write_null).push_back((Now() - t0) / kRecords);
      std::string events = std::string(atf_writer_session_dir(w)) + "/events.bin";
      atf_writer_close(w);
      unlink(events.c_str());
    }
  }
  printf(
      "records: %d (half FunctionCall 6 regs + 64 B stack, half FunctionReturn 2 regs), "
      "%.1f bytes/event framed\n",
      kRecords, static_cast<double>(total_bytes) / kRecords);
  printf("median of %d runs, ns/event:\n", kRuns);
  printf("  protobuf-c get_packed_size+pack alone  %6.1f\n", Median(pack));
  printf("  atf_encode_record (the per-event step) %6.1f\n", Median(encode));
  printf("  atf_writer_write, discarding file ops  %6.1f\n", Median(write_null));
  printf("  atf_writer_write + flush to events.bin %6.1f\n", Median(write_file));
  printf("  writer/fastpath atf_fast_encode        %6.1f  (%s output)\n", Median(fast),
         fast_bytes == total_bytes ? "same-size" : "DIFFERENT-size");
  delete enc;
  atf_symtab_free(symtab);
  return 0;
}

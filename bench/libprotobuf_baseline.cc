// Google's C++ protobuf over the standard mix: one reused Event filled per event and serialized
// into a buffer, no I/O. Maps are cleared and refilled per event, as an application would.
#include <cstdlib>
#include <string>

#include "atf_v4.pb.h"
#include "bench/baselines.h"

extern "C" uint64_t bench_libprotobuf(const bench_mix *m, uint64_t *sink) {
  constexpr size_t kBuf = 1u << 20;
  std::string buf(kBuf, '\0');
  uint8_t *out = reinterpret_cast<uint8_t *>(&buf[0]);
  size_t used = 0;
  uint64_t sum = 0;
  atf::v4::Event ev;
  const uint64_t t0 = bench_now_ns();
  for (size_t i = 0; i < m->events; ++i) {
    const atf_ring_record *r = bench_mix_record(m, i);
    const uint64_t *regs = atf_record_regs_const(r);
    ev.set_event_id(i + 1);
    ev.set_thread_id(r->thread_id);
    ev.mutable_timestamp()->set_seconds(static_cast<int64_t>(r->timestamp_ns / 1000000000u));
    ev.mutable_timestamp()->set_nanos(static_cast<int32_t>(r->timestamp_ns % 1000000000u));
    switch (r->kind) {
      case ATF_KIND_CALL: {
        auto *c = ev.mutable_function_call();
        c->set_symbol(m->symbols[r->symbol_id - 1]);
        c->set_address(r->address);
        auto *map = c->mutable_argument_registers();
        map->clear();
        for (unsigned k = 0; k < r->reg_count; ++k) (*map)[bench_call_regs[k]] = regs[k];
        c->set_stack_shallow_copy(atf_record_stack_const(r), r->stack_len);
        break;
      }
      case ATF_KIND_RETURN: {
        auto *x = ev.mutable_function_return();
        x->set_symbol(m->symbols[r->symbol_id - 1]);
        x->set_address(r->address);
        auto *map = x->mutable_return_registers();
        map->clear();
        for (unsigned k = 0; k < r->reg_count; ++k) (*map)[bench_return_regs[k]] = regs[k];
        break;
      }
      case ATF_KIND_SIGNAL: {
        auto *s = ev.mutable_signal_delivery();
        s->set_number(r->value);
        s->set_name("SIGUSR1");
        auto *map = s->mutable_registers();
        map->clear();
        for (unsigned k = 0; k < r->reg_count; ++k) (*map)[bench_signal_regs[k]] = regs[k];
        break;
      }
      default:
        ev.mutable_trace_end()->set_exit_code(r->value);
        break;
    }
    const size_t n = ev.ByteSizeLong();
    if (used + n + 10 > kBuf) {
      sum += out[used - 1];
      used = 0;
    }
    uint64_t len = n;
    while (len >= 0x80) {
      out[used++] = static_cast<uint8_t>(len | 0x80);
      len >>= 7;
    }
    out[used++] = static_cast<uint8_t>(len);
    // What SerializeToArray() does after its own ByteSizeLong(), without computing sizes twice.
    ev.SerializeWithCachedSizesToArray(out + used);
    used += n;
  }
  const uint64_t t1 = bench_now_ns();
  *sink += sum + used;
  return t1 - t0;
}

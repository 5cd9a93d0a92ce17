/* The baselines of bench/baselines.h. The protobuf-c conversion here is the bench's own, written
 * the straightforward way a tracer would (not the writer's), so the writer is compared with what
 * one gets without it. */
#define _GNU_SOURCE
#include "bench/baselines.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atf_v4.pb-c.h"

#define BUF_BYTES (1u << 20)

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct raw_record { /* the raw binary format's fixed record: 208 bytes */
  uint32_t kind;
  int32_t thread_id;
  uint64_t timestamp_ns;
  uint64_t address;
  uint32_t symbol_id;
  uint32_t reg_count;
  uint64_t regs[6];
  uint8_t stack[BENCH_STACK_BYTES];
} raw_record;

uint64_t bench_raw_copy(const bench_mix *m, uint64_t *sink) {
  uint8_t *buf = malloc(BUF_BYTES);
  if (!buf) return 0;
  size_t used = 0;
  uint64_t sum = 0;
  const uint64_t t0 = bench_now_ns();
  for (size_t i = 0; i < m->events; ++i) {
    const atf_ring_record *r = bench_mix_record(m, i);
    if (used + sizeof(raw_record) > BUF_BYTES) {
      sum += buf[used - 1];
      used = 0;
    }
    raw_record *out = (raw_record *)(buf + used);
    out->kind = r->kind;
    out->thread_id = r->thread_id;
    out->timestamp_ns = r->timestamp_ns;
    out->address = r->address;
    out->symbol_id = r->symbol_id;
    unsigned n = r->reg_count < 6 ? r->reg_count : 6;
    out->reg_count = n;
    memcpy(out->regs, atf_record_regs_const(r), 8u * n);
    unsigned s = r->stack_len < BENCH_STACK_BYTES ? r->stack_len : BENCH_STACK_BYTES;
    memcpy(out->stack, atf_record_stack_const(r), s);
    used += sizeof(raw_record);
  }
  const uint64_t t1 = bench_now_ns();
  *sink += sum + used;
  free(buf);
  return t1 - t0;
}

/* Reusable protobuf-c structs for one event. */
typedef struct pbc_event {
  Atf__V4__Event ev;
  Google__Protobuf__Timestamp ts;
  Atf__V4__FunctionCall call;
  Atf__V4__FunctionReturn ret;
  Atf__V4__SignalDelivery sig;
  Atf__V4__TraceEnd end;
  Atf__V4__FunctionCall__ArgumentRegistersEntry call_e[6], *call_p[6];
  Atf__V4__FunctionReturn__ReturnRegistersEntry ret_e[1], *ret_p[1];
  Atf__V4__SignalDelivery__RegistersEntry sig_e[18], *sig_p[18];
} pbc_event;

static void pbc_init(pbc_event *p) {
  atf__v4__event__init(&p->ev);
  google__protobuf__timestamp__init(&p->ts);
  atf__v4__function_call__init(&p->call);
  atf__v4__function_return__init(&p->ret);
  atf__v4__signal_delivery__init(&p->sig);
  atf__v4__trace_end__init(&p->end);
  for (int i = 0; i < 6; ++i) {
    atf__v4__function_call__argument_registers_entry__init(&p->call_e[i]);
    p->call_e[i].key = (char *)bench_call_regs[i];
    p->call_p[i] = &p->call_e[i];
  }
  atf__v4__function_return__return_registers_entry__init(&p->ret_e[0]);
  p->ret_e[0].key = (char *)bench_return_regs[0];
  p->ret_p[0] = &p->ret_e[0];
  for (int i = 0; i < 18; ++i) {
    atf__v4__signal_delivery__registers_entry__init(&p->sig_e[i]);
    p->sig_e[i].key = (char *)bench_signal_regs[i];
    p->sig_p[i] = &p->sig_e[i];
  }
  p->ev.timestamp = &p->ts;
  p->call.argument_registers = p->call_p;
  p->ret.return_registers = p->ret_p;
  p->sig.registers = p->sig_p;
  p->sig.name = (char *)"SIGUSR1";
}

static void pbc_fill(pbc_event *p, const bench_mix *m, const atf_ring_record *r, uint64_t id) {
  const uint64_t *regs = atf_record_regs_const(r);
  p->ev.event_id = id;
  p->ev.thread_id = r->thread_id;
  p->ts.seconds = (int64_t)(r->timestamp_ns / 1000000000u);
  p->ts.nanos = (int32_t)(r->timestamp_ns % 1000000000u);
  switch (r->kind) {
    case ATF_KIND_CALL:
      p->call.symbol = (char *)m->symbols[r->symbol_id - 1];
      p->call.address = r->address;
      p->call.n_argument_registers = r->reg_count;
      for (unsigned i = 0; i < r->reg_count; ++i) p->call_e[i].value = regs[i];
      p->call.stack_shallow_copy.data = (uint8_t *)atf_record_stack_const(r);
      p->call.stack_shallow_copy.len = r->stack_len;
      p->ev.payload_case = ATF__V4__EVENT__PAYLOAD_FUNCTION_CALL;
      p->ev.function_call = &p->call;
      break;
    case ATF_KIND_RETURN:
      p->ret.symbol = (char *)m->symbols[r->symbol_id - 1];
      p->ret.address = r->address;
      p->ret.n_return_registers = r->reg_count;
      for (unsigned i = 0; i < r->reg_count; ++i) p->ret_e[i].value = regs[i];
      p->ev.payload_case = ATF__V4__EVENT__PAYLOAD_FUNCTION_RETURN;
      p->ev.function_return = &p->ret;
      break;
    case ATF_KIND_SIGNAL:
      p->sig.number = r->value;
      p->sig.n_registers = r->reg_count;
      for (unsigned i = 0; i < r->reg_count; ++i) p->sig_e[i].value = regs[i];
      p->ev.payload_case = ATF__V4__EVENT__PAYLOAD_SIGNAL_DELIVERY;
      p->ev.signal_delivery = &p->sig;
      break;
    default:
      p->end.exit_code = r->value;
      p->ev.payload_case = ATF__V4__EVENT__PAYLOAD_TRACE_END;
      p->ev.trace_end = &p->end;
      break;
  }
}

static size_t put_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

uint64_t bench_protobuf_c_pack(const bench_mix *m, uint64_t *sink) {
  uint8_t *buf = malloc(BUF_BYTES);
  pbc_event *p = malloc(sizeof *p);
  if (!buf || !p) {
    free(buf);
    free(p);
    return 0;
  }
  pbc_init(p);
  size_t used = 0;
  uint64_t sum = 0;
  const uint64_t t0 = bench_now_ns();
  for (size_t i = 0; i < m->events; ++i) {
    pbc_fill(p, m, bench_mix_record(m, i), i + 1);
    size_t n = atf__v4__event__get_packed_size(&p->ev);
    if (used + n + 10 > BUF_BYTES) {
      sum += buf[used - 1];
      used = 0;
    }
    used += put_varint(buf + used, n);
    used += atf__v4__event__pack(&p->ev, buf + used);
  }
  const uint64_t t1 = bench_now_ns();
  *sink += sum + used;
  free(buf);
  free(p);
  return t1 - t0;
}

uint64_t bench_encoded_bytes(const bench_mix *m) {
  pbc_event *p = malloc(sizeof *p);
  if (!p) return 0;
  pbc_init(p);
  uint8_t tmp[10];
  uint64_t total = 0;
  for (size_t i = 0; i < m->events; ++i) {
    pbc_fill(p, m, bench_mix_record(m, i), i + 1);
    size_t n = atf__v4__event__get_packed_size(&p->ev);
    total += n + put_varint(tmp, n);
  }
  free(p);
  return total;
}

uint64_t bench_original_v4(const bench_mix *m, size_t events, const char *path, uint64_t *sink) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  pbc_event *p = malloc(sizeof *p);
  if (!p) {
    close(fd);
    return 0;
  }
  pbc_init(p);
  if (events > m->events) events = m->events;
  uint64_t ok = 1;
  const uint64_t t0 = bench_now_ns();
  for (size_t i = 0; i < events; ++i) {
    pbc_fill(p, m, bench_mix_record(m, i), i + 1);
    size_t n = atf__v4__event__get_packed_size(&p->ev);
    uint8_t *msg = malloc(n);
    if (!msg) {
      ok = 0;
      break;
    }
    atf__v4__event__pack(&p->ev, msg);
    uint8_t len[10];
    size_t ln = put_varint(len, n);
    if (write(fd, len, ln) != (ssize_t)ln || write(fd, msg, n) != (ssize_t)n) ok = 0;
    free(msg);
  }
  const uint64_t t1 = bench_now_ns();
  *sink += ok;
  close(fd);
  unlink(path);
  free(p);
  return ok ? t1 - t0 : 0;
}

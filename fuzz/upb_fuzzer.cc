// Fuzz target: upb (third_party/upb, as patched) and the validator's upb engine on hostile bytes.
//
// The input is used whole, three ways:
//   1. upb itself: decoded as upbtest.Outer and upbtest.WithMap (third_party/upb/testdata: groups,
//      a oneof, a map, packed fields), as atf.v4.Event under the real schema (its oneof and maps)
//      and as google.protobuf.FileDescriptorSet (upb's generated layout), every allocation in its
//      own malloc block with a canary (upb_testing::CheckedArena), so ASan sees writes that would
//      stay inside one of upb's arena blocks. Asserted: canaries intact; upb_decode and
//      upb_decode_ex agree; a failure's error_at and every field handed to the unknown-field
//      handler lie inside the input, tags well-formed; every string of a decoded message points
//      inside the input.
//   2. the engine: the input as one record body, decoded by the upb engine and by the nanopb
//      engine: same verdict, rule, offset and values (validator/testing/engine_compare.h).
//   3. the engine on the input as an events.bin: the same for every complete record.
//   4. the input as an events.bin through the validator's public option, engine "both"
//      (atf_validate_options.engine): no record yields engine.disagree, and the report's verdict
//      and error count are those of the nanopb engine alone.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "atf_v4_descriptor_set.h"
#include "fuzz/event_decoders.h"
#include "third_party/upb/upb_testing.h"
#include "upb/decode.h"
#include "upb/def.h"
#include "upb_patches_test_descriptor_set.h"
#include "validator/atf/validate.h"
#include "validator/internal/upb_engine.h"
#include "validator/testing/engine_compare.h"
extern "C" {
#include "upb/legacy_msg_reflection.h"
}

namespace {

using upb_testing::CheckedArena;
using upb_testing::Schema;

struct Raw {
  Schema test{upb_patches_test_descriptor_set, upb_patches_test_descriptor_set_size};
  Schema atf{atf_v4_descriptor_set, atf_v4_descriptor_set_size};
};

Raw &RawSchemas() {
  static Raw *raw = [] {
    Raw *r = new Raw;
    ATF_FUZZ_CHECK(r->test.error().empty() && r->atf.error().empty());
    return r;
  }();
  return *raw;
}

struct Input {
  const char *begin;
  const char *end;
  bool Inside(const char *p, size_t n) const {
    return n == 0 || (p >= begin && p <= end && n <= size_t(end - p));
  }
};

// Every string and bytes value of a decoded message (and its submessages) lies inside the input.
void CheckStrings(const Input &in, const upb_msg *msg, const upb_msgdef *m, Schema *s, int depth) {
  ATF_FUZZ_CHECK(depth < 100);
  const upb_msglayout *l = s->Layout(m);
  upb_msg_field_iter it;
  for (upb_msg_field_begin(&it, m); !upb_msg_field_done(&it); upb_msg_field_next(&it)) {
    const upb_fielddef *f = upb_msg_iter_field(&it);
    const int index = static_cast<int>(upb_fielddef_index(f));
    const upb_fieldtype_t type = upb_fielddef_type(f);
    const bool text = type == UPB_TYPE_STRING || type == UPB_TYPE_BYTES;
    const bool sub = type == UPB_TYPE_MESSAGE;
    if (!text && !sub) continue;
    const upb_msgval v = upb_msg_get(msg, index, l);
    if (upb_fielddef_isseq(f)) {
      if (v.arr == nullptr) continue;
      for (size_t i = 0; i < upb_array_size(v.arr); ++i) {
        const upb_msgval e = upb_array_get(v.arr, type, i);
        if (text) ATF_FUZZ_CHECK(in.Inside(e.str.data, e.str.size));
        if (sub) CheckStrings(in, e.msg, upb_fielddef_msgsubdef(f), s, depth + 1);
      }
    } else if (text) {
      ATF_FUZZ_CHECK(in.Inside(v.str.data, v.str.size));
    } else if (v.msg != nullptr && upb_fielddef_containingoneof(f) == nullptr) {
      CheckStrings(in, v.msg, upb_fielddef_msgsubdef(f), s, depth + 1);
    } else if (v.msg != nullptr && upb_msg_has(msg, index, l)) {  // the oneof's member that is set
      CheckStrings(in, v.msg, upb_fielddef_msgsubdef(f), s, depth + 1);
    }
  }
}

bool CheckUnknown(void *ctx, const upb_msglayout *l, uint32_t tag, const char *start,
                  const char *end) {
  const Input *in = static_cast<const Input *>(ctx);
  ATF_FUZZ_CHECK(l != nullptr);
  ATF_FUZZ_CHECK(start >= in->begin && start < end && end <= in->end);
  ATF_FUZZ_CHECK((tag >> 3) != 0 && (tag & 7) != 4 && (tag & 7) <= 5);
  return true;
}

void DecodeRaw(const Input &in, Schema *s, const upb_msgdef *m, const upb_msglayout *l) {
  const size_t size = static_cast<size_t>(in.end - in.begin);
  bool plain;
  {
    CheckedArena arena;
    upb_msg *msg = upb_msg_new(l, arena.arena());
    plain = upb_decode(in.begin, size, msg, l, arena.arena());
    ATF_FUZZ_CHECK(arena.CanariesIntact());
    if (plain && m != nullptr) CheckStrings(in, msg, m, s, 0);
  }
  CheckedArena arena;
  upb_msg *msg = upb_msg_new(l, arena.arena());
  upb_decodeopts opts = {CheckUnknown, const_cast<Input *>(&in), nullptr};
  const bool ex = upb_decode_ex(in.begin, size, msg, l, arena.arena(), &opts);
  ATF_FUZZ_CHECK(arena.CanariesIntact());
  ATF_FUZZ_CHECK(ex == plain);
  if (ex) {
    ATF_FUZZ_CHECK(opts.error_at == nullptr);
  } else {
    ATF_FUZZ_CHECK(opts.error_at >= in.begin && opts.error_at < in.end);
  }
}

void CheckRawUpb(const uint8_t *data, size_t size) {
  Raw &raw = RawSchemas();
  const Input in{reinterpret_cast<const char *>(data), reinterpret_cast<const char *>(data) + size};
  for (const char *name : {"upbtest.Outer", "upbtest.WithMap"}) {
    const upb_msgdef *m = raw.test.Message(name);
    DecodeRaw(in, &raw.test, m, raw.test.Layout(m));
  }
  const upb_msgdef *event = raw.atf.Message("atf.v4.Event");
  DecodeRaw(in, &raw.atf, event, raw.atf.Layout(event));
  DecodeRaw(in, nullptr, nullptr, &google_protobuf_FileDescriptorSet_msginit);
}

atf_upb_engine *Engine() {
  static atf_upb_engine *e = [] {
    atf_upb_engine *engine = atf_upb_engine_new(0);
    if (engine == nullptr) atf_fuzz::Fail(__FILE__, __LINE__, "upb engine: cannot load the schema");
    return engine;
  }();
  return e;
}

void Compare(const uint8_t *input, size_t input_len, uint64_t off, uint64_t len) {
  const atf_test::EngineResult nanopb = atf_test::DecodeNanopb(input, input_len, off, len);
  const atf_test::EngineResult upb = atf_test::DecodeUpb(Engine(), input, off, len);
  const std::string diff = nanopb.Diff(upb);
  if (!diff.empty()) atf_fuzz::Fail(__FILE__, __LINE__, "nanopb and upb engines differ:\n" + diff);
  ATF_FUZZ_CHECK(upb.ok || upb.rule != ATF_UPB_RULE_LIMIT);  // no fuzz input is that large
}

// 4. (see the top): engine "both" through atf_validate_buffers.
void CheckEngineBoth(const uint8_t *data, size_t size) {
  atf_validate_report reports[2];
  const atf_validate_engine engines[2] = {ATF_VALIDATE_ENGINE_BOTH, ATF_VALIDATE_ENGINE_NANOPB};
  for (int i = 0; i < 2; ++i) {
    atf_validate_options opt;
    atf_validate_options_init(&opt);
    opt.engine = engines[i];
    opt.max_errors = ATF_VALIDATE_MAX_ERRORS;  // every error kept: a disagreement cannot hide
    opt.max_record_size = 1 << 20;
    if (atf_validate_buffers(data, size, nullptr, 0, &opt, &reports[i]) != ATF_VALIDATE_OK) {
      atf_fuzz::Fail(__FILE__, __LINE__, "atf_validate_buffers failed");
    }
  }
  for (size_t i = 0; i < reports[0].errors_len; ++i) {
    if (std::string(reports[0].errors[i].rule) == "engine.disagree") {
      atf_fuzz::Fail(__FILE__, __LINE__, reports[0].errors[i].message);
    }
  }
  if (reports[0].valid != reports[1].valid || reports[0].error_count != reports[1].error_count ||
      reports[0].records != reports[1].records) {
    atf_fuzz::Fail(__FILE__, __LINE__, "engine both and engine nanopb give different reports");
  }
  atf_validate_report_free(&reports[0]);
  atf_validate_report_free(&reports[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  CheckRawUpb(data, size);
  Compare(data, size, 0, size);
  atf_test::ForEachRecord(std::string(reinterpret_cast<const char *>(data), size),
                          [&](uint64_t off, uint64_t len) { Compare(data, size, off, len); });
  CheckEngineBoth(data, size);
  return 0;
}

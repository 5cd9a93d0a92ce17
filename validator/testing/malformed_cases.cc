#include "validator/testing/malformed_cases.h"

#include "validator/testing/session_builder.h"

namespace atf_test {
namespace {

using atf::v4::Event;

// Event fields without a payload: event_id, thread_id, timestamp.
std::string Header(uint64_t id, int32_t tid, uint64_t ns) {
  Event e = Start(id, ns);
  e.set_thread_id(tid);
  e.clear_trace_start();
  return Serialize(e);
}

std::string StartFrame() { return Frame(Serialize(Start(0, kBaseNs))); }
std::string EndFrame(uint64_t id) { return Frame(Serialize(End(id, kBaseNs + 1000000))); }

// A session whose record 1 is `body`, between a valid start and end.
std::string Around(const std::string &body) { return StartFrame() + Frame(body) + EndFrame(2); }

// A session from events, event ids and times as given.
std::string Session(const std::vector<Event> &events) { return Frames(events); }

MalformedCase EventsCase(std::string name, std::string rule, std::string description,
                         std::string events) {
  MalformedCase c;
  c.name = std::move(name);
  c.rule = std::move(rule);
  c.description = std::move(description);
  c.events = std::move(events);
  return c;
}

MalformedCase ManifestCase(std::string name, std::string rule, std::string description,
                           std::string manifest) {
  MalformedCase c = EventsCase(std::move(name), std::move(rule), std::move(description),
                               Frames(SampleSession(1)));
  c.has_manifest = true;
  c.manifest = std::move(manifest);
  return c;
}

// The sample session's manifest with one textual substitution.
std::string ManifestWith(const std::string &from, const std::string &to) {
  const auto events = SampleSession(1);
  std::string json = ManifestJson(ManifestFor(events, Frames(events)));
  const size_t at = json.find(from);
  if (at == std::string::npos) return "substitution failed: " + from;
  return json.replace(at, from.size(), to);
}

std::string ValidManifestTail() {
  const auto events = SampleSession(1);
  return ManifestJson(ManifestFor(events, Frames(events)));
}

void AddFraming(std::vector<MalformedCase> *out) {
  const std::string start = StartFrame();
  out->push_back(EventsCase("empty_file", "session.first", "events.bin is empty", ""));
  out->push_back(EventsCase("lone_length_byte", "framing.truncated",
                            "a single length byte (5) and no record", "\x05"));
  out->push_back(EventsCase("lone_continuation_byte", "framing.truncated",
                            "a single byte 0x80: the varint never ends", "\x80"));
  out->push_back(EventsCase("varint_11_bytes", "framing.varint", "a length prefix of 11 bytes",
                            start + std::string(10, '\xff') + "\x01"));
  out->push_back(EventsCase("varint_overflow", "framing.varint",
                            "a 10-byte length prefix above 2^64-1",
                            start + std::string(9, '\xff') + "\x02"));
  out->push_back(EventsCase("length_2_pow_63", "framing.too_large", "a length prefix of 2^63",
                            start + Varint(uint64_t{1} << 63) + "xyz"));
  out->push_back(EventsCase("length_over_limit", "framing.too_large",
                            "a length of 64 MiB + 1 (the default limit + 1)",
                            start + Varint((64u << 20) + 1) + "xyz"));
  std::string torn = Frames(SampleSession(1));
  torn.resize(torn.size() - 3);
  out->push_back(EventsCase("torn_tail", "framing.truncated",
                            "the last record lacks its final 3 bytes", torn));
  out->push_back(EventsCase("torn_length_prefix", "framing.truncated",
                            "the file ends inside a 2-byte length prefix", start + "\x80"));
}

void AddWire(std::vector<MalformedCase> *out) {
  const std::string hdr = Header(1, 7, kBaseNs + 10);
  out->push_back(EventsCase("garbage_record", "wire.decode", "a record of 0xff bytes",
                            Around(std::string(16, '\xff'))));
  out->push_back(EventsCase("wrong_wire_type", "wire.decode",
                            "event_id (a varint) sent length-delimited",
                            Around(LenField(1, "abc") + hdr.substr(2))));
  out->push_back(EventsCase("string_as_varint", "wire.decode",
                            "FunctionCall.symbol sent as a varint",
                            Around(hdr + LenField(12, VarintField(1, 5)))));
  out->push_back(EventsCase("nested_length_overflow", "wire.decode",
                            "the payload's length runs past the end of the record",
                            Around(hdr + Tag(12, 2) + Varint(50) + VarintField(2, 1))));
  std::string nested = VarintField(2, 1);
  for (int i = 0; i < 300; ++i)
    nested = Tag(12, 2) + Varint(nested.size() + 1) + nested;  // each 1 byte too long
  out->push_back(
      EventsCase("deeply_nested_garbage", "wire.decode",
                 "300 nested length-delimited fields whose lengths all overrun their parent",
                 Around(hdr + nested)));
  out->push_back(EventsCase("field_number_zero", "wire.decode", "a field with number 0",
                            Around(hdr + LenField(12, "") + VarintField(0, 1))));
  out->push_back(EventsCase("group_wire_type", "wire.decode",
                            "an unknown field with the (deprecated) group wire type",
                            Around(hdr + LenField(12, "") + Tag(99, 3) + Tag(99, 4))));
  out->push_back(
      EventsCase("overlong_unknown_varint", "wire.decode",
                 "an unknown varint field whose value runs 11 bytes (found by the fuzzer)",
                 Around(hdr + LenField(12, "") + Tag(99, 0) + std::string(10, '\x80') + "\x01")));
  out->push_back(EventsCase(
      "overlong_tag", "wire.decode", "a tag padded to 6 bytes (08 as 88 80 80 80 80 00)",
      Around(std::string("\x88\x80\x80\x80\x80\x00\x01", 7) + hdr.substr(2) + LenField(12, ""))));
  out->push_back(EventsCase("overlong_length", "wire.decode", "a payload length padded to 6 bytes",
                            Around(hdr + Tag(12, 2) + std::string("\x80\x80\x80\x80\x80\x00", 6))));
  // int32 fields whose varint is not a sign-extended 32-bit value (C++ protobuf keeps the low 32
  // bits: thread_id 101, nanos 5, exit_code 3, number 11).
  const std::string ts = LenField(3, VarintField(1, kBaseNs / 1000000000u) + VarintField(2, 10));
  out->push_back(EventsCase("int32_thread_id_above_32_bits", "wire.decode", "thread_id is 2^32+101",
                            Around(VarintField(1, 1) + VarintField(2, (uint64_t{1} << 32) + 101) +
                                   ts + LenField(12, ""))));
  out->push_back(EventsCase("int32_nanos_above_32_bits", "wire.decode", "timestamp.nanos is 2^32+5",
                            Around(VarintField(1, 1) +
                                   LenField(3, VarintField(1, kBaseNs / 1000000000u) +
                                                   VarintField(2, (uint64_t{1} << 32) + 5)) +
                                   LenField(12, ""))));
  out->push_back(EventsCase(
      "int32_nanos_5_byte_ffffffff", "wire.decode",
      "timestamp.nanos is 0xFFFFFFFF in 5 bytes (not -1, which takes 10)",
      Around(VarintField(1, 1) +
             LenField(3, VarintField(1, kBaseNs / 1000000000u) + VarintField(2, 0xFFFFFFFFu)) +
             LenField(12, ""))));
  out->push_back(EventsCase(
      "int32_exit_code_above_32_bits", "wire.decode", "TraceEnd.exit_code is 2^40+3",
      StartFrame() +
          Frame(VarintField(1, 1) + ts + LenField(11, VarintField(1, (uint64_t{1} << 40) + 3)))));
  out->push_back(EventsCase(
      "int32_signal_number_above_32_bits", "wire.decode", "SignalDelivery.number is 2^35+11",
      Around(VarintField(1, 1) + ts + LenField(14, VarintField(1, (uint64_t{1} << 35) + 11)))));
  out->push_back(EventsCase(
      "tag_5th_byte_0x7f", "wire.decode",
      "a 5-byte tag whose 5th byte 0x7f puts it above 2^32-1 (nanopb took it for a sign extension)",
      Around(hdr + std::string("\x82\x80\x80\x80\x7f\x00", 6) + LenField(12, ""))));
  out->push_back(EventsCase(
      "truncated_timestamp", "wire.decode", "the timestamp's nanos varint is cut off",
      Around(VarintField(1, 1) + Tag(3, 2) + Varint(2) + Tag(2, 0) + "\xff" + LenField(12, ""))));
}

void AddSchema(std::vector<MalformedCase> *out) {
  const uint64_t ns = kBaseNs + 10;
  Event e = Call(1, 7, ns, "f", 0x1000);
  e.clear_timestamp();
  out->push_back(EventsCase("missing_timestamp", "schema.timestamp",
                            "a FunctionCall without timestamp", Around(Serialize(e))));
  e = Call(1, 7, ns, "f", 0x1000);
  e.mutable_timestamp()->set_nanos(-1);
  out->push_back(EventsCase("negative_nanos", "schema.timestamp", "timestamp.nanos = -1",
                            Around(Serialize(e))));
  e.mutable_timestamp()->set_nanos(1000000000);
  out->push_back(
      EventsCase("nanos_1e9", "schema.timestamp", "timestamp.nanos = 1e9", Around(Serialize(e))));
  e = Call(1, 7, ns, "f", 0x1000);
  e.mutable_timestamp()->set_seconds(-1);
  out->push_back(EventsCase("negative_seconds", "schema.timestamp", "timestamp.seconds = -1",
                            Around(Serialize(e))));
  e = Call(1, 7, ns, "f", 0x1000);
  e.mutable_timestamp()->set_seconds(18446744074);
  out->push_back(EventsCase("seconds_beyond_uint64_ns", "schema.timestamp",
                            "timestamp.seconds = 18446744074: beyond 2^64-1 ns",
                            Around(Serialize(e))));
  out->push_back(EventsCase("no_payload", "schema.payload", "an Event with no payload",
                            Around(Header(1, 7, ns))));
  out->push_back(
      EventsCase("two_payloads", "schema.payload", "function_call and function_return both present",
                 Around(Serialize(Call(1, 7, ns, "f", 1)) + LenField(13, VarintField(2, 1)))));
  auto with_symbol = [&](const std::string &symbol) {
    return Around(Serialize(Call(1, 7, ns, symbol, 1)));
  };
  out->push_back(EventsCase("utf8_invalid_byte", "schema.utf8", "symbol holds the byte 0xff",
                            with_symbol("ab\xff")));
  out->push_back(EventsCase("utf8_overlong", "schema.utf8",
                            "symbol holds an overlong encoding of '/' (c0 af)",
                            with_symbol("a\xc0\xaf")));
  out->push_back(EventsCase("utf8_surrogate", "schema.utf8",
                            "symbol holds an encoded surrogate (ed a0 80)",
                            with_symbol("\xed\xa0\x80")));
  out->push_back(EventsCase("utf8_cut_off", "schema.utf8", "symbol ends inside a 3-byte sequence",
                            with_symbol("ok\xe2\x9c")));
  Event s = Start(0, kBaseNs);
  s.mutable_trace_start()->set_args(1, "bad\x80");
  out->push_back(EventsCase("utf8_in_args", "schema.utf8",
                            "TraceStart.args[1] holds a stray continuation byte",
                            Frame(Serialize(s)) + EndFrame(1)));
  e = Call(1, 7, ns, "f", 1);
  (*e.mutable_function_call()->mutable_argument_registers())[""] = 5;
  out->push_back(EventsCase("empty_register_name", "schema.register_name",
                            "an argument register with an empty name", Around(Serialize(e))));
  e = Call(1, 7, ns, "f", 1);
  (*e.mutable_function_call()->mutable_argument_registers())["R\xff"] = 5;
  out->push_back(EventsCase("register_name_utf8", "schema.utf8",
                            "a register name with the byte 0xff", Around(Serialize(e))));
}

void AddOrderAndSession(std::vector<MalformedCase> *out) {
  const uint64_t b = kBaseNs;
  out->push_back(EventsCase("event_id_repeated", "order.event_id", "two records with event_id 1",
                            Session({Start(0, b), Call(1, 7, b + 1, "f", 1),
                                     Return(1, 7, b + 2, "f", 1), End(3, b + 3)})));
  out->push_back(EventsCase("event_id_decreasing", "order.event_id", "event_id 5 followed by 4",
                            Session({Start(0, b), Call(5, 7, b + 1, "f", 1),
                                     Return(4, 7, b + 2, "f", 1), End(6, b + 3)})));
  out->push_back(EventsCase(
      "timestamp_backwards", "order.timestamp", "thread 7's second event is 1 ns before its first",
      Session({Start(0, b), Call(1, 7, b + 10, "f", 1), Call(2, 8, b + 5, "g", 2),
               Return(3, 7, b + 9, "f", 1), End(4, b + 20)})));
  out->push_back(
      EventsCase("first_not_trace_start", "session.first", "the first record is a FunctionCall",
                 Session({Call(0, 7, b + 1, "f", 1), Return(1, 7, b + 2, "f", 1), End(2, b + 3)})));
  out->push_back(
      EventsCase("last_not_trace_end", "session.last", "no TraceEnd at the end",
                 Session({Start(0, b), Call(1, 7, b + 1, "f", 1), Return(2, 7, b + 2, "f", 1)})));
  out->push_back(EventsCase("duplicate_trace_start", "session.duplicate_start",
                            "a second TraceStart",
                            Session({Start(0, b), Start(1, b + 1), End(2, b + 2)})));
  out->push_back(EventsCase("duplicate_trace_end", "session.duplicate_end", "two TraceEnd records",
                            Session({Start(0, b), End(1, b + 1), End(2, b + 2)})));
}

void AddManifest(std::vector<MalformedCase> *out) {
  const auto events = SampleSession(1);
  const Manifest good = ManifestFor(events, Frames(events));
  out->push_back(
      ManifestCase("manifest_not_json", "manifest.json", "trace.json is not JSON", "os=linux\n"));
  out->push_back(ManifestCase("manifest_truncated", "manifest.json",
                              "trace.json ends in the middle", ValidManifestTail().substr(0, 40)));
  out->push_back(ManifestCase("manifest_trailing_garbage", "manifest.json",
                              "a second value after the object", ValidManifestTail() + "{}"));
  out->push_back(
      ManifestCase("manifest_array", "manifest.type", "trace.json is an array", "[1, 2]\n"));
  out->push_back(ManifestCase("manifest_missing_key", "manifest.missing_key", "no eventCount",
                              ManifestWith("\"eventCount\"", "\"eventCountX\"")));
  out->push_back(ManifestCase("manifest_pid_string", "manifest.type", "pid is a string",
                              ManifestWith("\"pid\": 4242", "\"pid\": \"4242\"")));
  out->push_back(ManifestCase("manifest_os_number", "manifest.type", "os is a number",
                              ManifestWith("\"os\": \"linux\"", "\"os\": 1")));
  out->push_back(ManifestCase("manifest_negative", "manifest.range", "sessionId is -7",
                              ManifestWith("\"sessionId\": 7", "\"sessionId\": -7")));
  out->push_back(ManifestCase("manifest_above_2_64", "manifest.range",
                              "pid is 2^64 (18446744073709551616)",
                              ManifestWith("\"pid\": 4242", "\"pid\": 18446744073709551616")));
  out->push_back(ManifestCase("manifest_fraction", "manifest.range", "pid is 4242.5",
                              ManifestWith("\"pid\": 4242", "\"pid\": 4242.5")));
  out->push_back(ManifestCase("manifest_duplicate_key", "manifest.duplicate_key",
                              "pid appears twice",
                              ManifestWith("\"pid\": 4242", "\"pid\": 4242, \"pid\": 4243")));
  out->push_back(ManifestCase(
      "manifest_duplicate_escaped_key", "manifest.duplicate_key",
      "\"os\" and \"\\u006fs\" are the same key",
      ManifestWith("\"os\": \"linux\"", "\"os\": \"linux\", \"\\u006fs\": \"linux\"")));
  out->push_back(ManifestCase("manifest_non_utf8", "manifest.json", "os holds the byte 0xff",
                              ManifestWith("\"linux\"", "\"lin\xffux\"")));
  out->push_back(ManifestCase("manifest_lone_surrogate", "manifest.json",
                              "os holds the escape \\ud800 alone",
                              ManifestWith("\"linux\"", "\"\\ud800\"")));
  out->push_back(ManifestCase("manifest_deep_nesting", "manifest.json",
                              "an extra key nests 100 arrays",
                              ManifestWith("\"os\"", "\"x\": " + std::string(100, '[') +
                                                         std::string(100, ']') + ", \"os\"")));
  out->push_back(ManifestCase("manifest_module_not_uuid", "manifest.uuid",
                              "a module id that is not a UUID",
                              ManifestWith("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "not-a-uuid")));
  Manifest m = good;
  m.event_count++;
  out->push_back(ManifestCase("manifest_event_count", "manifest.event_count",
                              "eventCount is one more than the records", ManifestJson(m)));
  m = good;
  m.bytes_written--;
  out->push_back(ManifestCase("manifest_bytes_written", "manifest.bytes_written",
                              "bytesWritten is one less than the file", ManifestJson(m)));
  m = good;
  m.time_end_ns--;  // above 2^53: a double would not see the difference
  out->push_back(ManifestCase("manifest_time_end_1ns_early", "manifest.time_range",
                              "timeEndNs is 1 ns before the last event (values above 2^53)",
                              ManifestJson(m)));
  m = good;
  m.time_start_ns++;
  out->push_back(ManifestCase("manifest_time_start_1ns_late", "manifest.time_range",
                              "timeStartNs is 1 ns after the first event (values above 2^53)",
                              ManifestJson(m)));
}

}  // namespace

std::vector<MalformedCase> MalformedCases() {
  std::vector<MalformedCase> out;
  AddFraming(&out);
  AddWire(&out);
  AddSchema(&out);
  AddOrderAndSession(&out);
  AddManifest(&out);
  return out;
}

std::string ExpectedList(const std::vector<MalformedCase> &cases) {
  std::string s =
      "# testdata/malformed: one defect per case. Generated by //validator:make_malformed; do not "
      "edit.\n"
      "# <case directory> <rule atf-validate must report first>  # <defect>\n";
  for (const auto &c : cases) s += c.name + " " + c.rule + "  # " + c.description + "\n";
  return s;
}

}  // namespace atf_test

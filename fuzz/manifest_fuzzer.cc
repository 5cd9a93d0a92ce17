// Fuzz target: the validator's manifest reader (validator/internal/json_reader.h, manifest.h), on
// arbitrary text and on manifests the writer renders.
//
// First byte even: the rest is trace.json text.
//   - atf_json_parse either rejects it or returns a tree that is consistent: every node reachable
//     once from the root, child counts equal the linked lists, nesting <= ATF_JSON_MAX_DEPTH, no
//     object with a repeated key, every string valid UTF-8, offsets inside the text;
//   - exact integers: each number's is_uint64 / negative / overflow / u64 equal a decimal
//     parse done here on its source text (no doubles);
//   - what the strict reader accepts, cJSON (lenient) accepts too, with the same shape, keys and
//     strings, and numbers equal to strtod of their text;
//   - atf_manifest_check reports only manifest.* rules at offsets inside the text, extracts exactly
//     the integers the tree holds, and finds no error only when every required key is there.
// First byte odd: the rest chooses manifest values (uint64 extremes, 2^53 neighbours, arbitrary
// bytes in strings, module UUIDs, per-thread drops including negative thread ids); the writer
// renders them (writer/internal/manifest.h) and the validator must read every value back exactly
// with no error.
#include <cjson/cJSON.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

#include "fuzz/event_decoders.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/manifest_render.h"
#include "validator/internal/json_reader.h"
#include "validator/internal/manifest.h"

namespace {

using atf_fuzz::Fail;

struct Walk {
  const atf_json_doc *doc;
  size_t text_len;
  size_t visited = 0;
};

void CheckNumber(const atf_json_node &n) {
  const std::string t(n.text, n.len);
  ATF_FUZZ_CHECK(!t.empty());
  const bool integral = t.find_first_of(".eE") == std::string::npos;
  // "-0" is the integer zero (the grammar allows no other integer of zeros after '-').
  if (t == "-0") {
    ATF_FUZZ_CHECK(n.is_uint64 && !n.negative && !n.overflow && n.u64 == 0);
    return;
  }
  const bool neg = t[0] == '-';
  ATF_FUZZ_CHECK(n.negative == neg);
  if (neg || !integral) {
    ATF_FUZZ_CHECK(!n.is_uint64 && !n.overflow);
    return;
  }
  // Decimal digits only (the grammar allows no leading '+' or zeros before other digits).
  unsigned __int128 v = 0;
  bool over = false;
  for (char c : t) {
    ATF_FUZZ_CHECK(c >= '0' && c <= '9');
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > UINT64_MAX) over = true, v = static_cast<unsigned __int128>(UINT64_MAX) + 1;
  }
  ATF_FUZZ_CHECK(n.overflow == over && n.is_uint64 == !over);
  if (!over) ATF_FUZZ_CHECK(n.u64 == static_cast<uint64_t>(v));
}

void CheckNode(Walk *w, size_t i, int depth) {
  const atf_json_doc *doc = w->doc;
  ATF_FUZZ_CHECK(i < doc->n_nodes);
  ATF_FUZZ_CHECK(depth <= ATF_JSON_MAX_DEPTH + 1);
  const atf_json_node &n = doc->nodes[i];
  w->visited++;
  ATF_FUZZ_CHECK(n.offset < n.end && n.end <= w->text_len);  // [offset, end) is the value's text
  switch (n.type) {
    case ATF_JSON_NUMBER:
      CheckNumber(n);
      break;
    case ATF_JSON_STRING:
      ATF_FUZZ_CHECK(atf_fuzz::IsValidUtf8(std::string(n.text, n.len)));
      break;
    case ATF_JSON_ARRAY:
    case ATF_JSON_OBJECT: {
      ATF_FUZZ_CHECK(depth <= ATF_JSON_MAX_DEPTH);
      size_t count = 0;
      std::set<std::string> keys;
      for (size_t c = n.first; c != ATF_JSON_NONE; c = doc->nodes[c].next) {
        ATF_FUZZ_CHECK(c < doc->n_nodes && ++count <= n.count);
        if (n.type == ATF_JSON_OBJECT) {
          const atf_json_node &k = doc->nodes[c];
          ATF_FUZZ_CHECK(k.type == ATF_JSON_STRING);
          w->visited++;
          ATF_FUZZ_CHECK(keys.insert(std::string(k.text, k.len)).second);
          ATF_FUZZ_CHECK(atf_fuzz::IsValidUtf8(std::string(k.text, k.len)));
          CheckNode(w, k.value, depth + 1);
        } else {
          CheckNode(w, c, depth + 1);
        }
      }
      ATF_FUZZ_CHECK(count == n.count);
      break;
    }
    default:
      break;
  }
}

bool HasNul(const atf_json_node &n) { return std::memchr(n.text, 0, n.len) != nullptr; }

// The strict tree and cJSON's agree on node i.
void SameAsCjson(const atf_json_doc *doc, size_t i, const cJSON *c) {
  const atf_json_node &n = doc->nodes[i];
  ATF_FUZZ_CHECK(c != nullptr);
  switch (n.type) {
    case ATF_JSON_NULL:
      ATF_FUZZ_CHECK(cJSON_IsNull(c));
      break;
    case ATF_JSON_FALSE:
      ATF_FUZZ_CHECK(cJSON_IsFalse(c));
      break;
    case ATF_JSON_TRUE:
      ATF_FUZZ_CHECK(cJSON_IsTrue(c));
      break;
    case ATF_JSON_NUMBER: {
      ATF_FUZZ_CHECK(cJSON_IsNumber(c));
      const std::string t(n.text, n.len);
      const double d = std::strtod(t.c_str(), nullptr);
      ATF_FUZZ_CHECK(c->valuedouble == d || (c->valuedouble != c->valuedouble && d != d));
      break;
    }
    case ATF_JSON_STRING:
      ATF_FUZZ_CHECK(cJSON_IsString(c));
      if (!HasNul(n)) ATF_FUZZ_CHECK(std::string(c->valuestring) == std::string(n.text, n.len));
      break;
    case ATF_JSON_ARRAY:
    case ATF_JSON_OBJECT: {
      ATF_FUZZ_CHECK(n.type == ATF_JSON_ARRAY ? cJSON_IsArray(c) : cJSON_IsObject(c));
      const cJSON *child = c->child;
      for (size_t k = n.first; k != ATF_JSON_NONE; k = doc->nodes[k].next, child = child->next) {
        ATF_FUZZ_CHECK(child != nullptr);
        if (n.type == ATF_JSON_OBJECT) {
          const atf_json_node &key = doc->nodes[k];
          if (!HasNul(key))
            ATF_FUZZ_CHECK(std::string(child->string) == std::string(key.text, key.len));
          SameAsCjson(doc, key.value, child);
        } else {
          SameAsCjson(doc, k, child);
        }
      }
      ATF_FUZZ_CHECK(child == nullptr);
      break;
    }
  }
}

struct Errors {
  size_t len;
  size_t count = 0;
};

void OnError(void *ctx, uint64_t offset, const char *rule, const char *message) {
  Errors *e = static_cast<Errors *>(ctx);
  e->count++;
  ATF_FUZZ_CHECK(offset <= e->len);
  ATF_FUZZ_CHECK(rule != nullptr && std::strncmp(rule, "manifest.", 9) == 0);
  ATF_FUZZ_CHECK(message != nullptr && message[0] != '\0');
}

// What atf_manifest_check must extract for `key`, read off the tree.
void ExpectUint(const atf_json_doc *doc, bool parsed, const char *key,
                const atf_manifest_uint &got) {
  size_t v = parsed ? atf_json_get(doc, 0, key) : ATF_JSON_NONE;
  const bool want =
      v != ATF_JSON_NONE && doc->nodes[v].type == ATF_JSON_NUMBER && doc->nodes[v].is_uint64;
  ATF_FUZZ_CHECK(got.present == want);
  if (want) ATF_FUZZ_CHECK(got.value == doc->nodes[v].u64 && got.offset == doc->nodes[v].offset);
}

void CheckText(const char *text, size_t len) {
  atf_json_doc doc;
  const atf_json_status st = atf_json_parse(text, len, &doc);
  ATF_FUZZ_CHECK(st == doc.status);
  ATF_FUZZ_CHECK(st >= ATF_JSON_OK && st <= ATF_JSON_TOO_MANY_VALUES);
  const bool parsed = st == ATF_JSON_OK;
  const bool object = parsed && doc.nodes[0].type == ATF_JSON_OBJECT;
  if (parsed) {
    Walk w{&doc, len};
    CheckNode(&w, 0, 0);
    ATF_FUZZ_CHECK(w.visited == doc.n_nodes && doc.n_nodes <= ATF_JSON_MAX_NODES);
    cJSON *c = cJSON_ParseWithLength(text, len);
    if (c == nullptr) Fail(__FILE__, __LINE__, "strict reader accepts what cJSON rejects");
    SameAsCjson(&doc, 0, c);
    cJSON_Delete(c);
  } else {
    ATF_FUZZ_CHECK(doc.error_offset <= len && doc.error[0] != '\0');
  }

  Errors errors{len};
  atf_manifest m;
  ATF_FUZZ_CHECK(atf_manifest_check(text, len, &m, OnError, &errors));
  if (!parsed) ATF_FUZZ_CHECK(errors.count == 1);
  const atf_json_doc *d = object ? &doc : nullptr;
  ExpectUint(d, object, "pid", m.pid);
  ExpectUint(d, object, "sessionId", m.session_id);
  ExpectUint(d, object, "timeStartNs", m.time_start_ns);
  ExpectUint(d, object, "timeEndNs", m.time_end_ns);
  ExpectUint(d, object, "eventCount", m.event_count);
  ExpectUint(d, object, "bytesWritten", m.bytes_written);
  ExpectUint(d, object, "droppedEvents", m.dropped_events);
  if (errors.count == 0) {
    ATF_FUZZ_CHECK(m.pid.present && m.session_id.present && m.time_start_ns.present &&
                   m.time_end_ns.present && m.event_count.present && m.bytes_written.present);
    ATF_FUZZ_CHECK(m.time_start_ns.value <= m.time_end_ns.value);
  }
  atf_json_free(&doc);
}

// ---- writer-rendered manifests ------------------------------------------------------------------

uint64_t Interesting64(atf_fuzz::FuzzInput *in) {
  const uint8_t sel = in->U8();
  const uint64_t small = in->U8();
  switch (sel % 5) {
    case 0:
      return in->U64();
    case 1:
      return UINT64_MAX - small;
    case 2:
      return (uint64_t{1} << 53) - 2 + small % 4;  // doubles lose these
    case 3:
      return small;
    default:
      return uint64_t{1} << (small % 64);
  }
}

std::string Uuid(atf_fuzz::FuzzInput *in) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 36; ++i)
    s += (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : kHex[in->U8() & 15];
  return s;
}

std::string JsonString(const atf_json_doc *doc, const char *key) {
  const size_t v = atf_json_get(doc, 0, key);
  ATF_FUZZ_CHECK(v != ATF_JSON_NONE && doc->nodes[v].type == ATF_JSON_STRING);
  return std::string(doc->nodes[v].text, doc->nodes[v].len);
}

void CheckRendered(atf_fuzz::FuzzInput *in) {
  atf_fuzz::ManifestValues v;
  auto text = [&] {
    std::string raw = in->ShortString();
    raw.erase(std::remove(raw.begin(), raw.end(), '\0'), raw.end());  // C strings in the writer
    return atf_fuzz::SanitiseWithWriter(raw);
  };
  v.os = text();
  v.arch = text();
  v.executable_path = text();
  v.pid = static_cast<int32_t>(in->U32() & 0x7fffffff);
  v.session_id = Interesting64(in);
  v.time_start_ns = Interesting64(in);
  v.time_end_ns = Interesting64(in);
  if (v.time_start_ns > v.time_end_ns) std::swap(v.time_start_ns, v.time_end_ns);
  v.event_count = Interesting64(in);
  v.bytes_written = Interesting64(in);
  for (unsigned i = in->U8() % 4; i > 0; --i) v.modules.push_back(Uuid(in));
  v.has_drops = in->U8() & 1;
  if (v.has_drops) {
    v.dropped_events = Interesting64(in);
    std::set<int32_t> seen;
    for (unsigned i = in->U8() % 5; i > 0; --i) {
      const int32_t tid = static_cast<int32_t>(in->U32());
      if (seen.insert(tid).second) v.drops.emplace_back(tid, Interesting64(in));
    }
  }
  const std::string json = atf_fuzz::RenderWriterManifest(v);
  CheckText(json.data(), json.size());

  Errors errors{json.size()};
  atf_manifest m;
  ATF_FUZZ_CHECK(atf_manifest_check(json.data(), json.size(), &m, OnError, &errors));
  if (errors.count != 0) Fail(__FILE__, __LINE__, "validator rejects a writer manifest:\n" + json);
  ATF_FUZZ_CHECK(m.pid.value == static_cast<uint64_t>(v.pid) && m.session_id.value == v.session_id);
  ATF_FUZZ_CHECK(m.time_start_ns.value == v.time_start_ns && m.time_end_ns.value == v.time_end_ns);
  ATF_FUZZ_CHECK(m.event_count.value == v.event_count && m.bytes_written.value == v.bytes_written);
  ATF_FUZZ_CHECK(m.dropped_events.present == v.has_drops);
  if (v.has_drops) ATF_FUZZ_CHECK(m.dropped_events.value == v.dropped_events);

  atf_json_doc doc;
  ATF_FUZZ_CHECK(atf_json_parse(json.data(), json.size(), &doc) == ATF_JSON_OK);
  ATF_FUZZ_CHECK(JsonString(&doc, "os") == v.os && JsonString(&doc, "arch") == v.arch);
  ATF_FUZZ_CHECK(JsonString(&doc, "executablePath") == v.executable_path);
  const size_t mods = atf_json_get(&doc, 0, "modules");
  ATF_FUZZ_CHECK(mods != ATF_JSON_NONE && doc.nodes[mods].count == v.modules.size());
  size_t k = doc.nodes[mods].first;
  for (const auto &want : v.modules) {
    ATF_FUZZ_CHECK(std::string(doc.nodes[k].text, doc.nodes[k].len) == want);
    k = doc.nodes[k].next;
  }
  if (v.has_drops) {
    const size_t by = atf_json_get(&doc, 0, "droppedEventsByThread");
    ATF_FUZZ_CHECK(by != ATF_JSON_NONE && doc.nodes[by].count == v.drops.size());
    for (const auto &d : v.drops) {
      const size_t n = atf_json_get(&doc, by, std::to_string(d.first).c_str());
      ATF_FUZZ_CHECK(n != ATF_JSON_NONE && doc.nodes[n].is_uint64 && doc.nodes[n].u64 == d.second);
    }
  }
  atf_json_free(&doc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    atf_fuzz::FuzzInput in(data + 1, size - 1);
    CheckRendered(&in);
  } else {
    CheckText(reinterpret_cast<const char *>(data + 1), size - 1);
  }
  return 0;
}

// The strict JSON reader: exact uint64, and every rejection the manifest rules rely on.
#include "validator/internal/json_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "validator/internal/utf8.h"

namespace {

atf_json_status Parse(const std::string &s, atf_json_doc *doc) {
  return atf_json_parse(s.data(), s.size(), doc);
}

atf_json_status StatusOf(const std::string &s) {
  atf_json_doc doc;
  const atf_json_status st = Parse(s, &doc);
  atf_json_free(&doc);
  return st;
}

TEST(JsonReader, Uint64IsExact) {
  atf_json_doc doc;
  ASSERT_EQ(Parse("{\"a\": 18446744073709551615, \"b\": 9007199254740993, \"c\": 0}", &doc),
            ATF_JSON_OK);
  const atf_json_node &a = doc.nodes[atf_json_get(&doc, 0, "a")];
  EXPECT_TRUE(a.is_uint64);
  EXPECT_EQ(a.u64, UINT64_MAX);
  EXPECT_EQ(doc.nodes[atf_json_get(&doc, 0, "b")].u64, 9007199254740993ull);  // 2^53 + 1
  EXPECT_EQ(doc.nodes[atf_json_get(&doc, 0, "c")].u64, 0u);
  EXPECT_EQ(atf_json_get(&doc, 0, "d"), ATF_JSON_NONE);
  atf_json_free(&doc);
}

TEST(JsonReader, NumbersThatAreNotUint64) {
  for (const char *text :
       {"18446744073709551616", "-1", "1.5", "1e3", "-0.0", "-0e0", "99999999999999999999999"}) {
    SCOPED_TRACE(text);
    atf_json_doc doc;
    ASSERT_EQ(Parse(text, &doc), ATF_JSON_OK);
    EXPECT_FALSE(doc.nodes[0].is_uint64);
    atf_json_free(&doc);
  }
  atf_json_doc doc;
  ASSERT_EQ(Parse("18446744073709551616", &doc), ATF_JSON_OK);
  EXPECT_TRUE(doc.nodes[0].overflow);
  atf_json_free(&doc);
}

// "-0" is the integer zero (RFC 8259 allows it): a manifest's "pid": -0 is pid 0.
TEST(JsonReader, MinusZeroIsZero) {
  atf_json_doc doc;
  ASSERT_EQ(Parse("-0", &doc), ATF_JSON_OK);
  EXPECT_TRUE(doc.nodes[0].is_uint64);
  EXPECT_FALSE(doc.nodes[0].negative);
  EXPECT_EQ(doc.nodes[0].u64, 0u);
  atf_json_free(&doc);
  EXPECT_EQ(StatusOf("-00"), ATF_JSON_SYNTAX);
}

// Every value knows where its text ends: [offset, end) is exactly its source.
TEST(JsonReader, ValueSpansAreExact) {
  const std::string text = "{ \"a\" : [1, {\"b\": \"x\\u0000y\"}] , \"c\":-0 }";
  atf_json_doc doc;
  ASSERT_EQ(Parse(text, &doc), ATF_JSON_OK);
  const atf_json_node &a = doc.nodes[atf_json_get(&doc, 0, "a")];
  EXPECT_EQ(text.substr(a.offset, a.end - a.offset), "[1, {\"b\": \"x\\u0000y\"}]");
  const atf_json_node &c = doc.nodes[atf_json_get(&doc, 0, "c")];
  EXPECT_EQ(text.substr(c.offset, c.end - c.offset), "-0");
  EXPECT_EQ(doc.nodes[0].offset, 0u);
  EXPECT_EQ(doc.nodes[0].end, text.size());
  const atf_json_node &key = doc.nodes[doc.nodes[0].first];
  EXPECT_EQ(text.substr(key.offset, key.end - key.offset), "\"a\"");
  atf_json_free(&doc);
}

TEST(JsonReader, StringsAreDecoded) {
  atf_json_doc doc;
  ASSERT_EQ(Parse("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e4\\ud83d\\ude00\xe2\x9c\x93\"", &doc),
            ATF_JSON_OK);
  EXPECT_EQ(std::string(doc.nodes[0].text, doc.nodes[0].len),
            "a\"\\/\b\f\n\r\t\xc3\xa4\xf0\x9f\x98\x80\xe2\x9c\x93");
  atf_json_free(&doc);
}

TEST(JsonReader, Rejections) {
  const struct {
    std::string text;
    atf_json_status status;
  } cases[] = {
      {"", ATF_JSON_SYNTAX},
      {"{", ATF_JSON_SYNTAX},
      {"{\"a\":1,}", ATF_JSON_SYNTAX},
      {"[1,]", ATF_JSON_SYNTAX},
      {"01", ATF_JSON_SYNTAX},
      {"1.", ATF_JSON_SYNTAX},
      {"+1", ATF_JSON_SYNTAX},
      {"NaN", ATF_JSON_SYNTAX},
      {"tru", ATF_JSON_SYNTAX},
      {"{} {}", ATF_JSON_SYNTAX},
      {"{'a':1}", ATF_JSON_SYNTAX},
      {"\"a\tb\"", ATF_JSON_SYNTAX},
      {"\"\\x\"", ATF_JSON_SYNTAX},
      {"\"\\u12\"", ATF_JSON_SYNTAX},
      {"\xef\xbb\xbf{}", ATF_JSON_SYNTAX},  // byte order mark
      {"\"\xff\"", ATF_JSON_BAD_UTF8},
      {"\"\xc0\xaf\"", ATF_JSON_BAD_UTF8},
      {"\"\xed\xa0\x80\"", ATF_JSON_BAD_UTF8},
      {"\"\xe2\x9c\"", ATF_JSON_BAD_UTF8},
      {"\"\\ud800\"", ATF_JSON_BAD_UTF8},
      {"\"\\udc00\"", ATF_JSON_BAD_UTF8},
      {"\"\\ud800\\u0041\"", ATF_JSON_BAD_UTF8},
      {"{\"a\":1,\"b\":2,\"a\":3}", ATF_JSON_DUPLICATE_KEY},
      {"{\"x\":{\"\":1,\"\":2}}", ATF_JSON_DUPLICATE_KEY},
      {"{\"\\u0061\":1,\"a\":2}", ATF_JSON_DUPLICATE_KEY},
      {std::string(ATF_JSON_MAX_DEPTH + 1, '[') + std::string(ATF_JSON_MAX_DEPTH + 1, ']'),
       ATF_JSON_TOO_DEEP},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(StatusOf(c.text), c.status);
  }
  EXPECT_EQ(StatusOf(std::string(ATF_JSON_MAX_DEPTH, '[') + std::string(ATF_JSON_MAX_DEPTH, ']')),
            ATF_JSON_OK);
}

TEST(JsonReader, ErrorOffsetPointsAtTheDefect) {
  atf_json_doc doc;
  EXPECT_EQ(Parse("{\"a\": 1, \"a\": 2}", &doc), ATF_JSON_DUPLICATE_KEY);
  EXPECT_EQ(doc.error_offset, 9u);
  atf_json_free(&doc);
  EXPECT_EQ(Parse("[1, 2, x]", &doc), ATF_JSON_SYNTAX);
  EXPECT_EQ(doc.error_offset, 7u);
  atf_json_free(&doc);
}

TEST(JsonReader, DuplicateKeyMessageStaysValidUtf8) {
  const std::string key =
      std::string(39, 'k') + "\xc3\xa4\xc3\xa4";  // 40 bytes would cut the first char
  atf_json_doc doc;
  ASSERT_EQ(Parse("{\"" + key + "\":1,\"" + key + "\":2}", &doc), ATF_JSON_DUPLICATE_KEY);
  atf_utf8_state u = ATF_UTF8_STATE_INIT;
  const std::string msg = doc.error;
  EXPECT_EQ(atf_utf8_feed(&u, reinterpret_cast<const uint8_t *>(msg.data()), msg.size()),
            msg.size());
  EXPECT_TRUE(atf_utf8_complete(&u)) << msg;
  atf_json_free(&doc);
}

// A key may hold a newline or a terminal escape: the message quotes it escaped, so a report that
// prints it cannot be made to show fake lines.
TEST(JsonReader, DuplicateKeyMessageEscapesControlCharacters) {
  atf_json_doc doc;
  ASSERT_EQ(Parse("{\"a\\nvalid\\u001b[2J\":1,\"a\\nvalid\\u001b[2J\":2}", &doc),
            ATF_JSON_DUPLICATE_KEY);
  const std::string msg = doc.error;
  EXPECT_EQ(msg, "duplicate key \"a\\nvalid\\u001b[2J\"");
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_EQ(msg.find('\x1b'), std::string::npos);
  atf_json_free(&doc);
}

TEST(JsonReader, TooManyValuesIsBounded) {
  std::string big = "[";
  for (unsigned i = 0; i < ATF_JSON_MAX_NODES; ++i) big += "0,";
  big += "0]";
  EXPECT_EQ(StatusOf(big), ATF_JSON_TOO_MANY_VALUES);
}

TEST(JsonReader, UnicodeEscapesOfEveryLength) {
  atf_json_doc doc;
  // 1, 2 and 3 UTF-8 bytes, upper- and lower-case hex digits, and a surrogate pair (4 bytes).
  ASSERT_EQ(Parse("\"\\u0041\\u00E9\\u00e9\\u2713\\uD83D\\uDE00\"", &doc), ATF_JSON_OK);
  EXPECT_EQ(std::string(doc.nodes[0].text, doc.nodes[0].len),
            "A\xc3\xa9\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80");
  atf_json_free(&doc);
  ASSERT_EQ(Parse("\"\\u00G0\"", &doc), ATF_JSON_SYNTAX);
  EXPECT_EQ(doc.error_offset, 5u);  // the bad digit
  atf_json_free(&doc);
}

TEST(JsonReader, StatusNames) {
  EXPECT_STREQ(atf_json_strerror(ATF_JSON_OK), "ok");
  EXPECT_STREQ(atf_json_strerror(ATF_JSON_SYNTAX), "syntax error");
  EXPECT_STREQ(atf_json_strerror(ATF_JSON_BAD_UTF8), "invalid UTF-8");
  EXPECT_STREQ(atf_json_strerror(ATF_JSON_TOO_DEEP), "nested too deeply");
  EXPECT_STREQ(atf_json_strerror(ATF_JSON_DUPLICATE_KEY), "duplicate key");
  EXPECT_STREQ(atf_json_strerror(ATF_JSON_NO_MEMORY), "out of memory");
  EXPECT_STREQ(atf_json_strerror(ATF_JSON_TOO_MANY_VALUES), "too many values");
  EXPECT_STREQ(atf_json_strerror(static_cast<atf_json_status>(99)), "unknown");
}

TEST(Utf8, AsciiRunsAndMultiByteCharactersAtEveryAlignment) {
  // The validator skips ASCII eight bytes at a time: a non-ASCII byte at any position of a word
  // must still be checked.
  for (size_t at = 0; at < 24; ++at) {
    SCOPED_TRACE(at);
    std::string s(24, 'a');
    s.replace(at, 1, "\xc3\xa4");
    atf_utf8_state u = ATF_UTF8_STATE_INIT;
    EXPECT_EQ(atf_utf8_feed(&u, reinterpret_cast<const uint8_t *>(s.data()), s.size()), s.size());
    EXPECT_TRUE(atf_utf8_complete(&u));
    s[at] = '\xff';
    atf_utf8_state v = ATF_UTF8_STATE_INIT;
    EXPECT_EQ(atf_utf8_feed(&v, reinterpret_cast<const uint8_t *>(s.data()), s.size()), at);
  }
}

TEST(Utf8, AcceptsAndRejectsAcrossChunks) {
  const std::string good = "a\xc3\xa4\xe2\x9c\x93\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";
  for (size_t split = 0; split <= good.size(); ++split) {
    atf_utf8_state s = ATF_UTF8_STATE_INIT;
    const auto *p = reinterpret_cast<const uint8_t *>(good.data());
    EXPECT_EQ(atf_utf8_feed(&s, p, split), split);
    EXPECT_EQ(atf_utf8_feed(&s, p + split, good.size() - split), good.size() - split);
    EXPECT_TRUE(atf_utf8_complete(&s));
  }
  for (const char *bad : {"\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xb0\x80", "\xf0\x80\x80\x80",
                          "\xf4\x90\x80\x80", "\xf5", "\xff"}) {
    atf_utf8_state s = ATF_UTF8_STATE_INIT;
    const std::string b(bad);
    EXPECT_LT(atf_utf8_feed(&s, reinterpret_cast<const uint8_t *>(b.data()), b.size()), b.size())
        << b;
  }
}

}  // namespace

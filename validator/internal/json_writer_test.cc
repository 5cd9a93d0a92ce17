// The byte buffer behind atf-dump's output and the --json report: escaping, encodings, growth,
// and the allocation failure flag.
#include "validator/internal/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace {

std::string Text(const atf_buf &b) { return std::string(b.data, b.len); }

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  atf_buf b = {};
  static const char kIn[] = "a\"b\\c\nd\re\tf\x01g\x1fh\x7f\xc3\xa4";
  const std::string in(kIn, sizeof kIn - 1);
  atf_buf_json_chars(&b, in.data(), in.size());
  EXPECT_EQ(Text(b), "a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\x7f\xc3\xa4");
  atf_buf_clear(&b);
  atf_buf_json_string(&b, "x\"y");
  EXPECT_EQ(Text(b), "\"x\\\"y\"");
  atf_buf_free(&b);
}

// U+2028 and U+2029 are valid in JSON but end a line in JavaScript (and split JSON Lines read by
// line-oriented JavaScript tools): escaped. Their neighbours U+2027 and U+202A are not.
TEST(JsonWriter, EscapesTheLineSeparators) {
  atf_buf b = {};
  const std::string in =
      "a\xe2\x80\xa8"
      "b\xe2\x80\xa9"
      "c\xe2\x80\xa7\xe2\x80\xaa\xe2\x80";
  atf_buf_json_chars(&b, in.data(), in.size() - 2);  // the cut-off E2 80 at the end is not passed
  EXPECT_EQ(Text(b), "a\\u2028b\\u2029c\xe2\x80\xa7\xe2\x80\xaa");
  atf_buf_free(&b);
}

TEST(JsonWriter, NumbersHexAndBase64) {
  atf_buf b = {};
  atf_buf_u64(&b, UINT64_MAX);
  atf_buf_puts(&b, " ");
  atf_buf_hex(&b, "\x00\xab\xff", 3);
  atf_buf_puts(&b, " ");
  for (const char *s : {"", "f", "fo", "foo", "foob"}) {
    atf_buf_base64(&b, s, std::string(s).size());
    atf_buf_puts(&b, ",");
  }
  EXPECT_EQ(Text(b), "18446744073709551615 00abff ,Zg==,Zm8=,Zm9v,Zm9vYg==,");
  atf_buf_free(&b);
}

TEST(JsonWriter, LongPrintfAndHexGrowTheBuffer) {
  atf_buf b = {};
  const std::string word(1000, 'w');
  atf_buf_printf(&b, "<%s>", word.c_str());  // longer than printf's stack buffer
  EXPECT_EQ(Text(b), "<" + word + ">");
  atf_buf_clear(&b);
  const std::string bytes(700, '\x5a');  // more hex digits than one flush of 512
  atf_buf_hex(&b, bytes.data(), bytes.size());
  std::string hex;
  for (size_t i = 0; i < bytes.size(); ++i) hex += "5a";
  EXPECT_EQ(Text(b), hex);
  atf_buf_free(&b);
}

TEST(JsonWriter, AnImpossibleSizeSetsTheFailureFlag) {
  atf_buf b = {};
  atf_buf_puts(&b, "kept");
  // More than half the address space: refused before anything is allocated or copied.
  atf_buf_append(&b, "x", SIZE_MAX / 2 + 2);
  EXPECT_TRUE(b.oom);
  atf_buf_puts(&b, "ignored");
  EXPECT_EQ(Text(b), "kept");
  FILE *out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  EXPECT_FALSE(atf_buf_write(&b, out));  // a failed buffer is never written half
  std::fclose(out);
  atf_buf_free(&b);
}

TEST(JsonWriter, WritesWhatItHolds) {
  atf_buf b = {};
  FILE *out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  EXPECT_TRUE(atf_buf_write(&b, out));  // empty
  atf_buf_puts(&b, "{}\n");
  EXPECT_TRUE(atf_buf_write(&b, out));
  std::rewind(out);
  char got[8] = {};
  EXPECT_EQ(std::fread(got, 1, sizeof got, out), 3u);
  EXPECT_STREQ(got, "{}\n");
  std::fclose(out);
  atf_buf_free(&b);
}

}  // namespace

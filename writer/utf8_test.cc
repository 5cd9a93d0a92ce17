// UTF-8 sanitiser: U+FFFD per maximal subpart (Unicode Table 3-8 and the WHATWG decoder), NUL
// replaced, valid text untouched, counts.
#include <gtest/gtest.h>

#include <string>

#include "writer/internal/utf8.h"

namespace {

const std::string kFFFD = "\xef\xbf\xbd";

std::string Sanitize(const std::string &in, size_t *replacements = nullptr) {
  const auto *p = reinterpret_cast<const uint8_t *>(in.data());
  std::string out(atf_utf8_sanitized_size(p, in.size()) + 1, '?');
  size_t len = 0;
  size_t r = atf_utf8_sanitize(p, in.size(), &out[0], &len);
  EXPECT_EQ(len, out.size() - 1);
  EXPECT_EQ(out[len], '\0');
  out.resize(len);
  if (replacements) *replacements = r;
  return out;
}

std::string Rep(int n) {
  std::string s;
  for (int i = 0; i < n; i++) s += kFFFD;
  return s;
}

TEST(Utf8, ValidTextUnchanged) {
  for (std::string s :
       {std::string(""), std::string("main"), std::string("tr\xc3\xa4\x63\x65"),
        std::string("\xe2\x9c\x93\xf0\x9f\x98\x80"), std::string("\xed\x9f\xbf"),
        std::string("\xee\x80\x80"), std::string("\xf4\x8f\xbf\xbf"), std::string("\x7f")}) {
    size_t r = 99;
    EXPECT_EQ(Sanitize(s, &r), s);
    EXPECT_EQ(r, 0u);
  }
}

TEST(Utf8, UnicodeTable3_8) {
  size_t r;
  EXPECT_EQ(Sanitize("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", &r),
            "a" + Rep(3) + "b" + Rep(1) + "c" + Rep(2) + "d");
  EXPECT_EQ(r, 6u);
}

TEST(Utf8, MaximalSubparts) {
  struct Case {
    std::string in;
    int replacements;
    std::string out;
  } cases[] = {
      {"\xc0\xaf", 2, Rep(2)},          // overlong: C0 never starts a sequence
      {"\xe0\x80\xaf", 3, Rep(3)},      // overlong 3-byte: E0 needs A0..BF
      {"\xed\xa0\x80", 3, Rep(3)},      // surrogate: ED needs 80..9F
      {"\xf4\x90\x80\x80", 4, Rep(4)},  // above U+10FFFF
      {"\xf5\x80", 2, Rep(2)},          // F5 never starts
      {"\xff", 1, Rep(1)},
      {"\xe2\x9c", 1, Rep(1)},  // truncated at end: one subpart
      {"\xf0\x9f\x98", 1, Rep(1)},
      {"\xf0\x9f\x98x", 1, Rep(1) + "x"},
      {"\xe2\x9cx\xe2\x9c\x93", 1, Rep(1) + "x\xe2\x9c\x93"},
      {"\x80\x80", 2, Rep(2)},                          // lone continuation bytes
      {std::string("a\0b", 3), 1, "a" + Rep(1) + "b"},  // NUL: departure, see utf8.h
  };
  for (const Case &c : cases) {
    size_t r;
    EXPECT_EQ(Sanitize(c.in, &r), c.out);
    EXPECT_EQ(r, static_cast<size_t>(c.replacements));
  }
}

TEST(Utf8, WorstCaseIsThreeTimes) {
  std::string in(1000, '\xff');
  EXPECT_EQ(atf_utf8_sanitized_size(reinterpret_cast<const uint8_t *>(in.data()), in.size()),
            3000u);
  EXPECT_EQ(Sanitize(in), Rep(1000));
}

}  // namespace

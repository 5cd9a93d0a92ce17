// Symbol table: dedup on raw bytes, sanitised text, ids stable, concurrent interning with
// concurrent lock-free lookups.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "writer/internal/symtab.h"

namespace {

struct Table {
  atf_symtab *t = atf_symtab_new();
  ~Table() { atf_symtab_free(t); }
};

uint32_t Intern(atf_symtab *t, const std::string &s, uint64_t *repl = nullptr) {
  uint32_t id = 0;
  uint64_t r = 0;
  EXPECT_EQ(atf_symtab_intern(t, s.data(), s.size(), &id, &r), ATF_WRITER_OK);
  if (repl) *repl = r;
  return id;
}

TEST(Symtab, DedupAndSanitise) {
  Table tab;
  EXPECT_EQ(atf_symtab_count(tab.t), 0u);
  EXPECT_STREQ(atf_symtab_get(tab.t, 0), "");
  const uint32_t a = Intern(tab.t, "main");
  const uint32_t b = Intern(tab.t, "_ZN3foo3barEv");
  EXPECT_EQ(a, 1u);
  EXPECT_EQ(b, 2u);
  EXPECT_EQ(Intern(tab.t, "main"), a);
  uint64_t r;
  const uint32_t bad1 = Intern(tab.t, "x\xff", &r);
  EXPECT_EQ(r, 1u);
  const uint32_t bad2 = Intern(tab.t, "x\xfe", &r);  // same text, different bytes: own id
  EXPECT_NE(bad1, bad2);
  EXPECT_EQ(Intern(tab.t, "x\xff", &r), bad1);
  EXPECT_EQ(r, 0u);  // counted once, when interned
  EXPECT_STREQ(atf_symtab_get(tab.t, bad1), "x\xef\xbf\xbd");
  const uint32_t empty = Intern(tab.t, "");
  EXPECT_STREQ(atf_symtab_get(tab.t, empty), "");
  EXPECT_EQ(Intern(tab.t, std::string("a\0b", 3)), Intern(tab.t, std::string("a\0b", 3)));
  EXPECT_NE(Intern(tab.t, std::string("a\0b", 3)), Intern(tab.t, "a"));
}

TEST(Symtab, ManySymbolsAcrossChunksAndRehashes) {
  Table tab;
  for (int i = 0; i < 20000; i++) EXPECT_EQ(Intern(tab.t, "sym" + std::to_string(i)), i + 1u);
  for (int i = 0; i < 20000; i += 997) {
    EXPECT_EQ(atf_symtab_get(tab.t, i + 1), "sym" + std::to_string(i));
    EXPECT_EQ(Intern(tab.t, "sym" + std::to_string(i)), i + 1u);
  }
}

TEST(Symtab, ConcurrentInternAndLookup) {
  Table tab;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      uint32_t n = atf_symtab_count(tab.t);
      for (uint32_t id = 1; id <= n; id += 13) ASSERT_NE(atf_symtab_get(tab.t, id)[0], '\0');
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; t++) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 3000; i++) Intern(tab.t, "s" + std::to_string((i * 7 + t) % 5000));
    });
  }
  for (auto &w : writers) w.join();
  stop = true;
  reader.join();
  EXPECT_EQ(atf_symtab_count(tab.t), 5000u);
  for (int i = 0; i < 5000; i++) {
    uint32_t id = Intern(tab.t, "s" + std::to_string(i));
    EXPECT_EQ(atf_symtab_get(tab.t, id), "s" + std::to_string(i));
  }
}

}  // namespace

// elf_symbols and objects on real files: this test's own executable (static, exported and aliased
// functions), copies of it with the full symbol table removed, truncated, corrupted or lying
// about sizes, and two instrumented plugins loaded and unloaded with dlopen.
#include <dlfcn.h>
#include <elf.h>
#include <gtest/gtest.h>
#include <link.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "instrument/internal/elf_symbols.h"
#include "instrument/internal/objects.h"

extern "C" {
int probe_exported(int);
int probe_alias_target(int);
int probe_weak_alias(int);
uintptr_t probe_static_address(void);
}

namespace {

const char kPlugin[] = "./instrument/libplugin_a.so";

struct MainObject {
  uint64_t bias = 0;
  const ElfW(Phdr) *phdr = nullptr;
  size_t phnum = 0;
};

MainObject Main() {
  MainObject m;
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *arg) {
        auto *m = static_cast<MainObject *>(arg);
        m->bias = info->dlpi_addr;
        m->phdr = info->dlpi_phdr;
        m->phnum = info->dlpi_phnum;
        return 1;  // the first object is the executable
      },
      &m);
  return m;
}

std::string Slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string Spill(const std::string &name, const std::string &bytes) {
  const char *tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The section header of the first section of `type` in an ELF image.
Elf64_Shdr *Section(std::string &img, uint32_t type) {
  auto *eh = reinterpret_cast<Elf64_Ehdr *>(&img[0]);
  auto *sh = reinterpret_cast<Elf64_Shdr *>(&img[eh->e_shoff]);
  for (size_t i = 0; i < eh->e_shnum; ++i) {
    if (sh[i].sh_type == type) return &sh[i];
  }
  return nullptr;
}

uint64_t Addr(int (*f)(int)) { return reinterpret_cast<uint64_t>(f); }

TEST(ElfSymbols, OwnExecutableStaticExportedAndAliases) {
  const MainObject m = Main();
  atf_elf_symbols s;
  ASSERT_EQ(atf_elf_load("/proc/self/exe", m.bias, m.phdr, m.phnum, &s), ATF_ELF_OK);
  EXPECT_EQ(s.from_symtab, 1);
  EXPECT_GT(s.count, 10u);
  EXPECT_STREQ(atf_elf_find(&s, probe_static_address()), "probe_static");
  EXPECT_STREQ(atf_elf_find(&s, Addr(probe_exported)), "probe_exported");
  int (*volatile weak)(int) = probe_weak_alias;      // volatile: the compiler may assume distinct
  int (*volatile target)(int) = probe_alias_target;  // functions have distinct addresses
  ASSERT_EQ(Addr(weak), Addr(target));
  EXPECT_STREQ(atf_elf_find(&s, Addr(probe_alias_target)),
               "probe_alias_target");                              // GLOBAL over WEAK
  EXPECT_EQ(atf_elf_find(&s, Addr(probe_exported) + 1), nullptr);  // entries only
  EXPECT_EQ(s.references_hook, 1);
  EXPECT_EQ(s.defines_hook, 1);
  for (size_t i = 1; i < s.count; ++i) ASSERT_LT(s.funcs[i - 1].addr, s.funcs[i].addr);
  atf_elf_free(&s);
}

TEST(ElfSymbols, StrippedOfSymtabFallsBackToDynsym) {
  std::string img = Slurp("/proc/self/exe");
  Elf64_Shdr *symtab = Section(img, SHT_SYMTAB);
  ASSERT_NE(symtab, nullptr);
  symtab->sh_type = SHT_NULL;
  const std::string path = Spill("stripped", img);
  const MainObject m = Main();
  atf_elf_symbols s;
  ASSERT_EQ(atf_elf_load(path.c_str(), m.bias, nullptr, 0, &s), ATF_ELF_OK);
  EXPECT_EQ(s.from_symtab, 0);
  EXPECT_STREQ(atf_elf_find(&s, Addr(probe_exported)), "probe_exported");
  EXPECT_EQ(atf_elf_find(&s, probe_static_address()), nullptr);  // only .symtab had it
  atf_elf_free(&s);
}

TEST(ElfSymbols, ErrorsNameTheProblem) {
  atf_elf_symbols s;
  const MainObject m = Main();
  EXPECT_EQ(atf_elf_load("/nonexistent/file", 0, nullptr, 0, &s), ATF_ELF_IO);
  EXPECT_EQ(atf_elf_load("/", 0, nullptr, 0, &s), ATF_ELF_IO);
  EXPECT_EQ(
      atf_elf_load(Spill("text", "not an ELF file at all, just text").c_str(), 0, nullptr, 0, &s),
      ATF_ELF_FORMAT);
  EXPECT_EQ(s.count, 0u);
  // The mapped object's program headers do not match the file's.
  std::vector<ElfW(Phdr)> fake(m.phdr, m.phdr + m.phnum);
  for (auto &p : fake) {
    if (p.p_type == PT_LOAD) p.p_memsz += 4096;
  }
  EXPECT_EQ(atf_elf_load("/proc/self/exe", m.bias, fake.data(), fake.size(), &s), ATF_ELF_MISMATCH);
  // A symbol table claiming more than the cap.
  std::string img = Slurp(kPlugin);
  ASSERT_GT(img.size(), 1024u);
  Section(img, SHT_SYMTAB)->sh_size = uint64_t{1} << 40;
  EXPECT_EQ(atf_elf_load(Spill("huge", img).c_str(), 0, nullptr, 0, &s), ATF_ELF_TOO_LARGE);
  // ... or running past the end of the file.
  img = Slurp(kPlugin);
  Section(img, SHT_SYMTAB)->sh_offset = img.size() - 8;
  EXPECT_EQ(atf_elf_load(Spill("past", img).c_str(), 0, nullptr, 0, &s), ATF_ELF_FORMAT);
  EXPECT_STREQ(atf_elf_strerror(ATF_ELF_MISMATCH),
               "the file is not the mapped object (program headers differ)");
}

TEST(ElfSymbols, TruncatedAndCorruptedFilesNeverCrash) {
  const std::string img = Slurp(kPlugin);  // small: hundreds of copies stay quick under ASan
  ASSERT_GT(img.size(), 4096u);
  atf_elf_symbols whole;
  ASSERT_EQ(atf_elf_load(kPlugin, 0, nullptr, 0, &whole), ATF_ELF_OK);
  atf_elf_free(&whole);
  const auto *eh = reinterpret_cast<const Elf64_Ehdr *>(img.data());
  std::mt19937_64 rng(14);
  int ok = 0;
  for (int i = 0; i < 150; ++i) {  // cut anywhere, and just before the section headers
    const size_t cut =
        i < 100 ? rng() % img.size() : eh->e_shoff + rng() % (img.size() - eh->e_shoff);
    atf_elf_symbols s;
    const atf_elf_status st =
        atf_elf_load(Spill("cut", img.substr(0, cut)).c_str(), 0, nullptr, 0, &s);
    EXPECT_NE(st, ATF_ELF_OK) << "cut at " << cut;
    atf_elf_free(&s);
  }
  for (int i = 0; i < 300; ++i) {  // flip bytes in the headers and the section header table
    std::string bad = img;
    for (int k = 0; k < 4; ++k) {
      const size_t at = k % 2 == 0 ? rng() % sizeof(Elf64_Ehdr)
                                   : eh->e_shoff + rng() % (img.size() - eh->e_shoff);
      bad[at] = static_cast<char>(rng());
    }
    atf_elf_symbols s;
    if (atf_elf_load(Spill("flip", bad).c_str(), 0, nullptr, 0, &s) == ATF_ELF_OK) {
      ok++;
      for (size_t j = 0; j < s.count; ++j)
        ASSERT_LT(s.funcs[j].name, s.names_len);  // names inside the pool
    }
    atf_elf_free(&s);
  }
  SUCCEED() << ok << " corrupted copies still loaded";
}

// ---- objects ------------------------------------------------------------------------------------

struct Seen {
  std::vector<std::string> added, removed;
};

void OnAdd(void *ctx, const atf_object *o) { static_cast<Seen *>(ctx)->added.push_back(o->path); }
void OnRemove(void *ctx, const atf_object *o) {
  static_cast<Seen *>(ctx)->removed.push_back(o->path);
}

bool HasFunction(const atf_object *o, const char *name) {
  for (size_t i = 0; i < o->syms.count; ++i) {
    if (std::strcmp(o->syms.names + o->syms.funcs[i].name, name) == 0) return true;
  }
  return false;
}

TEST(Objects, MainExecutableAndDlopenDlclose) {
  atf_objects objs{};
  Seen seen;
  ASSERT_EQ(atf_objects_refresh(&objs, OnAdd, OnRemove, &seen), 0);
  ASSERT_GT(objs.n, 2u);  // the executable, libc, the loader, ...
  EXPECT_EQ(objs.v[0].is_main, 1);
  EXPECT_STREQ(objs.v[0].path, "");
  EXPECT_STREQ(atf_objects_symbol(&objs, probe_static_address()), "probe_static");
  const size_t before = objs.n;
  seen = Seen();
  ASSERT_EQ(atf_objects_refresh(&objs, OnAdd, OnRemove, &seen), 0);  // nothing changed
  EXPECT_TRUE(seen.added.empty());
  EXPECT_TRUE(seen.removed.empty());

  void *h = dlopen("./instrument/libplugin_a.so", RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << dlerror();
  void *entry = dlsym(h, "plugin_entry");
  void *api = dlsym(h, "plugin_a_api");
  ASSERT_NE(api, nullptr);
  ASSERT_EQ(atf_objects_refresh(&objs, OnAdd, OnRemove, &seen), 0);
  ASSERT_EQ(seen.added.size(), 1u);
  EXPECT_NE(seen.added[0].find("libplugin_a.so"), std::string::npos);
  EXPECT_EQ(objs.n, before + 1);
  EXPECT_STREQ(atf_objects_symbol(&objs, reinterpret_cast<uint64_t>(api)), "plugin_a_api");
  EXPECT_STREQ(atf_objects_symbol(&objs, reinterpret_cast<uint64_t>(entry)), "plugin_entry");
  const atf_object *plugin = atf_objects_find(&objs, reinterpret_cast<uint64_t>(api));
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->syms.from_symtab, 1);
  EXPECT_TRUE(HasFunction(plugin, "plugin_a_static_helper"));  // static: from .symtab
  EXPECT_EQ(plugin->syms.references_hook, 1);
  EXPECT_EQ(plugin->syms.defines_hook, 0);

  ASSERT_EQ(dlclose(h), 0);
  seen = Seen();
  ASSERT_EQ(atf_objects_refresh(&objs, OnAdd, OnRemove, &seen), 0);
  ASSERT_EQ(seen.removed.size(), 1u);
  EXPECT_NE(seen.removed[0].find("libplugin_a.so"), std::string::npos);
  EXPECT_EQ(objs.n, before);
  EXPECT_EQ(atf_objects_symbol(&objs, reinterpret_cast<uint64_t>(api)), nullptr);
  atf_objects_free(&objs);
}

}  // namespace

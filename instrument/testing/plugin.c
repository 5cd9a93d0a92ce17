/* plugin.c: a shared object for traced_program's dlopen mode, built twice (PLUGIN=a and PLUGIN=b)
 * from this one source, so both builds have the same code at the same offsets under different
 * names: when the second is mapped where the first was, only a cache that forgot the first one's
 * addresses at dlclose names its functions right. The helper is static: only .symtab has it. */
#include <stdint.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define NAME(n) CAT(CAT(plugin_, PLUGIN), CAT(_, n))

static volatile uint64_t sink;

__attribute__((noinline)) static uint64_t NAME(static_helper)(uint64_t x) {
  sink += x;
  return x + 1;
}

__attribute__((noinline)) uint64_t NAME(api)(uint64_t x) { return NAME(static_helper)(x) * 2; }

uint64_t plugin_entry(uint64_t x) { return NAME(api)(x) + NAME(static_helper)(x); }

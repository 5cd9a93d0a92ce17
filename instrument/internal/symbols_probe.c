/* Functions symbols_test.cc looks for in its own executable: a static one (only in .symtab), an
 * exported one (also in .dynsym: the test links with -rdynamic), and a global with a weak alias at
 * the same address. The stand-in hooks let the instrumented test plugins load. */
#include <stdint.h>

static volatile int sink;

__attribute__((noinline)) static int probe_static(int x) { return x * 3 + sink; }

__attribute__((noinline)) int probe_exported(int x) { return probe_static(x) + 1; }

__attribute__((noinline)) int probe_alias_target(int x) { return x - 1 + sink; }
extern int probe_weak_alias(int x) __attribute__((weak, alias("probe_alias_target")));

/* The address of probe_static, which the test cannot name. */
uintptr_t probe_static_address(void) { return (uintptr_t)&probe_static; }

void __cyg_profile_func_enter(void *fn, void *site) { (void)fn, (void)site; }
void __cyg_profile_func_exit(void *fn, void *site) { (void)fn, (void)site; }

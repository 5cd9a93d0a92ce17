/* Status strings and open-failure messages, host detection, register and signal names
 * (atf/writer.h, internal/names.h). */
#include <stdio.h>
#include <string.h>

#include "writer/atf/writer.h"
#include "writer/internal/names.h"

const char *atf_writer_strerror(atf_writer_status status) {
  switch (status) {
    case ATF_WRITER_OK:
      return "ok";
    case ATF_WRITER_E_INVALID_ARGUMENT:
      return "invalid argument";
    case ATF_WRITER_E_STATE:
      return "call not allowed in the writer's current state";
    case ATF_WRITER_E_NO_MEMORY:
      return "out of memory";
    case ATF_WRITER_E_IO:
      return "I/O error";
    case ATF_WRITER_E_NO_SPACE:
      return "no space left on device";
    case ATF_WRITER_E_EXISTS:
      return "session directory already exists";
    case ATF_WRITER_E_LIMIT:
      return "session limit reached (max_events or max_file_bytes)";
    case ATF_WRITER_E_BAD_RECORD:
      return "malformed ring record";
    case ATF_WRITER_E_FAILED:
      return "writer failed earlier; only close is allowed";
  }
  return "unknown status";
}

const char *atf_writer_format_open_error(const atf_writer_open_error *e, char *buf, size_t size) {
  if (buf == NULL || size == 0) return buf;
  if (e == NULL) {
    snprintf(buf, size, "%s", atf_writer_strerror(ATF_WRITER_E_INVALID_ARGUMENT));
  } else if (e->error_number == 0) {
    snprintf(buf, size, "%s", atf_writer_strerror(e->status));
  } else {
    const char *op = e->operation != NULL && e->operation[0] != '\0' ? e->operation : "open";
    snprintf(buf, size, "cannot %s%s%s: %s", op, e->path[0] != '\0' ? " " : "", e->path,
             strerror(e->error_number));
  }
  return buf;
}

atf_arch atf_host_arch(void) {
#if defined(__x86_64__) || defined(_M_X64)
  return ATF_ARCH_X86_64;
#elif defined(__aarch64__) || defined(_M_ARM64)
  return ATF_ARCH_ARM64;
#else
  return ATF_ARCH_UNKNOWN;
#endif
}

atf_os atf_host_os(void) {
#if defined(__linux__)
  return ATF_OS_LINUX;
#elif defined(__APPLE__)
  return ATF_OS_DARWIN;
#else
  return ATF_OS_UNKNOWN;
#endif
}

/* "aarch64", not "arm64": the original ATF V4 writer wrote "aarch64" into the manifest on ARM
 * hosts (github.com/WeZZard/walkthrough, tracer_backend/src/atf/atf_v4_writer.c,
 * detect_platform()) and its schema gives "aarch64" as the example of cpu_architecture
 * (docs/specs/TRACE_SCHEMA.md); docs/format.md, section 8. */
const char *atf_arch_name(atf_arch arch) {
  switch (arch) {
    case ATF_ARCH_X86_64:
      return "x86_64";
    case ATF_ARCH_ARM64:
      return "aarch64";
    default:
      return "unknown";
  }
}

const char *atf_os_name(atf_os os) {
  switch (os) {
    case ATF_OS_LINUX:
      return "linux";
    case ATF_OS_DARWIN:
      return "darwin";
    default:
      return "unknown";
  }
}

static const char *const kX86Call[] = {"RDI", "RSI", "RDX", "RCX", "R8", "R9"};
static const char *const kX86Return[] = {"RAX", "RDX"};
static const char *const kX86Signal[] = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI",
                                         "RBP", "RSP", "R8",  "R9",  "R10", "R11",
                                         "R12", "R13", "R14", "R15", "RIP", "RFLAGS"};
static const char *const kArmCall[] = {"X0", "X1", "X2", "X3", "X4", "X5", "X6", "X7"};
static const char *const kArmReturn[] = {"X0", "X1"};
static const char *const kArmSignal[] = {
    "X0",  "X1",  "X2",  "X3",  "X4",  "X5",  "X6",  "X7",  "X8",  "X9",  "X10", "X11",
    "X12", "X13", "X14", "X15", "X16", "X17", "X18", "X19", "X20", "X21", "X22", "X23",
    "X24", "X25", "X26", "X27", "X28", "FP",  "LR",  "SP",  "PC",  "CPSR"};
static const char *const kGeneric[ATF_RECORD_MAX_REGS] = {
    "R0",  "R1",  "R2",  "R3",  "R4",  "R5",  "R6",  "R7",  "R8",  "R9",  "R10", "R11", "R12",
    "R13", "R14", "R15", "R16", "R17", "R18", "R19", "R20", "R21", "R22", "R23", "R24", "R25",
    "R26", "R27", "R28", "R29", "R30", "R31", "R32", "R33", "R34", "R35", "R36", "R37", "R38",
    "R39", "R40", "R41", "R42", "R43", "R44", "R45", "R46", "R47", "R48", "R49", "R50", "R51",
    "R52", "R53", "R54", "R55", "R56", "R57", "R58", "R59", "R60", "R61", "R62", "R63"};

#define COUNT(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

/* The name table of (arch, kind); *count gets its length. NULL for kinds without registers. */
static const char *const *register_table(atf_arch arch, int kind, unsigned *count) {
  static const struct {
    const char *const *names;
    unsigned count;
  } kTables[2][3] = {
      {{kX86Call, COUNT(kX86Call)},
       {kX86Return, COUNT(kX86Return)},
       {kX86Signal, COUNT(kX86Signal)}},
      {{kArmCall, COUNT(kArmCall)},
       {kArmReturn, COUNT(kArmReturn)},
       {kArmSignal, COUNT(kArmSignal)}},
  };
  *count = 0;
  if (kind != ATF_KIND_CALL && kind != ATF_KIND_RETURN && kind != ATF_KIND_SIGNAL) return NULL;
  if (arch != ATF_ARCH_X86_64 && arch != ATF_ARCH_ARM64) {
    *count = ATF_RECORD_MAX_REGS;
    return kGeneric;
  }
  int a = arch == ATF_ARCH_X86_64 ? 0 : 1;
  *count = kTables[a][kind - ATF_KIND_CALL].count;
  return kTables[a][kind - ATF_KIND_CALL].names;
}

const char *atf_register_name(atf_arch arch, int kind, unsigned index) {
  unsigned count;
  const char *const *names = register_table(arch, kind, &count);
  return names != NULL && index < count ? names[index] : NULL;
}

unsigned atf_register_count(atf_arch arch, int kind) {
  unsigned count;
  register_table(arch, kind, &count);
  return count;
}

/* Index = signal number; the primary name of each number 1..31 (aliases not written: SIGIOT =
 * SIGABRT; linux SIGPOLL = SIGIO, SIGUNUSED = SIGSYS, glibc's SIGCLD = SIGCHLD).
 * Linux: the kernel's include/uapi/asm-generic/signal.h, which arm64's <asm/signal.h> includes,
 * and arch/x86/include/uapi/asm/signal.h, identical for 1..31 (read in Debian 12's
 * linux-libc-dev 6.1: /usr/include/asm-generic/signal.h, /usr/include/x86_64-linux-gnu/asm/
 * signal.h); 32..64 are real-time signals (SIGRTMIN 32, SIGRTMAX _NSIG = 64), left unnamed on
 * purpose (see atf/writer.h).
 * darwin (x86_64 and arm64 alike): xnu bsd/sys/signal.h, NSIG 32; 7 is SIGEMT (SIGPOLL only
 * under strict POSIX, where SIGEMT is not defined). */
static const char *const kLinuxSignals[32] = {
    NULL,        "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
static const char *const kDarwinSignals[32] = {
    NULL,      "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGEMT",
    "SIGFPE",  "SIGKILL", "SIGBUS",    "SIGSEGV", "SIGSYS",   "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGURG",  "SIGSTOP", "SIGTSTP",   "SIGCONT", "SIGCHLD",  "SIGTTIN", "SIGTTOU", "SIGIO",
    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGINFO", "SIGUSR1", "SIGUSR2"};

/* "SIG<number>" into buf (at most "SIG-2147483648" + NUL = 15 bytes) without stdio, so that
 * naming stays async-signal-safe. */
static const char *format_unnamed(int number, char buf[16]) {
  char digits[12];
  unsigned n = 0;
  /* In unsigned arithmetic, so that INT_MIN negates without overflow. */
  unsigned magnitude = number < 0 ? 0u - (unsigned)number : (unsigned)number;
  do {
    digits[n++] = (char)('0' + magnitude % 10u);
    magnitude /= 10u;
  } while (magnitude != 0);
  char *p = buf;
  memcpy(p, "SIG", 3);
  p += 3;
  if (number < 0) *p++ = '-';
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
  return buf;
}

static const char *const *signal_table(atf_os os) {
  switch (os) {
    case ATF_OS_LINUX:
      return kLinuxSignals;
    case ATF_OS_DARWIN:
      return kDarwinSignals;
    default:
      return NULL;
  }
}

const char *atf_signal_name(atf_os os, int number, char buf[16]) {
  const char *const *table = signal_table(os);
  if (table != NULL && number > 0 && number < 32) return table[number];
  return format_unnamed(number, buf);
}

const char *atf_signal_name_for_os(const char *os, int number, char buf[16]) {
  atf_os id = ATF_OS_UNKNOWN;
  if (os != NULL && strcmp(os, "linux") == 0) id = ATF_OS_LINUX;
  if (os != NULL && strcmp(os, "darwin") == 0) id = ATF_OS_DARWIN;
  return atf_signal_name(id, number, buf);
}

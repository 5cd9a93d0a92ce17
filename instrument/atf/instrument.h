/* atf/instrument.h: trace any program built with -finstrument-functions into an ATF V4 session.
 *
 * Usage: compile the code to trace with -finstrument-functions and link it with
 * libatf_instrument.so (or the static library //instrument:atf_instrument). Nothing else: the
 * library provides the two hooks the compiler calls, __cyg_profile_func_enter/exit, and runs the
 * session around the program. Settings come from the environment (instrument/README.md):
 * ATF_TRACE, ATF_OUTPUT_ROOT, ATF_SESSION_LABEL, ATF_RING_BYTES, ATF_OVERFLOW, ATF_STACK_BYTES,
 * ATF_MAX_THREADS, ATF_FLUSH_MS, ATF_VERBOSE.
 *
 * Session lifetime: started by a constructor before main (atf/tracer.h: TraceStart with argv),
 * ended by an exit handler (glibc's on_exit, which receives the status): exit() from any thread
 * and return from main write TraceEnd with that exit code, and trace.json. _exit(), quick_exit(),
 * a crash or a kill leave the session as a crash does: events.bin up to the last periodic flush
 * (ATF_FLUSH_MS) and no trace.json; atf-recover makes it valid again.
 *
 * What each event holds: FunctionCall / FunctionReturn with the function's entry address (the
 * hook's first argument) and its symbol: the name from the ELF symbol table of the object holding
 * the address (.symtab, so static functions too; .dynsym when the file was stripped), or "0x<hex
 * address>" when no symbol starts exactly there. No argument or return registers: the hook
 * cannot see them (the compiler passes none), so none are invented. With ATF_STACK_BYTES = N,
 * FunctionCall.stack_shallow_copy holds N bytes from the traced function's stack pointer at the
 * moment it called the hook (after its prologue), cut at the top of the thread's stack. The call
 * site (the hook's second argument) is not recorded: FunctionCall has no field for it.
 *
 * Names: every function symbol of an instrumented object (one that calls the hook) is interned
 * and cached by address when the session starts, or when dlopen() loads the object; any other
 * address is resolved on its first call (a lock, the loader's list, reading the ELF file once)
 * and cached. After that a hook is lock-free and allocation-free: a cache probe and the tracer's
 * record (atf_tracer_record_call / atf_tracer_record_return).
 *
 * Threads: any thread; each records into its own ring (atf/tracer.h). Signal handlers: a hook in
 * a handler is safe (a cache probe and the tracer's record, which drops and counts an event that
 * interrupts its own thread's record); an address not cached yet is recorded with an empty symbol
 * when the handler interrupted a hook, and resolved as above otherwise. fork(): the child traces
 * nothing (the parent's session goes on unchanged; exec'ed programs start their own). dlopen /
 * dlclose: the library wraps both: new objects are read at once, and a dlclose drops the cached
 * names of the unloaded object's addresses, so a later object at the same addresses gets its own.
 *
 * The hooks never recurse: this library is built without -finstrument-functions and marks its
 * functions no_instrument_function, and a per-thread depth counter stops a hook entered from a
 * hook more than a few levels deep (which only a tracer built with the flag would cause).
 */
#ifndef ATF_INSTRUMENT_H_
#define ATF_INSTRUMENT_H_

#ifdef __cplusplus
extern "C" {
#endif

/* The hooks the compiler calls (-finstrument-functions). */
void __cyg_profile_func_enter(void *this_fn, void *call_site)
    __attribute__((no_instrument_function));
void __cyg_profile_func_exit(void *this_fn, void *call_site)
    __attribute__((no_instrument_function));

/* 1 while the hooks record (a session is running in this process), else 0. */
int atf_instrument_active(void) __attribute__((no_instrument_function));

/* The directory of the running session (<root>/session_.../pid_<pid>), or NULL when none is
 * running. Valid until the session ends (at exit). */
const char *atf_instrument_session_dir(void) __attribute__((no_instrument_function));

#ifdef __cplusplus
}
#endif

#endif /* ATF_INSTRUMENT_H_ */

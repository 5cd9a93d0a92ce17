#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora in fuzz/corpus/<target>/ from the checked-in test data.

    python3 fuzz/make_corpus.py            # from the repository root; rewrites fuzz/corpus/

Deterministic: the same testdata gives the same files (named after what they hold), so the
checked-in corpora can be reviewed as a diff. Sources: testdata/golden/linux-x86_64 (the writer's
golden session; the validator also gets darwin-arm64's, other names and signal numbering),
testdata/malformed (one defect per case), validator/testdata/fuzz_regressions, plus
hand-built inputs for what the test data does not reach (varint boundaries, writer programs with
every record kind and edge value, writer-rendered manifest values, torn files for recovery).
Input layouts are those documented at the top of each fuzz/<target>_fuzzer.cc (writer_faults:
each writer_roundtrip program under each fault mode).

Files named campaign_* are kept: they are inputs a fuzzing campaign found (libFuzzer -merge=1
against these seeds, see fuzz/README.md), checked in as they are.
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
MAX_SEED = 64 * 1024


def read(*parts):
    with open(os.path.join(ROOT, *parts), "rb") as f:
        return f.read()


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def frames(events):
    """Offsets where each record of a well-framed events.bin ends."""
    ends, pos = [], 0
    while pos < len(events):
        n, shift = 0, 0
        while True:
            b = events[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        pos += n
        ends.append(pos)
    return ends


def malformed_cases():
    base = os.path.join(ROOT, "testdata", "malformed")
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        if not os.path.isdir(d):
            continue
        ev = os.path.join(d, "events.bin")
        tj = os.path.join(d, "trace.json")
        events = open(ev, "rb").read() if os.path.exists(ev) else b""
        manifest = open(tj, "rb").read() if os.path.exists(tj) else None
        yield name, events, manifest


class Corpus:
    def __init__(self, target):
        self.dir = os.path.join(OUT, target)
        os.makedirs(self.dir, exist_ok=True)
        for name in os.listdir(self.dir):
            if not name.startswith("campaign_"):
                os.remove(os.path.join(self.dir, name))

    def add(self, name, data):
        if len(data) > MAX_SEED:
            return
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)


# ---- varint -------------------------------------------------------------------------------------

def make_varint(golden_events):
    c = Corpus("varint")
    c.add("golden_events", golden_events)
    for name, events, _ in malformed_cases():
        if events:
            c.add("malformed_" + name, events)
    values = [0, 1, 127, 128, 16383, 16384, 2**32 - 1, 2**32, 2**53, 2**63 - 1, 2**63, 2**64 - 1]
    for k in range(1, 10):
        values += [2 ** (7 * k) - 1, 2 ** (7 * k)]
    c.add("values_le64", b"".join(struct.pack("<Q", v) for v in values))
    c.add("framing_boundaries", b"".join(varint(n) + b"\0" * n for n in (0, 1, 2, 127)) + varint(300))
    c.add("ten_bytes_bit63", b"\x80" * 9 + b"\x01")
    c.add("ten_bytes_overflow", b"\x80" * 9 + b"\x02")
    c.add("eleven_bytes", b"\x80" * 10 + b"\x00")
    c.add("padded_zero", b"\x80\x80\x00")
    c.add("cut_prefix", b"\xff\xff")


# ---- validator ----------------------------------------------------------------------------------

def pack(events, manifest):
    m = 0xFFFF if manifest is None else len(manifest)
    return struct.pack("<H", m) + events + (manifest or b"")


def make_validator(golden_events, golden_manifest):
    c = Corpus("validator")
    c.add("golden", pack(golden_events, golden_manifest))
    c.add("golden_darwin_arm64", pack(read("testdata", "golden", "darwin-arm64", "events.bin"),
                                      read("testdata", "golden", "darwin-arm64", "trace.json")))
    c.add("golden_no_manifest", pack(golden_events, None))
    ends = frames(golden_events)
    c.add("golden_first_record", pack(golden_events[: ends[0]], None))
    c.add("golden_torn_tail", pack(golden_events[: ends[-1] - 3], None))
    for name, events, manifest in malformed_cases():
        c.add("malformed_" + name, pack(events, manifest))
    reg = os.path.join(ROOT, "validator", "testdata", "fuzz_regressions")
    for name in sorted(os.listdir(reg)):
        c.add("regression_" + name, read("validator", "testdata", "fuzz_regressions", name))


# ---- manifest -----------------------------------------------------------------------------------

def make_manifest(golden_manifest):
    c = Corpus("manifest")
    c.add("golden", b"\x00" + golden_manifest)
    for name, _, manifest in malformed_cases():
        if manifest is not None:
            c.add("malformed_" + name, b"\x00" + manifest)
    c.add("exact_uint64", b'\x00{"a":18446744073709551615,"b":18446744073709551616,"c":9007199254740993,'
          b'"d":-0,"e":1.0,"f":1e3,"g":"\\ud83d\\ude00","h":[[],{}],"i":null,"j":true}')
    # Writer-rendered values (first byte odd): strings with invalid UTF-8, extremes, drops.
    c.add("render_extremes",
          b"\x01" + b"\x05linux" + b"\x06x86_64" + b"\x06/b\xff\xfe\x80n" + b"\xff\xff\xff\x7f"
          + b"\x01\xff" + b"\x02\x01" + b"\x01\x00" + b"\x00" + b"\xff" * 8 + b"\x04\x3f" + b"\x03"
          + bytes(range(36)) * 3 + b"\x01" + b"\x01\x00" + b"\x04" + b"\xff\xff\xff\xff" + b"\x01\x00"
          + b"\x00\x00\x00\x80" + b"\x02\x01")


# ---- writer round trip --------------------------------------------------------------------------

def u8(v):
    return bytes([v & 0xFF])


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def sstr(b):
    return u8(len(b)) + b


KIND = {"call": 1, "return": 2, "signal": 3, "end": 4}


def program(arch, os_, cap_index, small_buffer, every_batch, tid, exe, args, exit_code, ops,
            io_thread=False, append=False):
    """Header of a writer_roundtrip program (see writer_roundtrip_fuzzer.cc). `append`: batches go
    through atf_writer_append (prefix semantics) instead of atf_writer_write."""
    config = arch + 3 * os_ + 9 * (1 if every_batch else 0)
    sizes = cap_index | (8 if small_buffer else 0) | (16 if io_thread else 0) | (32 if append else 0)
    return (u8(config) + u8(sizes) + u32(tid) + sstr(exe) + u8(len(args)) + b"".join(sstr(a) for a in args)
            + u32(exit_code) + b"".join(ops))


def intern(piece, repeat_sel=0):
    return u8(0) + sstr(piece) + u8(repeat_sel)


def record(kind, tid=None, ts=("delta8", 1), address=None, symbol=0, value=None, regs="max", vmode=1,
           stack=None, stack_bytes=b"", force_stack=False, back=False, call_site=None, bad_flags=False):
    """One record op. `back`: ts is earlier than the thread's last one, keep it (order error).
    `call_site`: a call's FunctionCall.call_site (ATF_RECORD_FLAG_CALL_SITE); `bad_flags`: an unknown
    flag (a bad record)."""
    k = KIND[kind]
    out = u8(k)
    if tid is None:
        out += u8(0)  # the session thread
    else:
        out += u8(2) + u32(tid)
    mode, val = ts
    out += {"delta8": lambda: u8(0) + u8(val), "delta32": lambda: u8(1) + u32(val),
            "abs": lambda: u8(2) + u64(val), "max": lambda: u8(3), "same": lambda: u8(4)}[mode]()
    if back:
        out += u8(1)
    if k in (1, 2):
        out += (u8(0) + u64(address)) if address is not None else u8(1) + u8(2)  # UINT64_MAX
        out += u8(symbol)
        if bad_flags:
            out += u8(0xFF)
        elif call_site is not None:
            out += u8(2) + u64(call_site)
        else:
            out += u8(0)
    if k in (3, 4):
        out += u8(1) + u32(value if value is not None else 0)
    out += u8(0x80) if regs == "max" else u8(regs)
    out += u8(vmode)
    if vmode == 0:
        raise ValueError("use vmode 1 (edge values) or 2 (one value)")
    if vmode == 2:
        out += u64(0x8000000000000001)
    if k == 1 or force_stack:
        if stack is None:
            out += u8(0)
        else:
            fill = (stack_bytes or b"\x5a") * (stack // max(1, len(stack_bytes)) + 1)
            out += (u8(0xFF) if force_stack else u8(3)) + u16(stack) + fill[:stack]
    elif k != 1:
        out += u8(0)
    return out


def write_batch():
    return u8(6)


def flush():
    return u8(7)


def pad(extra_words=1):
    return u8(5) + u8(extra_words)


def make_writer_roundtrip():
    c = Corpus("writer_roundtrip")
    stack40 = bytes(range(40))
    # x86_64/linux, cap 32: every kind, max registers, a stack cut to the cap, invalid UTF-8 and NUL
    # in a symbol, uint64 extremes, negative thread ids, a TRACE_END record.
    c.add("x86_linux_every_kind", program(1, 0, 3, False, False, 4242, b"/usr/bin/tr\xc3\xa4ced", [b"tr", b"-x\xff"], 3, [
        intern(b"main"), intern(b"bad\xff\xfe\x00utf8\xe2\x82"), intern(b""),
        record("call", symbol=1, address=0x401000, stack=40, stack_bytes=stack40),
        record("call", tid=-1, symbol=2, regs=0, stack=0),
        record("return", tid=-1, symbol=2, regs="max"),
        record("return", symbol=3, regs=1, vmode=2),
        record("signal", tid=0x7FFFFFFF, value=11), record("signal", value=77, regs=0),
        record("signal", tid=-2147483648, value=10, ts=("max", 0)),
        pad(2), write_batch(), flush(),
        record("end", value=0xFFFFFFFF, regs=0)]))
    # arm64/darwin, cap 4096: full 4 KiB stack, darwin signal names, every batch flushed.
    c.add("arm64_darwin_max_stack", program(2, 1, 7, False, True, 1, b"/Applications/a", [], 0, [
        intern(b"\xf0\x9f\x98\x80emoji"),
        record("call", symbol=1, stack=4096, stack_bytes=b"\xaa" * 16),
        record("return", symbol=1), record("signal", value=30), record("signal", value=31),
        write_batch(), record("call", symbol=0, regs=7, vmode=2, stack=1, stack_bytes=b"\x00"), write_batch()]))
    # arm64/linux with the default session thread id 0 (TraceStart/TraceEnd on thread 0, records
    # of thread 0 beside them), linux signal names (10 SIGUSR1, 30 SIGPWR), finalize's TraceEnd.
    c.add("arm64_linux_session_thread_0", program(2, 0, 3, False, False, 0, b"/bin/zero", [b"zero"], 9, [
        intern(b"f"), record("call", symbol=1, stack=8), record("return", symbol=1),
        record("signal", value=10), record("signal", tid=4, value=30), write_batch()]))
    # Unknown arch and os: 64 generic registers per kind, a symbol larger than the 64 KiB buffer.
    c.add("unknown_arch_huge_symbol", program(0, 2, 4, True, False, 0xFFFFFFFF, b"", [b"", b"a", b"\xed\xa0\x80"], -1, [
        intern(b"S" * 255, 3),
        record("call", symbol=1, stack=300, stack_bytes=b"x" * 300),
        record("return", symbol=1), record("signal", value=-5),
        write_batch()]))
    # Refused batches: a register past the names, a stack on a return, an unknown symbol id, an
    # event after TRACE_END in one batch; then events after a written TRACE_END.
    c.add("refused_batches", program(1, 0, 4, False, False, 7, b"/bin/x", [], 1, [
        record("call", regs=7), write_batch(),
        record("return", force_stack=True, stack=8, stack_bytes=b"12345678"), write_batch(),
        record("call", symbol=5), write_batch(),
        record("end", value=1, regs=0), record("call"), write_batch(),
        record("end", value=2, regs=0), write_batch(),
        record("call"), write_batch(), pad(0), write_batch()]))
    # A thread whose timestamps go back: order.timestamp predicted for that record.
    c.add("timestamp_back", program(1, 0, 4, False, False, 9, b"/bin/t", [], 0, [
        record("call", tid=5, ts=("delta32", 1000)),
        record("call", tid=5, ts=("abs", 5), back=True),
        record("signal", tid=6, ts=("abs", 0), back=True), write_batch()]))
    # Cap 0: no stack bytes at all; explicit flushes between batches; cap 1000 and 1 byte.
    c.add("cap_zero_flushes", program(1, 0, 0, False, False, 3, b"/bin/z", [b"z"], 0, [
        record("call", stack=100, stack_bytes=b"q" * 100), flush(), write_batch(), flush(), flush(),
        record("call", stack=0), write_batch()]))
    c.add("cap_1000", program(2, 0, 5, False, False, 3, b"/bin/y", [], 0, [
        record("call", stack=1001, stack_bytes=b"r" * 64), record("call", stack=999), write_batch()]))
    # The writer's I/O thread with the 64 KiB buffer: a 60,000-byte symbol makes every call fill
    # the buffer (a hand-over per event), a 76,500-byte one is larger than the buffer (written by
    # the caller's thread after the buffer in flight); flushes in between.
    c.add("io_thread_handovers", program(1, 0, 4, True, False, 11, b"/bin/io", [b"io"], 0, [
        intern(b"T" * 200, 3), intern(b"S" * 255, 3)]
        + [record("call", symbol=1, stack=16) for _ in range(6)]
        + [record("return", symbol=2), record("call", symbol=1), write_batch(), flush()]
        + [record("signal", value=11), record("call", symbol=1), record("call", symbol=2),
           write_batch()], io_thread=True))
    # atf_writer_append: refused records keep the prefix before them; a bad record after good ones,
    # an event after TRACE_END in the same batch, then a later batch after it.
    c.add("append_prefixes", program(1, 0, 4, False, False, 7, b"/bin/x", [], 1, [
        intern(b"f"), record("call", symbol=1), pad(1), record("call", regs=7), record("return"),
        write_batch(),
        record("call", symbol=1), record("call", symbol=5), write_batch(),
        record("return", force_stack=True, stack=8, stack_bytes=b"12345678"), write_batch(),
        record("call"), record("end", value=1, regs=0), record("call"), write_batch(),
        record("call"), write_batch(), pad(0), write_batch()], append=True))
    # atf_writer_append with the 64 KiB buffer and the I/O thread: calls that do not fit the room
    # left go to a fresh buffer.
    c.add("append_handovers", program(1, 0, 4, True, False, 11, b"/bin/io", [b"io"], 0, [
        intern(b"T" * 200, 3)]
        + [record("call", symbol=1, stack=200, stack_bytes=b"s" * 200) for _ in range(40)]
        + [write_batch(), flush(), record("signal", value=11), record("return", symbol=1),
           write_batch()], io_thread=True, append=True))
    # FunctionCall.call_site (ATF_RECORD_FLAG_CALL_SITE): edge values across the low/high halves,
    # balanced calls and returns on two threads (valid, session.call_return holds).
    c.add("call_sites", program(1, 0, 3, False, False, 21, b"/bin/cs", [b"cs"], 0, [
        intern(b"outer"), intern(b"inner"),
        record("call", symbol=1, address=0x401000, call_site=0x401234),
        record("call", symbol=2, address=0x402000, call_site=0xFFFFFFFF),
        record("call", tid=22, symbol=2, address=0x402000, call_site=0x100000000),
        record("call", tid=22, symbol=1, address=0x401000, call_site=2**64 - 1),
        record("call", symbol=2, address=0x402000, call_site=0),
        record("return", symbol=2, address=0x402000), record("return", symbol=2, address=0x402000),
        record("return", tid=22, symbol=1, address=0x401000), write_batch(),
        record("return", tid=22, symbol=2, address=0x402000), record("return", symbol=1, address=0x401000),
        record("call", symbol=1, address=0x401000, call_site=0x7FFFFFFFFFFFFFFF), write_batch()]))
    # session.call_return broken: a return on a thread without open calls, one of another address
    # than the innermost call, calls left open; then a refused batch with an unknown record flag.
    c.add("call_return_broken", program(2, 0, 3, False, False, 31, b"/bin/cr", [], 0, [
        intern(b"f"),
        record("return", symbol=1, address=0x10),
        record("call", symbol=1, address=0x10, call_site=0x20), record("call", address=0x11),
        record("return", symbol=1, address=0x10), record("return", symbol=1, address=0x10),
        record("call", tid=32, address=0x30), write_batch(),
        record("call", bad_flags=True), write_batch()]))
    c.add("io_thread_every_batch", program(2, 1, 3, True, True, 12, b"/bin/io2", [], 5, [
        intern(b"U" * 100, 3), record("call", symbol=1), write_batch(), record("return", symbol=1),
        record("call", symbol=1, stack=64), write_batch(), flush(), record("end", value=5, regs=0),
        write_batch()], io_thread=True))


def make_writer_faults():
    """Each writer program under each fault mode (writer_faults_fuzzer.cc's header)."""
    c = Corpus("writer_faults")
    src = os.path.join(OUT, "writer_roundtrip")
    modes = [(0, 3), (1, 5), (2, 0), (3, 200), (4, 150), (5, 2), (6, 180), (7, 3), (8, 300),
             (0x43, 250), (0x84, 100), (3, 20), (5, 1), (3, 65000), (4, 61000), (6, 62000)]
    for name in sorted(os.listdir(src)):
        program = open(os.path.join(src, name), "rb").read()
        for mode, param in modes:
            c.add("%s_mode%02x_%d" % (name, mode, param), u8(mode) + u16(param) + program)


# ---- recovery -----------------------------------------------------------------------------------

def make_recover(golden_events, golden_manifest):
    c = Corpus("recover")
    ends = frames(golden_events)
    # Layout: u8 flags (bit 0 truncate, bit 1 keep a trace.json, bit 2 dry run, bit 3 salvage), then
    # events.bin (and trace.json split like the validator target when bit 1 is set).
    c.add("golden_complete", b"\x01" + golden_events)
    c.add("golden_with_manifest", b"\x03" + pack(golden_events, golden_manifest))
    for i, end in enumerate(ends[:-1]):
        c.add("golden_cut_after_%d" % i, b"\x01" + golden_events[:end])
    c.add("golden_torn_tail", b"\x01" + golden_events[: ends[-1] - 3])
    c.add("golden_torn_keep_tail", b"\x00" + golden_events[: ends[-1] - 3])
    c.add("golden_garbage_tail", b"\x01" + golden_events[: ends[2]] + b"\xff" * 7)
    # Salvage: a broken record in the middle (its first tag byte), records after the damage kept.
    damaged = bytearray(golden_events)
    damaged[ends[3] + 1] = 0xFF
    c.add("salvage_damaged_middle", b"\x08" + bytes(damaged))
    c.add("salvage_damaged_middle_with_manifest", b"\x0a" + pack(bytes(damaged), golden_manifest))
    c.add("truncate_damaged_middle_with_manifest", b"\x03" + pack(bytes(damaged), golden_manifest))
    c.add("salvage_dry_run", b"\x0c" + bytes(damaged))
    c.add("salvage_and_truncate", b"\x09" + bytes(damaged))
    c.add("salvage_zeros_between", b"\x08" + golden_events[: ends[4]] + b"\x00" * 64 + golden_events[ends[4]:])
    for name, events, _ in malformed_cases():
        if events and not name.startswith("manifest"):
            c.add("malformed_" + name, b"\x01" + events)
            c.add("salvage_" + name, b"\x08" + events)


# ---- upb ----------------------------------------------------------------------------------------

def tag(field, wire_type):
    return varint(field << 3 | wire_type)


def ld(field, body):
    return tag(field, 2) + varint(len(body)) + body


def vf(field, v):
    return tag(field, 0) + varint(v)


def make_upb(golden_events):
    """upb_fuzzer: the input is a record body, an events.bin and a message of the test schemas."""
    c = Corpus("upb")
    c.add("golden_events", golden_events)
    start = 0
    for i, end in enumerate(frames(golden_events)):
        pos = start  # skip the length prefix
        while golden_events[pos] >= 0x80:
            pos += 1
        c.add("golden_record_%d" % i, golden_events[pos + 1:end])
        start = end
    for name, events, _ in malformed_cases():
        if events and not name.startswith("manifest"):
            c.add("malformed_" + name, events)
    ts = ld(3, vf(1, 5) + vf(2, 7))
    hdr = vf(1, 1) + vf(2, 7) + ts
    entry = ld(3, ld(1, b"RAX") + vf(2, 42))
    c.add("event_two_payloads", hdr + ld(11, vf(1, 3)) + ld(12, ld(1, b"f") + vf(2, 0x401000) + entry))
    c.add("event_payload_twice", hdr + ld(12, vf(2, 5) + entry) + ld(12, ld(1, b"g") + entry + ld(4, b"\x00\xff")))
    c.add("event_nameless_entry", hdr + ld(13, ld(1, b"f") + ld(3, vf(2, 1)) + ld(3, ld(1, b"\xe2"))))
    c.add("event_unknown_fields", hdr + vf(99, 1) + ld(14, vf(1, 11) + tag(9, 5) + b"abcd" + entry) + tag(98, 1) + b"12345678")
    c.add("event_sign_extended_tag", hdr + ld(12, ld(1, b"f")) + b"\xf8\xff\xff\xff\x7f\x01")
    # upbtest.Outer (third_party/upb/testdata/upb_patches_test.proto): the constructs the patches fix.
    big = ld(1, b"one") + ld(2, b"two") + vf(3, 3) + vf(4, 4) + ld(5, b"five") + ld(6, b"six")
    c.add("outer_oneof_switch", ld(2, vf(1, 7)) + ld(3, big) + ld(2, b""))
    c.add("outer_groups", tag(5, 3) + vf(6, 7) + tag(5, 4) + tag(17, 3) + ld(18, b"t") + ld(19, vf(1, 1)) + tag(17, 4)
          + tag(20, 3) + vf(1, 1) + tag(21, 3) + tag(21, 4) + tag(20, 4))
    c.add("outer_group_on_scalar", tag(1, 3) + vf(1, 1) + tag(1, 4) + tag(4, 3) + tag(4, 4))
    c.add("outer_packed", ld(12, b"") + ld(12, b"abcdefgh") + ld(13, varint(1) + varint(300) + varint(2**64 - 1))
          + vf(14, 3) + vf(15, 1) + tag(16, 1) + b"\x00" * 8 + ld(11, b"name") + ld(10, vf(1, 1)) * 3)
    c.add("outer_nested_groups", tag(20, 3) * 40 + tag(20, 4) * 40)
    c.add("withmap_entries", ld(1, ld(1, b"k") + vf(2, 5)) + ld(1, ld(1, b"j")) + ld(1, b""))


def main():
    golden_events = read("testdata", "golden", "linux-x86_64", "events.bin")
    golden_manifest = read("testdata", "golden", "linux-x86_64", "trace.json")
    make_varint(golden_events)
    make_validator(golden_events, golden_manifest)
    make_manifest(golden_manifest)
    make_writer_roundtrip()
    make_writer_faults()
    make_recover(golden_events, golden_manifest)
    make_upb(golden_events)
    for target in sorted(os.listdir(OUT)):
        print("%-18s %3d seeds" % (target, len(os.listdir(os.path.join(OUT, target)))))


if __name__ == "__main__":
    sys.exit(main())

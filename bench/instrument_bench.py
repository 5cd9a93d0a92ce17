#!/usr/bin/env python3
"""instrument_bench: the cost of tracing a real program, side by side with uftrace.

    bazel run -c opt //bench:instrument_bench -- [--json] [--reps 5] [--input-mb 11] \
        [--no-record] [--dir DIR] [--no-uftrace] [--keep-traces]

The program is zlib 1.2.11's zpipe (third_party/zlib), compressing --input-mb MB of base64 text
generated from a fixed seed, stdin to stdout (discarded). Variants, run in turn --reps times each,
medians reported:

  plain        //third_party/zlib:zpipe, built without -finstrument-functions
  off          //third_party/zlib:zpipe_traced (zlib and zpipe instrumented, libatf_instrument.so)
               with ATF_TRACE=0: every hook is called and returns at once
  atf          the same binary traced by us, ATF_OVERFLOW=block: every event is written
  atf_4m       the same with 4 MiB rings instead of the default 1 MiB (still block): how much
               of the cost is the producer waiting on a small ring
  atf_keep_cache  atf with ATF_PAGE_CACHE=keep: the writer leaves events.bin to the kernel's page
               cache instead of keeping only its last 4 MiB there (the default window)
  atf_drop     the same with the defaults (ATF_OVERFLOW=drop, 1 MiB rings): events dropped
               when the drain falls behind (counted; not comparable per call, shown for scale)
  uftrace      the same binary under `uftrace record --no-libcall` (its preloaded libmcount
               provides the hooks; ATF_TRACE=0 keeps ours idle; --no-libcall: only the
               instrumented functions, as we trace)

Each run's trace is deleted right after it, unless --keep-traces: then every trace stays until the
end of the whole run, as a user's traces stay, so each run writes into page-cache pages the kernel
must find afresh rather than the ones the previous run just freed (on a VM that returns freed
memory to its host, a fresh page costs a host page fault). Needs disk for reps x (4 atf variants
+ uftrace) traces: ~1 GB an atf trace at the default 11 MB input.

Per call: calls = the FunctionCall events of an atf run (the same binary on the same input makes
the same calls under uftrace; uftrace's own report is summed as a cross-check). ns per traced call
= (median run time - median plain run time) / calls, wall clock; trace bytes per call = the bytes
each tracer left on disk / calls.

Also: instrument_micro (an empty function called in a loop, bench/instrument_micro.c) plain, off
and traced into a warmed-up ring that holds every event of the timed loop, and (unless --no-record)
the tracer's record path from the same run (`writer_bench --only record`: `record_ns`): the goals
of issue 14 compare ns per traced call with uftrace's and with 2 x record_ns.

Output: a table, or with --json one JSON object (machine, date, every figure).
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# The data files, found from this script's place in its runfiles tree (bazel run, or the
# bazel-bin/bench/instrument_bench launcher from anywhere).
# realpath: resolves the bazel-bin symlink, which moves when another configuration is built.
RUNFILES = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZPIPE = os.path.join(RUNFILES, "third_party/zlib/zpipe")
ZPIPE_TRACED = os.path.join(RUNFILES, "third_party/zlib/zpipe_traced")
MICRO = os.path.join(RUNFILES, "bench/instrument_micro")
MICRO_PLAIN = os.path.join(RUNFILES, "bench/instrument_micro_plain")
VALIDATE = os.path.join(RUNFILES, "validator/atf-validate")
WRITER_BENCH = os.path.join(RUNFILES, "bench/writer_bench")


def machine():
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if m:
            model = m.group(1).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "loadavg_at_start": os.getloadavg()[0],
    }


def make_input(path, mb):
    rng = random.Random(14)
    raw = rng.randbytes(int(mb * 1e6 * 3 / 4))
    with open(path, "wb") as f:
        f.write(base64.encodebytes(raw))
    return os.path.getsize(path)


def run_timed(argv, env_extra, stdin_path, stdout_path=os.devnull):
    """Runs argv; returns (wall seconds, cpu seconds of the process tree, stderr text)."""
    env = dict(os.environ)
    env.update(env_extra)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout:
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdin=fin, stdout=fout, stderr=subprocess.PIPE, env=env)
        t1 = time.perf_counter()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("instrument_bench: %s exited %d: %s" % (" ".join(argv), p.returncode,
                                                         p.stderr.decode(errors="replace")))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return t1 - t0, cpu, p.stderr.decode(errors="replace")


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def only_session(root):
    dirs = []
    for s in sorted(os.listdir(root)):
        for p in sorted(os.listdir(os.path.join(root, s))):
            dirs.append(os.path.join(root, s, p))
    if len(dirs) != 1:
        sys.exit("instrument_bench: expected one session under %s, found %d" % (root, len(dirs)))
    return dirs[0]


def verbose_counts(stderr):
    m = re.search(r"(\d+) events traced, (\d+) written, (\d+) dropped", stderr)
    if not m:
        sys.exit("instrument_bench: no session summary from the traced run:\n" + stderr)
    return {"traced": int(m.group(1)), "written": int(m.group(2)), "dropped": int(m.group(3))}


def uftrace_calls(data_dir):
    """Sum of uftrace report's Calls column (its pseudo-functions linux:* left out)."""
    out = subprocess.run(["uftrace", "report", "-d", data_dir, "--no-pager"], capture_output=True,
                         text=True).stdout
    calls = 0
    for line in out.splitlines():
        m = re.match(r"\s*[\d.]+\s+\S+\s+[\d.]+\s+\S+\s+(\d+)\s+(.+)$", line)
        if m and not m.group(2).startswith("linux:"):
            calls += int(m.group(1))
    return calls


def zpipe_runs(args, work, input_path):
    variants = (["plain", "off", "atf", "atf_4m", "atf_keep_cache", "atf_drop"] +
                ([] if args.no_uftrace else ["uftrace"]))
    atf_variants = ("atf", "atf_4m", "atf_keep_cache", "atf_drop")
    wall = {v: [] for v in variants}
    cpu = {v: [] for v in variants}
    bytes_on_disk = {v: [] for v in variants}
    info = {}
    for rep in range(args.reps):
        for v in variants:
            root = os.path.join(work, "out_%s_%d" % (v, rep) if args.keep_traces else "out_" + v)
            shutil.rmtree(root, ignore_errors=True)
            os.makedirs(root)
            env = {}
            argv = [ZPIPE_TRACED]
            if v == "plain":
                argv = [ZPIPE]
            elif v == "off":
                env = {"ATF_TRACE": "0"}
            elif v in atf_variants:
                env = {"ATF_OUTPUT_ROOT": root, "ATF_VERBOSE": "1"}
                if v != "atf_drop":
                    env["ATF_OVERFLOW"] = "block"
                if v == "atf_4m":
                    env["ATF_RING_BYTES"] = "4M"
                if v == "atf_keep_cache":
                    env["ATF_PAGE_CACHE"] = "keep"
            else:
                env = {"ATF_TRACE": "0"}
                # --no-libcall: the same functions as ours (by default uftrace also hooks PLT
                # calls into libc)
                argv = ["uftrace", "record", "--no-libcall", "-d",
                        os.path.join(root, "uftrace.data")] + argv
            out = os.path.join(work, "out.z") if rep == 0 else os.devnull
            w, c, err = run_timed(argv, env, input_path, out)
            wall[v].append(w)
            cpu[v].append(c)
            if rep == 0:  # the same compressed bytes from every variant
                with open(out, "rb") as f:
                    info.setdefault("output_sha256", {})[v] = hashlib.sha256(f.read()).hexdigest()
            if v in atf_variants:
                counts = verbose_counts(err)
                session = only_session(root)
                bytes_on_disk[v].append(tree_bytes(session))
                info.setdefault(v + "_counts", []).append(counts)
                if v == "atf" and rep == 0:
                    rep_json = subprocess.run([VALIDATE, "--json", session], capture_output=True,
                                              text=True)
                    report = json.loads(rep_json.stdout)
                    info["atf_valid"] = report["valid"]
                    info["calls"] = report["counts"]["function_call"]
                    info["returns"] = report["counts"]["function_return"]
                    info["atf_events_bin_bytes"] = report["bytes"]
            if v == "uftrace":
                data = os.path.join(root, "uftrace.data")
                bytes_on_disk[v].append(tree_bytes(data))
                if rep == 0:
                    info["uftrace_calls"] = uftrace_calls(data)
            if not args.keep_traces:
                shutil.rmtree(root, ignore_errors=True)
    return variants, wall, cpu, bytes_on_disk, info


def micro_runs(args):
    n = args.micro_calls
    ring = 1 << 20  # holds the timed calls' events (two 40-byte records per call) with room
    while ring < 2 * n * 40 * 5 // 4 and ring < (1 << 30):
        ring <<= 1
    warmup = ring // 80 + n  # touches every page of the ring
    timing = [str(n), str(warmup), "1000"]
    variants = {
        "plain": ([MICRO_PLAIN] + timing, {}),
        "off": ([MICRO] + timing, {"ATF_TRACE": "0"}),
        # block: the warm-up fills the ring faster than the drain empties it and waits instead of
        # dropping; the pause then lets the drain empty it, and the timed calls fit in the ring,
        # so none of them waits (if one did, the figure would only get worse) or is dropped.
        "traced": ([MICRO] + timing, {"ATF_RING_BYTES": str(ring), "ATF_VERBOSE": "1",
                                      "ATF_OVERFLOW": "block"}),
    }
    ns = {v: [] for v in variants}
    dropped = 0
    with tempfile.TemporaryDirectory(dir=args.dir) as out:
        for _ in range(args.reps):
            for v, (argv, env) in variants.items():
                env = dict(env, ATF_OUTPUT_ROOT=os.path.join(out, v))
                p = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, **env))
                if p.returncode != 0:
                    sys.exit("instrument_bench: %s failed: %s" % (argv, p.stderr))
                ns[v].append(float(p.stdout.strip()))
                if v == "traced":
                    dropped += verbose_counts(p.stderr)["dropped"]
                shutil.rmtree(os.path.join(out, v), ignore_errors=True)
    med = {v: statistics.median(x) for v, x in ns.items()}
    return {
        "calls": n,
        "warmup_calls": warmup,
        "ring_bytes": ring,
        "plain_ns_per_iteration": med["plain"],
        "off_ns_per_iteration": med["off"],
        "traced_ns_per_iteration": med["traced"],
        "off_ns_per_call": med["off"] - med["plain"],
        "traced_ns_per_call": med["traced"] - med["plain"],
        "traced_dropped": dropped,
    }


def record_ns(scratch):
    """The tracer's record_ns (a call with 6 registers and 128 stack bytes) from writer_bench."""
    p = subprocess.run([WRITER_BENCH, "--only", "record", "--json", "--reps", "3", "--dir", scratch],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("instrument_bench: writer_bench --only record failed:\n" + p.stdout + p.stderr)
    return json.loads(p.stdout)["record"]["record_ns"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--input-mb", type=float, default=11.0)
    ap.add_argument("--micro-calls", type=int, default=250000)
    ap.add_argument("--no-record", action="store_true",
                    help="skip the tracer's record_ns (writer_bench --only record)")
    ap.add_argument("--dir", help="scratch directory (default: a new one under $TMPDIR)")
    ap.add_argument("--no-uftrace", action="store_true")
    ap.add_argument("--keep-traces", action="store_true",
                    help="keep every run's trace until the end (as a user's traces stay)")
    args = ap.parse_args()
    if not args.no_uftrace and shutil.which("uftrace") is None:
        sys.exit("instrument_bench: uftrace not found (tools/install-deps.sh installs it), or pass "
                 "--no-uftrace")
    result = {"machine": machine(), "reps": args.reps,
              "note": "one run on a shared 2-core VM: absolute times move with the machine's "
                      "load; the ratios within the run are what to compare"}
    work = tempfile.mkdtemp(prefix="instrument-bench-", dir=args.dir)
    try:
        input_path = os.path.join(work, "input.b64")
        result["input_bytes"] = make_input(input_path, args.input_mb)
        result["program"] = "zlib 1.2.11 zpipe compressing base64 text, -c opt"
        variants, wall, cpu, disk, info = zpipe_runs(args, work, input_path)
        med = {v: statistics.median(wall[v]) for v in variants}
        calls = info["calls"]
        z = {"calls": calls, "returns": info["returns"], "atf_valid": info["atf_valid"],
             "same_output": len(set(info["output_sha256"].values())) == 1}
        for v in variants:
            z[v + "_s"] = med[v]
            z[v + "_cpu_s"] = statistics.median(cpu[v])
        z["off_ns_per_call"] = (med["off"] - med["plain"]) * 1e9 / calls
        z["atf_ns_per_call"] = (med["atf"] - med["plain"]) * 1e9 / calls
        z["atf_bytes_per_call"] = statistics.median(disk["atf"]) / calls
        z["atf_dropped"] = max(c["dropped"] for c in
                               info["atf_counts"] + info["atf_4m_counts"] +
                               info["atf_keep_cache_counts"])
        z["atf_4m_ns_per_call"] = (med["atf_4m"] - med["plain"]) * 1e9 / calls
        z["atf_keep_cache_ns_per_call"] = (med["atf_keep_cache"] - med["plain"]) * 1e9 / calls
        z["keep_traces"] = args.keep_traces
        drop = info["atf_drop_counts"]
        z["atf_drop_dropped_fraction"] = statistics.median(c["dropped"] / c["traced"] for c in drop)
        if "uftrace" in variants:
            z["uftrace_ns_per_call"] = (med["uftrace"] - med["plain"]) * 1e9 / calls
            z["uftrace_bytes_per_call"] = statistics.median(disk["uftrace"]) / calls
            z["uftrace_report_calls"] = info["uftrace_calls"]
            z["atf_vs_uftrace_ns_per_call"] = z["atf_ns_per_call"] / z["uftrace_ns_per_call"]
        result["zpipe"] = z
        result["micro"] = micro_runs(args)
        if not args.no_record:
            r = record_ns(work)
            result["record_ns"] = r
            result["goal_atf_ns_per_call_below_uftrace"] = (
                "uftrace_ns_per_call" in z and z["atf_ns_per_call"] < z["uftrace_ns_per_call"])
            result["goal_atf_ns_per_call_within_2x_record_ns"] = z["atf_ns_per_call"] <= 2 * r
            result["goal_micro_ns_per_call_within_2x_record_ns"] = (
                result["micro"]["traced_ns_per_call"] <= 2 * r and
                result["micro"]["traced_dropped"] == 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
        return
    for k, v in result.items():
        if isinstance(v, dict):
            print(k)
            for kk, vv in v.items():
                print("  %-32s %s" % (kk, "%.3f" % vv if isinstance(vv, float) else vv))
        else:
            print("%-34s %s" % (k, v))


if __name__ == "__main__":
    main()

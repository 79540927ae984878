#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs libFuzzer targets one after another and says what each found.

  run.py --out build/fuzz --seconds 1800 build/fuzz/fuzz_http1 ...   (make fuzz)
  run.py --out build/fuzz --seconds 10 --smoke build/fuzz/fuzz_*     (make fuzz-smoke)

A target named fuzz_<name> starts from the committed seeds in
tests/fuzz/seeds/<name>/ (hand-made inputs and the reproducer of every finding
fixed so far, so each run replays them) and keeps what it learns in
<out>/corpus/<name>/; the smoke starts afresh from the seeds every time, with a
fixed random seed. A finding is any crash, leak, timeout, out-of-memory or
sanitizer report: its input goes to <out>/findings/<name>/, and the run prints
that path, the report's first lines and the command that reproduces it. Exits 1
when any target found something.

Per target it prints runs, coverage (edges and features), corpus size, wall
and CPU time, and findings.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

SEEDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
# The lines of a report worth showing: from the sanitizer's or libFuzzer's first
# word about the finding.
REPORT_START = re.compile(
    r"runtime error:|: check failed: |^==\d+==\s*ERROR|^ERROR: libFuzzer|^WARNING: .*Sanitizer|"
    r"ALARM: working on the last Unit|out-of-memory")
STATUS = re.compile(r"^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
REPORT_LINES = 14


def parse_log(text):
    """What the log says: last status numbers, runs, artifacts, report lines."""
    info = {"runs": 0, "cov": 0, "ft": 0, "corpus": 0, "artifacts": [], "report": []}
    lines = text.splitlines()
    for line in lines:
        m = STATUS.match(line)
        if m:
            info["runs"] = int(m.group(1))
            info["cov"], info["ft"], info["corpus"] = (int(g) for g in m.group(2, 3, 4))
        m = re.match(r"stat::number_of_executed_units:\s*(\d+)", line)
        if m:
            info["runs"] = int(m.group(1))
        m = re.search(r"Test unit written to (\S+)", line)
        if m:
            info["artifacts"].append(m.group(1))
    for i, line in enumerate(lines):
        if REPORT_START.search(line):
            info["report"] = lines[i:i + REPORT_LINES]
            break
    return info


def run_one(fuzzer, out, seconds, smoke):
    name = os.path.basename(fuzzer)
    short = name[len("fuzz_"):] if name.startswith("fuzz_") else name
    seeds = os.path.join(SEEDS, short)
    corpus = os.path.join(out, "smoke" if smoke else "corpus", short)
    findings = os.path.join(out, "findings", short)
    log_path = os.path.join(out, "logs", short + (".smoke" if smoke else "") + ".log")
    if smoke:
        shutil.rmtree(corpus, ignore_errors=True)
    for d in (corpus, findings, os.path.dirname(log_path)):
        os.makedirs(d, exist_ok=True)
    args = [fuzzer, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
            "-print_final_stats=1", f"-artifact_prefix={findings}/", corpus]
    if smoke:
        args.insert(1, "-seed=1")
    if os.path.isdir(seeds):
        args.append(seeds)
    env = dict(os.environ)
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    start = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    with open(log_path, errors="replace") as log:
        info = parse_log(log.read())
    info.update(name=short, code=code, wall=wall, log=log_path,
                cpu=usage.ru_utime + usage.ru_stime, fuzzer=fuzzer)
    return info


def report(info):
    found = info["code"] != 0
    count = max(1, len(info["artifacts"])) if found else 0
    print(f"{info['name']:<12} runs {info['runs']:>10}  cov {info['cov']:>5}  ft {info['ft']:>6}"
          f"  corpus {info['corpus']:>5}  time {info['wall']:6.0f} s  cpu {info['cpu']:6.0f} s"
          f"  findings {count}", flush=True)
    if not found:
        return
    print(f"  FINDING in {info['name']} (exit code {info['code']}); log: {info['log']}")
    for path in info["artifacts"]:
        print(f"  reproducer: {path}")
        print(f"  reproduce:  {info['fuzzer']} {path}")
    if not info["artifacts"]:
        print("  (no reproducer written: see the log)")
    for line in info["report"]:
        print("  | " + line)
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="build directory for corpora and findings")
    ap.add_argument("--seconds", type=int, required=True, help="time per target")
    ap.add_argument("--smoke", action="store_true", help="fresh corpus from the seeds, fixed seed")
    ap.add_argument("fuzzers", nargs="+")
    a = ap.parse_args()
    missing = [f for f in a.fuzzers if not os.access(f, os.X_OK)]
    if missing:
        sys.exit("run.py: no such fuzzer: " + " ".join(missing))
    failed = []
    total_cpu = 0.0
    for f in a.fuzzers:
        info = run_one(f, a.out, a.seconds, a.smoke)
        report(info)
        total_cpu += info["cpu"]
        if info["code"] != 0:
            failed.append(info["name"])
    print(f"{len(a.fuzzers)} targets, {total_cpu / 60:.1f} CPU-minutes, "
          + (f"findings in: {' '.join(failed)}" if failed else "no findings"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

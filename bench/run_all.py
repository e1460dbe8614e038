"""Rerun every benchmark of Steps 1–8 and write the figures, their targets and pass/miss into
docs/performance.md (between the run_all markers; the narrative around them is kept).

    .venv/bin/python bench/run_all.py                    # the full set, SQLite + PostgreSQL (hours)
    .venv/bin/python bench/run_all.py --quick            # small scales: a smoke run of every benchmark
    .venv/bin/python bench/run_all.py --only storm,query # some of them
    .venv/bin/python bench/run_all.py --no-write         # print the table, leave the docs alone

Each benchmark runs as its own process and records its headline figures through
``common.figure`` into a JSON-lines file; its whole output is kept under ``--logs``.
A benchmark that fails is reported as such (and the run goes on).

The figures of full runs are kept in docs/performance-figures.json, each with the date it was
measured: a full run of some benchmarks (``--only``) replaces theirs and keeps the others', so the
table in docs/performance.md is whole even when the hours of a complete run are taken in parts.
A ``--quick`` run never touches either file unless ``--write-quick`` says so (it replaces all).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from common import RESULTS_ENV

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
FIGURES = ROOT / "docs" / "performance-figures.json"  # the table's figures, with when each was taken
BEGIN, END = "<!-- bench/run_all.py: begin -->", "<!-- bench/run_all.py: end -->"
PG = "postgresql://127.0.0.1:5432/linewatch_bench"


@dataclass(frozen=True)
class Bench:
    name: str
    step: str
    full: list[str]
    quick: list[str]
    pg: bool = False  # also run against PostgreSQL (--db)


BENCHES = [
    Bench("import_inventory", "1", ["--scale", "100"], ["--scale", "1"]),
    Bench(
        "storm",
        "2",
        ["--scale", "10"],
        ["--scale", "1", "--batch-total", "20000", "--single-total", "3000"],
        pg=True,
    ),
    Bench(
        "query",
        "2/8",
        ["--scale", "100", "--alarms", "200000"],
        ["--scale", "2", "--alarms", "5000", "--queries", "100"],
    ),
    Bench("snmp_traps", "2", ["--count", "50000", "--rate", "5000"], ["--count", "5000", "--rate", "5000"]),
    Bench("syslog_flood", "2", ["--count", "100000", "--pipeline"], ["--count", "10000", "--pipeline"]),
    Bench("replay_pcic", "2", [], ["--realtime-seconds", "30", "--no-yardstick"]),
    Bench("tickets_day", "3", ["--tickets", "10000"], ["--tickets", "500", "--hours", "4"], pg=True),
    Bench("notify_storm", "4", ["--e2e", "10000"], ["--requests", "10000", "--e2e", "1000"]),
    Bench("wall", "5", ["--pace", "0.1"], ["--alarms", "1000", "--pace", "0.1"]),
    Bench("monthly_report", "7", ["--scale", "100"], ["--scale", "1"], pg=True),
    Bench("soak", "8", ["--minutes", "60"], ["--minutes", "3"]),
]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pg = "psql not found"
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory}; {platform.platform()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}; {pg}"
    )


def verdict(entry: dict) -> str:
    target = entry.get("target")
    if target is None:
        return "—"
    ok = entry["value"] >= target if entry["higher_is_better"] else entry["value"] <= target
    return "pass" if ok else "**miss**"


def number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"


def table(entries: list[dict], failures: list[str], header: str) -> str:
    lines = [
        BEGIN,
        header,
        "",
        "| step | benchmark | figure | measured | target | | when |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        target = (
            "" if e["target"] is None else ("≥ " if e["higher_is_better"] else "≤ ") + number(e["target"])
        )
        lines.append(
            f"| {e['step']} | `{e['bench']}` | {e['name']} | {number(e['value'])} {e['unit']} | "
            f"{target} {e['unit'] if target else ''} | {verdict(e)} | {e.get('when', '')} |"
        )
    for failure in failures:
        lines.append(f"| | `{failure}` | **failed to run** (see its log) | | | **miss** | |")
    lines.append(END)
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    else:  # first run: the generated table goes after the title
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{block}\n{rest}"
    DOC.write_text(text, encoding="utf-8")


def merged(fresh: list[dict]) -> list[dict]:
    """This run's figures, plus the kept ones of benchmarks it did not run (saved back)."""
    kept = json.loads(FIGURES.read_text(encoding="utf-8")) if FIGURES.exists() else []
    rerun = {e["bench"] for e in fresh}
    order = {b.name: i for i, b in enumerate(BENCHES)}
    entries = sorted(
        [e for e in kept if e["bench"] not in rerun] + fresh, key=lambda e: order.get(e["bench"], len(order))
    )
    FIGURES.write_text(json.dumps(entries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small scales: every benchmark in minutes")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--pg", default=PG, help="PostgreSQL URL for the PostgreSQL runs ('' = skip them)")
    parser.add_argument("--logs", type=Path, default=None, help="folder for each benchmark's output")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--write-quick", action="store_true", help="let a --quick run write the table")
    args = parser.parse_args()
    wanted = {n for n in args.only.split(",") if n}
    logs = args.logs or Path(tempfile.mkdtemp(prefix="linewatch-run-all-"))
    logs.mkdir(parents=True, exist_ok=True)
    results = logs / "figures.jsonl"
    results.unlink(missing_ok=True)
    failures: list[str] = []
    started = time.perf_counter()
    for bench in BENCHES:
        if wanted and bench.name not in wanted:
            continue
        script = ROOT / "bench" / f"{bench.name}.py"
        if not script.exists():
            print(f"-- {bench.name}: not present, skipped")
            continue
        runs = [[]] + ([["--db", args.pg]] if bench.pg and args.pg else [])
        for extra in runs:
            label = bench.name + ("-pg" if extra else "")
            argv = [sys.executable, str(script), *(bench.quick if args.quick else bench.full), *extra]
            print(f"-- {label}: {' '.join(argv[1:])}", flush=True)
            t0 = time.perf_counter()
            with (logs / f"{label}.log").open("w", encoding="utf-8") as out:
                env = {**os.environ, RESULTS_ENV: str(results), "LINEWATCH_BENCH_STEP": bench.step}
                code = subprocess.run(
                    argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT
                ).returncode
            print(f"   {'ok' if code == 0 else f'FAILED ({code})'} in {time.perf_counter() - t0:.0f} s")
            if code != 0:
                failures.append(label)
    when = f"{dt.datetime.now().astimezone():%Y-%m-%d}"
    entries = []
    if results.exists():
        for line in results.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            entry["step"] = next((b.step for b in BENCHES if b.name == entry["bench"]), "?")
            entry["when"] = when
            entries.append(entry)
    write = not args.no_write and (not args.quick or args.write_quick)
    if write and not args.quick:
        entries = merged(entries)
    ran = ", ".join(sorted({e["bench"] for e in entries if e["when"] == when} | set(failures)))
    header = (
        f"Last `bench/run_all.py{' --quick' if args.quick else ''}` run: "
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {time.perf_counter() - started:.0f} s "
        f"({ran or 'nothing'}); figures of benchmarks it did not run are from the date beside them. "
        f"Machine: {machine()}."
    )
    block = table(entries, failures, header)
    print(block)
    if write:
        write_doc(block)
        print(f"written to {DOC.relative_to(ROOT)}; logs in {logs}")
    misses = sum(1 for e in entries if verdict(e) == "**miss**") + len(failures)
    print(f"{len(entries)} figures, {misses} misses or failures")


if __name__ == "__main__":
    main()

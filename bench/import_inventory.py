"""Benchmark: generate the demo city at a scale, import it, print rows/s (and peak RSS).

    .venv/bin/python bench/import_inventory.py --scale 100                      # SQLite
    .venv/bin/python bench/import_inventory.py --scale 100 --db postgresql://127.0.0.1:5432/linewatch_bench

A PostgreSQL database given with --db is emptied first. Figures go to stdout; docs/performance.md
records them.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from common import figure
from linewatch.context import build_context
from linewatch.core.actor import SYSTEM
from linewatch.demo.generator import generate
from linewatch.inventory.index import ImpactIndex
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path
from linewatch.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=100.0)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="linewatch-bench-"))
    url = args.db or f"sqlite:///{work / 'bench.db'}"
    if url.startswith("postgres"):
        from linewatch.db.engine import Database

        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()

    started = time.perf_counter()
    counts = generate(work / "inventory", scale=args.scale, seed=7)
    generated = time.perf_counter() - started
    rows = sum(counts.values())
    print(f"generate scale {args.scale:g}: {rows:,} rows in {generated:.1f} s  ({counts})")

    ctx = build_context(Settings(db=url, snmp_port=0, syslog_port=0))
    started = time.perf_counter()
    read = read_path(work / "inventory")
    read_s = time.perf_counter() - started
    with ctx.db.unit_of_work() as session:
        report = import_inventory(session, ctx.clock, read, SYSTEM, dry_run=False)
    total = time.perf_counter() - started
    assert report.ok, report.errors[:10]
    figure(f"inventory import, scale {args.scale:g}, {ctx.db.dialect}", rows / total, "rows/s")
    print(
        f"import into {ctx.db.dialect}: {rows:,} rows in {total:.1f} s (reading {read_s:.1f} s) "
        f"= {rows / total:,.0f} rows/s"
    )

    started = time.perf_counter()
    with ctx.db.reading() as session:
        index = ImpactIndex.build(session)
    print(
        f"impact index build: {time.perf_counter() - started:.1f} s, {len(index.by_ne):,} NEs, "
        f"{len(index.by_port):,} ports, {len(index.circuit_code):,} circuits"
    )
    ne_ids = list(index.by_ne)
    started = time.perf_counter()
    lookups = 0
    for _ in range(10):
        for ne_id in ne_ids:
            index.hits(ne_id)
            lookups += 1
    elapsed = time.perf_counter() - started
    print(f"impact lookups: {lookups / elapsed:,.0f} per second")

    started = time.perf_counter()
    with ctx.db.unit_of_work() as session:
        again = import_inventory(session, ctx.clock, read_path(work / "inventory"), SYSTEM, dry_run=False)
    total = time.perf_counter() - started
    assert again.ok
    print(f"re-import (all upserts): {rows:,} rows in {total:.1f} s = {rows / total:,.0f} rows/s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figure(f"importer peak RSS, scale {args.scale:g}", rss, "MiB")
    print(f"peak RSS: {rss:,.0f} MiB")


if __name__ == "__main__":
    main()

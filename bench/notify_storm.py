"""Notification storm benchmark: 100,000 notification requests through storm control.

    .venv/bin/python bench/notify_storm.py                      # pure storm control, 100,000 requests
    .venv/bin/python bench/notify_storm.py --e2e 5000           # also: expand into the outbox (SQLite)
    .venv/bin/python bench/notify_storm.py --e2e 5000 --db postgresql://127.0.0.1:5432/linewatch_bench

The storm: 4,000 incidents opening over an hour in bursts (a fibre-cut morning), each producing its
opening request, repeats (ticket dispatches, re-announcements), level changes, escalations, breaches
and recovery, to 1–6 people from a pool of 60 plus the NOC group robot. Prints how many messages
actually go out (single messages + digests) and the decision rate.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from common import figure, fresh_database
from linewatch.core.policy import load_policy
from linewatch.notify.choices import Decision
from linewatch.notify.storm import Item, RateLimiter, Storm, topic_of

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BATCH = 500  # requests per expansion transaction (the worker's default is policy notify.batch)
KINDS = [  # (kind, weight): what producers write during a storm
    ("incident.urgent", 12),
    ("incident.general", 14),
    ("ticket.dispatched", 30),
    ("ticket.breach", 14),
    ("ticket.escalated", 10),
    ("ticket.progress_due", 10),
    ("incident.recovered", 10),
]


def storm_requests(
    n: int, seed: int = 7
) -> list[tuple[datetime, str, int, dict[str, object], str, list[object]]]:
    rnd = random.Random(seed)
    incidents = 4000
    opened = sorted(T0 + timedelta(seconds=rnd.betavariate(2, 5) * 3600) for _ in range(incidents))
    people = list(range(1, 61))
    kinds, weights = zip(*KINDS, strict=True)
    out = []
    for i in range(n):
        inc = rnd.randrange(incidents)
        at = opened[inc] + timedelta(seconds=rnd.expovariate(1 / 600)) if i >= incidents else opened[inc]
        kind = "incident.urgent" if i < incidents else rnd.choices(kinds, weights)[0]
        level = (
            kind.removeprefix("incident.") if kind in ("incident.urgent", "incident.general") else "urgent"
        )
        data = {
            "level": rnd.choice(["fault_manager", "manager_l3", "leader"]),
            "deadline": rnd.choice(["accept", "contact", "on_site"]),
        }
        who: list[object] = [*rnd.sample(people, rnd.randint(1, 6)), "group:noc"]
        out.append((at, kind, inc, data, level, who))
    out.sort(key=lambda r: r[0])
    return out


def pure(n: int) -> None:
    notify = load_policy(None).notify
    requests = storm_requests(n)
    storm = Storm(notify.digest_incidents, notify.digest_window_minutes)
    limiter = RateLimiter(dict(notify.rate_per_minute))
    decisions: Counter[str] = Counter()
    digests: set[tuple[object, datetime]] = set()
    waited = 0
    started = time.perf_counter()
    for req_id, (at, kind, inc, data, level, who) in enumerate(requests):
        item = Item(f"incident:{inc}", topic_of(kind, data, level, req_id), level)
        for person in who:
            decision = storm.decide(person, item, at)
            decisions[decision.value] += 1
            if decision is Decision.DIGEST:
                digests.add((person, storm.digest_window(at)[0]))
            elif decision is Decision.SEND and not limiter.take(
                "webhook" if person == "group:noc" else "sms", at
            ):
                waited += 1  # sent a minute later, never dropped
    elapsed = time.perf_counter() - started
    pairs = sum(decisions.values())
    out = decisions["send"] + len(digests)
    print(f"requests           {len(requests):>10,}")
    print(f"request×recipient  {pairs:>10,}")
    print(f"sent singly        {decisions['send']:>10,}")
    print(f"suppressed         {decisions['suppress']:>10,}  (already told: repeats, same level)")
    print(f"folded in digests  {decisions['digest']:>10,}  → {len(digests):,} digest messages")
    print(f"messages out       {out:>10,}  ({out / pairs:.1%} of naive fan-out)")
    print(f"rate-limited       {waited:>10,}  (waited for the next minute)")
    print(
        f"storm control      {pairs / elapsed:>10,.0f} decisions/s "
        f"({len(requests) / elapsed:,.0f} requests/s)"
    )
    figure(
        f"notify storm: messages out of naive fan-out, {len(requests):,} requests",
        out / pairs * 100,
        "%",
        higher_is_better=False,
    )
    figure("notify storm control (pure, one core)", len(requests) / elapsed, "requests/s")


def e2e(n: int, url: str | None) -> None:
    """Requests written to the outbox, then expanded by the real service on a real database."""
    from linewatch.context import build_context
    from linewatch.db import outbox
    from linewatch.notify import service
    from linewatch.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="lw-notify-"))
    db_url = fresh_database(url, work)
    ctx = build_context(Settings(db=db_url, clock="manual"))
    ctx.clock.set(T0)  # type: ignore[attr-defined]
    small = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "inventory" / "small"
    from linewatch.core.actor import SYSTEM
    from linewatch.inventory.service import import_inventory
    from linewatch.inventory.sources import read_path

    with ctx.db.unit_of_work() as session:
        import_inventory(session, ctx.clock, read_path(small), SYSTEM, dry_run=False)
    rnd = random.Random(3)
    roles = ["dispatcher", "support", "fault_manager", "manager_l3", "leader"]
    with ctx.db.unit_of_work() as session:
        for i in range(n):
            inc = rnd.randrange(max(1, n // 10))
            kind = rnd.choice(
                ["incident.urgent", "incident.general", "ticket.escalated", "ticket.dispatched"]
            )
            outbox.request(
                session,
                T0,
                kind,
                {"roles": rnd.sample(roles, 2), "teams": ["CT-A"]},
                {"level": "leader"},
                incident_id=inc,
                channels=["sms"] if i % 2 else ["sms", "voice"],
            )
    env = ctx.notifier.env
    started, cpu = time.perf_counter(), time.process_time()
    total = service.Expanded()
    with ctx.db.reading() as session:
        storm = service.load_storm(session, env)
    while True:
        with ctx.db.unit_of_work() as session:
            done = service.expand(session, env, storm, BATCH)
        for key in ("requests", "rows", "suppressed", "digested", "deferred"):
            setattr(total, key, getattr(total, key) + getattr(done, key))
        if done.requests < BATCH:
            break
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    where = "PostgreSQL" if url else "SQLite"
    print(
        f"\nend to end ({where}): "
        f"{total.requests:,} requests expanded in {elapsed:.2f} s "
        f"= {total.requests / elapsed:,.0f} requests/s ({cpu:.2f} s CPU in this process: "
        f"{total.requests / cpu:,.0f} requests per CPU-second) → {total.rows:,} outbox rows "
        f"({total.suppressed:,} suppressed, {total.digested:,} folded into digests)"
    )
    figure(
        f"notify expansion end to end, {total.requests:,} requests, {where}",
        total.requests / elapsed,
        "requests/s",
    )
    ctx.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--e2e", type=int, default=0, help="also expand this many requests on a database")
    parser.add_argument("--db", default=None)
    args = parser.parse_args()
    pure(args.requests)
    if args.e2e:
        e2e(args.e2e, args.db)


if __name__ == "__main__":
    main()

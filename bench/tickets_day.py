"""Ticket-timer benchmark: 10,000 open tickets through a simulated day on the manual clock.

    .venv/bin/python bench/tickets_day.py                                   # SQLite (temporary file)
    .venv/bin/python bench/tickets_day.py --db postgresql://127.0.0.1:5432/linewatch_tickets

Imports the demo city (scale 10), then walks a manual clock from Monday 08:00 through 24 hours in
steps (5 min by default). Tickets arrive over the first hours (opened directly with
``linewatch.tickets.service.open_ticket``, one per circuit, on the circuit's maintainer); a share
of them is recovered at random times through the day (``--recover-share``; 0 keeps all 10,000
open, the worst case: every reminder, breach and escalation fires). After each clock step the
durable timers fire (``Downstream.fire_timers``, as ``Context.on_tick`` does).

Prints timer-firing throughput (timers/s of firing wall time), the timers fired by kind, their
lateness in simulated time (fired_at − due_at: at most one step) and wall time per simulated hour.
A PostgreSQL database given with --db is emptied first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from common import build_network, figure, fresh_database, peak_rss_mib, percentiles, workdir
from linewatch.context import Context, build_context
from linewatch.core.actor import SYSTEM
from linewatch.db.timers import Timer
from linewatch.inventory.models import Circuit, Team
from linewatch.settings import Settings
from linewatch.tickets import service

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)  # a Monday morning


Arrival = tuple[datetime, int]  # when, circuit id


def plan(
    ctx: Context, count: int, step: timedelta, steps: int, arrival: timedelta, recover_share: float, seed: int
) -> tuple[dict[int, list[Arrival]], dict[int, int]]:
    """Tickets arrive at random moments (seconds) over ``arrival``, each on a random maintained
    circuit, grouped by the clock step that first sees them; the n-th ticket may be recovered at a
    later step."""
    rng = random.Random(seed)
    with ctx.db.reading() as session:
        circuits = list(session.scalars(select(Circuit.id).where(Circuit.maintainer_id.is_not(None))))
    if not circuits:
        raise SystemExit("the network has no maintained circuits")
    moments = sorted(
        START + timedelta(seconds=rng.randrange(int(arrival.total_seconds()))) for _ in range(count)
    )
    arrivals: dict[int, list[Arrival]] = defaultdict(list)
    for when in moments:
        arrivals[-(-(when - START) // step)].append((when, rng.choice(circuits)))  # the step at or after it
    first_step = {n: -(-(when - START) // step) for n, when in enumerate(moments)}
    recoveries = {
        n: rng.randrange(first_step[n] + 1, steps + 1) for n in range(count) if rng.random() < recover_share
    }
    return arrivals, recoveries


def open_tickets(ctx: Context, arrivals: list[Arrival]) -> list[int]:
    """Open each ticket at its own arrival moment (the clock is moved to it first)."""
    env = ctx.downstream.env
    with ctx.db.unit_of_work() as session:
        wanted = {cid for _, cid in arrivals}
        circuits = {c.id: c for c in session.scalars(select(Circuit).where(Circuit.id.in_(wanted)))}
        teams = {t.id: t for t in session.scalars(select(Team))}
        opened = []
        for when, cid in arrivals:
            ctx.clock.set(when)  # type: ignore[attr-defined]
            opened.append(
                service.open_ticket(
                    session,
                    env,
                    "bench",
                    channel="auto",
                    team=teams[circuits[cid].maintainer_id],  # type: ignore[index]
                    circuits=[circuits[cid]],
                    description="bench",
                )
            )
        session.flush()
        return [t.id for t in opened]


def recover(ctx: Context, ticket_ids: list[int]) -> None:
    env = ctx.downstream.env
    with ctx.db.unit_of_work() as session:
        for ticket_id in ticket_ids:
            service.apply_event(session, env, SYSTEM, ticket_id, "recovered", note="bench")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--scale", type=float, default=10.0, help="demo city scale (10 ≈ 15,000 circuits)")
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--step-minutes", type=float, default=5.0)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated time")
    parser.add_argument("--arrival-hours", type=float, default=2.0, help="tickets arrive over this long")
    parser.add_argument("--recover-share", type=float, default=0.0, help="share recovered during the day")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    work = workdir()
    url = fresh_database(args.db, work)
    started = time.perf_counter()
    build_network(args.scale, url, work)
    where = url.split("@")[-1]
    print(f"demo city scale {args.scale:g} imported in {time.perf_counter() - started:.1f} s ({where})")

    ctx = build_context(Settings(db=url, clock="manual", snmp_port=0, syslog_port=0), migrate=False)
    ctx.clock.set(START)  # type: ignore[attr-defined]  (not started: moving the clock fires nothing by itself)
    step = timedelta(minutes=args.step_minutes)
    steps = int(timedelta(hours=args.hours) / step)
    arrival = timedelta(hours=args.arrival_hours)
    arrivals, recover_at = plan(ctx, args.tickets, step, steps, arrival, args.recover_share, args.seed)
    recover_by_step: dict[int, list[int]] = defaultdict(list)

    opened = 0
    open_s = recover_s = fire_s = 0.0
    fired_total = 0
    fire_batches: list[float] = []  # wall seconds of each step's firing
    hour_wall: dict[int, float] = defaultdict(float)
    day_started = time.perf_counter()
    for n in range(steps + 1):
        step_started = time.perf_counter()
        now = START + n * step
        if arrivals.get(n):  # between the last tick and this one
            t0 = time.perf_counter()
            ids = open_tickets(ctx, arrivals[n])
            open_s += time.perf_counter() - t0
            for ticket_id in ids:
                if opened in recover_at:
                    recover_by_step[recover_at[opened]].append(ticket_id)
                opened += 1
        ctx.clock.set(now)  # type: ignore[attr-defined]  (the tick)
        if recover_by_step.get(n):
            t0 = time.perf_counter()
            recover(ctx, recover_by_step[n])
            recover_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        fired_total += ctx.downstream.fire_timers()
        elapsed = time.perf_counter() - t0
        fire_s += elapsed
        fire_batches.append(elapsed)
        hour_wall[int((now - START) / timedelta(hours=1))] += time.perf_counter() - step_started
    day_s = time.perf_counter() - day_started
    end = START + steps * step

    with ctx.db.reading() as session:
        rows = session.execute(select(Timer.kind, Timer.due_at, Timer.fired_at, Timer.outcome)).all()
    fired = [(kind, due, at) for kind, due, at, outcome in rows if outcome == "fired"]
    overdue = [kind for kind, due, at, outcome in rows if at is None and due <= end]
    late = [(at - due).total_seconds() for _, due, at in fired]
    kinds = Counter(kind for kind, _, _ in fired)
    hours = [hour_wall[h] for h in sorted(hour_wall) if h < args.hours]

    print(
        f"tickets: {opened:,} opened in {open_s:.1f} s ({opened / open_s:,.0f}/s); "
        f"{sum(len(v) for v in recover_by_step.values()):,} recovered during the day"
    )
    print(
        f"simulated {args.hours:g} h in {steps} steps of {args.step_minutes:g} min: wall {day_s:.1f} s "
        f"(opening {open_s:.1f} s, recovering {recover_s:.1f} s, firing {fire_s:.1f} s)"
    )
    print(f"timers fired: {fired_total:,} ({len(fired):,} rows marked fired)  {dict(sorted(kinds.items()))}")
    print(f"timer-firing throughput: {fired_total / fire_s:,.0f} timers/s of firing wall time")
    figure(f"ticket timers fired ({where})", fired_total / fire_s, "timers/s")
    figure(
        f"timer lateness max ({where})",
        max(late, default=0),
        "s",
        step.total_seconds(),
        higher_is_better=False,
    )
    figure(f"due timers left unfired ({where})", len(overdue), "timers", 0, higher_is_better=False)
    step_p = percentiles(fire_batches)
    print(
        f"firing wall per step: p50 {step_p['p50'] * 1000:.0f} ms, p99 {step_p['p99'] * 1000:.0f} ms, "
        f"max {max(fire_batches) * 1000:.0f} ms"
    )
    late_p = percentiles(late)
    print(
        f"lateness (simulated, fired_at − due_at): mean {statistics.fmean(late) if late else 0:.0f} s, "
        f"p99 {late_p['p99']:.0f} s, max {max(late, default=0):.0f} s (step {step.total_seconds():.0f} s); "
        f"due but unfired at the end: {len(overdue)}"
    )
    print(
        f"wall per simulated hour: median {statistics.median(hours):.2f} s, max {max(hours):.2f} s "
        f"(first hours include ticket arrivals)"
    )
    print(f"peak RSS {peak_rss_mib():.0f} MiB")
    if max(late, default=0) > step.total_seconds() or overdue:
        raise SystemExit("FAIL: a timer fired later than one step, or a due timer did not fire")
    ctx.db.dispose()
    if not args.db:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


if __name__ == "__main__":
    main()

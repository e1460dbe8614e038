"""Monthly report figures (DOMAIN 9): pure functions over plain rows, no I/O.

Every figure comes with the rows behind it (``Views``), so a number on the report can always be
traced back to the records it was computed from (issue 8, "every figure reproducible").
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DEADLINE_NAMES = ("accept", "contact", "on_site", "locate", "recover")
MILESTONE_AT = {  # deadline name → the ticket column that meets it
    "accept": "accepted_at",
    "contact": "contacted_at",
    "on_site": "on_site_at",
    "locate": "located_at",
    "recover": "recovered_at",
}
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class FaultRow:
    """A fault: a non-planned, non-drill incident that impacted at least one circuit."""

    incident_id: int
    opened_at: datetime
    recovered_at: datetime | None
    diagnosis_due: datetime
    diagnosis_at: datetime | None
    region: str  # region code of the root NE, else of the first impacted customer, else "unknown"
    cause: str  # cause of its first closed ticket ("unknown" until one is closed)
    circuits: tuple[str, ...]  # impacted circuit codes (any impact kind), sorted
    service_types: tuple[str, ...]  # distinct service types of those circuits, sorted
    contractors: tuple[str, ...]  # distinct maintainers (代维) of those circuits, sorted


@dataclass(frozen=True, slots=True)
class DownRow:
    """A ``down`` impact interval of a fault on a circuit; ``until`` None = still down."""

    incident_id: int
    circuit: str
    since: datetime
    until: datetime | None


@dataclass(frozen=True, slots=True)
class TicketRow:
    ticket_id: int
    incident_id: int | None
    created_at: datetime
    met: dict[str, datetime | None]  # deadline name → when its milestone was reached
    breached: frozenset[str]  # deadline names with a ``breach`` event


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in the operator time zone: [start, end)."""

    label: str
    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> Month:
        """``YYYY-MM`` → the month; ValueError when malformed."""
        year, _, mon = text.partition("-")
        if len(year) != 4 or len(mon) != 2 or not (year.isdigit() and mon.isdigit()):
            raise ValueError(f"month must be YYYY-MM, got {text!r}")
        first = date(int(year), int(mon), 1)  # ValueError on month 13 etc.
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        start = datetime(first.year, first.month, 1, tzinfo=tz)
        return cls(text, start, datetime(after.year, after.month, 1, tzinfo=tz))


@dataclass
class Report:
    month: str
    figures: dict[str, object]
    # view name → key → the rows behind that number (dicts ready for JSON and xlsx)
    views: dict[str, dict[str, list[dict[str, object]]]] = field(default_factory=dict)
    faults: list[dict[str, object]] = field(default_factory=list)


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).isoformat() if when else None  # one offset in every view


def _fault_dict(f: FaultRow) -> dict[str, object]:
    return {
        "incident": f.incident_id,
        "opened_at": _iso(f.opened_at),
        "recovered_at": _iso(f.recovered_at),
        "region": f.region,
        "cause": f.cause,
        "circuits": ", ".join(f.circuits),
        "service_types": ", ".join(f.service_types),
        "contractors": ", ".join(f.contractors),
        "minutes_to_recover": _minutes(f.opened_at, f.recovered_at),
        "diagnosis_due": _iso(f.diagnosis_due),
        "diagnosis_at": _iso(f.diagnosis_at),
    }


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 60, 2)


def _ratio(num: float, den: float) -> float | None:
    """None when there is nothing to measure (not 0 % and not 100 %)."""
    return None if den == 0 else round(num / den, 6)


def merged_minutes(intervals: list[tuple[datetime, datetime]]) -> float:
    """Minutes covered by the union of intervals: two faults down at once count once."""
    total = 0.0
    end: datetime | None = None
    for s, e in sorted(intervals):
        if end is None or s > end:
            total += (e - s).total_seconds()
            end = e
        elif e > end:
            total += (e - end).total_seconds()
            end = e
    return total / 60


def monthly(
    month: Month,
    now: datetime,
    faults: list[FaultRow],
    downs: list[DownRow],
    tickets: list[TicketRow],
    circuits_in_service: int,
    repeat_days: int,
    repeat_min: int,
) -> Report:
    """The monthly report. ``faults`` may reach back ``repeat_days`` before the month (for the
    repeat-fault window); only those opened in the month are counted. ``downs``: every down
    interval of a fault overlapping the month, whenever its fault opened."""
    in_month = sorted(
        (f for f in faults if month.start <= f.opened_at < month.end), key=lambda f: f.incident_id
    )
    rows = {f.incident_id: _fault_dict(f) for f in in_month}
    report = Report(month.label, {}, {}, list(rows.values()))

    def group(name: str, keys_of: object) -> dict[str, int]:
        view: dict[str, list[dict[str, object]]] = defaultdict(list)
        for f in in_month:
            for key in keys_of(f) or (UNKNOWN,):  # type: ignore[operator]
                view[key].append(rows[f.incident_id])
        report.views[name] = dict(sorted(view.items()))
        return {k: len(v) for k, v in sorted(view.items())}

    faults_fig = {
        "total": len(in_month),
        "by_region": group("by_region", lambda f: (f.region,)),
        "by_cause": group("by_cause", lambda f: (f.cause,)),
        "by_service_type": group("by_service_type", lambda f: f.service_types),
        "by_contractor": group("by_contractor", lambda f: f.contractors),
    }
    report.views["faults"] = {"all": list(rows.values())}

    recovered = [f for f in in_month if f.recovered_at is not None]
    report.views["mttr"] = {"recovered": [rows[f.incident_id] for f in recovered]}
    mttr = (
        round(sum((f.recovered_at - f.opened_at).total_seconds() for f in recovered) / 60 / len(recovered), 2)  # type: ignore[operator]
        if recovered
        else None
    )

    # Availability: down intervals clipped to the month (and to now while still down), merged
    # per circuit so overlapping faults are not counted twice.
    horizon = min(month.end, max(now, month.start))
    clipped: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    avail_rows: dict[str, list[dict[str, object]]] = defaultdict(list)
    for d in sorted(downs, key=lambda d: (d.circuit, d.since, d.incident_id)):
        s, e = max(d.since, month.start), min(d.until or horizon, month.end)
        if e <= s:
            continue
        clipped[d.circuit].append((s, e))
        avail_rows[d.circuit].append(
            {
                "circuit": d.circuit,
                "incident": d.incident_id,
                "since": _iso(d.since),
                "until": _iso(d.until),
                "counted_from": _iso(s),
                "counted_to": _iso(e),
                "minutes": _minutes(s, e),
            }
        )
    outage = {c: merged_minutes(iv) for c, iv in sorted(clipped.items())}
    by_circuit = {c: round(1 - m / month.minutes, 6) for c, m in outage.items()}
    overall = (
        round(1 - sum(outage.values()) / (circuits_in_service * month.minutes), 6)
        if circuits_in_service
        else None
    )
    report.views["availability"] = dict(avail_rows)

    # SLA compliance per deadline: a ticket counts for a deadline once it met the milestone or
    # breached it; a deadline made moot (e.g. on-site after recovery) or not yet due is not counted.
    sla: dict[str, float | None] = {}
    for name in DEADLINE_NAMES:
        view_rows: list[dict[str, object]] = []
        met = 0
        for t in sorted(tickets, key=lambda t: t.ticket_id):
            reached = t.met.get(name)
            if reached is None and name not in t.breached:
                continue
            ok = reached is not None and name not in t.breached
            met += ok
            view_rows.append(
                {
                    "ticket": t.ticket_id,
                    "incident": t.incident_id,
                    "created_at": _iso(t.created_at),
                    "reached_at": _iso(reached),
                    "breached": name in t.breached,
                    "met": ok,
                }
            )
        sla[name] = _ratio(met, len(view_rows))
        report.views[f"sla_{name}"] = {name: view_rows}

    # 15-minute diagnosis: diagnosed by diagnosis_due; an undiagnosed fault counts once its due passed.
    diag_rows: list[dict[str, object]] = []
    on_time = 0
    for f in in_month:
        if f.diagnosis_at is None and f.diagnosis_due > now:
            continue
        ok = f.diagnosis_at is not None and f.diagnosis_at <= f.diagnosis_due
        on_time += ok
        diag_rows.append({**rows[f.incident_id], "on_time": ok})
    report.views["diagnosis"] = {"all": diag_rows}

    # Repeat faults: a circuit with a fault this month is a repeat-fault circuit when, at one of
    # its faults this month, it had >= repeat_min faults opened in the repeat_days before (inclusive).
    window = timedelta(days=repeat_days)
    opened_by_circuit: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for f in faults:
        for c in f.circuits:
            opened_by_circuit[c].append((f.opened_at, f.incident_id))
    faulty = sorted({c for f in in_month for c in f.circuits})
    repeat_rows: list[dict[str, object]] = []
    repeats = 0
    for c in faulty:
        times = sorted(opened_by_circuit[c])
        opened = [t for t, _ in times]
        best: list[int] = []
        for n, at in enumerate(opened):
            if not month.start <= at < month.end:
                continue
            first = bisect_right(opened, at - window)  # faults in (at - window, at]
            last = bisect_right(opened, at, lo=n)
            if last - first > len(best):
                best = [i for _, i in times[first:last]]
        is_repeat = len(best) >= repeat_min
        repeats += is_repeat
        repeat_rows.append(
            {
                "circuit": c,
                "faults_in_window": len(best),
                "incidents": ", ".join(map(str, best)),
                "repeat": is_repeat,
            }
        )
    report.views["repeat_faults"] = {"all": repeat_rows}

    report.figures = {
        "month": month.label,
        "faults": faults_fig,
        "mttr_minutes": mttr,
        "availability": {"overall": overall, "by_circuit": by_circuit},
        "sla_compliance": sla,
        "diagnosis_on_time_rate": _ratio(on_time, len(diag_rows)),
        "repeat_fault_rate": _ratio(repeats, len(faulty)),
    }
    return report


def row_view(report: Report, view: str, key: str | None) -> list[dict[str, object]]:
    """The rows behind one number; KeyError when the view or key does not exist."""
    groups = report.views[view]
    if key is None:
        return [r for rows in groups.values() for r in rows]
    return groups[key]


__all__ = ["DownRow", "FaultRow", "Month", "Report", "TicketRow", "merged_minutes", "monthly", "row_view"]

"""Report figures (DOMAIN 9): pure functions over plain rows, no I/O.

One computation serves the monthly report and the statistics for any period and filter. Every
figure comes with the rows behind it (``Report.views``), so a number on the report can always be
traced back to the records it was computed from (issue 8, "every figure reproducible"). The
figures pass only counts (in C where it can: ``Counter``); which records stand behind each
number is worked out when a view is first asked for (drill-down, xlsx) from the same rows by
the same rule, and its rows rendered then — most reports are only ever encoded as figures.

Times are float Unix seconds (the database converts them: see ``db/epoch.py``).
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from itertools import chain
from operator import attrgetter
from typing import Any
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
Row = dict[str, object]


@dataclass(slots=True)  # not frozen: frozen construction costs 3× (decision 111)
class FaultRow:
    """A fault: a non-planned, non-drill incident that impacted at least one (selected) circuit."""

    incident_id: int
    opened: float
    recovered: float | None
    diagnosis_due: float
    diagnosis_at: float | None
    region: str  # region code of the root NE, else of the first impacted customer, else "unknown"
    cause: str  # cause of its first closed ticket ("unknown" until one is closed)
    ne: str  # root NE name ("unknown" when the root alarm matched no NE)
    # The four below in any order (tuples of distinct values): sorted only when a row is rendered.
    circuits: Collection[str]  # impacted circuit codes (any impact kind)
    service_types: Collection[str]  # distinct service types of those circuits
    contractors: Collection[str]  # distinct maintainers (代维) of those circuits
    customers: Collection[str]  # distinct customers of those circuits


@dataclass(slots=True)  # not frozen: frozen construction costs 3× (decision 111)
class DownRow:
    """A ``down`` impact interval of a fault on a circuit; ``until`` None = still down."""

    incident_id: int
    circuit: str
    since: float
    until: float | None


@dataclass(slots=True)  # not frozen: frozen construction costs 3× (decision 111)
class TicketRow:
    ticket_id: int
    incident_id: int | None
    created: float
    met: tuple[float | None, ...]  # when each of DEADLINE_NAMES' milestones was reached
    breached: frozenset[str]  # deadline names with a ``breach`` event
    team: str  # the assignee team's code (the contractor league's key), "unknown" when none
    cause: str  # the ticket's reply cause (回单原因), "unknown" until closed


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in the operator time zone: a calendar month or any run of whole days."""

    label: str
    start: datetime
    end: datetime
    is_month: bool = False

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def start_s(self) -> float:
        return self.start.timestamp()

    @property
    def end_s(self) -> float:
        return self.end.timestamp()

    @classmethod
    def month(cls, text: str, tz: ZoneInfo) -> Period:
        """``YYYY-MM`` → the month; ValueError when malformed."""
        first = _month_start(text)
        return cls(text, _midnight(first, tz), _midnight(_next_month(first), tz), is_month=True)

    @classmethod
    def between(cls, first: str, last: str, tz: ZoneInfo) -> Period:
        """``from``/``to`` as ``YYYY-MM-DD`` (or ``YYYY-MM`` for a whole month), both inclusive."""
        start = _month_start(first) if len(first) == 7 else date.fromisoformat(first)
        if len(last) == 7:
            after = _next_month(_month_start(last))
        else:
            after = date.fromisoformat(last) + timedelta(days=1)
        if after <= start:
            raise ValueError(f"'to' ({last}) is before 'from' ({first})")
        end = after - timedelta(days=1)
        return cls(f"{start.isoformat()}..{end.isoformat()}", _midnight(start, tz), _midnight(after, tz))

    def buckets(self, max_days: int) -> list[tuple[str, float]]:
        """Trend buckets (label, start): days for a period of up to ``max_days``, else months."""
        tz = self.start.tzinfo
        assert isinstance(tz, ZoneInfo)
        first, after = self.start.date(), self.end.date()
        out: list[tuple[str, float]] = []
        if (after - first).days <= max_days:
            day = first
            while day < after:
                out.append((day.isoformat(), _midnight(day, tz).timestamp()))
                day += timedelta(days=1)
            return out
        month = first.replace(day=1)
        while month < after:
            out.append((month.isoformat()[:7], max(_midnight(month, tz), self.start).timestamp()))
            month = _next_month(month)
        return out


def _month_start(text: str) -> date:
    year, _, mon = text.partition("-")
    if len(year) != 4 or len(mon) != 2 or not (year.isdigit() and mon.isdigit()):
        raise ValueError(f"month must be YYYY-MM, got {text!r}")
    return date(int(year), int(mon), 1)  # ValueError on month 13 etc.


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


Groups = dict[str, list[Any]]  # a view's records (ids or small tuples) by key, in any key order


class LazyGroups(Mapping[str, Groups]):
    """View name → its groups, each worked out on first use by the function given for it (then
    kept). The figures need only counts; the records behind every number of a month — ≈ 200,000
    ids and tuples at scale 100 — are wanted only by a drill-down or an export."""

    def __init__(self) -> None:
        self._make: dict[str, Callable[[], Groups]] = {}
        self._made: dict[str, Groups] = {}

    def later(self, name: str, make: Callable[[], Groups]) -> None:
        self._make[name] = make

    def __setitem__(self, name: str, groups: Groups) -> None:  # already known: kept as it is
        self._make[name] = lambda: groups
        self._made[name] = groups

    def __getitem__(self, name: str) -> Groups:
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = self._make[name]()
        return made

    def __iter__(self) -> Iterator[str]:
        return iter(self._make)

    def __len__(self) -> int:
        return len(self._make)


@dataclass
class Report:
    """Figures, plus for each view (e.g. ``by_region``) and key (``GL``) the records behind it.

    ``groups`` holds record ids (or small tuples) by key, in any key order (worked out when first
    read: ``LazyGroups``); ``render`` turns one into a row dict. Views are built on first use
    only, their keys sorted."""

    label: str
    figures: dict[str, object]
    groups: Mapping[str, Groups] = field(default_factory=dict)
    render: dict[str, Callable[[Any], Row]] = field(default_factory=dict)
    fault_ids: list[int] = field(default_factory=list)
    fault_row: Callable[[int], Row] = field(default=lambda i: {"incident": i})
    _built: dict[str, dict[str, list[Row]]] = field(default_factory=dict, repr=False)

    @property
    def month(self) -> str:
        return self.label

    def view(self, name: str) -> dict[str, list[Row]]:
        """One view's rows by key; KeyError for an unknown view."""
        built = self._built.get(name)
        if built is None:
            to_row = self.render[name]
            keyed = sorted(self.groups[name].items())
            built = {key: [to_row(item) for item in items] for key, items in keyed}
            self._built[name] = built
        return built

    @property
    def views(self) -> dict[str, dict[str, list[Row]]]:
        return {name: self.view(name) for name in self.groups}

    @cached_property
    def faults(self) -> list[Row]:
        return [self.fault_row(i) for i in self.fault_ids]


def iso(when: float | None) -> str | None:
    """One offset (UTC) in every view."""
    return None if when is None else datetime.fromtimestamp(when, UTC).isoformat()


def _minutes(start: float, end: float | None) -> float | None:
    return None if end is None else round((end - start) / 60, 2)


def _ratio(num: float, den: float) -> float | None:
    """None when there is nothing to measure (not 0 % and not 100 %)."""
    return None if den == 0 else round(num / den, 6)


def _fault_dict(f: FaultRow) -> Row:
    return {
        "incident": f.incident_id,
        "opened_at": iso(f.opened),
        "recovered_at": iso(f.recovered),
        "region": f.region,
        "cause": f.cause,
        "ne": f.ne,
        "circuits": ", ".join(sorted(f.circuits)),
        "customers": ", ".join(sorted(f.customers)),
        "service_types": ", ".join(sorted(f.service_types)),
        "contractors": ", ".join(sorted(f.contractors)),
        "minutes_to_recover": _minutes(f.opened, f.recovered),
        "diagnosis_due": iso(f.diagnosis_due),
        "diagnosis_at": iso(f.diagnosis_at),
    }


def merged_minutes(intervals: list[tuple[float, float]]) -> float:
    """Minutes covered by the union of intervals: two faults down at once count once."""
    total = 0.0
    end: float | None = None
    for s, e in sorted(intervals):
        if end is None or s > end:
            total += e - s
            end = e
        elif e > end:
            total += e - end
            end = e
    return total / 60


def _counts(groups: dict[str, list[Any]]) -> dict[str, int]:
    return {k: len(v) for k, v in groups.items()}


def _top(counts: dict[str, int], n: int) -> list[dict[str, object]]:
    ranked = heapq.nsmallest(n, counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"key": k, "faults": count} for k, count in ranked if k != UNKNOWN or count]


def _key_counts(keys: Iterable[str], sort: bool = True) -> dict[str, int]:
    """Faults per key (``Counter``: the counting in C), keys sorted when ``sort``."""
    counts = Counter(keys)
    return dict(sorted(counts.items())) if sort else counts


def _set_counts(
    faults: list[FaultRow], of: Callable[[FaultRow], Collection[str]], sort: bool = True
) -> dict[str, int]:
    """Faults per key when a fault counts under each of a set of keys (none = "unknown")."""
    sets = list(map(of, faults))
    counts = Counter(chain.from_iterable(sets))
    unkeyed = sum(1 for keys in sets if not keys)
    if unkeyed:
        counts[UNKNOWN] += unkeyed
    return dict(sorted(counts.items())) if sort else counts


def _ids_by_key(ids: list[int], keys: Iterable[str] | Iterable[Collection[str]], many: bool) -> Groups:
    """The fault ids behind ``_key_counts`` / ``_set_counts`` (``keys`` runs along ``ids``), each
    key's in the order of ``ids``."""
    view: Groups = {}
    for i, key in zip(ids, keys, strict=True):
        for one in (key or (UNKNOWN,)) if many else (key,):  # type: ignore[union-attr]
            listed = view.get(one)  # type: ignore[call-overload]
            if listed is None:
                view[one] = [i]  # type: ignore[index]
            else:
                listed.append(i)
    return view


@dataclass(frozen=True, slots=True)
class Rules:
    """The policy numbers the figures need (``statistics`` in the policy file)."""

    repeat_days: int
    repeat_min: int
    top_n: int = 10
    trend_days_max: int = 62


def statistics(
    period: Period,
    now: float,
    faults: list[FaultRow],
    downs: list[DownRow],
    tickets: list[TicketRow],
    circuits_in_service: int,
    rules: Rules,
) -> Report:
    """The report for ``period``. ``faults`` may reach back ``repeat_days`` before it (for the
    repeat-fault window); only those opened in the period are counted. ``downs``: every down
    interval of a fault overlapping the period, whenever its fault opened. ``tickets``: those
    created in the period."""
    start, end = period.start_s, period.end_s
    by_id = {f.incident_id: f for f in faults}
    in_period = sorted(f.incident_id for f in faults if start <= f.opened < end)
    groups = LazyGroups()
    render: dict[str, Callable[[Any], Row]] = {}
    fault_row = _memo(lambda i: _fault_dict(by_id[i]))
    counted = [by_id[i] for i in in_period]

    def fault_view(name: str, of: Callable[[FaultRow], Any], many: bool = False) -> None:
        """The view of faults by the key ``of`` gives (with ``many`` a set of keys), its ids
        gathered only when read."""
        groups.later(name, lambda: _ids_by_key(in_period, map(of, counted), many))
        render[name] = fault_row

    bucket_list = period.buckets(rules.trend_days_max)
    bucket_starts = [s for _, s in bucket_list]
    labels = [label for label, _ in bucket_list]
    trend_of = [labels[bisect_right(bucket_starts, f.opened) - 1] for f in counted]
    trend = Counter(trend_of)
    groups.later("trend", lambda: _ids_by_key(in_period, trend_of, False))
    render["trend"] = fault_row
    trend_counts = {label: trend.get(label, 0) for label in labels}
    single = {"by_region": attrgetter("region"), "by_cause": attrgetter("cause"), "by_ne": attrgetter("ne")}
    several = {
        "by_service_type": attrgetter("service_types"),
        "by_contractor": attrgetter("contractors"),
        "by_customer": attrgetter("customers"),
    }
    for name, of in single.items():
        fault_view(name, of)
    for name, of in several.items():
        fault_view(name, of, many=True)
    faults_fig = {
        "total": len(in_period),
        "by_region": _key_counts(map(single["by_region"], counted)),
        "by_cause": _key_counts(map(single["by_cause"], counted)),
        "by_service_type": _set_counts(counted, several["by_service_type"]),
        "by_contractor": _set_counts(counted, several["by_contractor"]),
    }
    # Only their top N are figures: tens of thousands of keys left unsorted.
    by_ne = _key_counts(map(single["by_ne"], counted), sort=False)
    by_customer = _set_counts(counted, several["by_customer"], sort=False)
    groups["faults"] = {"all": in_period}
    render["faults"] = fault_row

    recovered = [f for f in counted if f.recovered is not None]
    groups.later("mttr", lambda: {"recovered": [f.incident_id for f in recovered]})
    render["mttr"] = fault_row
    mttr = (
        round(sum(f.recovered - f.opened for f in recovered) / 60 / len(recovered), 2)  # type: ignore[operator]
        if recovered
        else None
    )

    availability = _availability(period, now, downs, circuits_in_service, groups, render)
    sla, timeouts = _sla(tickets, groups, render)
    league = _league(tickets, groups, render)

    # 15-minute diagnosis: diagnosed by diagnosis_due; an undiagnosed fault counts once its due passed.
    diagnosis: list[tuple[int, bool]] = []
    for i in in_period:
        f = by_id[i]
        if f.diagnosis_at is None and f.diagnosis_due > now:
            continue
        diagnosis.append((i, f.diagnosis_at is not None and f.diagnosis_at <= f.diagnosis_due))
    groups["diagnosis"] = {"all": diagnosis}
    render["diagnosis"] = lambda item: {**fault_row(item[0]), "on_time": item[1]}

    repeat_rate = _repeats(period, faults, counted, rules, groups, render)

    figures: dict[str, object] = {
        "period": {"label": period.label, "from": period.start.isoformat(), "to": period.end.isoformat()},
        "faults": faults_fig,
        "trend": trend_counts,
        "mttr_minutes": mttr,
        "availability": availability,
        "sla_compliance": sla,
        "timeout_reasons": timeouts,
        "diagnosis_on_time_rate": _ratio(sum(ok for _, ok in diagnosis), len(diagnosis)),
        "repeat_fault_rate": repeat_rate,
        "contractor_league": league,
        "top_nes": _top(by_ne, rules.top_n),
        "top_customers": _top(by_customer, rules.top_n),
    }
    if period.is_month:
        figures = {"month": period.label, **figures}
    return Report(period.label, figures, groups, render, in_period, fault_row)


def _memo(build: Callable[[int], Row]) -> Callable[[int], Row]:
    cache: dict[int, Row] = {}

    def get(key: int) -> Row:
        row = cache.get(key)
        if row is None:
            row = cache[key] = build(key)
        return row

    return get


def _availability(
    period: Period,
    now: float,
    downs: list[DownRow],
    circuits_in_service: int,
    groups: LazyGroups,
    render: dict[str, Callable[[Any], Row]],
) -> dict[str, object]:
    """Down intervals clipped to the period (and to now while still down), merged per circuit so
    overlapping faults are not counted twice."""
    start, end = period.start_s, period.end_s
    horizon = min(end, max(now, start))

    def clipped() -> Iterator[tuple[str, float, float, DownRow]]:
        for d in downs:
            s = d.since if d.since > start else start
            e = d.until if d.until is not None else horizon
            if e > end:
                e = end
            if e > s:
                yield d.circuit, s, e, d

    # Each circuit's clipped intervals: one tuple while it has one (most circuits), a list after.
    spans: dict[str, tuple[float, float] | list[tuple[float, float]]] = {}
    for c, s, e, _ in clipped():
        got = spans.get(c)
        if got is None:
            spans[c] = (s, e)
        elif type(got) is tuple:
            spans[c] = [got, (s, e)]
        else:
            got.append((s, e))  # type: ignore[union-attr]
    outage: dict[str, float] = {}
    for c in sorted(spans):
        got = spans[c]
        outage[c] = (got[1] - got[0]) / 60 if type(got) is tuple else merged_minutes(got)  # type: ignore[arg-type,operator]

    def view() -> Groups:
        by_circuit: dict[str, list[tuple[float, float, DownRow]]] = defaultdict(list)
        for c, s, e, d in clipped():
            by_circuit[c].append((s, e, d))
        for items in by_circuit.values():
            items.sort(key=lambda x: (x[2].since, x[2].incident_id))
        return dict(by_circuit)

    groups.later("availability", view)
    render["availability"] = lambda item: {
        "circuit": item[2].circuit,
        "incident": item[2].incident_id,
        "since": iso(item[2].since),
        "until": iso(item[2].until),
        "counted_from": iso(item[0]),
        "counted_to": iso(item[1]),
        "minutes": _minutes(item[0], item[1]),
    }
    minutes = period.minutes
    return {
        "overall": (
            round(1 - sum(outage.values()) / (circuits_in_service * minutes), 6)
            if circuits_in_service
            else None
        ),
        "by_circuit": {c: round(1 - m / minutes, 6) for c, m in outage.items()},
    }


def _ticket_row(t: TicketRow, name: str) -> Row:
    reached = t.met[DEADLINE_NAMES.index(name)]
    return {
        "ticket": t.ticket_id,
        "incident": t.incident_id,
        "team": t.team,
        "cause": t.cause,
        "created_at": iso(t.created),
        "reached_at": iso(reached),
        "breached": name in t.breached,
        "met": reached is not None and name not in t.breached,
    }


def _counted(t: TicketRow, n: int, name: str) -> bool:
    """A ticket counts for a deadline once it met the milestone or breached it; a deadline made
    moot (e.g. on-site after recovery) or not yet due is not counted."""
    return t.met[n] is not None or name in t.breached


def _sla(
    tickets: list[TicketRow],
    groups: LazyGroups,
    render: dict[str, Callable[[Any], Row]],
) -> tuple[dict[str, float | None], dict[str, dict[str, int]]]:
    """Compliance per deadline, and the timeouts of each deadline by the ticket's reply cause."""
    ordered = sorted(tickets, key=lambda t: t.ticket_id)
    sla: dict[str, float | None] = {}
    timeouts: dict[str, dict[str, int]] = {}
    for n, name in enumerate(DEADLINE_NAMES):
        # One pass: counted when breached (late, not met) or reached (met) — see _counted.
        counted: list[TicketRow] = []
        met = 0
        late: dict[str, list[TicketRow]] = defaultdict(list)
        for t in ordered:
            if name in t.breached:
                counted.append(t)
                late[t.cause].append(t)
            elif t.met[n] is not None:
                counted.append(t)
                met += 1
        sla[name] = _ratio(met, len(counted))
        groups[f"sla_{name}"] = {name: counted}
        groups[f"timeouts_{name}"] = dict(sorted(late.items()))
        timeouts[name] = _counts(groups[f"timeouts_{name}"])
        render[f"sla_{name}"] = render[f"timeouts_{name}"] = lambda t, name=name: _ticket_row(t, name)
    return sla, timeouts


def _league(
    tickets: list[TicketRow],
    groups: LazyGroups,
    render: dict[str, Callable[[Any], Row]],
) -> list[dict[str, object]]:
    """Contractor league table (代维考核): per assignee team, SLA compliance over every counted
    deadline, breaches and mean minutes to recover; best compliance first, then fewest breaches."""
    by_team: dict[str, list[TicketRow]] = defaultdict(list)
    for t in sorted(tickets, key=lambda t: t.ticket_id):
        by_team[t.team].append(t)
    table: list[dict[str, object]] = []
    recover = DEADLINE_NAMES.index("recover")
    for team, rows in by_team.items():
        counted = met = 0
        for t in rows:
            if not t.breached:  # most tickets: every milestone reached is counted and met
                reached = len(t.met) - t.met.count(None)
                counted += reached
                met += reached
                continue
            for n, name in enumerate(DEADLINE_NAMES):
                if _counted(t, n, name):
                    counted += 1
                    met += t.met[n] is not None and name not in t.breached
        times = [t.met[recover] - t.created for t in rows if t.met[recover] is not None]  # type: ignore[operator]
        table.append(
            {
                "team": team,
                "tickets": len(rows),
                "sla_compliance": _ratio(met, counted),
                "breaches": sum(len(t.breached) for t in rows),
                "mean_minutes_to_recover": round(sum(times) / 60 / len(times), 2) if times else None,
            }
        )
    table.sort(
        key=lambda r: (
            -(r["sla_compliance"] if r["sla_compliance"] is not None else -1),  # type: ignore[operator]
            r["breaches"],
            r["team"],
        )
    )
    for rank, row in enumerate(table, 1):
        row["rank"] = rank
    groups["league"] = dict(sorted(by_team.items()))
    render["league"] = lambda t: {
        "ticket": t.ticket_id,
        "incident": t.incident_id,
        "team": t.team,
        "created_at": iso(t.created),
        **{f"{name}_at": iso(t.met[n]) for n, name in enumerate(DEADLINE_NAMES)},
        "breached": ", ".join(sorted(t.breached)),
    }
    return table


def _repeats(
    period: Period,
    faults: list[FaultRow],
    counted: list[FaultRow],
    rules: Rules,
    groups: LazyGroups,
    render: dict[str, Callable[[Any], Row]],
) -> float | None:
    """A circuit with a fault in the period is a repeat-fault circuit when, at one of its faults
    in the period, it had >= repeat_min faults opened in the repeat_days before (inclusive)."""
    start, end = period.start_s, period.end_s
    window = rules.repeat_days * 86400
    faulty = set(chain.from_iterable(map(attrgetter("circuits"), counted)))
    # Only a circuit hurt by repeat_min faults that could share a window — opened after the
    # first window's edge and before the period's end — can be a repeat: counted in C, most
    # circuits (one fault) are settled without a window of their own.
    reach = [f for f in faults if start - window < f.opened < end]
    hits = Counter(chain.from_iterable(map(attrgetter("circuits"), reach)))
    if rules.repeat_min <= 1:
        repeats = len(faulty)
    else:
        candidates = {c for c in faulty if hits[c] >= rules.repeat_min}
        times: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for f in reach:
            hit = candidates.intersection(f.circuits)
            if hit:
                entry = (f.opened, f.incident_id)
                for c in hit:
                    times[c].append(entry)
        repeats = 0
        for listed in times.values():
            listed.sort()
            first, last = _widest_window(listed, start, end, window)
            repeats += last - first >= rules.repeat_min

    def view() -> Groups:
        # Each circuit's faults (opened, id): one tuple while it has one (most circuits), a list after.
        opened_by_circuit: dict[str, tuple[float, int] | list[tuple[float, int]]] = {}
        for f in faults:
            entry = (f.opened, f.incident_id)
            for c in f.circuits:
                got = opened_by_circuit.get(c)
                if got is None:
                    opened_by_circuit[c] = entry
                elif type(got) is tuple:
                    opened_by_circuit[c] = [got, entry]
                else:
                    got.append(entry)  # type: ignore[union-attr]
        items: list[tuple[str, tuple[int, ...] | list[int]]] = []
        for c in sorted(faulty):
            got = opened_by_circuit[c]  # (circuits of earlier faults only are never looked at)
            if type(got) is tuple:  # most circuits: their one fault, in the period
                items.append((c, (got[1],)))
                continue
            assert isinstance(got, list)
            got.sort()
            first, last = _widest_window(got, start, end, window)
            items.append((c, [i for _, i in got[first:last]]))
        return {"all": items}

    groups.later("repeat_faults", view)
    render["repeat_faults"] = lambda item: {
        "circuit": item[0],
        "faults_in_window": len(item[1]),
        "incidents": ", ".join(map(str, item[1])),
        "repeat": len(item[1]) >= rules.repeat_min,
    }
    return _ratio(repeats, len(faulty))


def _widest_window(
    times: list[tuple[float, int]], start: float, end: float, window: float
) -> tuple[int, int]:
    """[first, last) of sorted ``times`` (opened, id): for each fault opened in [start, end), the
    faults opened in (its time - window, its time] — the widest such run, the earliest of equals.
    A window sliding along the times (``first`` only moves forward)."""
    count = len(times)
    first = best_first = best_last = 0
    for n in range(count):
        at = times[n][0]
        if not start <= at < end:
            continue
        edge = at - window
        while times[first][0] <= edge:
            first += 1
        last = n + 1
        while last < count and times[last][0] == at:
            last += 1
        if last - first > best_last - best_first:
            best_first, best_last = first, last
    return best_first, best_last


def row_view(report: Report, view: str, key: str | None) -> list[Row]:
    """The rows behind one number; KeyError when the view or key does not exist."""
    groups = report.view(view)
    if key is None:
        return [r for rows in groups.values() for r in rows]
    return groups[key]


__all__ = [
    "DownRow",
    "FaultRow",
    "Period",
    "Report",
    "Rules",
    "TicketRow",
    "iso",
    "merged_minutes",
    "row_view",
    "statistics",
]

"""The incident book: correlation into incidents, route-aware impact and dispatch levels (DOMAIN 3–4).

Owned by the pipeline writer like the alarm book. Correlation: an alarm joins an open incident,
active within the policy window, that shares a circuit with it, sits on the same NE or on its
parent NE (an ONU behind its OLT), or whose platform the alarm's circuits depend on; it is then
linked to that incident's root (not dispatched on its own). A root-type alarm arriving after its
consequences (LOS after AIS) becomes the root. Otherwise a service-affecting alarm on a known
NE opens an incident of its own.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linewatch.alarms.engine import ALARM, ActiveAlarm, AlarmBook, AlarmChange
from linewatch.alarms.hits import NONE, Hit
from linewatch.core.policy import Policy
from linewatch.db.batch import Batch
from linewatch.incidents.choices import ImpactKind, IncidentState, Level
from linewatch.incidents.models import ImpactRecord, IncidentRecord
from linewatch.incidents.rules import (
    circuit_impact,
    impact_class,
    level_from_classes,
    more_urgent,
    raise_level,
    window_level,
)
from linewatch.inventory.index import ImpactIndex

INCIDENT = IncidentRecord.__table__
IMPACT = ImpactRecord.__table__
# How far past the urgent threshold a window is counted: that many removals from the ledger (alarms
# clearing in a storm) leave an urgent incident urgent without walking its window again.
WINDOW_COUNT_SLACK = 8


class Protecting(Protocol):
    """What the incident book needs of an assurance period (DOMAIN 7)."""

    id: int
    name: str
    level: int


# (circuits hit, time) → the assurance period protecting any of them then, or None. Wired by the
# context to the assurance lookup (incidents must not import assurance: it is downstream).
AssuranceCheck = Callable[[Collection[int], datetime], Protecting | None]


def _no_assurance(_circuits: Collection[int], _at: datetime) -> Protecting | None:
    return None


# (alarm, time) → does a cutover window (extended by its grace) still cover it? Wired by the
# context to the cutovers' lookup; a planned incident none of whose alarms is covered is a fault.
StillPlanned = Callable[[ActiveAlarm, datetime], bool]
_NONE: frozenset[int] = frozenset()  # what a lookup of an unknown circuit or NE adds (no set made per miss)


def _never_planned(_alarm: ActiveAlarm, _at: datetime) -> bool:
    return False


@dataclass(slots=True)
class CurrentImpact:
    row_id: int
    kind: ImpactKind
    since: datetime


@dataclass(slots=True)
class OpenIncident:
    id: int
    root_alarm_id: int
    root_ne_id: int | None
    opened_at: datetime
    drill: bool
    last_activity: datetime
    # circuits hit by the incident's root-type alarms, ever: consequent alarms (AIS, RDI…) confirm
    # impact on these but never extend it (an AIS reported NE-wide must not take down every circuit)
    scope: set[int] = field(default_factory=set)
    impacts: dict[int, CurrentImpact] = field(default_factory=dict)
    level: Level = Level.NORMAL
    level_reason: str = ""
    key_down: int = 0  # key customers this incident has down now
    saved_key_down: int = 0  # … as last written
    own: tuple[Level, str] = (Level.NORMAL, "")
    down_span: tuple[datetime, datetime] | None = None  # first/last start of its key-customer "down" impacts
    # at least this many key customers are down in its window (counted up to the urgent threshold
    # plus WINDOW_COUNT_SLACK); each ledger removal lowers it by one until it is counted again
    window_floor: int = 0
    circuits: set[int] = field(default_factory=set)  # every circuit its alarms hit (correlation index)
    # own-level tallies, kept as impacts come and go: class → circuit → (since, reason)
    classes: dict[str, dict[int, tuple[datetime, str]]] = field(
        default_factory=lambda: {"urgent": {}, "general": {}, "branch": {}}
    )
    oldest_branch: int | None = None  # the longest-down key branch circuit (cached)
    down_starts: list[datetime] = field(default_factory=list)  # sorted starts of key-customer "down"
    down_customers: dict[int, int] = field(default_factory=dict)  # key customer → circuits down
    active_ids: set[int] = field(default_factory=set)  # members still active
    rooted: set[int] = field(default_factory=set)  # active root-type, service-affecting members
    contrib: dict[int, set[int]] = field(default_factory=dict)  # circuit → rooted members hitting it
    # circuit → the union of those members' hits: kept as members attach (a union only grows),
    # re-read for a circuit when one detaches, and whole at a full recompute
    union: dict[int, Hit] = field(default_factory=dict)
    dirty: set[int] = field(default_factory=set)  # circuits whose impact must be re-read this batch
    rebuild: bool = False
    was_unrooted: bool = False
    nes: set[int] = field(default_factory=set)
    planned: bool = False  # opened by an alarm inside a cutover's window (not dispatched while so)
    assurance_id: int | None = None  # the assurance period raising its level, as last written
    # every period that raised it: {id, name, level, raised_to, since, until} (until null: still in)
    assurance_history: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IncidentChange:
    """What dispatch and the live view hear about."""

    kind: str  # opened | updated | level_changed | recovered
    incident_id: int
    level: str
    at: datetime


class IncidentBook:
    def __init__(self, policy: Policy, alarms: AlarmBook) -> None:
        self.policy = policy
        self.alarms = alarms
        self.open: dict[int, OpenIncident] = {}
        self.by_circuit: dict[int, set[int]] = {}
        self.by_ne: dict[int, set[int]] = {}
        # (since, customer_id, access, incident_id) of key customers' "down" impacts, kept sorted
        self.key_down: list[tuple[datetime, int, str, int]] = []
        # starts of key-customer "down" impacts that entered / left the ledger in this batch
        self.ledger_added: list[datetime] = []
        self.ledger_removed: list[datetime] = []
        self.unsettled: set[int] = set()  # open incidents with key customers down that are not urgent yet
        self.next_incident_id = 1
        self.next_impact_id = 1
        self.assurance_check: AssuranceCheck = _no_assurance
        self.still_planned: StillPlanned = _never_planned

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.policy.alarms.root_window_minutes)

    # ------------------------------------------------------------------ start-up
    def load(self, session: Session, index: ImpactIndex, now: datetime) -> None:
        self.open.clear()
        self.by_circuit.clear()
        self.by_ne.clear()
        self.key_down.clear()
        self.unsettled.clear()
        self.next_incident_id = (session.scalar(select(func.max(IncidentRecord.id))) or 0) + 1
        self.next_impact_id = (session.scalar(select(func.max(ImpactRecord.id))) or 0) + 1
        for row in session.scalars(
            select(IncidentRecord).where(IncidentRecord.state == IncidentState.OPEN.value)
        ):
            incident = OpenIncident(
                row.id,
                row.root_alarm_id,
                row.root_ne_id,
                row.opened_at,
                row.drill,
                row.updated_at,
                level=Level(row.level),
                level_reason=row.level_reason,
                key_down=row.key_customers_down,
                saved_key_down=row.key_customers_down,
                planned=row.planned,
                assurance_id=(row.assurance or {}).get("id"),  # type: ignore[arg-type]
                assurance_history=list(row.assurance_history or []),
            )
            self.open[row.id] = incident
        for alarm in self.alarms.by_id.values():
            if alarm.incident_id in self.open:
                self._attach(self.open[alarm.incident_id], alarm)
        for incident in self.open.values():
            # the next touch re-reads every circuit: the same answer as the per-circuit dirty set
            # _attach built, without keeping a set per impact while the incident sleeps
            incident.dirty = set()
            incident.rebuild = True
        # columns, streamed: at scale 100 the open impacts are hundreds of thousands of rows,
        # and ORM objects for all of them at once were the peak of the server's memory
        impacts = (
            select(
                ImpactRecord.id,
                ImpactRecord.incident_id,
                ImpactRecord.circuit_id,
                IMPACT.c.impact,
                IMPACT.c.since,
            )
            .join(IncidentRecord, IncidentRecord.id == ImpactRecord.incident_id)
            .where(ImpactRecord.until.is_(None), IncidentRecord.state == IncidentState.OPEN.value)
            .execution_options(yield_per=10_000)
        )
        for impact_id, incident_id, circuit_id, kind, since in session.execute(impacts):
            incident = self.open.get(incident_id)
            if incident is None:
                continue
            incident.impacts[circuit_id] = CurrentImpact(impact_id, ImpactKind(kind), since)
            self._ledger_add(incident, circuit_id, index)
        for incident in self.open.values():
            self._own(incident, now, index)
        self.ledger_added.clear()
        self.ledger_removed.clear()
        self.unsettled = {
            i for i, inc in self.open.items() if inc.down_span and inc.level is not Level.URGENT
        }

    # ------------------------------------------------------------------ processing
    def apply(
        self, changes: list[AlarmChange], index: ImpactIndex, now: datetime, batch: Batch
    ) -> list[IncidentChange]:
        touched: dict[int, datetime] = {}
        out: list[IncidentChange] = []
        for change in changes:
            alarm = change.alarm
            if change.kind == "raised" or (change.kind == "rematched" and alarm.incident_id is None):
                incident = self._correlate(alarm, change.at, index, batch, out)
            else:
                incident = self.open.get(alarm.incident_id) if alarm.incident_id else None
                if incident is not None and change.kind == "rematched":
                    self._attach(incident, alarm)
                    incident.rebuild = True  # the alarm's hits changed under it
                elif incident is not None:
                    self._detach(incident, alarm)
            if incident is not None:
                incident.last_activity = max(incident.last_activity, change.at)
                touched[incident.id] = max(touched.get(incident.id, change.at), change.at)
        for incident_id, at in touched.items():
            incident = self.open[incident_id]
            changed = self._recompute_impacts(incident, at, index, batch)
            if not incident.active_ids:
                self._recover(incident, at, batch, out, index)
            elif changed:  # tickets downstream re-check which of their circuits recovered
                out.append(IncidentChange("impacts_changed", incident.id, incident.level.value, at))
        self.relevel(now, index, batch, out, touched=set(touched))
        return out

    def _active_members(self, incident: OpenIncident) -> list[ActiveAlarm]:
        return [a for a in (self.alarms.by_id.get(i) for i in incident.active_ids) if a is not None]

    def _contributes(self, alarm: ActiveAlarm) -> bool:
        """Root-type, service-affecting alarms carry an incident's impact (consequents only confirm it)."""
        return self.alarms.affects_service(alarm) and not self.alarms.is_consequent(alarm)

    def _detach(self, incident: OpenIncident, alarm: ActiveAlarm) -> None:
        """An alarm of the incident cleared: its circuits need their impact re-read."""
        incident.active_ids.discard(alarm.id)
        if alarm.id in incident.rooted:
            incident.rooted.discard(alarm.id)
            for circuit_id in alarm.hits:
                holders = incident.contrib.get(circuit_id)
                if holders is not None:
                    holders.discard(alarm.id)
                    if holders:
                        incident.union[circuit_id] = self._union(holders, circuit_id)
                    else:
                        del incident.contrib[circuit_id]
                        incident.union.pop(circuit_id, None)
                incident.dirty.add(circuit_id)

    def _candidates(self, alarm: ActiveAlarm, at: datetime, index: ImpactIndex) -> list[OpenIncident]:
        ids: set[int] = set()
        by_circuit = self.by_circuit
        for circuit_id in alarm.hits:
            ids |= by_circuit.get(circuit_id, _NONE)
        if alarm.ne_id is not None:
            ids |= self.by_ne.get(alarm.ne_id, _NONE)
            parent = index.ne_parent.get(alarm.ne_id)
            if parent is not None:
                ids |= self.by_ne.get(parent, _NONE)
        found = []
        window = self.window
        for incident_id in ids:
            incident = self.open.get(incident_id)
            # an incident whose alarms have all cleared is over, even if this batch has not closed it yet:
            # joining it would make grouping depend on how senders batch their alarms
            if (
                incident
                and incident.active_ids
                and incident.drill == alarm.drill
                and at - incident.last_activity <= window
            ):
                found.append(incident)
        return sorted(found, key=lambda i: i.id)

    def _correlate(
        self, alarm: ActiveAlarm, at: datetime, index: ImpactIndex, batch: Batch, out: list[IncidentChange]
    ) -> OpenIncident | None:
        candidates = self._candidates(alarm, at, index)
        if candidates:
            incident = candidates[0]
            self._attach(incident, alarm)
            if incident.planned and not alarm.planned and self._contributes(alarm):
                # an impact outside the declared resources is a fault from the start (DOMAIN 6)
                self._unplan(incident, index, batch, out, at)
            root = self.alarms.by_id.get(incident.root_alarm_id)
            if root is not None and self.alarms.is_consequent(root) and not self.alarms.is_consequent(alarm):
                self._reroot(incident, alarm, batch)
            else:
                alarm.root_id = incident.root_alarm_id
                batch.update(ALARM, alarm.id, incident_id=incident.id, root_id=alarm.root_id)
            return incident
        if alarm.ne_id is None or not self.alarms.affects_service(alarm):
            return None  # unmatched, or too minor to be a fault of its own: kept and listed as an alarm
        incident = OpenIncident(
            self.next_incident_id, alarm.id, alarm.ne_id, at, alarm.drill, at, planned=alarm.planned
        )
        self.next_incident_id += 1
        self.open[incident.id] = incident
        self._attach(incident, alarm)
        batch.update(ALARM, alarm.id, incident_id=incident.id, root_id=None)
        diagnosis_due = at + timedelta(minutes=self.policy.dispatch.diagnosis_minutes)
        batch.insert(
            INCIDENT,
            {
                "id": incident.id,
                "state": IncidentState.OPEN.value,
                "level": Level.NORMAL.value,
                "level_reason": "",
                "opened_at": at,
                "recovered_at": None,
                "root_alarm_id": alarm.id,
                "root_ne_id": alarm.ne_id,
                "key_customers_down": 0,
                "diagnosis_due": diagnosis_due,
                "diagnosis_category": None,
                "diagnosis_by": None,
                "diagnosis_at": None,
                "diagnosis_note": "",
                "planned": alarm.planned,
                "drill": alarm.drill,
                "assurance": None,
                "assurance_history": None,
                "updated_at": at,
            },
        )
        out.append(IncidentChange("opened", incident.id, Level.NORMAL.value, at))
        return incident

    def _unplan(
        self,
        incident: OpenIncident,
        index: ImpactIndex,
        batch: Batch,
        out: list[IncidentChange],
        at: datetime,
    ) -> None:
        """A planned incident becomes a fault: now it counts, and downstream dispatches it."""
        incident.planned = False
        for circuit_id in incident.impacts:
            self._key_down_add(incident, circuit_id, index)
        batch.update(INCIDENT, incident.id, planned=False)
        out.append(IncidentChange("unplanned", incident.id, incident.level.value, at))

    def release_planned(
        self, now: datetime, index: ImpactIndex, batch: Batch, out: list[IncidentChange]
    ) -> None:
        """On every tick: a planned incident none of whose alarms a cutover window (plus grace) still
        covers — the window closed, or its cutover was cancelled or moved — becomes a fault. Durable
        by construction: the flag is in the database and the windows are re-read at start."""
        for incident in [i for i in self.open.values() if i.planned]:
            if not any(self.still_planned(alarm, now) for alarm in self._active_members(incident)):
                self._unplan(incident, index, batch, out, now)

    def _attach(self, incident: OpenIncident, alarm: ActiveAlarm) -> None:
        alarm.incident_id = incident.id
        incident.active_ids.add(alarm.id)
        if not self.alarms.is_consequent(alarm):
            incident.scope.update(alarm.hits)
        if self._contributes(alarm):
            incident.rooted.add(alarm.id)
            union = incident.union
            for circuit_id, hit in alarm.hits.items():
                incident.contrib.setdefault(circuit_id, set()).add(alarm.id)
                previous = union.get(circuit_id)
                union[circuit_id] = hit if previous is None else previous | hit
            incident.dirty.update(alarm.hits)
        for circuit_id in alarm.hits:
            self.by_circuit.setdefault(circuit_id, set()).add(incident.id)
        incident.circuits.update(alarm.hits)
        if alarm.ne_id is not None:
            self.by_ne.setdefault(alarm.ne_id, set()).add(incident.id)
            incident.nes.add(alarm.ne_id)

    def _reroot(self, incident: OpenIncident, root: ActiveAlarm, batch: Batch) -> None:
        incident.root_alarm_id = root.id
        incident.root_ne_id = root.ne_id
        root.root_id = None
        batch.update(ALARM, root.id, incident_id=incident.id, root_id=None)
        for member in self._active_members(incident):
            if member.id != root.id:
                member.root_id = root.id
                batch.update(ALARM, member.id, root_id=root.id)
        batch.update(INCIDENT, incident.id, root_alarm_id=root.id, root_ne_id=root.ne_id)

    # ------------------------------------------------------------------ impact
    def _union(self, holders: Collection[int], circuit_id: int) -> Hit:
        """The union of the hits of ``holders`` (active members) on ``circuit_id``."""
        union = NONE
        for alarm_id in holders:
            alarm = self.alarms.by_id.get(alarm_id)  # one cleared in this batch: detached next
            hit = alarm.hits.get(circuit_id) if alarm is not None else None
            if hit is not None:
                union = union | hit
        return union

    def _wanted(
        self, incident: OpenIncident, circuits: set[int] | None, index: ImpactIndex
    ) -> dict[int, ImpactKind]:
        """The impact each circuit should have now. Incremental while a root-type alarm is active
        (only ``circuits`` re-read); otherwise the consequents still active confirm impact on the
        circuits the roots had hit (clears in reverse order keep the fault visible)."""
        combined: dict[int, Hit] = {}
        if incident.rooted and circuits is not None:
            union = incident.union
            combined = {c: union[c] for c in circuits if union.get(c, NONE) is not NONE}
        elif incident.rooted:  # everything re-read (members' hits may have changed: a rematch)
            incident.union = {c: self._union(holders, c) for c, holders in incident.contrib.items()}
            combined = {c: hit for c, hit in incident.union.items() if hit is not NONE}
        else:
            for alarm in self._active_members(incident):
                if not self.alarms.affects_service(alarm):
                    continue
                for circuit_id, hit in alarm.hits.items():
                    if incident.scope and circuit_id not in incident.scope:
                        continue
                    previous = combined.get(circuit_id)
                    combined[circuit_id] = hit if previous is None else previous | hit
        wanted: dict[int, ImpactKind] = {}
        for circuit_id, hit in combined.items():
            info = index.circuits.get(circuit_id)
            kind = circuit_impact(hit, info.dual_routed) if info else None
            if kind is not None:
                wanted[circuit_id] = kind
        return wanted

    def _recompute_impacts(
        self, incident: OpenIncident, at: datetime, index: ImpactIndex, batch: Batch
    ) -> bool:
        full = incident.rebuild or not incident.rooted or incident.was_unrooted
        circuits = None if full else incident.dirty
        wanted = self._wanted(incident, circuits, index)
        incident.was_unrooted = not incident.rooted
        incident.rebuild = False
        changed = False
        impacts = incident.impacts
        examined = list(impacts) if full else [c for c in incident.dirty if c in impacts]
        incident.dirty = set()
        for circuit_id in examined:
            current = incident.impacts[circuit_id]
            if wanted.get(circuit_id) is not current.kind:
                batch.update(IMPACT, current.row_id, until=at)
                changed = True
                self._ledger_remove(incident, circuit_id, index)
                del incident.impacts[circuit_id]
        for circuit_id, kind in wanted.items():
            if circuit_id in incident.impacts:
                continue
            info = index.circuits[circuit_id]
            row_id = self.next_impact_id
            self.next_impact_id += 1
            incident.impacts[circuit_id] = CurrentImpact(row_id, kind, at)
            changed = True
            batch.insert(
                IMPACT,
                {
                    "id": row_id,
                    "incident_id": incident.id,
                    "circuit_id": circuit_id,
                    "customer_id": info.customer_id,
                    "impact": kind.value,
                    "since": at,
                    "until": None,
                },
            )
            self._ledger_add(incident, circuit_id, index)
        batch.update(INCIDENT, incident.id, updated_at=at)
        return changed

    def _ledger_add(self, incident: OpenIncident, circuit_id: int, index: ImpactIndex) -> None:
        """An impact began: file it in the incident's own-level tallies and the global key-down ledger."""
        info = index.circuits.get(circuit_id)
        current = incident.impacts[circuit_id]
        if info is None:
            return
        found = impact_class(info, current.kind, self.policy.dispatch)
        if found is not None:
            incident.classes[found[0]][circuit_id] = (current.since, found[1])
            tally = incident.classes["branch"]
            if (
                found[0] == "branch"
                and incident.oldest_branch in tally
                and current.since < tally[incident.oldest_branch][0]
            ):
                incident.oldest_branch = circuit_id
        self._key_down_add(incident, circuit_id, index)

    def _key_down_add(self, incident: OpenIncident, circuit_id: int, index: ImpactIndex) -> None:
        """File a key customer's "down" in the same-window ledger — never a planned incident's:
        planned work is not counted as a fault (DOMAIN 6), so it cannot make other faults urgent."""
        info = index.circuits.get(circuit_id)
        current = incident.impacts[circuit_id]
        if info and info.key_customer and current.kind is ImpactKind.DOWN and not incident.planned:
            bisect.insort(self.key_down, (current.since, info.customer_id, info.access, incident.id))
            bisect.insort(incident.down_starts, current.since)
            incident.down_customers[info.customer_id] = incident.down_customers.get(info.customer_id, 0) + 1
            self.ledger_added.append(current.since)

    def _ledger_remove(self, incident: OpenIncident, circuit_id: int, index: ImpactIndex) -> None:
        info = index.circuits.get(circuit_id)
        current = incident.impacts[circuit_id]
        for tally in incident.classes.values():
            tally.pop(circuit_id, None)
        if info and info.key_customer and current.kind is ImpactKind.DOWN and not incident.planned:
            entry = (current.since, info.customer_id, info.access, incident.id)
            position = bisect.bisect_left(self.key_down, entry)
            if position < len(self.key_down) and self.key_down[position] == entry:
                del self.key_down[position]
                self.ledger_removed.append(current.since)
            position = bisect.bisect_left(incident.down_starts, current.since)
            if position < len(incident.down_starts) and incident.down_starts[position] == current.since:
                del incident.down_starts[position]
            left = incident.down_customers.get(info.customer_id, 0) - 1
            if left > 0:
                incident.down_customers[info.customer_id] = left
            else:
                incident.down_customers.pop(info.customer_id, None)

    def _recover(
        self,
        incident: OpenIncident,
        at: datetime,
        batch: Batch,
        out: list[IncidentChange],
        index: ImpactIndex,
    ) -> None:
        for circuit_id in list(incident.impacts):
            batch.update(IMPACT, incident.impacts[circuit_id].row_id, until=at)
            self._ledger_remove(incident, circuit_id, index)
        incident.impacts.clear()
        for circuit_id in incident.circuits:
            self.by_circuit.get(circuit_id, set()).discard(incident.id)
        for ne_id in incident.nes:
            self.by_ne.get(ne_id, set()).discard(incident.id)
        del self.open[incident.id]
        self.unsettled.discard(incident.id)
        batch.update(
            INCIDENT, incident.id, state=IncidentState.RECOVERED.value, recovered_at=at, updated_at=at
        )
        out.append(IncidentChange("recovered", incident.id, incident.level.value, at))

    # ------------------------------------------------------------------ dispatch level
    @property
    def same_window(self) -> timedelta:
        return timedelta(minutes=self.policy.dispatch.same_window_minutes)

    def _own(self, incident: OpenIncident, now: datetime, index: ImpactIndex) -> None:
        """Re-read the incident's own level from its tallies (kept as impacts come and go)."""
        urgent = next(iter(incident.classes["urgent"].values()), None)
        general = next(iter(incident.classes["general"].values()), None)
        branches = incident.classes["branch"]
        if incident.oldest_branch not in branches:  # recomputed only when the oldest left (or none yet)
            incident.oldest_branch = min(branches, key=lambda c: branches[c][0]) if branches else None
        oldest = branches[incident.oldest_branch] if incident.oldest_branch is not None else None
        incident.own = level_from_classes(
            urgent[1] if urgent else None, general[1] if general else None, oldest, now, self.policy.dispatch
        )
        starts = incident.down_starts
        incident.down_span = (starts[0], starts[-1]) if starts else None
        incident.key_down = len(incident.down_customers)

    def _window_counts(
        self, incident: OpenIncident, same_window: timedelta, excluded: set[str]
    ) -> tuple[int, int]:
        """Distinct key customers down (all; PON excluded) in the same window as this incident's own.
        Stops counting a few past the urgent threshold: more cannot change the level, and the
        margin lets the next removals from the ledger leave it urgent without a recount."""
        if incident.down_span is None:
            incident.window_floor = 0
            return 0, 0
        lo = (incident.down_span[0] - same_window,)
        hi = (incident.down_span[1] + same_window, 1 << 62)
        enough = self.policy.dispatch.urgent_key_customers_down + WINDOW_COUNT_SLACK
        everyone: set[int] = set()
        counted: set[int] = set()
        ledger = self.key_down
        # walk the window by index: slicing would copy it whole (a storm puts every entry in one
        # window) although the walk usually stops after a few entries
        for position in range(bisect.bisect_left(ledger, lo), bisect.bisect_right(ledger, hi)):
            _since, customer_id, access, _incident = ledger[position]
            everyone.add(customer_id)
            if access.upper() not in excluded:
                counted.add(customer_id)
            if len(everyone) >= enough:
                break
        incident.window_floor = len(everyone)
        return len(everyone), len(counted)

    def relevel(
        self,
        now: datetime,
        index: ImpactIndex,
        batch: Batch,
        out: list[IncidentChange],
        touched: set[int] | None = None,
    ) -> None:
        """Recompute levels. ``touched`` incidents (None = all: a clock tick) get their own impacts
        re-read. Window counts are re-read for incidents whose window a key-customer impact entered
        or left this batch — skipping, on entries, those already urgent (more cannot change them),
        so a storm does not re-level every incident on every batch."""
        targets = set(self.open) if touched is None else {i for i in touched if i in self.open}
        for incident_id in targets:
            self._own(self.open[incident_id], now, index)
        same_window = self.same_window
        reach = 2 * same_window
        urgent = self.policy.dispatch.urgent_key_customers_down
        if self.ledger_added:
            lo, hi = min(self.ledger_added) - reach, max(self.ledger_added) + reach
            targets |= {i for i in self.unsettled if _overlaps(self.open[i].down_span, lo, hi)}
        if self.ledger_removed:
            # each removed entry takes at most one customer out of a window: an incident still
            # counted urgent after that keeps its level (in a storm, nearly all of them)
            removed = len(self.ledger_removed)
            lo, hi = min(self.ledger_removed) - reach, max(self.ledger_removed) + reach
            for incident_id, incident in self.open.items():
                if _overlaps(incident.down_span, lo, hi):
                    incident.window_floor -= removed
                    if incident.window_floor < urgent:
                        targets.add(incident_id)
        self.ledger_added.clear()
        self.ledger_removed.clear()
        excluded = {a.upper() for a in self.policy.dispatch.general_excludes_access}
        for incident_id in sorted(targets):
            incident = self.open.get(incident_id)
            if incident is None:
                continue
            everyone, counted = self._window_counts(incident, same_window, excluded)
            level, reason = more_urgent(incident.own, window_level(everyone, counted, self.policy.dispatch))
            period = self.assurance_check(incident.impacts.keys(), now) if incident.impacts else None
            if period is not None:  # faults in an assurance scope rise (DOMAIN 7)
                level = raise_level(level, self.policy.assurance.level_raise)
                reason = f"{reason}；重保「{period.name}」" if reason else f"重保「{period.name}」"
            period_id = period.id if period is not None else None
            if level is not Level.URGENT and incident.down_span is not None:
                self.unsettled.add(incident_id)
            else:
                self.unsettled.discard(incident_id)
            if (level, reason, incident.key_down, period_id) == (
                incident.level,
                incident.level_reason,
                incident.saved_key_down,
                incident.assurance_id,
            ):
                continue
            if period_id != incident.assurance_id:
                incident.assurance_id = period_id
                assurance = (
                    None if period is None else {"id": period.id, "name": period.name, "level": period.level}
                )
                incident.assurance_history = _history(incident.assurance_history, period, level, now)
                batch.update(
                    INCIDENT, incident.id, assurance=assurance, assurance_history=incident.assurance_history
                )
                if period is not None:  # downstream notifies the assurance team
                    out.append(IncidentChange("assurance", incident.id, level.value, now))
            previous = incident.level
            incident.level, incident.level_reason, incident.saved_key_down = level, reason, incident.key_down
            batch.update(
                INCIDENT,
                incident.id,
                level=level.value,
                level_reason=reason,
                key_customers_down=incident.key_down,
                updated_at=now,
            )
            if level is not previous:
                out.append(IncidentChange("level_changed", incident.id, level.value, now))


def _history(
    history: list[dict[str, object]], period: Protecting | None, level: Level, now: datetime
) -> list[dict[str, object]]:
    """The incident's assurance history after its period changed: the open entry ends now, and
    the new period (if any) starts one, with the level it raised the incident to."""
    at = now.isoformat()
    closed = [entry if entry.get("until") else {**entry, "until": at} for entry in history]
    if period is None:
        return closed
    entry = {"id": period.id, "name": period.name, "level": period.level, "raised_to": level.value}
    return [*closed, {**entry, "since": at, "until": None}]


def _overlaps(span: tuple[datetime, datetime] | None, lo: datetime, hi: datetime) -> bool:
    return span is not None and span[0] <= hi and span[1] >= lo

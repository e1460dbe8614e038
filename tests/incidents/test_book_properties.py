"""The incident book's incremental impacts equal a recompute from scratch, whatever the sequence of
raises and clears on the small network (hypothesis). The book keeps each circuit's union of its
rooted members' hits as they attach and re-reads it when one detaches (decision 134); a stale
union would show here as an impact that a full recompute would not give."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linewatch.alarms.engine import AlarmBook
from linewatch.alarms.hits import NONE
from linewatch.alarms.normalise import AlarmEvent
from linewatch.context import Context
from linewatch.db.batch import Batch
from linewatch.incidents.choices import ImpactKind
from linewatch.incidents.engine import IncidentBook
from linewatch.incidents.rules import circuit_impact, more_urgent, window_level
from linewatch.inventory.index import ImpactIndex
from tests.conftest import FIXTURES

with (FIXTURES / "inventory" / "small" / "routes.csv").open(encoding="utf-8", newline="") as handle:
    PORTS = sorted({(row["ne"], row["port"]) for row in csv.DictReader(handle) if row["port"]})
TYPES = ["LOS", "LINK_DOWN", "ETH_LOS", "MS_AIS", "NE_DOWN"]  # root types, a consequent, NE-level

# an event: (port, type, clear?); a round: a few events, as one pipeline batch
event = st.tuples(st.sampled_from(PORTS), st.sampled_from(TYPES), st.booleans())
rounds = st.lists(st.lists(event, min_size=1, max_size=6), min_size=1, max_size=8)


Round = list[tuple[tuple[str, str], str, bool]]


def _apply(
    alarms: AlarmBook, incidents: IncidentBook, index: ImpactIndex, batch: Round, at: datetime
) -> None:
    """One round of (port, type, clear?) events through both books, as the pipeline applies it."""
    events = [
        AlarmEvent(
            source="prop",
            ne=ne,
            object=port,
            type=kind,
            severity="cleared" if clear else "critical",
            event_time=at,
        )
        for (ne, port), kind, clear in batch
    ]
    _, changes = alarms.apply([("http", e) for e in events], at, index, Batch())
    incidents.apply(changes, index, at, Batch())


def test_incremental_impacts_equal_a_full_recompute(small: Context) -> None:
    index, policy, start = small.index, small.policy, small.clock.now()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rounds)
    def check(stream: list[Round]) -> None:
        alarms = AlarmBook(policy.alarms)
        incidents = IncidentBook(policy, alarms)
        for n, batch in enumerate(stream):
            at = start + timedelta(seconds=n)
            _apply(alarms, incidents, index, batch, at)
            for incident in incidents.open.values():
                if not incident.rooted:  # the consequents' confirmation is recomputed every time
                    continue
                expected = {}
                for circuit_id, holders in incident.contrib.items():
                    union = NONE
                    for alarm_id in holders:
                        union = union | alarms.by_id[alarm_id].hits.get(circuit_id, NONE)
                    kind = circuit_impact(union, index.circuits[circuit_id].dual_routed)
                    if union is not NONE and kind is not None:
                        expected[circuit_id] = kind
                assert {c: i.kind for c, i in incident.impacts.items()} == expected

    check()


def test_levels_equal_a_full_re_level(small: Context) -> None:
    """Levels kept incrementally — window counts re-walked only where the ledger moved, an urgent
    incident's count trusted through as many removals as it had margin — equal levels computed
    from every open incident's current impacts. Thresholds lowered so the small network's key
    customers cross them both ways as alarms raise and clear."""
    index, start = small.index, small.clock.now()
    dispatch = small.policy.dispatch.model_copy(
        update={"urgent_key_customers_down": 2, "general_key_customers_down": 1}
    )
    policy = small.policy.model_copy(update={"dispatch": dispatch})
    window = timedelta(minutes=dispatch.same_window_minutes)
    excluded = {a.upper() for a in dispatch.general_excludes_access}

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rounds)
    def check(stream: list[Round]) -> None:
        alarms = AlarmBook(policy.alarms)
        incidents = IncidentBook(policy, alarms)
        for n, batch in enumerate(stream):
            at = start + timedelta(seconds=20 * n)  # a long stream spans more than one window
            _apply(alarms, incidents, index, batch, at)
            downs = [  # (since, customer, access, incident) of every key customer's circuit down
                (impact.since, info.customer_id, info.access.upper(), incident.id)
                for incident in incidents.open.values()
                if not incident.planned
                for circuit_id, impact in incident.impacts.items()
                if (info := index.circuits[circuit_id]).key_customer and impact.kind is ImpactKind.DOWN
            ]
            for incident in incidents.open.values():
                starts = [since for since, _, _, owner in downs if owner == incident.id]
                if not starts:
                    everyone, counted = 0, 0
                else:
                    inside = [d for d in downs if min(starts) - window <= d[0] <= max(starts) + window]
                    everyone = len({d[1] for d in inside})
                    counted = len({d[1] for d in inside if d[2] not in excluded})
                expected = more_urgent(incident.own, window_level(everyone, counted, dispatch))[0]
                assert incident.level is expected, (incident.id, everyone, counted)

    check()

"""Property-based tests (hypothesis) of normalisation and the alarm book's dedup/clear.

Pure: no database. The alarm book runs against an empty impact index, so alarms key by NE name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from linewatch.alarms.choices import Severity
from linewatch.alarms.engine import AlarmBook
from linewatch.alarms.normalise import (
    MAX_NAME,
    MAX_TEXT,
    AlarmEvent,
    Rejected,
    canonical_severity,
    canonical_type,
    normalise_native,
)
from linewatch.core.policy import load_policy
from linewatch.db.batch import Batch
from linewatch.inventory.index import ImpactIndex

POLICY = load_policy()
ALIASES = POLICY.alarms.type_aliases
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
FIELDS = ("source", "ne", "ne_ip", "object", "type", "severity", "event_time", "text", "probable_cause")

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=60)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
# Dictionaries biased towards the real field names, with hostile values in them.
items = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=10)
severities = st.sampled_from([*Severity.values(), "CRITICAL", " Major ", "严重", "clear", "ok", "bogus"])


@settings(max_examples=300, deadline=None)
@given(item=items | json_values)
def test_normalise_never_raises_and_bounds_what_it_accepts(item: object) -> None:
    result = normalise_native(item, T0, TZ, ALIASES)
    assert isinstance(result, AlarmEvent | Rejected)
    if isinstance(result, Rejected):
        assert result.reason  # names the problem
        return
    assert result.source and (result.ne or result.ne_ip) and result.type
    assert result.severity in Severity.values()
    for name in ("source", "ne", "object", "type", "source_id"):
        value = getattr(result, name)
        assert len(value) <= MAX_NAME and "\x00" not in value and value == value.strip()
    assert len(result.text) <= MAX_TEXT and "\x00" not in result.text
    assert result.event_time.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(
    source=st.text(min_size=1, max_size=20).filter(str.strip),
    ne=st.text(min_size=1, max_size=20).filter(str.strip),
    obj=st.text(max_size=20),
    kind=st.text(min_size=1, max_size=20).filter(str.strip),
    severity=severities,
    text=st.text(max_size=5000),
)
def test_normalising_a_normalised_alarm_changes_nothing(
    source: str, ne: str, obj: str, kind: str, severity: str, text: str
) -> None:
    first = normalise_native(
        {"source": source, "ne": ne, "object": obj, "type": kind, "severity": severity, "text": text},
        T0,
        TZ,
        ALIASES,
    )
    if isinstance(first, Rejected):
        return
    again = normalise_native(
        {
            "source": first.source,
            "ne": first.ne,
            "object": first.object,
            "type": first.type,
            "severity": first.severity,
            "text": first.text,
            "event_time": first.event_time.isoformat(),
        },
        T0 + timedelta(hours=1),
        TZ,
        ALIASES,
    )
    assert again == first


@given(raw=st.text(max_size=30))
def test_canonical_type_is_idempotent(raw: str) -> None:
    once = canonical_type(raw, ALIASES)
    assert canonical_type(once, ALIASES) == once


@given(value=st.sampled_from(Severity.values()), pad=st.sampled_from(["", " ", "\t"]))
def test_severity_spelling_and_padding_do_not_matter(value: str, pad: str) -> None:
    assert canonical_severity(f"{pad}{value.upper()}{pad}") == value


# ---------------------------------------------------------------- the alarm book

NES = ["NE-A", "NE-B", "NE-C"]
TYPES = ["LOS", "LINK_DOWN"]
# An event: (ne, type, is_clear, severity when raised).
events = st.tuples(
    st.sampled_from(NES),
    st.sampled_from(TYPES),
    st.booleans(),
    st.sampled_from(["critical", "major", "minor"]),
)


def to_event(
    i: int, ne: str, kind: str, clear: bool, severity: str, *, source_id: bool = False
) -> AlarmEvent:
    return AlarmEvent(
        source="prop",
        ne=ne,
        type=kind,
        severity="cleared" if clear else severity,
        event_time=T0 + timedelta(seconds=i),
        source_id=f"e{i}" if source_id else "",
    )


def run(book: AlarmBook, stream: list[AlarmEvent]) -> list[str]:
    outcomes, _ = book.apply([("http", e) for e in stream], T0, ImpactIndex(), Batch())
    return [o.outcome for o in outcomes]


def model(stream: list[tuple[str, str, bool, str]]) -> dict[tuple[str, str], int]:
    """The active alarms a stream should leave, with their counts: per key, raises since the last clear."""
    active: dict[tuple[str, str], int] = {}
    for ne, kind, clear, _ in stream:
        if clear:
            active.pop((ne, kind), None)
        else:
            active[(ne, kind)] = active.get((ne, kind), 0) + 1
    return active


def state(book: AlarmBook) -> dict[tuple[str, str], int]:
    return {(a.key.split("|")[0].removeprefix("name:"), a.type): a.count for a in book.active.values()}


@settings(max_examples=200, deadline=None)
@given(stream=st.lists(events, max_size=40))
def test_dedup_and_clear_follow_the_per_key_model(stream: list[tuple[str, str, bool, str]]) -> None:
    book = AlarmBook(POLICY.alarms)
    outcomes = run(book, [to_event(i, *e) for i, e in enumerate(stream)])
    assert state(book) == model(stream)
    assert outcomes.count("raised") - outcomes.count("cleared") == len(book.active)
    assert set(outcomes) <= {"raised", "duplicate", "cleared", "clear_without_alarm"}


@settings(max_examples=200, deadline=None)
@given(stream=st.lists(events, max_size=40), data=st.data())
def test_interleaving_different_alarms_changes_nothing(
    stream: list[tuple[str, str, bool, str]], data: st.DataObject
) -> None:
    """Only the order within one alarm matters: any interleaving of the per-alarm streams ends the same."""
    per_key: dict[tuple[str, str], list[tuple[str, str, bool, str]]] = {}
    for e in stream:
        per_key.setdefault((e[0], e[1]), []).append(e)
    shuffled: list[tuple[str, str, bool, str]] = []
    queues = {k: list(v) for k, v in per_key.items()}
    while queues:
        key = data.draw(st.sampled_from(sorted(queues)))
        shuffled.append(queues[key].pop(0))
        if not queues[key]:
            del queues[key]
    first, second = AlarmBook(POLICY.alarms), AlarmBook(POLICY.alarms)
    run(first, [to_event(i, *e) for i, e in enumerate(stream)])
    run(second, [to_event(i, *e) for i, e in enumerate(shuffled)])
    assert state(first) == state(second)
    severities_first = {(a.key, a.severity) for a in first.active.values()}
    severities_second = {(a.key, a.severity) for a in second.active.values()}
    assert severities_first == severities_second


@settings(max_examples=150, deadline=None)
@given(stream=st.lists(events, max_size=30), redelivered=st.data())
def test_redelivered_events_are_repeats_and_change_nothing(
    stream: list[tuple[str, str, bool, str]], redelivered: st.DataObject
) -> None:
    """Re-processing events already seen (same source id) is idempotent, in any order."""
    sent = [to_event(i, *e, source_id=True) for i, e in enumerate(stream)]
    book = AlarmBook(POLICY.alarms)
    run(book, sent)
    before = {(a.key, a.count, a.severity, a.id) for a in book.active.values()}
    again = redelivered.draw(st.permutations(sent))
    assert set(run(book, list(again))) <= {"repeat"}
    assert {(a.key, a.count, a.severity, a.id) for a in book.active.values()} == before

"""Fuzzing the SNMP trap decoders (the fast path and the pyasn1 reference) and the syslog parser.

hypothesis drives both random bytes and structurally valid messages with mutations (truncation,
flipped and inserted bytes). Every input must end in a value or a documented refusal (a reason
string), never an exception; the two SNMP decoders must agree wherever the fast one answers.
Inputs that once broke something live in ``fuzz_seeds/`` and are replayed by name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pysnmp.proto import api

from linewatch.alarms.normalise import MAX_NAME, AlarmEvent, Rejected
from linewatch.ingest.snmp import (
    DEFAULT_MAPPING,
    MAX_SUMMARY,
    TrapMessage,
    decode_fast,
    decode_message,
    decode_pyasn1,
    inform_response,
    load_mapping,
    redact_community,
    trap_event,
)
from linewatch.ingest.syslog import (
    MAX_MESSAGE,
    FrameDecoder,
    FramingError,
    SyslogMessage,
    build_event,
    load_rules,
    match_rules,
    parse_message,
)
from tests.ingest.test_snmp import v2_trap

V2 = api.v2c
SEEDS = Path(__file__).parent / "fuzz_seeds"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
RULES = load_mapping(DEFAULT_MAPPING)
SYSLOG_RULES = load_rules()
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------ SNMP
def check_trap(data: bytes) -> None:
    """Both decoders answer (never raise), agree when the fast one answers, and mapping is bounded."""
    slow = decode_message(data, fast=False)
    fast = decode_message(data, fast=True)
    assert isinstance(slow, str | tuple) and isinstance(fast, str | tuple)
    quick = decode_fast(data)
    if quick is not None:  # the fast path answers only for what the reference decodes identically
        assert quick == decode_pyasn1(data)
    redact_community(data)
    inform_response(data)
    if isinstance(fast, str):
        assert fast  # a reason, naming the problem
        return
    _, message = fast
    assert isinstance(message, TrapMessage)
    event = trap_event(message, RULES, "192.0.2.1", NOW)
    assert event is None or isinstance(event, AlarmEvent | Rejected)
    if isinstance(event, AlarmEvent):
        assert len(event.text) <= MAX_SUMMARY and len(event.object) <= MAX_NAME
        assert len(event.type) <= MAX_NAME and len(event.ne) <= MAX_NAME


oids = st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=12).map(
    lambda parts: ".".join(map(str, [1, 3, *parts]))
)
values = st.one_of(
    st.binary(max_size=80).map(V2.OctetString),
    st.text(max_size=40).map(lambda t: V2.OctetString(t.encode("utf-8"))),
    st.text(max_size=40).map(lambda t: V2.OctetString(t.encode("gb18030"))),
    st.integers(-(2**31), 2**31 - 1).map(V2.Integer),
    st.integers(0, 2**32 - 1).map(V2.Counter32),
    st.integers(0, 2**32 - 1).map(V2.TimeTicks),
    st.integers(0, 2**64 - 1).map(V2.Counter64),
    st.binary(min_size=4, max_size=4).map(V2.IpAddress),
    oids.map(V2.ObjectIdentifier),
    st.just(V2.Null("")),
)
known_traps = st.sampled_from(sorted(oid for oid, rule in RULES.items() if rule is not None))
traps = st.builds(
    lambda trap_oid, binds, community, inform, request_id: v2_trap(
        trap_oid,
        *binds,
        community=community,
        pdu_type=V2.InformRequestPDU if inform else V2.TrapPDU,
        request_id=request_id,
    ),
    known_traps | oids,
    st.lists(st.tuples(oids, values), max_size=8),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    st.booleans(),
    st.integers(-(2**31), 2**31 - 1),
)


@st.composite
def mutated(draw: st.DrawFn, source: st.SearchStrategy[bytes]) -> bytes:
    data = bytearray(draw(source))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "length"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif data:  # a length byte made long-form or huge: the classic decoder crasher
            data[at] = draw(st.sampled_from([0x80, 0x81, 0x84, 0x88, 0xFF]))
    return bytes(data)


@FUZZ
@given(data=traps)
def test_valid_traps_decode_the_same_on_both_paths(data: bytes) -> None:
    slow = decode_message(data, fast=False)
    assert decode_message(data, fast=True) == slow
    check_trap(data)


@FUZZ
@given(data=mutated(traps))
def test_mutated_traps_are_refused_with_a_reason_or_decoded(data: bytes) -> None:
    check_trap(data)


@FUZZ
@given(data=st.binary(max_size=300) | st.binary(max_size=20).map(lambda b: b"\x30\x82" + b))
def test_random_datagrams_never_raise(data: bytes) -> None:
    check_trap(data)


def test_oversized_and_deeply_nested_datagrams_are_refused() -> None:
    assert decode_message(b"\x30" * 70_000).startswith("oversized datagram")
    nested = b"".join(b"\x30\x80" for _ in range(5000))  # indefinite-length nesting, 10 KB deep
    for fast in (True, False):
        assert isinstance(decode_message(nested, fast=fast), str)


# ------------------------------------------------------------------------------------ syslog
def check_syslog(data: bytes) -> None:
    message = parse_message(data)
    assert isinstance(message, SyslogMessage | str)
    if isinstance(message, str):
        assert message
        return
    found = match_rules(message, SYSLOG_RULES)
    if found is not None and not found.rule.ignore:
        event = build_event(message, found, "192.0.2.7", NOW, TZ)
        assert "\x00" not in event.text and len(event.object) <= MAX_NAME


hosts = st.sampled_from(["PE-1", "sw-01.example", "192.0.2.9", "[2001:db8::1]", "", "主机"]) | st.text(
    max_size=20
)
stamps = st.sampled_from(
    ["Mar  2 09:00:01", "2026-03-02T09:00:01.123+08:00", "Mar 32 25:61:61", "2026-13-40T99:99:99Z", "-", ""]
)
texts = st.sampled_from(
    [
        "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
        "%%01IFNET/4/LINK_STATE(l): The line protocol IP on the interface GE0/2/1 has entered the DOWN state",
        "ifOperStatus.3 down",
    ]
) | st.text(max_size=200)
structured = st.sampled_from(['[a b="c"]', '[x@1 k="v\\"]"]', "[", '[a b="', "[a][b][c]", "-"])


@st.composite
def syslog_lines(draw: st.DrawFn) -> bytes:
    pri = draw(st.sampled_from(["", "<13>", "<191>", "<192>", "<999999999999>", "<>", "<-1>"]))
    if draw(st.booleans()):
        line = f"{pri}1 {draw(stamps)} {draw(hosts)} app - - {draw(structured)} {draw(texts)}"
    else:
        line = f"{pri}{draw(stamps)} {draw(hosts)} {draw(texts)}"
    encoding = draw(st.sampled_from(["utf-8", "gb18030", "utf-16"]))
    return line.encode(encoding, errors="replace")


@FUZZ
@given(data=syslog_lines() | mutated(syslog_lines()) | st.binary(max_size=400))
def test_syslog_messages_parse_or_are_refused_with_a_reason(data: bytes) -> None:
    check_syslog(data)


def test_oversized_syslog_is_refused_and_a_long_line_is_not_a_crash() -> None:
    assert parse_message(b"<13>" + b"a" * (MAX_MESSAGE + 1)).startswith("too long")
    check_syslog(b"<13>Mar  2 09:00:01 h " + b"[" * 60_000)


@FUZZ
@given(frames=st.lists(syslog_lines(), max_size=6), cuts=st.lists(st.integers(0, 2000), max_size=8))
def test_tcp_framing_does_not_depend_on_how_the_stream_is_split(frames: list[bytes], cuts: list[int]) -> None:
    frames = [f.replace(b"\n", b" ").replace(b"\r", b" ") for f in frames]
    stream = b"".join(f"{len(f)} ".encode() + f if i % 2 else f + b"\n" for i, f in enumerate(frames))
    whole = FrameDecoder()
    expected = whole.feed(stream) + whole.finish()
    pieces, previous = [], 0
    for cut in sorted({min(c, len(stream)) for c in cuts}):
        pieces.append(stream[previous:cut])
        previous = cut
    pieces.append(stream[previous:])
    split = FrameDecoder()
    got: list[bytes | FramingError] = []
    for piece in pieces:
        got += split.feed(piece)
    got += split.finish()
    assert [g if isinstance(g, bytes) else g.reason for g in got] == [
        e if isinstance(e, bytes) else e.reason for e in expected
    ]


@FUZZ
@given(chunks=st.lists(st.binary(max_size=200), max_size=10))
def test_tcp_framing_of_garbage_never_raises_and_stays_bounded(chunks: list[bytes]) -> None:
    decoder = FrameDecoder(limit=256)
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            assert isinstance(frame, bytes | FramingError)
            if isinstance(frame, bytes):
                assert len(frame) <= 256
        assert len(decoder.buf) <= 256 + 200
    decoder.finish()


# ------------------------------------------------------------------------------------ seeds
def _seeds(kind: str) -> list[Any]:
    return [pytest.param(p.read_bytes(), id=p.name) for p in sorted((SEEDS / kind).glob("*.bin"))]


@pytest.mark.parametrize("data", _seeds("snmp"))
def test_snmp_seed(data: bytes) -> None:
    check_trap(data)


@pytest.mark.parametrize("data", _seeds("syslog"))
def test_syslog_seed(data: bytes) -> None:
    check_syslog(data)

"""SNMP traps: pure decoding and mapping on pysnmp-encoded bytes, then real `snmptrap` through the pipeline.

The decoding tests never need a network; the listener tests use a list sink; the end-to-end tests
run on SQLite and PostgreSQL with the hand-made network (ACC-GL-1 = 10.0.2.1, GE0/2/1 carries the
primary route of FZ-C001-DATA-1).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyasn1.codec.ber import encoder
from pysnmp.proto import api

from linewatch.alarms.engine import Outcome
from linewatch.alarms.normalise import AlarmEvent, Rejected
from linewatch.context import Context
from linewatch.ingest.snmp import (
    DEFAULT_MAPPING,
    IF_DESCR,
    IF_INDEX,
    IF_NAME,
    LINK_DOWN,
    LINK_UP,
    SNMP_TRAP_ADDRESS,
    SNMP_TRAP_OID,
    SYS_UPTIME,
    MappingError,
    SnmpTrapListener,
    TrapMessage,
    decode_fast,
    decode_message,
    decode_pyasn1,
    decode_trap,
    inform_response,
    load_mapping,
    printable_octets,
    redact_community,
    trap_event,
)
from tests.conftest import ADMIN

V2 = api.v2c
V1 = api.v1
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
COLD_START = "1.3.6.1.6.3.1.1.5.1"
HW_NOTIFY = "1.3.6.1.4.1.2011.2.15.1.7.1.0.1"
HW = "1.3.6.1.4.1.2011.2.15.1.7.1"
UNMAPPED = "1.3.6.1.4.1.99999.0.7"


# ------------------------------------------------------------------------------------ encoding
def v2_trap(
    trap_oid: str,
    *binds: tuple[str, Any],
    community: str = "public",
    pdu_type: Any = V2.TrapPDU,
    request_id: int = 4242,
) -> bytes:
    """A v2c trap (or another PDU type) as pysnmp's own encoder writes it."""
    pdu = pdu_type()
    V2.apiPDU.set_defaults(pdu)
    V2.apiPDU.set_request_id(pdu, request_id)
    varbinds = [
        (V2.ObjectIdentifier(SYS_UPTIME), V2.TimeTicks(12345)),
        (V2.ObjectIdentifier(SNMP_TRAP_OID), V2.ObjectIdentifier(trap_oid)),
        *((V2.ObjectIdentifier(oid), value) for oid, value in binds),
    ]
    V2.apiPDU.set_varbinds(pdu, varbinds)
    message = V2.Message()
    V2.apiMessage.set_defaults(message)
    V2.apiMessage.set_community(message, community)
    V2.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def v1_trap(enterprise: str, generic: int, specific: int, agent: str, *binds: tuple[str, Any]) -> bytes:
    pdu = V1.TrapPDU()
    V1.apiTrapPDU.set_defaults(pdu)
    V1.apiTrapPDU.set_enterprise(pdu, enterprise)
    V1.apiTrapPDU.set_agent_address(pdu, V1.IpAddress(agent))
    V1.apiTrapPDU.set_generic_trap(pdu, generic)
    V1.apiTrapPDU.set_specific_trap(pdu, specific)
    V1.apiTrapPDU.set_varbinds(pdu, [(V1.ObjectIdentifier(oid), value) for oid, value in binds])
    message = V1.Message()
    V1.apiMessage.set_defaults(message)
    V1.apiMessage.set_community(message, "public")
    V1.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def link(
    trap_oid: str, *, name: str | None = "GE0/2/1", descr: str | None = None, address: str | None = None
):
    binds: list[tuple[str, Any]] = [(f"{IF_INDEX}.3", V2.Integer(3))]
    if name is not None:
        binds.append((f"{IF_NAME}.3", V2.OctetString(name)))
    if descr is not None:
        binds.append((f"{IF_DESCR}.3", V2.OctetString(descr)))
    if address is not None:
        binds.append((SNMP_TRAP_ADDRESS, V2.IpAddress(address)))
    return v2_trap(trap_oid, *binds)


RULES = load_mapping(None)


def event_of(data: bytes, remote: str = "10.9.9.9", rules: Any = RULES) -> AlarmEvent | Rejected | None:
    message = decode_trap(data, "public")
    assert isinstance(message, TrapMessage), message
    return trap_event(message, rules, remote, NOW)


def samples() -> list[bytes]:
    """Valid datagrams of many shapes: the seeds for truncation and mutation."""
    return [
        link(LINK_DOWN, address="10.0.2.1"),
        link(LINK_UP, name=None, descr="GigabitEthernet0/2/1"),
        link(LINK_DOWN, name=None),
        v2_trap(
            HW_NOTIFY,
            (f"{HW}.1.0", V2.OctetString("ACC-GL-1")),
            (f"{HW}.3.0", V2.OctetString("Frame:0, Slot:2, Port:1")),
            (f"{HW}.7.0", V2.OctetString("Critical")),
            (f"{HW}.8.0", V2.OctetString("光信号丢失".encode("gb18030"))),
            (f"{HW}.13.0", V2.Integer(77)),
            (f"{HW}.24.0", V2.OctetString("R_LOS")),
            ("1.3.6.1.2.1.2.2.1.10.3", V2.Counter32(4294967295)),
            ("1.3.6.1.2.1.31.1.1.1.6.3", V2.Counter64(2**64 - 1)),
            ("1.3.6.1.2.1.2.2.1.5.3", V2.Gauge32(1000)),
            ("1.3.6.1.2.1.2.2.1.4.3", V2.Integer(-1)),
            ("1.3.6.1.2.1.2.2.1.6.3", V2.OctetString(b"\x00\x1a\x2b\x3c\x4d\x5e")),
            ("1.3.6.1.2.1.1.2.0", V2.ObjectIdentifier("1.3.6.1.4.1.2011.2.62.2.3")),
            ("1.3.6.1.2.1.1.1.0", V2.Null()),
            ("1.3.6.1.4.1.99999.1", V2.Opaque(b"\x9f\x78\x04\x3f\x80\x00\x00")),
        ),
        v2_trap(COLD_START, community="a-much-longer-community-string" * 5),
        v2_trap(LINK_DOWN, (f"{IF_NAME}.3", V2.OctetString("GE0/2/1")), pdu_type=V2.InformRequestPDU),
        v1_trap("1.3.6.1.4.1.8072", 2, 0, "10.0.2.1", (f"{IF_INDEX}.3", V1.Integer(3))),
    ]


# ------------------------------------------------------------------------------------ decoding
def test_link_down_with_if_name_and_trap_address() -> None:
    message = decode_trap(link(LINK_DOWN, address="10.0.2.1"), "public")
    assert isinstance(message, TrapMessage)
    assert message.trap_oid == LINK_DOWN and message.pdu == "trap" and message.version == "2c"
    assert message.trap_address == "10.0.2.1"
    assert (f"{IF_NAME}.3", "GE0/2/1") in message.varbinds
    event = trap_event(message, RULES, "192.0.2.7", NOW)
    assert isinstance(event, AlarmEvent)
    assert (event.source, event.type, event.severity) == ("snmp", "LINK_DOWN", "major")
    assert (event.ne_ip, event.object, event.event_time) == ("10.0.2.1", "GE0/2/1", NOW)
    assert event.text.startswith("linkDown: ") and "ifName.3=GE0/2/1" in event.text


def test_link_down_with_if_descr_only() -> None:
    event = event_of(link(LINK_DOWN, name=None, descr="GigabitEthernet0/2/1"))
    assert isinstance(event, AlarmEvent) and event.object == "GigabitEthernet0/2/1"


def test_link_down_with_if_index_only() -> None:
    event = event_of(link(LINK_DOWN, name=None))
    assert isinstance(event, AlarmEvent) and event.object == "ifIndex:3"


def test_ne_is_the_source_address_without_snmp_trap_address() -> None:
    event = event_of(link(LINK_DOWN), remote="10.0.2.1")
    assert isinstance(event, AlarmEvent) and event.ne_ip == "10.0.2.1"
    unspecified = event_of(link(LINK_DOWN, address="0.0.0.0"), remote="10.0.1.1")
    assert isinstance(unspecified, AlarmEvent) and unspecified.ne_ip == "10.0.1.1"


def test_link_up_is_the_clear_of_link_down() -> None:
    event = event_of(link(LINK_UP, address="10.0.2.1"))
    assert isinstance(event, AlarmEvent)
    assert (event.type, event.severity, event.object) == ("LINK_DOWN", "cleared", "GE0/2/1")


def test_wrong_community_is_refused_without_naming_it() -> None:
    data = v2_trap(LINK_DOWN, community="s3cret-elsewhere")
    assert decode_trap(data, "public") == "bad community"
    assert isinstance(decode_trap(data, "s3cret-elsewhere"), TrapMessage)
    assert b"s3cret-elsewhere" not in redact_community(data)
    assert len(redact_community(data)) == len(data)


def test_a_forwarded_community_varbind_is_never_shown(listener_on: Callable[..., SnmpTrapListener]) -> None:
    data = v2_trap(UNMAPPED, ("1.3.6.1.6.3.18.1.4.0", V2.OctetString("forwarded-secret")))
    sink = ListSink()
    listener = listener_on(sink)
    send(
        listener.port, data, v2_trap(COLD_START, ("1.3.6.1.6.3.18.1.4.0", V2.OctetString("forwarded-secret")))
    )
    wait_for(lambda: sink.rejected and sink.events, "the refusal and the alarm")
    assert "forwarded-secret" not in str(sink.rejected) + sink.events[0].text


def test_unmapped_trap_oid_is_refused_with_the_oid() -> None:
    result = event_of(v2_trap(UNMAPPED))
    assert isinstance(result, Rejected) and result.reason == f"unmapped trap OID {UNMAPPED}"


def test_v1_traps_are_converted_per_rfc_3584() -> None:
    generic = decode_trap(
        v1_trap("1.3.6.1.4.1.8072", 2, 0, "10.0.2.1", (f"{IF_INDEX}.3", V1.Integer(3))), "public"
    )
    assert isinstance(generic, TrapMessage)
    assert (generic.version, generic.trap_oid, generic.trap_address) == ("1", LINK_DOWN, "10.0.2.1")
    event = trap_event(generic, RULES, "192.0.2.7", NOW)
    assert isinstance(event, AlarmEvent) and (event.ne_ip, event.object) == ("10.0.2.1", "ifIndex:3")
    specific = decode_trap(v1_trap("1.3.6.1.4.1.2011.2.15", 6, 17, "0.0.0.0"), "public")
    assert isinstance(specific, TrapMessage)
    assert specific.trap_oid == "1.3.6.1.4.1.2011.2.15.0.17" and specific.trap_address == ""


def test_what_is_not_a_trap_says_why() -> None:
    assert decode_trap(v2_trap(LINK_DOWN, pdu_type=V2.GetRequestPDU), "public").startswith("not a trap")
    assert decode_trap(b"", "public").startswith("undecodable")
    assert decode_trap(b"\x30\x03\x02\x01\x03", "public").startswith("unsupported SNMP version 3")
    huge = link(LINK_DOWN) + b"\x00" * 70_000
    assert decode_trap(huge, "public").startswith("oversized datagram")
    assert decode_trap(link(LINK_DOWN) + b"\x00", "public").startswith("undecodable")
    without = bytearray(v2_trap(LINK_DOWN))
    without[without.index(bytes([0x06, 0x0A, 0x2B, 6, 1, 6, 3, 1, 1, 4, 1, 0])) + 11] = 5  # …4.1.0 → …4.1.5
    assert decode_trap(bytes(without), "public") == "no snmpTrapOID varbind"


def test_informs_are_decoded_and_answered_with_the_same_request_id() -> None:
    data = v2_trap(
        LINK_DOWN, (f"{IF_NAME}.3", V2.OctetString("GE0/2/1")), pdu_type=V2.InformRequestPDU, request_id=99
    )
    message = decode_trap(data, "public")
    assert isinstance(message, TrapMessage) and message.pdu == "inform" and message.request_id == 99
    answer = inform_response(data)
    assert answer is not None
    from pyasn1.codec.ber import decoder

    decoded, _ = decoder.decode(answer, asn1Spec=V2.Message())
    pdu = V2.apiMessage.get_pdu(decoded)
    assert pdu.tagSet == V2.ResponsePDU.tagSet and int(V2.apiPDU.get_request_id(pdu)) == 99
    assert inform_response(link(LINK_DOWN)) is None  # a trap gets no answer


def test_octets_print_as_text_or_hex() -> None:
    assert printable_octets(b"GE0/2/1\x00") == "GE0/2/1"
    assert printable_octets("光信号丢失".encode()) == "光信号丢失"
    assert printable_octets("光信号丢失".encode("gb18030")) == "光信号丢失"
    assert printable_octets(b"\x00\x1a\x2b\x3c\x4d\x5e") == "0x001a2b3c4d5e"
    assert printable_octets(b"line one\r\nline two") == "line one line two"


@pytest.mark.parametrize("index", range(len(samples())))
def test_the_fast_path_and_pyasn1_agree_on_valid_traps(index: int) -> None:
    data = samples()[index]
    reference = decode_pyasn1(data)
    assert not isinstance(reference, str), reference
    fast = decode_fast(data)
    if fast is not None:  # v1 traps take the pyasn1 path only
        assert fast == reference
    assert decode_message(data) == decode_message(data, fast=False)


def _same(data: bytes) -> None:
    """Never raises; where the fast path answers, the reference decoder gives the same answer."""
    fast = decode_fast(data)
    reference = decode_pyasn1(data)
    if fast is not None:
        assert fast == reference, data.hex()
    for use_fast in (True, False):
        assert isinstance(decode_trap(data, "public", fast=use_fast), TrapMessage | str)


def test_random_bytes_never_raise() -> None:
    rng = random.Random(20260302)
    refused = 0
    for _ in range(3000):
        data = rng.randbytes(rng.randrange(0, 300))
        if rng.random() < 0.5:  # a plausible start gets the decoders further in
            data = b"\x30" + bytes([min(len(data), 255)]) + b"\x02\x01\x01\x04\x06public" + data
        _same(data)
        refused += isinstance(decode_trap(data, "public"), str)
    assert refused > 2900  # random bytes are (almost) never a valid trap


def test_truncated_pdus_at_every_length_never_raise_and_are_refused() -> None:
    for data in samples():
        for cut in range(len(data)):
            _same(data[:cut])
            assert isinstance(decode_trap(data[:cut], "public"), str)


def test_mutated_pdus_never_raise_and_both_decoders_agree() -> None:
    rng = random.Random(7)
    seeds = samples()
    outcomes: set[str] = set()
    for _ in range(4000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(data))
            data[position] = rng.choice((0x00, 0x7F, 0x80, 0x81, 0x82, 0xFF, rng.randrange(256)))
        _same(bytes(data))
        outcomes.add(type(decode_trap(bytes(data), "public")).__name__)
    assert outcomes <= {"TrapMessage", "str"} and "str" in outcomes


# ------------------------------------------------------------------------------------- mapping
def test_the_shipped_mapping_loads_and_keeps_the_built_ins() -> None:
    assert DEFAULT_MAPPING.exists()
    assert RULES[LINK_DOWN].type == "LINK_DOWN" and RULES[LINK_UP].severity == "cleared"
    cold = event_of(v2_trap(COLD_START), remote="10.0.2.1")
    assert isinstance(cold, AlarmEvent) and (cold.type, cold.severity, cold.object) == (
        "NE_COLD_START",
        "warning",
        "",
    )


def test_an_ems_northbound_alarm_maps_through_its_varbinds() -> None:
    def hw(flag: str) -> bytes:
        return v2_trap(
            HW_NOTIFY,
            (f"{HW}.1.0", V2.OctetString("ACC-GL-1")),
            (f"{HW}.3.0", V2.OctetString("GE0/2/1")),
            (f"{HW}.6.0", V2.OctetString("fibre cut")),
            (f"{HW}.7.0", V2.OctetString("Critical")),
            (f"{HW}.8.0", V2.OctetString("光信号丢失".encode("gb18030"))),
            (f"{HW}.10.0", V2.OctetString(flag)),
            (f"{HW}.13.0", V2.Integer(4711)),
            (f"{HW}.24.0", V2.OctetString("R_LOS")),
        )

    raised = event_of(hw("Fault"), remote="10.200.0.1")  # sent by the EMS, not by the NE
    assert isinstance(raised, AlarmEvent)
    assert (raised.ne, raised.ne_ip, raised.object) == ("ACC-GL-1", "10.200.0.1", "GE0/2/1")
    assert (raised.type, raised.severity, raised.source_id) == ("R_LOS", "critical", "4711")
    assert raised.text == "hwNmNorthboundEventNotify: 光信号丢失" and raised.probable_cause == "fibre cut"
    message = decode_trap(hw("Fault"), "public")
    assert isinstance(message, TrapMessage)
    aliased = trap_event(message, RULES, "10.200.0.1", NOW, aliases={"R_LOS": "LOS"})
    assert isinstance(aliased, AlarmEvent) and aliased.type == "LOS"
    cleared = event_of(hw("Recovery"))
    assert isinstance(cleared, AlarmEvent) and cleared.severity == "cleared" and cleared.type == "R_LOS"
    heartbeat = event_of(v2_trap("1.3.6.1.4.1.2011.2.15.1.7.2.0.2"))
    assert heartbeat is None  # ignored: counted, no alarm, no dead letter


def test_an_operator_file_overrides_extends_and_unmaps(tmp_path: Path) -> None:
    path = tmp_path / "traps.yaml"
    path.write_text(
        f"""
traps:
  "{COLD_START}": {{name: coldStart, type: NE_RESTART, severity: critical}}
  ".{UNMAPPED}":
    name: boardFault
    type: BOARD_FAULT
    severity_from: "1.3.6.1.4.1.99999.1.2"
    severity_map: {{"1": critical, "2": major, "5": cleared}}
    object_from: ["1.3.6.1.4.1.99999.1.9", "1.3.6.1.4.1.99999.1.1"]
  "1.3.6.1.6.3.1.1.5.5": null
""",
        encoding="utf-8",
    )
    rules = load_mapping(path)
    cold = event_of(v2_trap(COLD_START), rules=rules)
    assert isinstance(cold, AlarmEvent) and (cold.type, cold.severity) == ("NE_RESTART", "critical")
    board = v2_trap(
        UNMAPPED,
        ("1.3.6.1.4.1.99999.1.1.0", V2.OctetString("slot 3")),
        ("1.3.6.1.4.1.99999.1.2.0", V2.Integer(5)),
    )
    event = event_of(board, rules=rules)
    assert isinstance(event, AlarmEvent)
    assert (event.type, event.severity, event.object) == ("BOARD_FAULT", "cleared", "slot 3")
    assert isinstance(event_of(v2_trap("1.3.6.1.6.3.1.1.5.5"), rules=rules), Rejected)
    assert isinstance(event_of(link(LINK_DOWN), rules=rules), AlarmEvent)  # the rest stays


@pytest.mark.parametrize(
    "text",
    [
        'traps: {"1.3.6.1.4.1.1": {severity: major}}',  # no type
        'traps: {"1.3.6.1.4.1.1": {type: X, severity: loud}}',
        'traps: {"1.3.6.1.4.1.1": {type: X, colour: red}}',
        'traps: {"not-an-oid": {type: X}}',
        'traps: {"1.3.6.1.4.1.1": {type: X, object_from: ifName}}',
        "traps: [1, 2]",
        'traps: {"1.3.6.1.4.1.1": {type: X, clear_values: [up]}}',
        'traps: {"1.3.6.1.4.1.1": {: x',
    ],
)
def test_a_broken_mapping_file_is_refused_with_the_place(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=r"bad\.yaml"):
        load_mapping(path)
    with pytest.raises(MappingError):
        SnmpTrapListener(ListSink(), port=0, mapping_file=str(path))


# ------------------------------------------------------------------------- listener, list sink
class ListSink:
    """Collects what a listener hands over; can be told to fail."""

    def __init__(self) -> None:
        self.batches: list[list[AlarmEvent]] = []
        self.rejected: list[tuple[str, str, str, bytes | str]] = []
        self.failing = False
        self.lock = threading.Lock()

    def accept(self, channel: str, events: list[AlarmEvent]) -> list[Outcome]:
        if self.failing:
            raise RuntimeError("storage away")
        with self.lock:
            self.batches.append(list(events))
        return [Outcome(i, i, "raised") for i in range(len(events))]

    def reject(self, channel: str, remote: str, reason: str, payload: bytes | str) -> None:
        with self.lock:
            self.rejected.append((channel, remote, reason, payload))

    @property
    def events(self) -> list[AlarmEvent]:
        with self.lock:
            return [e for batch in self.batches for e in batch]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll until the condition holds (waiting for I/O), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def listener_on() -> Iterator[Callable[..., SnmpTrapListener]]:
    started: list[SnmpTrapListener] = []

    def start(sink: Any, **options: Any) -> SnmpTrapListener:
        listener = SnmpTrapListener(
            sink, host="127.0.0.1", port=0, community="public", mapping_file=None, **options
        )
        listener.start()
        started.append(listener)
        return listener

    yield start
    for listener in started:
        listener.stop()


def send(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for data in datagrams:
            sock.sendto(data, ("127.0.0.1", port))


def test_listener_survives_garbage_and_counts_every_refusal(
    listener_on: Callable[..., SnmpTrapListener],
) -> None:
    sink = ListSink()
    listener = listener_on(sink)
    assert listener.port > 0 and listener.rcvbuf_granted > 0
    good = link(LINK_DOWN, address="10.0.2.1")
    send(
        listener.port,
        b"\xff" * 10,
        good[: len(good) // 2],
        b"\x30\x84\xff\xff\xff\xff" + b"\x00" * 20,
        b"\x00" * 60_000,  # a huge datagram
        v2_trap(LINK_DOWN, community="other"),
        v2_trap(UNMAPPED),
        good,
    )
    wait_for(lambda: len(sink.events) == 1 and len(sink.rejected) == 6, "one alarm and six refusals")
    assert sink.events[0].object == "GE0/2/1" and sink.events[0].ne_ip == "10.0.2.1"
    diagnostics = listener.diagnostics()
    assert diagnostics["received"] == 7 and diagnostics["accepted"] == 1
    assert diagnostics["rejected"] == {
        "undecodable": 3,
        "oversized datagram": 1,
        "bad community": 1,
        "unmapped trap OID": 1,
    }
    reasons = {reason for _, _, reason, _ in sink.rejected}
    assert "bad community" in reasons and f"unmapped trap OID {UNMAPPED}" in reasons
    assert not any(
        "other" in str(payload) for _, _, reason, payload in sink.rejected if reason == "bad community"
    )
    assert "socket_drops" in diagnostics  # read from /proc/net/udp


def test_listener_delivers_in_batches_and_drains_on_stop(
    listener_on: Callable[..., SnmpTrapListener],
) -> None:
    sink = ListSink()
    listener = listener_on(sink)
    datagrams = [
        v2_trap(
            LINK_DOWN,
            (f"{IF_NAME}.{i}", V2.OctetString(f"GE0/9/{i}")),
            (SNMP_TRAP_ADDRESS, V2.IpAddress("10.0.2.1")),
        )
        for i in range(2500)
    ]
    send(listener.port, *datagrams)

    def accounted() -> bool:  # what the kernel dropped (a small rmem_max) is counted, not lost silently
        diagnostics = listener.diagnostics()
        return diagnostics["received"] + diagnostics.get("socket_drops", 0) == len(datagrams)

    wait_for(accounted, "every datagram received or counted as dropped")
    listener.stop()  # what was received is delivered before stop() returns
    received = listener.counters.received
    assert received > 0 and listener.counters.accepted == received == len(sink.events)
    assert max(len(batch) for batch in sink.batches) <= 1000
    assert len(sink.batches) < received / 10  # batched, not one call per trap


def test_a_failing_sink_is_counted_and_the_listener_goes_on(
    listener_on: Callable[..., SnmpTrapListener],
) -> None:
    sink = ListSink()
    sink.failing = True
    listener = listener_on(sink, retry_pauses=(0.01,))
    send(listener.port, link(LINK_DOWN))
    wait_for(lambda: listener.stats["delivery_failures"] == 1, "the failed delivery to be counted")
    assert listener.stats["events_lost"] == 1
    sink.failing = False
    send(listener.port, link(LINK_UP))
    wait_for(lambda: len(sink.events) == 1, "the next trap")
    assert sink.events[0].severity == "cleared"


def test_a_flood_of_refusals_is_counted_but_kept_as_a_summary(
    listener_on: Callable[..., SnmpTrapListener],
) -> None:
    sink = ListSink()
    listener = listener_on(sink, dead_letters_per_second=1.0)  # burst of 10, then 1/s
    send(listener.port, *[b"junk %d" % i for i in range(50)])
    wait_for(lambda: listener.counters.rejected["undecodable"] == 50, "fifty refusals counted")
    listener.stop()
    kept = [r for r in sink.rejected if r[2].startswith("undecodable")]
    summary = [r for r in sink.rejected if "not kept one by one" in r[2]]
    assert 10 <= len(kept) < 50 and len(summary) == 1
    assert listener.stats["dead_letters_not_kept"] == 50 - len(kept)


# ------------------------------------------------------------------------- end to end (real DB)
def snmptrap() -> str:
    path = shutil.which("snmptrap")
    if path is None:
        reason = "net-snmp's snmptrap is not installed (apt-get install snmp)"
        if os.environ.get("LINEWATCH_REQUIRE_PEERS") == "1":
            pytest.fail(f"{reason} (LINEWATCH_REQUIRE_PEERS=1)")
        print(f"\nSNMP end-to-end tests skipped: {reason}")
        pytest.skip(reason)
    return path


def run_snmptrap(
    port: int, trap_oid: str, *varbinds: str, community: str = "public", inform: bool = False
) -> None:
    command = [snmptrap(), "-v", "2c", "-c", community]
    if inform:
        command += ["-Ci", "-r", "0", "-t", "10"]  # waits for our answer: given once the alarm is durable
    command += [f"127.0.0.1:{port}", "", trap_oid, *varbinds]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr


def alarms(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/alarms", params={"state": "all"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def link_down_on_ge021(client: TestClient, state: str) -> dict[str, Any] | None:
    return next(
        (
            a
            for a in alarms(client)
            if (a["ne"], a["object"], a["type"], a["state"]) == ("ACC-GL-1", "GE0/2/1", "LINK_DOWN", state)
        ),
        None,
    )


def rejected(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/ingest/rejected", headers=ADMIN)
    assert response.status_code == 200, response.text
    return [item for item in response.json()["items"] if item["channel"] == "snmp"]


def test_snmptrap_link_down_then_up_through_the_pipeline(
    small: Context, client: TestClient, listener_on: Callable[..., SnmpTrapListener]
) -> None:
    listener = listener_on(small.sink)
    if_name = "1.3.6.1.2.1.31.1.1.1.1.3"
    binds = ("1.3.6.1.2.1.2.2.1.1.3", "i", "3", if_name, "s", "GE0/2/1", SNMP_TRAP_ADDRESS, "a", "10.0.2.1")
    run_snmptrap(listener.port, LINK_DOWN, *binds)
    alarm = wait_for(lambda: link_down_on_ge021(client, "active"), "LINK_DOWN raised on ACC-GL-1 GE0/2/1")
    assert alarm["severity"] == "major" and alarm["source"] == "snmp" and alarm["ne_ip"] == "10.0.2.1"
    assert "FZ-C001-DATA-1" in alarm["circuits"] and alarm["matched"]
    assert "ifName.3=GE0/2/1" in alarm["text"]
    run_snmptrap(listener.port, LINK_UP, *binds)
    cleared = wait_for(lambda: link_down_on_ge021(client, "cleared"), "the LINK_DOWN cleared by linkUp")
    assert cleared["id"] == alarm["id"] and cleared["cleared_time"]
    assert listener.diagnostics()["accepted"] == 2


def test_an_inform_is_answered_only_once_its_alarm_is_stored(
    small: Context, client: TestClient, listener_on: Callable[..., SnmpTrapListener]
) -> None:
    listener = listener_on(small.sink)
    run_snmptrap(
        listener.port,
        LINK_DOWN,
        "1.3.6.1.2.1.31.1.1.1.1.3",
        "s",
        "GE0/2/1",
        SNMP_TRAP_ADDRESS,
        "a",
        "10.0.2.1",
        inform=True,
    )
    assert link_down_on_ge021(client, "active") is not None  # no waiting: the answer came after the commit
    assert listener.stats["informs_answered"] == 1


def test_garbage_and_a_wrong_community_are_dead_lettered_and_service_goes_on(
    small: Context, client: TestClient, listener_on: Callable[..., SnmpTrapListener]
) -> None:
    listener = listener_on(small.sink)
    send(listener.port, b"\x30\x82garbage, not BER at all")
    run_snmptrap(
        listener.port, LINK_DOWN, "1.3.6.1.2.1.31.1.1.1.1.3", "s", "GE0/2/1", community="wrong-secret"
    )
    wait_for(lambda: len(rejected(client)) == 2, "two SNMP dead letters")
    items = rejected(client)
    reasons = sorted(item["reason"] for item in items)
    assert reasons[0] == "bad community" and reasons[1].startswith("undecodable")
    assert all("wrong-secret" not in item["payload"] + item["reason"] for item in items)
    assert listener.diagnostics()["rejected"] == {"bad community": 1, "undecodable": 1}
    run_snmptrap(
        listener.port,
        LINK_DOWN,
        "1.3.6.1.2.1.31.1.1.1.1.3",
        "s",
        "GE0/2/1",
        SNMP_TRAP_ADDRESS,
        "a",
        "10.0.2.1",
    )
    wait_for(lambda: link_down_on_ge021(client, "active"), "the next good trap")
    run_snmptrap(listener.port, UNMAPPED)
    unmapped = wait_for(
        lambda: [i for i in rejected(client) if i["reason"] == f"unmapped trap OID {UNMAPPED}"],
        "the unmapped trap",
    )
    assert UNMAPPED in unmapped[0]["payload"]

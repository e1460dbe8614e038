"""SNMP traps (INTERFACES "SNMP traps"): UDP v2c traps and informs (v1 converted per RFC 3584) → alarms.

Three layers, the first two pure (no I/O, no clock; they never raise on any bytes):

* :func:`decode_trap` — datagram → :class:`TrapMessage`, or a reason string. pysnmp's protocol API
  over the pyasn1 BER decoder is the reference decoder. It costs 0.35-0.8 ms a trap (~1,500
  traps/s beside the pipeline under one GIL: bench/snmp_traps.py --pyasn1-only), too slow for a
  5,000/s storm, so v2c traps/informs in their usual shape go through a strict hand-written fast
  path (~20 µs) that gives up (→ pyasn1) on anything unusual (v1, odd encodings, garbage); the
  tests check on valid, truncated, mutated and random input that whenever the fast path answers,
  pyasn1 gives the identical answer.
* :func:`trap_event` — message + mapping → :class:`AlarmEvent` / :class:`Rejected`. IF-MIB
  linkDown/linkUp are built in; other trap OIDs map through ``snmp_traps.yaml`` (shipped) and the
  operator's file over it (:func:`load_mapping`).
* :class:`SnmpTrapListener` — a UDP thread that receives and decodes, and a delivery thread that
  hands batches to the sink (one durable transaction per batch) and dead-letters refusals.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import queue
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from linewatch.alarms.normalise import (
    MAX_NAME,
    AlarmEvent,
    Rejected,
    canonical_severity,
    canonical_type,
)
from linewatch.ingest.base import Adapter, Sink

log = logging.getLogger("linewatch.ingest.snmp")

DEFAULT_MAPPING = Path(__file__).with_name("snmp_traps.yaml")
SOURCE = "snmp"
MAX_DATAGRAM = 16 * 1024  # real traps are < 2 KiB; bigger ones are refused before decoding
MAX_VARBINDS = 512
MAX_SUMMARY = 1000  # the alarm text: a bounded summary of the varbinds
MAX_VALUE_IN_SUMMARY = 200
RCVBUF = 8 * 1024 * 1024  # ~1-2 s of a 5,000/s storm while the pipeline commits

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
SNMP_TRAP_ENTERPRISE = "1.3.6.1.6.3.1.1.4.3.0"
SNMP_TRAP_COMMUNITY = "1.3.6.1.6.3.18.1.4.0"  # proxies may forward a community: never shown
# a batch is held through a database outage of about two minutes (traps queue behind it, up to
# max_queue); three retries (1.6 s of pauses) dropped the traps of any longer outage
RETRY_PAUSES = (0.1, 0.5, *([1.0] * 120))
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
LINK_UP = "1.3.6.1.6.3.1.1.5.4"
IF_INDEX = "1.3.6.1.2.1.2.2.1.1"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
V1_GENERIC = {g: f"1.3.6.1.6.3.1.1.5.{g + 1}" for g in range(6)}  # RFC 3584 3.1 (2)
LABELS = {  # short names in alarm texts
    IF_INDEX: "ifIndex",
    IF_DESCR: "ifDescr",
    "1.3.6.1.2.1.2.2.1.7": "ifAdminStatus",
    "1.3.6.1.2.1.2.2.1.8": "ifOperStatus",
    IF_NAME: "ifName",
    "1.3.6.1.2.1.31.1.1.1.18": "ifAlias",
    "1.3.6.1.6.3.18.1.3": "snmpTrapAddress",
    "1.3.6.1.6.3.1.1.4.3": "snmpTrapEnterprise",
}
REASON_KINDS = (  # counter keys: reasons that carry details are counted by their kind
    "bad community",
    "undecodable",
    "unsupported SNMP version",
    "not a trap",
    "no snmpTrapOID",
    "too many varbinds",
    "oversized datagram",
    "unmapped trap OID",
    "no alarm type",
)


@dataclass(frozen=True, slots=True)
class TrapMessage:
    """A decoded trap: the community is checked, never kept (it is a shared secret)."""

    version: str  # "1" | "2c"
    pdu: str  # "trap" | "inform"
    request_id: int
    trap_oid: str
    varbinds: tuple[tuple[str, str], ...]  # (OID, printable value), in order, as received
    trap_address: str = ""  # snmpTrapAddress.0 (v1: agent-addr); "" when absent or 0.0.0.0


def reason_kind(reason: str) -> str:
    return next((k for k in REASON_KINDS if reason.startswith(k)), reason.split(":")[0])


# ---------------------------------------------------------------------------------------- values
def printable_octets(raw: bytes) -> str:
    """Text when the octets are text (UTF-8, else GB18030 as Chinese EMSs send), else 0x-hex."""
    text = raw.rstrip(b"\x00")  # C strings from agents
    for encoding in ("utf-8", "gb18030"):
        try:
            decoded = text.decode(encoding)
        except UnicodeDecodeError:
            continue
        if decoded.isprintable():
            return decoded
        cleaned = decoded.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
        if cleaned.isprintable():
            return cleaned
        break  # decodable but binary (MAC addresses, DateAndTime): hex
    return "0x" + raw.hex() if raw else ""


def _ip_text(value: str) -> str:
    """A usable NE address, or ""; IPv4-mapped IPv6 is shown as IPv4 (as in the inventory)."""
    if not value:
        return ""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return "" if address.is_unspecified else str(address)


# ------------------------------------------------------------------------------- fast BER path
class _Giveup(Exception):
    """Not the common shape: let pyasn1 decide."""


_OID_CACHE: dict[bytes, str] = {}  # the same varbind OIDs recur in every trap


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the BER element at ``pos``, inside ``end``; definite lengths only."""
    if pos + 2 > end:
        raise _Giveup
    tag = data[pos]
    if tag & 0x1F == 0x1F:  # multi-octet tags never occur in SNMP
        raise _Giveup
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        octets = length & 0x7F
        if octets == 0 or octets > 4 or pos + octets > end:  # indefinite or absurd
            raise _Giveup
        length = int.from_bytes(data[pos : pos + octets], "big")
        pos += octets
    if pos + length > end:
        raise _Giveup
    return tag, pos, pos + length


def _oid(raw: bytes) -> str:
    cached = _OID_CACHE.get(raw)
    if cached is not None:
        return cached
    if not raw:
        raise _Giveup
    arcs: list[int] = []
    value = 0
    octets = 0
    for byte in raw:
        if octets == 0 and byte == 0x80:  # a leading zero octet: forbidden (and refused by pyasn1)
            raise _Giveup
        value = (value << 7) | (byte & 0x7F)
        octets += 1
        if byte & 0x80:
            if octets > 5:
                raise _Giveup
            continue
        arcs.append(value)
        value = octets = 0
    if octets:  # the last arc is cut short
        raise _Giveup
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    text = ".".join(map(str, (*head, *arcs[1:])))
    if len(_OID_CACHE) > 20_000:
        _OID_CACHE.clear()
    _OID_CACHE[raw] = text
    return text


def _unsigned(raw: bytes, bits: int) -> str:
    if not 1 <= len(raw) <= bits // 8 + 1:
        raise _Giveup
    value = int.from_bytes(raw, "big", signed=True)
    if not 0 <= value < 1 << bits:
        raise _Giveup
    return str(value)


def _fast_value(tag: int, raw: bytes) -> str:
    if tag == 0x04 or tag == 0x44:  # OCTET STRING, Opaque
        return printable_octets(raw)
    if tag == 0x02:  # Integer32
        if not 1 <= len(raw) <= 4:
            raise _Giveup
        return str(int.from_bytes(raw, "big", signed=True))
    if tag == 0x06:
        return _oid(raw)
    if tag == 0x40:  # IpAddress
        if len(raw) != 4:
            raise _Giveup
        return ".".join(map(str, raw))
    if tag in (0x41, 0x42, 0x43):  # Counter32, Gauge32/Unsigned32, TimeTicks
        return _unsigned(raw, 32)
    if tag == 0x46:  # Counter64
        return _unsigned(raw, 64)
    if tag == 0x05 and not raw:
        return ""
    raise _Giveup


def decode_fast(data: bytes) -> tuple[bytes, TrapMessage] | None:
    """(community, message) for a v2c trap/inform in the canonical shape; None: ask pyasn1."""
    try:
        end = len(data)
        tag, pos, stop = _tlv(data, 0, end)
        if tag != 0x30 or stop != end:
            return None
        tag, start, pos = _tlv(data, pos, end)
        if tag != 0x02 or data[start:pos] != b"\x01":
            return None
        tag, start, pos = _tlv(data, pos, end)
        if tag != 0x04:
            return None
        community = data[start:pos]
        pdu_tag, pos, stop = _tlv(data, pos, end)
        if pdu_tag not in (0xA7, 0xA6) or stop != end:
            return None
        tag, start, pos = _tlv(data, pos, end)
        if tag != 0x02 or not 1 <= pos - start <= 4:
            return None
        request_id = int.from_bytes(data[start:pos], "big", signed=True)
        for _ in range(2):  # error-status, error-index: 0 in traps
            tag, start, pos = _tlv(data, pos, end)
            if tag != 0x02 or data[start:pos] != b"\x00":
                return None
        tag, pos, stop = _tlv(data, pos, end)
        if tag != 0x30 or stop != end:
            return None
        varbinds: list[tuple[str, str]] = []
        trap_address = ""
        while pos < end:
            tag, inner, bind_end = _tlv(data, pos, end)
            if tag != 0x30:
                return None
            tag, start, inner = _tlv(data, inner, bind_end)
            if tag != 0x06:
                return None
            oid = _oid(data[start:inner])
            tag, start, value_end = _tlv(data, inner, bind_end)
            if value_end != bind_end:
                return None
            value = _fast_value(tag, data[start:value_end])
            if oid == SNMP_TRAP_ADDRESS and tag == 0x40:
                trap_address = value
            varbinds.append((oid, value))
            pos = bind_end
        return community, _message(
            "2c", "inform" if pdu_tag == 0xA6 else "trap", request_id, varbinds, trap_address
        )
    except (_Giveup, IndexError, ValueError):
        return None


def _message(
    version: str, pdu: str, request_id: int, varbinds: list[tuple[str, str]], trap_address: str
) -> TrapMessage:
    trap_oid = next((value for oid, value in varbinds if oid == SNMP_TRAP_OID), "")
    return TrapMessage(version, pdu, request_id, trap_oid, tuple(varbinds), _ip_text(trap_address))


# --------------------------------------------------------------------------- pyasn1 reference path
def _asn1_value(value: Any) -> tuple[str, bool]:
    """(printable value, is an IpAddress) of a pysnmp value object, the same text as the fast path."""
    from pyasn1.type import univ
    from pysnmp.proto import rfc1902, rfc1905

    tag_set = value.tagSet
    if tag_set == rfc1902.IpAddress.tagSet:
        raw = value.asOctets()
        return (".".join(map(str, raw)) if len(raw) == 4 else "0x" + raw.hex()), True
    if isinstance(value, univ.ObjectIdentifier):
        return ".".join(map(str, value.asTuple())), False
    if isinstance(value, univ.Integer):
        return str(int(value)), False
    if isinstance(value, univ.OctetString):
        return printable_octets(value.asOctets()), False
    for name, kind in (
        ("noSuchObject", rfc1905.NoSuchObject),
        ("noSuchInstance", rfc1905.NoSuchInstance),
        ("endOfMibView", rfc1905.EndOfMibView),
    ):
        if tag_set == kind.tagSet:
            return name, False
    if isinstance(value, univ.Null):
        return "", False
    return value.prettyPrint()[:MAX_VALUE_IN_SUMMARY], False


def decode_pyasn1(data: bytes) -> tuple[bytes, TrapMessage] | str:
    """The reference decoder: pysnmp's v1/v2c protocol API over pyasn1. (community, message) or a reason."""
    from pyasn1.codec.ber import decoder
    from pysnmp.proto import api

    try:
        version = int(api.decodeMessageVersion(data))
    except Exception as exc:
        return f"undecodable: {_brief(exc)}"
    if version not in api.PROTOCOL_MODULES:
        return f"unsupported SNMP version {version} (v1 and v2c only)"
    proto = api.PROTOCOL_MODULES[version]
    try:
        message, rest = decoder.decode(data, asn1Spec=proto.Message())
        if rest:
            return f"undecodable: {len(rest)} bytes after the message"
        community = bytes(proto.apiMessage.get_community(message).asOctets())
        pdu = proto.apiMessage.get_pdu(message)
        if version == api.SNMP_VERSION_1:
            if pdu.tagSet != proto.TrapPDU.tagSet:
                return f"not a trap: v1 {pdu.__class__.__name__}"
            return community, _from_v1(proto, pdu)
        if pdu.tagSet == proto.SNMPv2TrapPDU.tagSet:
            kind = "trap"
        elif pdu.tagSet == proto.InformRequestPDU.tagSet:
            kind = "inform"
        else:
            return f"not a trap: {pdu.__class__.__name__}"
        varbinds: list[tuple[str, str]] = []
        trap_address = ""
        for oid, raw in proto.apiPDU.get_varbinds(pdu):
            name = ".".join(map(str, oid.asTuple()))
            value, is_ip = _asn1_value(raw)
            if name == SNMP_TRAP_ADDRESS and is_ip:
                trap_address = value
            varbinds.append((name, value))
        request_id = int(proto.apiPDU.get_request_id(pdu))
        return community, _message("2c", kind, request_id, varbinds, trap_address)
    except Exception as exc:  # pyasn1 raises many kinds on hostile input; none may escape
        return f"undecodable: {_brief(exc)}"


def _from_v1(proto: Any, pdu: Any) -> TrapMessage:
    """RFC 3584 3.1: the v1 trap as the v2c trap a proxy would forward (without snmpTrapCommunity)."""
    api = proto.apiTrapPDU
    enterprise = ".".join(map(str, api.get_enterprise(pdu).asTuple()))
    generic = int(api.get_generic_trap(pdu))
    trap_oid = V1_GENERIC.get(generic) or f"{enterprise}.0.{int(api.get_specific_trap(pdu))}"
    agent, _ = _asn1_value(api.get_agent_address(pdu))
    varbinds = [(SYS_UPTIME, str(int(api.get_timestamp(pdu)))), (SNMP_TRAP_OID, trap_oid)]
    for oid, raw in api.get_varbinds(pdu):
        varbinds.append((".".join(map(str, oid.asTuple())), _asn1_value(raw)[0]))
    varbinds += [(SNMP_TRAP_ADDRESS, agent), (SNMP_TRAP_ENTERPRISE, enterprise)]
    return _message("1", "trap", 0, varbinds, agent)


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def decode_message(data: bytes, *, fast: bool = True) -> tuple[bytes, TrapMessage] | str:
    """(community as sent, message) or a reason; the community is not checked here."""
    if len(data) > MAX_DATAGRAM:
        return f"oversized datagram ({len(data)} bytes, at most {MAX_DATAGRAM})"
    decoded = decode_fast(data) if fast else None
    if decoded is None:
        decoded = decode_pyasn1(data)
        if isinstance(decoded, str):
            return decoded
    message = decoded[1]
    if len(message.varbinds) > MAX_VARBINDS:
        return f"too many varbinds ({len(message.varbinds)}, at most {MAX_VARBINDS})"
    if not message.trap_oid:
        return "no snmpTrapOID varbind"
    return decoded


def decode_trap(data: bytes, community: str, *, fast: bool = True) -> TrapMessage | str:
    """A datagram → the trap it carries, or why not ("bad community", "undecodable: ...", ...)."""
    decoded = decode_message(data, fast=fast)
    if isinstance(decoded, str):
        return decoded
    sent, message = decoded
    if not hmac.compare_digest(sent, community.encode()):
        return "bad community"
    return message


def redact_community(data: bytes) -> bytes:
    """The datagram with its community octets starred (for dead letters), where the header parses."""
    try:
        end = len(data)
        tag, pos, _ = _tlv(data, 0, end)
        tag_v, _, pos = _tlv(data, pos, end)
        tag_c, start, stop = _tlv(data, pos, end)
        if tag == 0x30 and tag_v == 0x02 and tag_c == 0x04:
            return data[:start] + b"*" * (stop - start) + data[stop:]
    except (_Giveup, IndexError, ValueError):
        pass
    return data


# ---------------------------------------------------------------------------------------- mapping
class MappingError(ValueError):
    """A mapping file that cannot be used: the listener does not start with it."""


@dataclass(frozen=True, slots=True)
class TrapRule:
    """How one trap OID becomes an alarm; ``*_from``: varbind OIDs (object or instance), first one present."""

    oid: str
    name: str = ""
    type: str = ""
    severity: str = "major"
    ignore: bool = False  # e.g. an EMS heartbeat: counted, neither an alarm nor a dead letter
    type_from: tuple[str, ...] = ()
    severity_from: tuple[str, ...] = ()
    severity_map: tuple[tuple[str, str], ...] = ()  # varbind value (lower case) → severity
    clear_from: tuple[str, ...] = ()
    clear_values: tuple[str, ...] = ()  # lower case; a match makes the event a clear
    ne_from: tuple[str, ...] = ()
    ne_ip_from: tuple[str, ...] = ()
    object_from: tuple[str, ...] = ()  # absent: the IF-MIB port (ifName, ifDescr, ifIndex:N)
    text_from: tuple[str, ...] = ()
    cause_from: tuple[str, ...] = ()
    id_from: tuple[str, ...] = ()


BUILTIN: dict[str, TrapRule] = {
    LINK_DOWN: TrapRule(LINK_DOWN, name="linkDown", type="LINK_DOWN", severity="major"),
    LINK_UP: TrapRule(LINK_UP, name="linkUp", type="LINK_DOWN", severity="cleared"),
}
_FROM_KEYS = (
    "type_from",
    "severity_from",
    "clear_from",
    "ne_from",
    "ne_ip_from",
    "object_from",
    "text_from",
    "cause_from",
    "id_from",
)
_KEYS = {"name", "type", "severity", "ignore", "severity_map", "clear_values", *_FROM_KEYS}


def _oid_text(raw: Any, where: str) -> str:
    text = str(raw).strip().lstrip(".")
    parts = text.split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise MappingError(f"{where}: {raw!r} is not a numeric OID")
    return ".".join(str(int(p)) for p in parts)


def _rule(oid: str, spec: Any, where: str) -> TrapRule:
    if not isinstance(spec, Mapping):
        raise MappingError(f"{where}: expected a mapping of settings, got {type(spec).__name__}")
    unknown = set(map(str, spec)) - _KEYS
    if unknown:
        raise MappingError(f"{where}: unknown settings {sorted(unknown)}; known: {sorted(_KEYS)}")
    fields: dict[str, Any] = {"oid": oid, "name": str(spec.get("name") or "")}
    for key in _FROM_KEYS:
        raw = spec.get(key)
        items = [] if raw is None else raw if isinstance(raw, list) else [raw]
        fields[key] = tuple(_oid_text(item, f"{where} {key}") for item in items)
    try:
        fields["type"] = canonical_type(str(spec["type"]), {})[:MAX_NAME] if spec.get("type") else ""
        fields["severity"] = canonical_severity(str(spec.get("severity") or "major"))
        fields["severity_map"] = tuple(
            (str(k).strip().lower(), canonical_severity(str(v)))
            for k, v in (spec.get("severity_map") or {}).items()
        )
    except ValueError as exc:
        raise MappingError(f"{where}: {exc}") from None
    fields["clear_values"] = tuple(str(v).strip().lower() for v in spec.get("clear_values") or ())
    fields["ignore"] = bool(spec.get("ignore", False))
    if not fields["ignore"] and not fields["type"] and not fields["type_from"]:
        raise MappingError(f"{where}: needs 'type' or 'type_from' (or 'ignore: true')")
    if fields["clear_values"] and not fields["clear_from"]:
        raise MappingError(f"{where}: 'clear_values' needs 'clear_from'")
    return TrapRule(**fields)


def parse_mapping(document: Any, source: str) -> dict[str, TrapRule | None]:
    """``{traps: {OID: settings | null}}`` → rules by trap OID (None: the OID is unmapped again)."""
    if document is None:
        return {}
    if not isinstance(document, Mapping) or not isinstance(document.get("traps", {}), Mapping):
        raise MappingError(f"{source}: expected 'traps:' with trap OIDs as keys")
    unknown = set(document) - {"traps"}
    if unknown:
        raise MappingError(f"{source}: unknown top-level keys {sorted(unknown)}")
    rules: dict[str, TrapRule | None] = {}
    for key, spec in (document.get("traps") or {}).items():
        oid = _oid_text(key, f"{source}: trap {key!r}")
        rules[oid] = None if spec is None else _rule(oid, spec, f"{source}: trap {oid}")
    return rules


def load_mapping(
    path: str | Path | None = None, *, default: Path | None = DEFAULT_MAPPING
) -> dict[str, TrapRule]:
    """Built-ins ← the shipped file ← the operator's file; an operator entry replaces the whole entry."""
    rules: dict[str, TrapRule] = dict(BUILTIN)
    for source in (default, Path(path) if path else None):
        if source is None:
            continue
        try:
            document = yaml.safe_load(source.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise MappingError(f"{source}: cannot read the SNMP trap mapping: {exc}") from None
        for oid, rule in parse_mapping(document, str(source)).items():
            if rule is None:
                rules.pop(oid, None)
            else:
                rules[oid] = rule
    return rules


# ------------------------------------------------------------------------------ message → alarm
def _first(varbinds: Iterable[tuple[str, str]], wanted: tuple[str, ...]) -> str:
    """The value of the first varbind named by ``wanted`` (object OID, or with an instance suffix)."""
    for target in wanted:
        prefix = target + "."
        for oid, value in varbinds:
            if (oid == target or oid.startswith(prefix)) and value.strip():
                return value.strip()
    return ""


def if_mib_port(varbinds: Iterable[tuple[str, str]]) -> str:
    """The port an IF-MIB trap names: ifName, else ifDescr, else ``ifIndex:N``."""
    name = descr = index = ""
    for oid, value in varbinds:
        base, _, instance = oid.rpartition(".")
        if base == IF_NAME and not name:
            name = value.strip()
        elif base == IF_DESCR and not descr:
            descr = value.strip()
        elif base == IF_INDEX and not index:
            index = value.strip() if value.strip().isdigit() else instance
    return name or descr or (f"ifIndex:{index}" if index else "")


def summarise(title: str, varbinds: Iterable[tuple[str, str]], limit: int = MAX_SUMMARY) -> str:
    parts = []
    for oid, value in varbinds:
        if oid in (SYS_UPTIME, SNMP_TRAP_OID, SNMP_TRAP_COMMUNITY):
            continue
        base, _, instance = oid.rpartition(".")
        label = f"{LABELS[base]}.{instance}" if base in LABELS else oid
        if len(value) > MAX_VALUE_IN_SUMMARY:
            value = value[: MAX_VALUE_IN_SUMMARY - 1] + "…"
        parts.append(f"{label}={value}")
    text = f"{title}: {'; '.join(parts)}" if parts else title
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trap_event(
    message: TrapMessage,
    rules: Mapping[str, TrapRule],
    remote_ip: str,
    received_at: datetime,
    aliases: Mapping[str, str] | None = None,
) -> AlarmEvent | Rejected | None:
    """The alarm a trap raises or clears; Rejected (dead-lettered); None for an ignored trap OID."""
    rule = rules.get(message.trap_oid)
    if rule is None:
        return Rejected(f"unmapped trap OID {message.trap_oid}")
    if rule.ignore:
        return None
    varbinds = message.varbinds
    aliases = aliases or {}
    raw_type = _first(varbinds, rule.type_from) if rule.type_from else ""
    alarm_type = canonical_type(raw_type, aliases)[:MAX_NAME] if raw_type else rule.type
    if not alarm_type:
        return Rejected(f"no alarm type: trap {message.trap_oid} has none of the varbinds {rule.type_from}")
    severity = rule.severity
    if rule.severity_from:
        raw = _first(varbinds, rule.severity_from)
        if raw:
            mapped = dict(rule.severity_map).get(raw.lower())
            if mapped is None:
                try:
                    mapped = canonical_severity(raw)
                except ValueError:
                    mapped = rule.severity  # an unknown vendor level: the rule's default, not a refusal
            severity = mapped
    if rule.clear_from and _first(varbinds, rule.clear_from).lower() in rule.clear_values:
        severity = "cleared"
    ne = _first(varbinds, rule.ne_from)[:MAX_NAME] if rule.ne_from else ""
    ne_ip = (_ip_text(_first(varbinds, rule.ne_ip_from)) if rule.ne_ip_from else "") or (
        message.trap_address or remote_ip
    )
    obj = _first(varbinds, rule.object_from) if rule.object_from else if_mib_port(varbinds)
    title = rule.name or message.trap_oid
    text = _first(varbinds, rule.text_from) if rule.text_from else ""
    return AlarmEvent(
        source=SOURCE,
        type=alarm_type,
        severity=severity,
        event_time=received_at,
        ne=ne,
        ne_ip=ne_ip,
        object=obj[:MAX_NAME],
        text=f"{title}: {text}"[:MAX_SUMMARY] if text else summarise(title, varbinds),
        probable_cause=_first(varbinds, rule.cause_from)[:MAX_SUMMARY] if rule.cause_from else "",
        source_id=_first(varbinds, rule.id_from)[:MAX_NAME] if rule.id_from else "",
    )


# --------------------------------------------------------------------------------------- listener
class _Refusal(NamedTuple):
    remote: str
    reason: str
    payload: str
    kind: str


class _Reply(NamedTuple):
    """An inform to answer once its alarm is durable (or its refusal kept)."""

    address: Any
    data: bytes


_Item = tuple[AlarmEvent | _Refusal | None, _Reply | None]


def inform_response(data: bytes) -> bytes | None:
    """The Response-PDU to a v2c InformRequest (RFC 3416 4.2.7: same request-id and varbinds)."""
    from pyasn1.codec.ber import decoder, encoder
    from pysnmp.proto import api

    proto = api.v2c
    try:
        message, _ = decoder.decode(data, asn1Spec=proto.Message())
        request = proto.apiMessage.get_pdu(message)
        if request.tagSet != proto.InformRequestPDU.tagSet:
            return None
        response = proto.apiPDU.get_response(request)
        proto.apiPDU.set_varbinds(response, proto.apiPDU.get_varbinds(request))
        answer = proto.Message()
        proto.apiMessage.set_defaults(answer)
        proto.apiMessage.set_community(answer, proto.apiMessage.get_community(message))
        proto.apiMessage.set_pdu(answer, response)
        return bytes(encoder.encode(answer))
    except Exception:
        log.debug("snmp: no response for an inform", exc_info=True)
        return None


def _hex_payload(data: bytes) -> str:
    """Dead-letter payload for bytes that are not a usable trap: hex, community starred, bounded."""
    cut = data[:MAX_DATAGRAM]
    more = f" … ({len(data)} bytes in all)" if len(data) > len(cut) else ""
    return f"hex: {redact_community(cut).hex(' ')}{more}"


def _trap_payload(message: TrapMessage, remote: str) -> str:
    """Dead-letter payload for a decoded trap: what an admin needs to write a mapping (no community)."""
    lines = [f"SNMPv{message.version} {message.pdu} {message.trap_oid} from {remote}"]
    if message.trap_address:
        lines.append(f"snmpTrapAddress {message.trap_address}")
    lines += [
        f"{oid} = {'(withheld)' if oid == SNMP_TRAP_COMMUNITY else value}" for oid, value in message.varbinds
    ]
    return "\n".join(lines)


def udp_socket_stats(sock: socket.socket) -> dict[str, int]:
    """Kernel counters of one UDP socket from /proc/net/udp{,6}: drops and receive-queue bytes."""
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
    except OSError:
        return {}
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table, encoding="ascii") as handle:
                for line in handle:
                    fields = line.split()
                    if len(fields) > 12 and fields[9] == inode:
                        return {
                            "socket_drops": int(fields[12]),
                            "rx_queue_bytes": int(fields[4].split(":")[1], 16),
                        }
        except (OSError, ValueError, IndexError):
            continue
    return {}


def _rmem_max() -> int | None:
    try:
        return int(Path("/proc/sys/net/core/rmem_max").read_text())
    except (OSError, ValueError):
        return None


def _receive_buffer(sock: socket.socket, wanted: int) -> int:
    """Ask for a large receive buffer; what Linux grants (it reports twice the size, bookkeeping included).

    An unprivileged process gets at most net.core.rmem_max; with CAP_NET_ADMIN, SO_RCVBUFFORCE
    lifts that cap, so a listener run as root gets the buffer it asked for.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, wanted)
    granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    linux = sys.platform.startswith("linux")
    force = getattr(socket, "SO_RCVBUFFORCE", 33 if linux else None)  # Python does not export it
    full = 2 * wanted if linux else wanted  # Linux doubles what it grants
    if granted < full and force is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, wanted)
            granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        except OSError:  # no CAP_NET_ADMIN: keep the capped buffer
            pass
    return granted


class _DeadLetterLimit:
    """Token bucket for dead letters: a garbage flood must not turn into one transaction per datagram."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class SnmpTrapListener(Adapter):
    """UDP trap receiver: decode on the receive thread, deliver in batches from a delivery thread."""

    name = "snmp"

    def __init__(
        self,
        sink: Sink,
        *,
        host: str = "0.0.0.0",
        port: int = 1162,
        community: str = "public",
        mapping_file: str | None = None,
        now: Callable[[], datetime] | None = None,
        type_aliases: Mapping[str, str] | None = None,
        fast_decode: bool = True,
        rcvbuf: int = RCVBUF,
        max_batch: int = 1000,
        max_wait: float = 0.02,
        max_queue: int = 200_000,
        dead_letters_per_second: float = 50.0,
        retry_pauses: tuple[float, ...] = RETRY_PAUSES,
    ) -> None:
        super().__init__(sink)
        self.host, self.port = host, port
        self._community = community.encode()
        self.rules = load_mapping(mapping_file)  # a broken operator file fails here, before binding
        self.now = now or (lambda: datetime.now(UTC))
        self.aliases = dict(type_aliases or {})
        self.fast_decode = fast_decode
        self.rcvbuf_requested, self.rcvbuf_granted = rcvbuf, 0
        self.max_batch, self.max_wait, self.max_queue = max_batch, max_wait, max_queue
        self.retry_pauses = retry_pauses
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._sock: socket.socket | None = None
        self._stopping = threading.Event()
        self._receiver: threading.Thread | None = None
        self._deliverer: threading.Thread | None = None
        self._limit = _DeadLetterLimit(dead_letters_per_second, burst=int(dead_letters_per_second * 10))
        self._suppressed: Counter[str] = Counter()
        self._last_log: dict[str, float] = {}
        self.stats = {
            "ignored": 0,
            "queue_full": 0,
            "batches": 0,
            "largest_batch": 0,
            "delivery_failures": 0,
            "events_lost": 0,
            "informs_answered": 0,
            "dead_letters_not_kept": 0,
            "internal_errors": 0,
        }

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        family, kind, proto, _, address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
        sock = socket.socket(family, kind, proto)
        try:
            self.rcvbuf_granted = _receive_buffer(sock, self.rcvbuf_requested)
            sock.bind(address)
        except OSError:
            sock.close()
            raise
        sock.settimeout(0.2)  # how soon the receive thread notices stop()
        self._sock = sock
        self.port = sock.getsockname()[1]
        log.info(
            "snmp: listening on %s:%d (SO_RCVBUF requested %d B, kernel granted %d B; net.core.rmem_max %s)",
            self.host,
            self.port,
            self.rcvbuf_requested,
            self.rcvbuf_granted,
            _rmem_max(),
        )
        self._stopping.clear()
        self._deliverer = threading.Thread(target=self._deliver_loop, name="snmp-deliver", daemon=True)
        self._receiver = threading.Thread(target=self._receive_loop, name="snmp-receive", daemon=True)
        self._deliverer.start()
        self._receiver.start()

    def stop(self) -> None:
        """Stop receiving, take what the kernel still holds, deliver everything queued, join."""
        if self._receiver is None or self._deliverer is None:
            return
        self._stopping.set()
        self._receiver.join(timeout=10)
        self._queue.put(None)
        self._deliverer.join(timeout=120)
        self._receiver = self._deliverer = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # ------------------------------------------------------------------ receiving
    def _receive_loop(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stopping.is_set():
            try:
                data, address = sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    break
                self._log_limited("recv", "snmp: receive failed", exc_info=True)
                time.sleep(0.01)
                continue
            self._receive(data, address)
        sock.setblocking(False)  # what arrived before stop() is still served
        for _ in range(1_000_000):
            try:
                data, address = sock.recvfrom(65536)
            except OSError:
                break
            self._receive(data, address)

    def _receive(self, data: bytes, address: Any) -> None:
        self.counters.received += 1
        try:
            item = self.handle(data, address, self.now())
        except Exception:  # a bug must cost one datagram, not the listener
            self.stats["internal_errors"] += 1
            self._log_limited("internal", "snmp: failed to handle a datagram", exc_info=True)
            item = (_Refusal(_remote(address), "internal error", _hex_payload(data), "internal error"), None)
        if item is None:
            return
        if self._queue.qsize() >= self.max_queue:  # storage is away for long: bounded memory, counted loss
            self.stats["queue_full"] += 1
            self._log_limited("queue", "snmp: delivery queue full (%d); dropping traps", self.max_queue)
            return
        self._queue.put(item)

    def handle(self, data: bytes, address: Any, received_at: datetime) -> _Item | None:
        """One datagram → what to deliver or refuse (and any inform to answer); None when ignored."""
        remote = _remote(address)
        decoded = decode_message(data, fast=self.fast_decode)
        if isinstance(decoded, str):
            return _Refusal(remote, decoded, _hex_payload(data), reason_kind(decoded)), None
        sent, message = decoded
        if not hmac.compare_digest(sent, self._community):
            return _Refusal(remote, "bad community", _trap_payload(message, remote), "bad community"), None
        reply = _Reply(address, data) if message.pdu == "inform" else None
        result = trap_event(message, self.rules, _ip_text(str(address[0])), received_at, self.aliases)
        if result is None:
            self.stats["ignored"] += 1
            return (None, reply) if reply else None
        if isinstance(result, Rejected):
            refusal = _Refusal(
                remote, result.reason, _trap_payload(message, remote), reason_kind(result.reason)
            )
            return refusal, reply
        return result, reply

    # ------------------------------------------------------------------ delivering
    def _deliver_loop(self) -> None:
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            first = get()
            if first is None:
                break
            items = [first]
            deadline = time.monotonic() + self.max_wait
            stop = False
            while len(items) < self.max_batch:  # up to max_batch traps or max_wait per transaction
                try:
                    item = get_nowait()
                except queue.Empty:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        item = get(timeout=remaining)
                    except queue.Empty:
                        break
                if item is None:
                    stop = True
                    break
                items.append(item)
            self._flush(items)
            if stop:
                break
        self._report_suppressed()

    def _flush(self, items: list[_Item]) -> None:
        try:
            events = [what for what, _ in items if isinstance(what, AlarmEvent)]
            delivered = self._deliver_batch(events)
            for what, _ in items:
                if isinstance(what, _Refusal):
                    self._refuse(what)
            for what, reply in items:
                if reply is not None and (delivered or not isinstance(what, AlarmEvent)):
                    self._answer(reply)
            if self._suppressed and self._limit.tokens >= 1:
                self._report_suppressed()
        except Exception:  # never let the delivery thread die
            self.stats["internal_errors"] += 1
            self._log_limited("flush", "snmp: delivery step failed", exc_info=True)

    def _deliver_batch(self, events: list[AlarmEvent]) -> bool:
        """Deliver one batch; a failing sink gets a few retries, then the batch is counted lost."""
        if not events:
            return True
        self.stats["batches"] += 1
        self.stats["largest_batch"] = max(self.stats["largest_batch"], len(events))
        for pause in (*self.retry_pauses, None):
            try:
                self.deliver(events)
                return True
            except Exception as exc:
                if pause is None or self._stopping.is_set():  # shutting down: no waiting on storage
                    self.stats["delivery_failures"] += 1
                    self.stats["events_lost"] += len(events)
                    self._log_limited(
                        "deliver", "snmp: %d traps not stored (%s); they are lost", len(events), _brief(exc)
                    )
                    return False
                time.sleep(pause)
        return False

    def _refuse(self, refusal: _Refusal) -> None:
        if self._limit.take():
            self.refuse(refusal.remote, refusal.reason, refusal.payload, kind=refusal.kind)
        else:  # counted all the same; one summary dead letter stands for them
            self.counters.rejected[refusal.kind] += 1
            self._suppressed[refusal.kind] += 1
        self._log_limited(
            f"refused {refusal.kind}",
            "snmp: refused a datagram from %s: %s",
            refusal.remote,
            refusal.reason[:200],
        )

    def _report_suppressed(self) -> None:
        if not self._suppressed:
            return
        total = sum(self._suppressed.values())
        detail = ", ".join(f"{kind}: {n}" for kind, n in self._suppressed.most_common())
        self.stats["dead_letters_not_kept"] += total
        self._suppressed.clear()
        try:
            self.sink.reject(
                self.name, "", f"{total} refused datagrams not kept one by one ({detail})", detail
            )
        except Exception:
            log.exception("snmp: could not keep the summary of refused datagrams")

    def _answer(self, reply: _Reply) -> None:
        response = inform_response(reply.data)
        if response is not None and self._sock is not None:
            try:
                self._sock.sendto(response, reply.address)
                self.stats["informs_answered"] += 1
            except OSError:
                self._log_limited("answer", "snmp: could not answer an inform", exc_info=True)

    def _log_limited(self, key: str, message: str, *args: Any, exc_info: bool = False) -> None:
        """At most one log line per kind every 10 s: a flood must not flood the log too."""
        now = time.monotonic()
        if now - self._last_log.get(key, -1e9) >= 10:
            self._last_log[key] = now
            log.warning(message, *args, exc_info=exc_info)

    # ------------------------------------------------------------------ diagnostics
    @property
    def running(self) -> bool:
        """Readiness: receiving and delivering."""
        threads = (self._receiver, self._deliverer)
        return all(t is not None and t.is_alive() for t in threads)

    def diagnostics(self) -> dict[str, Any]:
        sock = self._sock
        return {
            **super().diagnostics(),
            **self.stats,
            "port": self.port,
            "queued": self._queue.qsize(),
            "rcvbuf_requested": self.rcvbuf_requested,
            "rcvbuf_granted": self.rcvbuf_granted,
            "net_core_rmem_max": _rmem_max(),
            **(udp_socket_stats(sock) if sock is not None else {}),
        }


def _remote(address: Any) -> str:
    try:
        return f"{_ip_text(str(address[0])) or address[0]}:{address[1]}"
    except (TypeError, IndexError):
        return str(address)

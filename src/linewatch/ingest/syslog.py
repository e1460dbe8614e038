"""Syslog ingest (INTERFACES "Syslog"): RFC 3164 and 5424 over UDP and TCP, regex rules → alarms.

The decoding half is pure and never raises on device input, so it can be fuzzed:
:func:`parse_message` (bytes → :class:`SyslogMessage` or a reason), :class:`FrameDecoder` (a TCP
byte stream → frames, RFC 6587), :func:`match_rules` and :func:`build_event`. The rules are data
(``syslog_rules.yaml`` beside this file, plus an operator file tried first).

:class:`SyslogListener` is the effectful shell: a UDP receive loop and a threading TCP server on
one port hand raw frames to a single worker, which decodes, matches and delivers what arrived
within a short moment as one batch, so a flood is a few commits rather than one per line.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import queue
import re
import selectors
import socket
import socketserver
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from linewatch.alarms.normalise import MAX_NAME, MAX_TEXT, AlarmEvent, canonical_severity
from linewatch.core.clock import Clock
from linewatch.ingest.base import Adapter, Sink

log = logging.getLogger("linewatch.ingest.syslog")

MAX_MESSAGE = 64 * 1024  # RFC 5424 receivers must take 480 bytes and may take more; beyond this it is junk
MATCH_WINDOW = 2048  # rules read this much of a message: link messages are short, and it bounds regex work
SOURCE = "syslog"
DEFAULT_TZ = "Asia/Shanghai"
# A device's own clock is believed only when it agrees with ours: unsynchronised devices say 1970 or
# 2018, and a zone-less time is only our guess of their zone.
ZONED_PAST, ZONED_FUTURE = timedelta(hours=24), timedelta(minutes=5)
NAIVE_SKEW = timedelta(minutes=15)
BATCH_MAX = 500  # messages per delivery ...
BATCH_WAIT = 0.05  # ... or what arrived within this many seconds of the first
QUEUE_MAX = 100_000  # received, not yet decoded; UDP beyond this is dropped (counted), TCP waits
UDP_BURST = 1024  # datagrams taken from the kernel per wake-up
MAX_PENDING = 10_000  # events held for redelivery while storage is away
RETRY_EVERY = 1.0  # seconds between redelivery attempts
DEAD_LETTERS_PER_SECOND = 100  # a garbage flood is counted in full but kept only at this rate
UNMATCHED_SAMPLES = 50
MAX_TCP_CLIENTS = 1000
SAMPLE_BYTES = 4096  # what a refusal keeps of an over-long item
STATS = (  # the listener's own counters, beside the adapter's received/accepted/rejected
    "matched",  # became an event
    "unmatched",  # valid syslog that no rule maps: not an alarm (the last few kept as samples)
    "ignored",  # matched an ignore rule
    "deliveries",
    "delivery_failures",  # the sink raised; the events are held and retried
    "events_lost",  # held events dropped (too many while storage was away, or at stop)
    "dropped_queue_full",  # UDP arriving faster than we decode
    "dead_letters_not_kept",  # refusals beyond the dead-letter rate: counted in rejected, not stored
    "tcp_connections",
    "internal_errors",
)


# --------------------------------------------------------------------------------------- messages
@dataclass(frozen=True, slots=True)
class SyslogMessage:
    """One decoded message. ``content`` is what rules read: the tag and text as the device wrote
    them (RFC 3164), or ``APP[PROCID]: MSGID: MSG`` rebuilt from RFC 5424 fields, so one rule
    serves a vendor's message in either format."""

    raw: str  # the whole message, decoded and with control characters replaced
    content: str
    message: str  # the text after the tag
    pri: int | None = None
    facility: int | None = None
    severity: int | None = None
    version: int = 0  # 0 = RFC 3164 (BSD), 1 = RFC 5424
    timestamp: datetime | None = None  # None unless the year is known; aware when the zone is
    timestamp_text: str = ""
    hostname: str = ""
    app: str = ""
    procid: str = ""
    msgid: str = ""
    structured_data: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    encoding: str = "utf-8"


_PRI = re.compile(r"<(\d{1,3})>")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
_MON = "(?P<mon>" + "|".join(_MONTH_NAMES) + ")"  # the patterns using it ignore case
_CLOCK = r"(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})"
_UTC_WORDS = {"UTC", "GMT", "UT", "Z"}
# Zone abbreviations other than UTC are ambiguous (CST is China or US Central): kept as text, not used.
_WORD_ZONE = r"\s(?:UTC|GMT|DST)\b|\s(?-i:[A-Z]{3,4})(?=:)"
_ISO_TS = re.compile(  # RFC 3339, and Huawei's unpadded "2018-7-23 01:00:34.270.1"
    r"(?P<year>\d{4})-(?P<mon>\d{1,2})-(?P<day>\d{1,2})[Tt ]" + _CLOCK + r"(?P<frac>(?:[.,]\d{1,9}){0,3})"
    r"(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?"
)
_NXOS_TS = re.compile(  # NX-OS: "2013 Dec 10 16:35:56.123 UTC"
    r"(?P<year>\d{4})\s" + _MON + r"\s{1,2}(?P<day>\d{1,2})\s" + _CLOCK + r"(?P<frac>\.\d{1,6})?"
    r"(?P<zone>" + _WORD_ZONE + r")?",
    re.I,
)
_BSD_TS = re.compile(  # "Feb  6 09:42:36", Cisco "*Nov 14 08:30:56.699 UTC",
    # Huawei "Jul 23 2018 01:00:34+08:00", H3C "%Jan  1 00:12:50:123 2013"
    r"[*.%]?" + _MON + r"\s{1,2}(?P<day>\d{1,2})(?:\s(?P<year>\d{4}))?\s" + _CLOCK + r"(?P<frac>[.:]\d{1,6})?"
    r"(?:\s(?P<year2>\d{4})(?=\s|$))?(?P<zone>\s?[+-]\d{2}:?\d{2}|" + _WORD_ZONE + r")?",
    re.I,
)
_SEQ = re.compile(r"\d{0,10}:\s")  # Cisco "service sequence-numbers" ("521: "); NX-OS sends an empty one
_HOST_COLON = re.compile(r"([A-Za-z0-9][\w.-]{0,254}):\s+")  # Cisco "router1: *Nov 14 ..."
_AFTER_STAMP = re.compile(r"\s*:?\s*")
_TOKEN = re.compile(r"(\S{1,255})\s+")
_TAG = re.compile(r"([^\s:\[\]]{1,128})(?:\[([^\]\s]{0,64})\])?\s?:\s*")
_CONTROL = {c: "\ufffd" for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]}


def parse_message(data: bytes) -> SyslogMessage | str:
    """Decode one syslog message; a ``str`` result is why it is refused. Never raises."""
    if not isinstance(data, bytes | bytearray | memoryview):
        return f"not bytes: {type(data).__name__}"
    data = bytes(data)
    if len(data) > MAX_MESSAGE:
        return f"too long: {len(data)} bytes (limit {MAX_MESSAGE})"
    data = data.strip(b" \t\r\n\x00")
    if not data:
        return "empty: nothing but blanks"
    text, encoding = _decode(data)
    text = text.lstrip("\ufeff").translate(_CONTROL)
    unprintable = text.count("\ufffd")
    if unprintable * 4 > len(text):
        return f"binary: {unprintable} of {len(text)} characters are not text"
    pri = None
    rest = text
    if text.startswith("<"):
        m = _PRI.match(text)
        if m is None or int(m.group(1)) > 191:
            return f"bad PRI: {text[:8]!r}"
        pri, rest = int(m.group(1)), text[m.end() :]
    common: dict[str, Any] = {
        "raw": text,
        "pri": pri,
        "facility": None if pri is None else pri >> 3,
        "severity": None if pri is None else pri & 7,
        "encoding": encoding,
    }
    if rest.startswith("1 "):
        fields = _parse_5424(rest[2:])
        if fields is not None:  # otherwise it is a BSD message whose text starts with "1 "
            return SyslogMessage(version=1, **common, **fields)
    return SyslogMessage(**common, **_parse_3164(rest))


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-8; else GB18030 (Chinese devices log GBK), when the bytes are valid in it; else UTF-8 with
    replacement characters, which the caller counts to tell text from binary."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\xef\xbb\xbf" not in data:  # a BOM promises UTF-8 (RFC 5424 6.4)
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    return data.decode("utf-8", errors="replace"), "utf-8/replaced"


def _timestamp(text: str, pos: int) -> tuple[datetime | None, str, int] | None:
    """A timestamp at ``pos``: (the time if its year is known, its text, where it ends)."""
    for pattern in (_ISO_TS, _NXOS_TS, _BSD_TS):
        m = pattern.match(text, pos)
        if m:
            return _stamp(m), m.group(0).strip(), m.end()
    return None


def _stamp(m: re.Match[str]) -> datetime | None:
    groups = m.groupdict()
    year = groups.get("year") or groups.get("year2")
    if not year:
        return None
    mon = groups["mon"]
    digits = re.search(r"\d+", groups.get("frac") or "")
    micro = int(digits.group(0)[:6].ljust(6, "0")) if digits else 0
    try:
        month = int(mon) if mon.isdigit() else _MONTHS[mon.lower()]
        stamp = datetime(int(year), month, int(groups["day"]), int(groups["h"]), int(groups["mi"]))
        stamp = stamp.replace(second=min(int(groups["s"]), 59), microsecond=micro)  # 60: a leap second
    except (ValueError, KeyError):
        return None
    zone = (groups.get("zone") or "").strip()
    if zone.upper() in _UTC_WORDS:
        return stamp.replace(tzinfo=UTC)
    if zone[:1] in ("+", "-"):
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        if hours < 24 and minutes < 60:
            offset = timedelta(hours=hours, minutes=minutes)
            return stamp.replace(tzinfo=timezone(-offset if zone[0] == "-" else offset))
    return stamp  # no zone, or an ambiguous abbreviation: naive


def _split_tag(content: str) -> tuple[str, str, str]:
    m = _TAG.match(content)
    if m is None:
        return "", "", content
    return m.group(1).lstrip("%"), m.group(2) or "", content[m.end() :]


def _parse_3164(text: str) -> dict[str, Any]:
    """RFC 3164 as devices really send it: optional sequence number, hostname before or after the
    timestamp, a dozen timestamp shapes, or no header at all (then it is all content)."""
    pos, hostname = 0, ""
    seq = _SEQ.match(text)
    if seq:
        pos = seq.end()
    m = _HOST_COLON.match(text, pos)
    if m and (_timestamp(text, m.end()) or (seq and text.startswith("%", m.end()))):
        hostname, pos = m.group(1), m.end()
    stamp, stamp_text = None, ""
    found = _timestamp(text, pos)
    if found:
        stamp, stamp_text, pos = found
        pos = _AFTER_STAMP.match(text, pos).end()  # type: ignore[union-attr]  # matches the empty string
        if not hostname:
            token = _TOKEN.match(text, pos)
            if token and not _looks_like_tag(token.group(1)):
                hostname, pos = token.group(1), token.end()
    content = text[pos:].strip()
    app, procid, message = _split_tag(content)
    return {
        "content": content,
        "message": message,
        "timestamp": stamp,
        "timestamp_text": stamp_text,
        "hostname": hostname,
        "app": app,
        "procid": procid,
    }


def _looks_like_tag(token: str) -> bool:
    return token.startswith("%") or token.endswith(":") or "[" in token


def _parse_5424(text: str) -> dict[str, Any] | None:
    """The part after ``<PRI>1 ``; None when it is not well-formed RFC 5424."""
    parts = text.split(" ", 5)
    if len(parts) < 6:
        return None
    stamp_text, hostname, app, procid, msgid, rest = parts
    stamp = None
    if stamp_text != "-":
        m = _ISO_TS.fullmatch(stamp_text)
        if m is None:
            return None
        stamp = _stamp(m)
    sd = _parse_sd(rest)
    if sd is None:
        return None
    elements, message = sd
    message = message.lstrip("\ufeff")
    nil = {"-": ""}
    hostname, app, procid, msgid = (nil.get(v, v) for v in (hostname, app, procid, msgid))
    prefix = (f"{app}[{procid}]: " if procid else f"{app}: ") if app else ""
    return {
        "content": prefix + (f"{msgid}: " if msgid else "") + message,
        "message": message,
        "timestamp": stamp,
        "timestamp_text": "" if stamp_text == "-" else stamp_text,
        "hostname": hostname,
        "app": app,
        "procid": procid,
        "msgid": msgid,
        "structured_data": elements,
    }


def _parse_sd(rest: str) -> tuple[dict[str, dict[str, str]], str] | None:
    """STRUCTURED-DATA then MSG (RFC 5424 6.3): ``-`` or ``[id name="value" ...]...``."""
    if rest == "-" or rest.startswith("- "):
        return {}, rest[2:]
    n, i = len(rest), 0
    elements: dict[str, dict[str, str]] = {}
    if not rest.startswith("["):
        return None
    while i < n and rest[i] == "[":
        j = i = i + 1
        while j < n and rest[j] not in ' ]="':
            j += 1
        sd_id, i = rest[i:j], j
        if not sd_id:
            return None
        params = elements.setdefault(sd_id, {})
        while i < n and rest[i] == " ":
            j = i = i + 1
            while j < n and rest[j] not in ' ]="':
                j += 1
            name = rest[i:j]
            if not name or rest[j : j + 2] != '="':
                return None
            i, value = j + 2, []
            while i < n and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < n and rest[i + 1] in '"\\]':
                    i += 1
                value.append(rest[i])
                i += 1
            if i >= n:
                return None
            params[name] = "".join(value)
            i += 1
        if i >= n or rest[i] != "]":
            return None
        i += 1
    if i == n:
        return elements, ""
    if rest[i] == " ":
        return elements, rest[i + 1 :]
    return None


# --------------------------------------------------------------------------------------- framing
@dataclass(frozen=True, slots=True)
class FramingError:
    reason: str
    sample: bytes


_OCTET = re.compile(rb"([1-9]\d{0,8}) ")
_DIGITS = re.compile(rb"\d{1,9}")
_GAP = re.compile(rb"[\r\n\x00]*")


class FrameDecoder:
    """A TCP byte stream → syslog frames (RFC 6587): octet counting (``123 <34>1 ...``) or
    newline-terminated. Detected per frame, so a sender may even mix them; memory stays bounded."""

    def __init__(self, limit: int = MAX_MESSAGE) -> None:
        self.limit = limit
        self.buf = bytearray()
        self.skip = 0  # bytes of an over-long counted frame still to discard
        self.skip_line = False  # discarding an over-long line up to its end

    def feed(self, data: bytes) -> list[bytes | FramingError]:
        self.buf += data
        out: list[bytes | FramingError] = []
        buf, pos = self.buf, 0
        while True:
            if self.skip:
                taken = min(self.skip, len(buf) - pos)
                pos += taken
                self.skip -= taken
                if self.skip:
                    break
            if self.skip_line:
                end = buf.find(b"\n", pos)
                if end < 0:
                    pos = len(buf)
                    break
                pos, self.skip_line = end + 1, False
            pos = _GAP.match(buf, pos).end()  # type: ignore[union-attr]  # stray line ends between frames
            if pos >= len(buf):
                break
            counted = _OCTET.match(buf, pos)
            if counted is None and _DIGITS.fullmatch(buf, pos):
                break  # only digits so far: may be a count whose space has not arrived
            if counted is not None and counted.end() == len(buf):
                break  # "123 " and nothing yet: wait to see whether "<" follows
            if counted is not None and buf[counted.end()] == ord("<"):
                size, start = int(counted.group(1)), counted.end()
                if size > self.limit:
                    sample = bytes(buf[start : start + 512])
                    out.append(FramingError(f"frame too long: {size} bytes (limit {self.limit})", sample))
                    pos, self.skip = start, size
                    continue
                if len(buf) - start < size:
                    break
                out.append(bytes(buf[start : start + size]))
                pos = start + size
                continue
            end = buf.find(b"\n", pos, pos + self.limit + 1)
            if end >= 0:
                line = bytes(buf[pos:end]).rstrip(b"\r")
                pos = end + 1
                if line.strip():
                    out.append(line)
                continue
            if len(buf) - pos > self.limit:
                sample = bytes(buf[pos : pos + 512])
                out.append(FramingError(f"too long: a line of over {self.limit} bytes", sample))
                pos, self.skip_line = len(buf), True
            break
        del buf[:pos]
        return out

    def finish(self) -> list[bytes | FramingError]:
        """The connection closed: what is left is a last unterminated line, or a truncated frame."""
        rest = bytes(self.buf).strip(b" \t\r\n\x00")
        was_skipping = self.skip or self.skip_line
        self.buf.clear()
        self.skip, self.skip_line = 0, False
        if not rest or was_skipping:
            return []
        counted = _OCTET.match(rest)
        if counted is not None and rest[counted.end() : counted.end() + 1] == b"<":
            got, size = len(rest) - counted.end(), int(counted.group(1))
            return [FramingError(f"truncated frame: got {got} of {size} bytes", rest[:SAMPLE_BYTES])]
        return [rest]


# --------------------------------------------------------------------------------------- rules
class RulesError(ValueError):
    """A rules file that cannot be used (raised at start-up: a silently dead rule is worse)."""


_PORT = (  # how devices write interface names; "GigabitEthernet 0/1" with a space is Ruijie/FiberHome
    r"(?P<port>[A-Za-z][A-Za-z-]{0,40} \d{1,5}(?:[/:.]\d{1,5}){0,6}(?![\w/])"
    r"|[A-Za-z0-9](?:[\w.:/-]{0,62}[A-Za-z0-9])?)"
)
_IFACE = (  # stricter, for catch-all rules: slot/port numbering, or a well-known interface prefix
    r"(?<![\w/.-])(?P<port>[A-Za-z][\w-]{0,40}?\d{1,5}(?:[/:]\d{1,5}){1,6}(?:\.\d{1,7})?"
    r"|(?:eth|ether|en[ops]|em|wlan|bond|br|vlan|tunnel|ae|port-channel|po|bundle-ether|eth-trunk|sfp)"
    r"[\w-]{0,30}?\d{1,5}(?:\.\d{1,7})?)(?![\w/.-])"
)
MACROS = {
    "{{port}}": _PORT,
    "{{nport}}": r"(?=[A-Za-z-]{0,40} ?\d|[^\s,]{0,64}\d)" + _PORT,  # a port name with a number in it
    "{{iface}}": _IFACE,
    "{{state}}": r"(?P<state>(?:administratively )?down|up)\b",
}
_RULE_KEYS = {"name", "pattern", "type", "severity", "state", "states", "object", "cause", "ignore"}
_RULE_KEYS |= {"case_sensitive", "vendor", "example"}


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    regex: re.Pattern[str]
    type: str = "LINK_DOWN"
    severity: str = "major"
    state: str | None = None  # fixed "down"/"up"; else read from the (?P<state>) group
    states: Mapping[str, str] = field(default_factory=dict)  # captured text (lower case) → down/up
    object: str | None = None  # fixed object; else the (?P<port>) group
    cause: str = ""
    ignore: bool = False
    origin: str = ""


@dataclass(frozen=True, slots=True)
class RuleMatch:
    rule: Rule
    port: str
    state: str  # "down" or "up"
    state_text: str


def _state_of(text: str, states: Mapping[str, str]) -> str | None:
    word = " ".join(text.lower().split())
    if word in states:
        return states[word]
    if "down" in word:
        return "down"
    if "up" in word:
        return "up"
    return None


def parse_rules(document: Any, origin: str) -> list[Rule]:
    """Validate rules data (a list, or ``{"rules": [...]}``); raises :class:`RulesError` naming the rule."""
    if isinstance(document, Mapping) and "rules" in document:
        document = document["rules"]
    if document is None:
        return []
    if not isinstance(document, list):
        raise RulesError(f"{origin}: expected a list of rules, not {type(document).__name__}")
    rules: list[Rule] = []
    for index, item in enumerate(document, 1):
        where = f"{origin}: rule {index}"
        if not isinstance(item, Mapping):
            raise RulesError(f"{where}: must be a mapping")
        if isinstance(item.get("name"), str):
            where += f" ({item['name']})"
        rules.append(_rule(item, where, origin))
    return rules


def _rule(item: Mapping[str, Any], where: str, origin: str) -> Rule:
    unknown = set(item) - _RULE_KEYS
    if unknown:
        raise RulesError(f"{where}: unknown keys {sorted(unknown)}")
    name, pattern = item.get("name"), item.get("pattern")
    if not isinstance(name, str) or not name.strip():
        raise RulesError(f"{where}: 'name' is required")
    if not isinstance(pattern, str) or not pattern:
        raise RulesError(f"{where}: 'pattern' is required")
    for macro, expansion in MACROS.items():
        pattern = pattern.replace(macro, expansion)
    try:
        regex = re.compile(pattern, 0 if item.get("case_sensitive") else re.IGNORECASE)
    except re.error as exc:
        raise RulesError(f"{where}: bad pattern: {exc}") from None
    ignore = bool(item.get("ignore", False))
    state = item.get("state")
    if state is not None and state not in ("down", "up"):
        raise RulesError(f"{where}: 'state' must be down or up")
    raw_states = item.get("states") or {}
    if not isinstance(raw_states, Mapping) or any(v not in ("down", "up") for v in raw_states.values()):
        raise RulesError(f"{where}: 'states' must map captured text to down or up")
    states = {" ".join(str(k).lower().split()): str(v) for k, v in raw_states.items()}
    obj = item.get("object")
    if not ignore:
        if state is None and "state" not in regex.groupindex:
            raise RulesError(f"{where}: needs a (?P<state>...) group or a fixed 'state'")
        if obj is None and "port" not in regex.groupindex:
            raise RulesError(f"{where}: needs a (?P<port>...) group or a fixed 'object'")
    type_ = str(item.get("type") or "LINK_DOWN").strip().upper().replace("-", "_").replace(" ", "_")
    try:
        severity = canonical_severity(str(item.get("severity") or "major"))
    except ValueError as exc:
        raise RulesError(f"{where}: {exc}") from None
    if severity == "cleared":
        raise RulesError(f"{where}: 'severity' is the raise's; an up state is the clear")
    return Rule(
        name=name.strip(),
        regex=regex,
        type=type_,
        severity=severity,
        state=state,
        states=states,
        object=None if obj is None else str(obj),
        cause=str(item.get("cause") or ""),
        ignore=ignore,
        origin=origin,
    )


@lru_cache(maxsize=1)
def shipped_rules() -> tuple[Rule, ...]:
    text = resources.files("linewatch.ingest").joinpath("syslog_rules.yaml").read_text(encoding="utf-8")
    return tuple(parse_rules(yaml.safe_load(text), "syslog_rules.yaml"))


def load_rules(rules_file: str | Path | None = None) -> list[Rule]:
    """The operator's rules (tried first), then the shipped ones."""
    operator: list[Rule] = []
    if rules_file:
        path = Path(rules_file)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RulesError(f"{path}: cannot read syslog rules: {exc}") from None
        operator = parse_rules(document, str(path))
    return [*operator, *shipped_rules()]


def match_rules(message: SyslogMessage, rules: Iterable[Rule]) -> RuleMatch | None:
    """The first rule that matches and yields an object and a state; None: not an alarm."""
    text = message.content[:MATCH_WINDOW]
    for rule in rules:
        m = rule.regex.search(text)
        if m is None:
            continue
        if rule.ignore:
            return RuleMatch(rule, "", "", "")
        state_text = (m.group("state") if "state" in rule.regex.groupindex else None) or ""
        state = rule.state or _state_of(state_text, rule.states)
        port = rule.object if rule.object is not None else (m.group("port") or "").strip()
        if state is None or (rule.object is None and not port):
            continue
        return RuleMatch(rule, port, state, state_text)
    return None


# --------------------------------------------------------------------------------------- events
def _plain_ip(value: str) -> str:
    """An IP address in its canonical form (IPv4-mapped IPv6 as IPv4); "" if ``value`` is none."""
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def event_time(message: SyslogMessage, received_at: datetime, tz: ZoneInfo) -> datetime:
    """The device's time when it is complete (year, and zone or ours assumed) and plausible."""
    stamp = message.timestamp
    if stamp is None:
        return received_at
    if stamp.tzinfo is None:
        stamp, before, after = stamp.replace(tzinfo=tz), NAIVE_SKEW, NAIVE_SKEW
    else:
        before, after = ZONED_PAST, ZONED_FUTURE
    return stamp if received_at - before <= stamp <= received_at + after else received_at


def build_event(
    message: SyslogMessage, found: RuleMatch, sender: str, received_at: datetime, tz: ZoneInfo | None = None
) -> AlarmEvent:
    """The alarm (state down) or clear (up). NE: the hostname as ``ne`` and the sender as ``ne_ip``,
    so inventory resolves either; a hostname that is an IP address (a relay passing on the device's
    own address, or ``logging origin-id ip``) is the better ``ne_ip``."""
    host = message.hostname if 0 < len(message.hostname) <= MAX_NAME else ""
    host_ip = _plain_ip(host) if host else ""
    ne, ne_ip = ("", host_ip) if host_ip else (host, _plain_ip(sender) or sender[:64])
    down = found.state == "down"
    cause = found.rule.cause or ("administratively down" if "admin" in found.state_text.lower() else "")
    text = message.raw if len(message.raw) <= MAX_TEXT else message.raw[: MAX_TEXT - 1] + "…"
    return AlarmEvent(
        source=SOURCE,
        type=found.rule.type,
        severity=found.rule.severity if down else "cleared",
        event_time=event_time(message, received_at, tz or ZoneInfo(DEFAULT_TZ)),
        ne=ne,
        ne_ip=ne_ip,
        object=found.port[:MAX_NAME],
        text=text,
        probable_cause=cause if down else "",
        extra={"rule": found.rule.name, "hostname": message.hostname[:MAX_NAME], "sender": sender},
    )


def _payload(data: bytes) -> str:
    """What a dead letter keeps: text, never a NUL (PostgreSQL text cannot hold one)."""
    return data[:MAX_MESSAGE].decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


# --------------------------------------------------------------------------------------- listener
@dataclass(frozen=True, slots=True)
class _Item:
    data: bytes
    remote: str
    received_at: datetime
    error: str = ""  # a framing error: refuse with this reason


class _TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True  # the listener tracks and joins its connections itself

    def __init__(self, address: tuple[str, int], listener: SyslogListener, family: int) -> None:
        self.address_family = family
        self.listener = listener
        super().__init__(address, _TcpHandler)


class _TcpHandler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        self.server.listener._serve_connection(self.request, self.client_address)


class SyslogListener(Adapter):
    """UDP and TCP syslog on one port. Counts everything; never dies of what a device sends."""

    name = "syslog"

    def __init__(
        self,
        sink: Sink,
        *,
        host: str = "127.0.0.1",
        port: int = 1514,
        rules_file: str | Path | None = None,
        now: Callable[[], datetime] | None = None,
        tz: str | ZoneInfo = DEFAULT_TZ,
        batch_max: int = BATCH_MAX,
        batch_wait: float = BATCH_WAIT,
        queue_max: int = QUEUE_MAX,
    ) -> None:
        super().__init__(sink)
        self.host, self.port = host, port
        self.rules = load_rules(rules_file)
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz  # where zone-less device times are
        # Receipt time: pass the app clock's ``now`` so it follows a manual (test/drill) clock.
        self.now = now or Clock(str(self.tz)).now
        self.batch_max, self.batch_wait = batch_max, batch_wait
        self.stats: Counter[str] = Counter(dict.fromkeys(STATS, 0))
        self.unmatched_samples: deque[dict[str, str]] = deque(maxlen=UNMATCHED_SAMPLES)
        # Receivers hand over bursts (a UDP drain, a TCP read); the backlog counts their items.
        self._queue: queue.SimpleQueue[list[_Item] | None] = queue.SimpleQueue()
        self._queue_max, self._backlog = queue_max, 0
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # TCP readers wait here while the backlog is full
        self._addresses: dict[str, str] = {}  # sender address → canonical form (parsing it is slow)
        self._stopping = threading.Event()
        self._udp: socket.socket | None = None
        self._tcp: _TcpServer | None = None
        self._threads: list[threading.Thread] = []
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._pending: list[AlarmEvent] = []
        self._retry_at = 0.0
        self._dead_letter_second, self._dead_letters = 0, 0
        self._last_warning: dict[str, float] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Bind UDP and TCP on one port (port 0: a free one, then exposed as ``.port``) and serve."""
        if self._threads:
            return
        self._stopping.clear()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _attempt in range(20):
            tcp = _TcpServer((self.host, self.port), self, family)
            udp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                udp.bind((self.host, tcp.server_address[1]))
            except OSError:
                udp.close()
                tcp.server_close()
                if self.port:
                    raise
                continue  # the free TCP port was taken for UDP: pick another
            break
        else:
            raise OSError(f"no port free for both UDP and TCP on {self.host}")
        self.port = tcp.server_address[1]
        with contextlib.suppress(OSError):
            udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)  # absorb bursts
        udp.setblocking(False)  # drained in bursts after a readiness wait that notices stop()
        self._udp, self._tcp = udp, tcp
        self._threads = [
            threading.Thread(target=self._work, name="syslog-worker", daemon=True),
            threading.Thread(target=self._serve_udp, name="syslog-udp", daemon=True),
            threading.Thread(target=tcp.serve_forever, args=(0.1,), name="syslog-tcp", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info(
            "syslog listening on %s port %d (UDP and TCP), %d rules", self.host, self.port, len(self.rules)
        )

    def stop(self) -> None:
        """Close the sockets, end every connection, deliver what was received, join the threads."""
        if not self._threads:
            return
        self._stopping.set()
        worker, udp_thread, tcp_thread = self._threads
        if self._tcp is not None:
            self._tcp.shutdown()
            self._tcp.server_close()
        with self._lock:
            connections = list(self._connections.items())
        for conn, _thread in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for _conn, thread in connections:
            thread.join(timeout=5)
        udp_thread.join(timeout=5)
        tcp_thread.join(timeout=5)
        if self._udp is not None:
            self._udp.close()
        self._queue.put(None)  # after what was received: the worker delivers it, then ends
        worker.join(timeout=60)
        self._threads, self._udp, self._tcp = [], None, None

    @property
    def running(self) -> bool:
        """Readiness: every thread (worker, UDP, TCP) is serving."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def diagnostics(self) -> dict[str, Any]:
        with self._lock:
            stats = dict(self.stats)
            samples = list(self.unmatched_samples)
            connections = len(self._connections)
        return {
            **super().diagnostics(),
            "host": self.host,
            "port": self.port,
            "rules": len(self.rules),
            "queued": self._backlog,
            "pending": len(self._pending),
            "tcp_connections_open": connections,
            **stats,
            "unmatched_samples": samples,
        }

    # ------------------------------------------------------------------ receiving
    def _bump(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] += n

    def _warn(self, key: str, message: str, *args: object) -> None:
        """Log at most every 10 s per kind: a flood must not become a log flood (counters tell all)."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_warning.get(key, -1e9) < 10:
                return
            self._last_warning[key] = now
        log.warning(message, *args)

    def _enqueue(self, items: list[_Item], *, wait: bool) -> None:
        """Hand a burst to the worker. Over the backlog limit UDP is dropped (counted); TCP waits,
        which pushes back on the sender instead of losing its lines."""
        with self._room:
            self.counters.received += len(items)
            if wait:
                while self._backlog >= self._queue_max and not self._stopping.is_set():
                    self._room.wait(timeout=0.5)
            elif self._backlog + len(items) > self._queue_max:
                self.stats["dropped_queue_full"] += len(items)
                items = []
            self._backlog += len(items)
        if items:
            self._queue.put(items)
        elif not wait:
            self._warn("queue", "syslog: backlog full, UDP messages dropped (see diagnostics)")

    def _address(self, raw: str) -> str:
        address = self._addresses.get(raw)
        if address is None:
            if len(self._addresses) > 10_000:
                self._addresses.clear()
            address = self._addresses[raw] = _plain_ip(raw) or raw
        return address

    def _serve_udp(self) -> None:
        sock = self._udp
        assert sock is not None
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if not selector.select(timeout=0.2):
                    continue  # lets the loop notice stop()
                burst: list[_Item] = []
                now = self.now()
                while len(burst) < UDP_BURST:  # drain what the kernel holds: one hand-over, not many
                    try:
                        data, address = sock.recvfrom(MAX_MESSAGE + 1)
                    except BlockingIOError:
                        break
                    except OSError as exc:
                        if not self._stopping.is_set():
                            self._bump("udp_errors")
                            self._warn("udp", "syslog: UDP receive failed: %s", exc)
                        break
                    burst.append(_Item(data, self._address(address[0]), now))
                if burst:
                    self._enqueue(burst, wait=False)

    def _serve_connection(self, conn: socket.socket, address: Any) -> None:
        remote = self._address(str(address[0]))
        with self._lock:
            crowded = len(self._connections) >= MAX_TCP_CLIENTS
            if not crowded:
                self._connections[conn] = threading.current_thread()
        if crowded:
            self._bump("tcp_refused_too_many")
            self._warn("crowded", "syslog: over %d TCP connections; refusing more", MAX_TCP_CLIENTS)
            return
        self._bump("tcp_connections")
        decoder = FrameDecoder()
        try:
            while not self._stopping.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    self._bump("tcp_resets")
                    break
                if not data:
                    break
                self._frames(decoder.feed(data), remote)
            self._frames(decoder.finish(), remote)
        except Exception:  # a bug must cost one connection, never the listener
            self._bump("internal_errors")
            log.exception("syslog: TCP connection from %s failed", remote)
        finally:
            with self._lock:
                self._connections.pop(conn, None)

    def _frames(self, frames: list[bytes | FramingError], remote: str) -> None:
        if not frames:
            return
        now = self.now()
        self._enqueue(
            [
                _Item(f.sample, remote, now, error=f.reason)
                if isinstance(f, FramingError)
                else _Item(f, remote, now)
                for f in frames
            ],
            wait=True,
        )

    # ------------------------------------------------------------------ processing (one worker)
    def _work(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=RETRY_EVERY if self._pending else None)
            except queue.Empty:
                self._flush([])  # storage was away: try the held events again
                continue
            items, stop = [], first is None
            if first is not None:
                items += first
                deadline = time.monotonic() + self.batch_wait
                while len(items) < self.batch_max:
                    try:
                        burst = self._queue.get(timeout=max(deadline - time.monotonic(), 0.0))
                    except queue.Empty:
                        break
                    if burst is None:
                        stop = True
                        break
                    items += burst
            with self._room:
                self._backlog -= len(items)
                self._room.notify_all()
            events = [event for event in map(self._process, items) if event is not None]
            self._flush(events, final=stop)
            if stop:
                return

    def _process(self, item: _Item) -> AlarmEvent | None:
        try:
            if item.error:
                self._refuse(item, item.error)
                return None
            message = parse_message(item.data)
            if isinstance(message, str):
                self._refuse(item, message)
                return None
            found = match_rules(message, self.rules)
            if found is None:
                with self._lock:
                    self.stats["unmatched"] += 1
                    self.unmatched_samples.append(
                        {"remote": item.remote, "at": item.received_at.isoformat(), "text": message.raw[:500]}
                    )
                return None
            if found.rule.ignore:
                self._bump("ignored")
                return None
            self._bump("matched")
            return build_event(message, found, item.remote, item.received_at, self.tz)
        except Exception:  # as for connections: one bad message, not a dead worker
            self._bump("internal_errors")
            log.exception("syslog: could not process a message from %s", item.remote)
            return None

    def _refuse(self, item: _Item, reason: str) -> None:
        kind = reason.split(":")[0]
        self._warn(f"refused:{kind}", "syslog: refused a message from %s: %s", item.remote, reason)
        second = int(time.monotonic())
        if second != self._dead_letter_second:
            self._dead_letter_second, self._dead_letters = second, 0
        self._dead_letters += 1
        if self._dead_letters <= DEAD_LETTERS_PER_SECOND:
            self.refuse(item.remote, reason, _payload(item.data[:SAMPLE_BYTES]), kind=kind)
        else:
            self.counters.rejected[kind] += 1
            self._bump("dead_letters_not_kept")

    def _flush(self, events: list[AlarmEvent], *, final: bool = False) -> None:
        """One delivery for the batch; on failure hold the events (bounded) and retry later."""
        batch = self._pending + events if self._pending else events
        if not batch:
            return
        if self._pending and time.monotonic() < self._retry_at and not final:
            self._hold(batch)
            return
        try:
            self.deliver(batch)
        except Exception as exc:
            self._bump("delivery_failures")
            self._warn("deliver", "syslog: delivery failed (%s); %d events held for retry", exc, len(batch))
            if final:
                self._bump("events_lost", len(batch))
                self._pending = []
                return
            self._hold(batch)
            self._retry_at = time.monotonic() + RETRY_EVERY
            return
        self._pending = []
        self._bump("deliveries")

    def _hold(self, batch: list[AlarmEvent]) -> None:
        if len(batch) > MAX_PENDING:  # keep the newest: the latest state of a port matters most
            self._bump("events_lost", len(batch) - MAX_PENDING)
            batch = batch[-MAX_PENDING:]
        self._pending = batch

"""The PCIC 2021 microwave data set (gcastle-hub/dataset, MIT; read from ../shared/data, never copied)
mapped onto a Linewatch inventory and a native-HTTP alarm stream. Used by bench/replay_pcic.py.

Devices → NEs ``MW-0001``…``MW-0439`` (device id + 1): ``IPRAN`` where the topology degree is ≥ 3
(aggregation), ``PTN`` otherwise; four contiguous regions grown by breadth-first search from hubs;
mgmt IPs 10.39.x.y. Every topology edge gives a port at both ends, ``to-<neighbour>``. Customers are
centre sites with circuits to their component's hub NE and branch circuits from other NEs to the
centre, routed on shortest paths (two hops per transit NE: in port and out port). The topology is
almost a forest (395 links, 439 NEs), so about half the key customers are placed where a second path
exists, and their centre data circuit gets the least-overlapping one as backup route. NEs no route
crosses get a small local customer, so every alarming NE hurts some circuit.

Alarm types: DAG.npy's two parentless types are roots (POWER_FAIL, HARD_BAD); shallow types with
many descendants are root-type faults; the deep ones take the consequent names of Linewatch's
policy (MS_AIS, AU_AIS, TU_AIS, RDI…; NE_NOT_REACHABLE is one there, so it names a type with
parents, not a root). See :data:`TYPES`. Port (link-type) alarms sit on the port
towards the neighbour whose nearest alarm is closest in time (within 300 s), else on a fixed one.
"""

from __future__ import annotations

import ast
import bisect
import csv
import heapq
import random
import struct
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from linewatch.inventory.tables import TABLES

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pcic" / "24V_439N_Microwave"
EPOCH = datetime(2021, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai"))  # second 0 of the log
SOURCE = "pcic"
NEAR_SECONDS = 300  # a link alarm's port points at the neighbour alarming within this


@dataclass(frozen=True)
class AlarmType:
    name: str
    severity: str
    link: bool  # on a port (one topology edge) rather than the whole NE


# index → type. Comment: DAG depth (longest path from a parentless type), and Linewatch's reading
# (C = in the policy's consequent_types: linked to a root, never extends impact; else root-type).
TYPES: dict[int, AlarmType] = {
    20: AlarmType("POWER_FAIL", "critical", False),  # depth 0, no parents; NE-level in the policy
    21: AlarmType("HARD_BAD", "critical", False),  # depth 0, no parents; board failure → 14
    13: AlarmType("LOS", "critical", True),  # depth 1 (← POWER_FAIL)
    17: AlarmType("BATTERY_LOW", "major", False),  # depth 1 (← POWER_FAIL: running on battery)
    0: AlarmType("MW_LOF", "critical", True),  # depth 2 (← LOS); the commonest type
    9: AlarmType("R_LOF", "critical", True),  # depth 3
    11: AlarmType("LINK_DOWN", "major", True),  # depth 4
    18: AlarmType("MW_BER_SD", "major", True),  # depth 5: radio signal degraded
    14: AlarmType("BD_STATUS", "major", False),  # depth 6 (← HARD_BAD): board offline
    16: AlarmType("NE_NOT_REACHABLE", "major", False),  # depth 6, C: radio down → in-band DCN lost
    12: AlarmType("RDI", "minor", True),  # depth 6, C
    8: AlarmType("MS_AIS", "major", True),  # depth 7, C
    3: AlarmType("AU_AIS", "major", True),  # depth 8, C (← MS_AIS)
    7: AlarmType("MS_RDI", "minor", True),  # depth 8, C (← MS_AIS)
    1: AlarmType("TU_AIS", "major", True),  # depth 9, C (← AU_AIS)
    2: AlarmType("ETH_LOS", "major", True),  # depth 9, C
    6: AlarmType("HP_RDI", "minor", True),  # depth 9, C (← AU_AIS)
    23: AlarmType("PROTECTION_SWITCH", "warning", False),  # depth 9, sink: protection switched
    15: AlarmType("LP_RDI", "minor", True),  # depth 10, C (← TU_AIS)
    19: AlarmType("HP_UNEQ", "minor", True),  # depth 10, sink
    22: AlarmType("TUNNEL_DOWN", "major", False),  # depth 10 (← ETH_LOS, AU_AIS, LINK_DOWN…)
    5: AlarmType("PW_DOWN", "major", False),  # depth 11 (← TUNNEL_DOWN)
    10: AlarmType("VSI_DOWN", "major", False),  # depth 12 (← PW_DOWN)
    4: AlarmType("ETH_OAM_LOC", "major", False),  # depth 13, sink (← VSI_DOWN, TUNNEL_DOWN)
}
REGIONS = (("GL", "鼓楼区"), ("TJ", "台江区"), ("CS", "仓山区"), ("JA", "晋安区"))
LEVELS = (
    ("cross_province", 0.02),
    ("provincial", 0.06),
    ("municipal_key", 0.12),
    ("unit_key", 0.10),
    ("normal", 0.70),
)
INDUSTRIES = ("政府", "医疗", "金融", "教育", "交通", "制造", "零售", "能源")


@dataclass(frozen=True, slots=True)
class Alarm:
    type: int
    device: int
    start: int
    end: int


@dataclass
class Dataset:
    alarms: list[Alarm]
    adjacency: list[list[int]]  # device → sorted neighbours
    dag: list[list[int]]  # dag[i][j] = 1: type i causes type j


def read_npy(path: Path) -> list[list[int]]:
    """A 2-D little-endian int64 .npy matrix, without numpy (the format is a header and raw data)."""
    data = path.read_bytes()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path} is not a .npy file")
    size, start = (
        (struct.unpack("<H", data[8:10])[0], 10) if data[6] == 1 else (struct.unpack("<I", data[8:12])[0], 12)
    )
    header = ast.literal_eval(data[start : start + size].decode("latin1"))
    if header["descr"] != "<i8" or len(header["shape"]) != 2:
        raise ValueError(f"{path}: expected a 2-D <i8 matrix, got {header}")
    rows, cols = header["shape"]
    flat = struct.unpack(f"<{rows * cols}q", data[start + size : start + size + 8 * rows * cols])
    if header["fortran_order"]:
        return [[flat[j * rows + i] for j in range(cols)] for i in range(rows)]
    return [list(flat[i * cols : (i + 1) * cols]) for i in range(rows)]


def load(folder: Path) -> Dataset:
    with (folder / "Alarm.csv").open(encoding="utf-8", newline="") as handle:
        alarms = [
            Alarm(int(r["alarm_id"]), int(r["device_id"]), int(r["start_timestamp"]), int(r["end_timestamp"]))
            for r in csv.DictReader(handle)
        ]
    topology = read_npy(folder / "Topology.npy")
    adjacency = [[j for j, linked in enumerate(row) if linked and j != i] for i, row in enumerate(topology)]
    return Dataset(alarms, adjacency, read_npy(folder / "DAG.npy"))


def ne_name(device: int) -> str:
    return f"MW-{device + 1:04d}"


def port_name(neighbour: int) -> str:
    return f"to-{ne_name(neighbour)}"


def at(second: int) -> datetime:
    return EPOCH + timedelta(seconds=second)


# ---------------------------------------------------------------- the alarm stream


def alarm_objects(ds: Dataset) -> list[str]:
    """Each alarm's object: link types: the port towards the neighbour alarming nearest in time; others ''."""
    times: list[list[int]] = [[] for _ in ds.adjacency]
    for alarm in ds.alarms:
        times[alarm.device].append(alarm.start)
    for series in times:
        series.sort()
    objects = []
    for alarm in ds.alarms:
        neighbours = ds.adjacency[alarm.device]
        if not TYPES[alarm.type].link or not neighbours:
            objects.append("")
            continue
        best: tuple[int, int] | None = None
        for n in neighbours:
            series = times[n]
            k = bisect.bisect_left(series, alarm.start)
            gaps = [abs(series[i] - alarm.start) for i in (k - 1, k) if 0 <= i < len(series)]
            if gaps and (best is None or min(gaps) < best[0]):
                best = (min(gaps), n)
        chosen = best[1] if best and best[0] <= NEAR_SECONDS else neighbours[alarm.type % len(neighbours)]
        objects.append(port_name(chosen))
    return objects


@dataclass(frozen=True, slots=True)
class Event:
    time: int
    clear: bool
    index: int  # the alarm's row in Alarm.csv
    body: dict[str, Any]


def type_names(blind: bool = False) -> dict[int, AlarmType]:
    """:data:`TYPES`, or (``blind``) neutral names PCIC_00…PCIC_23, all major and root-type: a control
    in which nothing learnt from DAG.npy reaches Linewatch (objects stay as mapped)."""
    if not blind:
        return TYPES
    return {i: AlarmType(f"PCIC_{i:02d}", "major", t.link) for i, t in TYPES.items()}


def stream(ds: Dataset, hold_seconds: int = 0, blind: bool = False) -> list[Event]:
    """A raise at start and a clear at max(end, start + hold) for every alarm, in event-time order; in
    one second raises come before clears, each in file order (nearly all PCIC alarms have end = start)."""
    objects = alarm_objects(ds)
    types = type_names(blind)
    stamps: dict[int, str] = {}

    def stamp(second: int) -> str:
        if second not in stamps:
            stamps[second] = at(second).isoformat()
        return stamps[second]

    events = []
    for i, (alarm, obj) in enumerate(zip(ds.alarms, objects, strict=True)):
        kind = types[alarm.type]
        base = {"source": SOURCE, "ne": ne_name(alarm.device), "object": obj, "type": kind.name}
        extra = {"source_id": str(i + 1), "text": f"PCIC type {alarm.type}"}
        end = max(alarm.end, alarm.start + hold_seconds)
        events.append(
            Event(
                alarm.start,
                False,
                i,
                {**base, "severity": kind.severity, "event_time": stamp(alarm.start), **extra},
            )
        )
        events.append(Event(end, True, i, {**base, "severity": "cleared", "event_time": stamp(end), **extra}))
    events.sort(key=lambda e: (e.time, e.clear, e.index))
    return events


# ---------------------------------------------------------------- the inventory


def components(adjacency: list[list[int]]) -> list[list[int]]:
    seen: set[int] = set()
    found = []
    for start in range(len(adjacency)):
        if start in seen:
            continue
        seen.add(start)
        members, queue = [start], deque([start])
        while queue:
            for n in adjacency[queue.popleft()]:
                if n not in seen:
                    seen.add(n)
                    members.append(n)
                    queue.append(n)
        found.append(members)
    return found


def cheapest_path(
    adjacency: list[list[int]],
    a: int,
    z: int,
    avoid: set[frozenset[int]] | None = None,
    transit: set[int] | None = None,
) -> list[int] | None:
    """Fewest hops from a to z; with ``avoid``/``transit`` (a primary's edges and transit NEs) each reuse
    costs 1,000 hops, which gives the least-overlapping other path."""
    avoid, transit = avoid or set(), transit or set()
    best = {a: 0}
    previous: dict[int, int] = {}
    heap = [(0, a)]
    while heap:
        cost, u = heapq.heappop(heap)
        if u == z:
            path = [z]
            while path[-1] != a:
                path.append(previous[path[-1]])
            return path[::-1]
        if cost > best[u]:
            continue
        for n in adjacency[u]:
            step = 1 + (1000 if frozenset((u, n)) in avoid else 0) + (1000 if n in transit else 0)
            if cost + step < best.get(n, 1 << 60):
                best[n] = cost + step
                previous[n] = u
                heapq.heappush(heap, (cost + step, n))
    return None


def backup_path(adjacency: list[list[int]], primary: list[int]) -> list[int] | None:
    edges = {frozenset(p) for p in pairwise(primary)}
    other = cheapest_path(adjacency, primary[0], primary[-1], edges, set(primary[1:-1]))
    if other is None or {frozenset(p) for p in pairwise(other)} == edges:
        return None
    return other


def hops(path: list[int]) -> list[tuple[str, str]]:
    """Route hops: the in port and the out port of every NE on the path (one portless hop if local)."""
    if len(path) == 1:
        return [(ne_name(path[0]), "")]
    out = []
    for i, device in enumerate(path):
        if i > 0:
            out.append((ne_name(device), port_name(path[i - 1])))
        if i < len(path) - 1:
            out.append((ne_name(device), port_name(path[i + 1])))
    return out


def regions_of(adjacency: list[list[int]]) -> list[str]:
    """Four contiguous regions: breadth-first from the four best-connected hubs far apart; components
    no hub reaches go whole to the smallest region."""
    order = sorted(range(len(adjacency)), key=lambda d: (-len(adjacency[d]), d))
    seeds: list[int] = []
    for d in order:
        if len(seeds) == len(REGIONS):
            break
        if all((p := cheapest_path(adjacency, d, s)) is None or len(p) > 6 for s in seeds):
            seeds.append(d)
    region: dict[int, int] = {s: k for k, s in enumerate(seeds)}
    queue = deque(seeds)
    while queue:
        u = queue.popleft()
        for n in adjacency[u]:
            if n not in region:
                region[n] = region[u]
                queue.append(n)
    sizes = [sum(1 for r in region.values() if r == k) for k in range(len(REGIONS))]
    for members in sorted(components(adjacency), key=len, reverse=True):
        if members[0] in region:
            continue
        k = sizes.index(min(sizes))
        for d in members:
            region[d] = k
        sizes[k] += len(members)
    return [REGIONS[region[d]][0] for d in range(len(adjacency))]


def write_inventory(ds: Dataset, folder: Path, customers: int = 320, seed: int = 2021) -> dict[str, int]:
    """Write the import CSVs into ``folder``; returns counts."""
    rng = random.Random(seed)
    adjacency = ds.adjacency
    n = len(adjacency)
    region = regions_of(adjacency)
    kind = ["IPRAN" if len(adjacency[d]) >= 3 else "PTN" for d in range(n)]
    groups = components(adjacency)
    hub = {}
    for members in groups:
        top = min(members, key=lambda d: (-len(adjacency[d]), d))
        for d in members:
            hub[d] = top
    linked = [d for d in range(n) if adjacency[d]]
    dual_capable = [
        d
        for d in linked
        if d != hub[d] and backup_path(adjacency, cheapest_path(adjacency, d, hub[d]) or [d])
    ]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    rows["regions"] = [{"code": c, "name": name} for c, name in REGIONS]
    rows["teams"] = [
        {"code": f"CT-{c}", "name": f"{name}代维", "kind": "contractor", "regions": c} for c, name in REGIONS
    ]
    for d in range(n):
        rows["network_elements"].append(
            {
                "name": ne_name(d),
                "type": kind[d],
                "vendor": "Huawei",
                "ems": "U2000",
                "site": f"微波站点{d + 1:04d}",
                "region": region[d],
                "mgmt_ip": f"10.39.{d // 200}.{d % 200 + 1}",
            }
        )
        for k, nb in enumerate(adjacency[d], start=1):
            rows["ports"].append({"ne": ne_name(d), "port": port_name(nb), "if_index": k})
    covered: set[int] = set()
    counters = {"customers": 0, "circuits": 0, "dual_routed": 0, "key_customers": 0}

    def customer(level: str, center: int) -> str:
        counters["customers"] += 1
        code = f"C{counters['customers']:04d}"
        key = level != "normal"
        counters["key_customers"] += key
        grade = rng.choice(("diamond", "gold", "silver")) if key else rng.choice(("bronze", "standard"))
        industry = rng.choice(INDUSTRIES)
        rows["customers"].append(
            {
                "code": code,
                "name": f"{industry}客户{code}",
                "level": level,
                "grade": grade,
                "industry": industry,
                "region": region[center],
                "hq_address": f"{ne_name(center)} 覆盖区",
            }
        )
        return code

    def circuit(cust: str, service: str, role: str, path: list[int], assurance: str, dual: bool) -> None:
        counters["circuits"] += 1
        access_ne = path[0]
        code = f"MW-{cust}-{service.upper()}-{counters['circuits']}"
        rows["circuits"].append(
            {
                "code": code,
                "customer": cust,
                "service_type": service,
                "bandwidth_mbps": rng.choice((10, 20, 50, 100)),
                "access": kind[access_ne],
                "site_role": role,
                "a_end": f"{cust} {role} @ {ne_name(access_ne)}",
                "z_end": ne_name(path[-1]),
                "assurance": assurance,
                "maintainer": f"CT-{region[access_ne]}",
                "handed_over": "yes",
            }
        )
        routes = [("primary", path)]
        backup = backup_path(adjacency, path) if dual and len(path) > 1 else None
        if backup:
            routes.append(("backup", backup))
            counters["dual_routed"] += 1
        for role_name, route in routes:
            covered.update(route)
            for seq, (ne, port) in enumerate(hops(route), start=1):
                rows["routes"].append(
                    {"circuit": code, "route": role_name, "seq": seq, "ne": ne, "port": port}
                )

    levels, weights = zip(*LEVELS, strict=True)
    for _ in range(customers):
        level = rng.choices(levels, weights)[0]
        key = level != "normal"
        dual = key and rng.random() < 0.5
        center = rng.choice(dual_capable if dual else [d for d in linked if d != hub[d]])
        code = customer(level, center)
        to_core = cheapest_path(adjacency, center, hub[center]) or [center]
        circuit(code, "data", "center", to_core, rng.choice(("AAA", "AA")) if key else "normal", dual)
        if key and rng.random() < 0.5:
            circuit(code, "internet", "center", to_core, "AA", False)
        mates = [d for d in linked if hub[d] == hub[center] and d != center]
        for _ in range(rng.randint(1, 5) if key else rng.randint(0, 2)):
            branch = rng.choice(mates)
            path = cheapest_path(adjacency, branch, center) or [branch]
            circuit(code, rng.choice(("data", "mpls_vpn")), "branch", path, "A" if key else "normal", False)
    for d in range(n):  # NEs no route crosses: a small local customer each, so their alarms hurt someone
        if d not in covered:
            circuit(customer("normal", d), "internet", "center", [d], "normal", False)
    folder.mkdir(parents=True, exist_ok=True)
    for name, spec in TABLES.items():
        if rows[name]:
            with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=spec.columns, extrasaction="raise")
                writer.writeheader()
                writer.writerows(rows[name])
    counters["nes"] = n
    counters["ports"] = len(rows["ports"])
    counters["route_hops"] = len(rows["routes"])
    return counters

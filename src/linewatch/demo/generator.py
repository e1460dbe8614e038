"""A deterministic, realistic 福州-style city network written in the inventory import format.

One ``random.Random(seed)`` drives every choice and every collection is walked in insertion order,
so a seed always gives byte-identical files. The network is grown on demand: customer sites ask for
access capacity, and access nodes, aggregation rings, OLTs, MSAPs and SDH/MSTP chains are added as
the existing ones fill up, which keeps every count proportional to ``scale``. Rows are streamed to
the files as they are made, so memory stays flat even at ``scale=100``.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from types import TracebackType
from typing import IO, TypeVar
from zoneinfo import ZoneInfo

from linewatch.inventory.choices import (
    SERVICE_PLATFORM,
    AccessTech,
    AssuranceLevel,
    CustomerLevel,
    NeType,
    Role,
    RouteRole,
    ServiceGrade,
    ServiceType,
    SiteRole,
    TeamKind,
)

TZ = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")

# File stem → columns, in the order the importer reads them (a table refers only to tables above it).
COLUMNS: dict[str, tuple[str, ...]] = {
    "regions": ("code", "name"),
    "teams": ("code", "name", "kind", "regions"),
    "staff": ("code", "name", "phone", "email", "team", "role"),
    "roster": ("staff", "duty", "starts_at", "ends_at"),
    "customers": (
        "code",
        "name",
        "level",
        "grade",
        "industry",
        "region",
        "account_manager",
        "hq_address",
        "contact_name",
        "contact_phone",
    ),
    "network_elements": (
        "name",
        "type",
        "vendor",
        "ems",
        "site",
        "region",
        "mgmt_ip",
        "parent",
        "parent_port",
    ),
    "ports": ("ne", "port", "if_index"),
    "circuits": (
        "code",
        "customer",
        "service_type",
        "bandwidth_mbps",
        "access",
        "site_role",
        "a_end",
        "z_end",
        "assurance",
        "maintainer",
        "handed_over",
        "platform",
    ),
    "routes": ("circuit", "route", "seq", "ne", "port"),
}

# ---------------------------------------------------------------- the city


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    short: str
    weight: int  # share of the city's customers
    vendor: str  # PTN/IPRAN vendor of the district (one vendor per area, as operators tender it)
    olt_vendor: str
    legacy: bool  # still has SDH/MSTP chains
    roads: tuple[str, ...]


def _region(
    code: str, name: str, weight: int, vendor: str, olt_vendor: str, legacy: bool, roads: str
) -> RegionSpec:
    return RegionSpec(code, name, name[:2], weight, vendor, olt_vendor, legacy, tuple(roads.split()))


REGIONS: tuple[RegionSpec, ...] = (
    _region(
        "GL",
        "鼓楼区",
        14,
        "Huawei",
        "ZTE",
        False,
        "五四路 八一七北路 东街 杨桥中路 湖东路 铜盘路 温泉路 华林路",
    ),
    _region(
        "TJ",
        "台江区",
        11,
        "Huawei",
        "Huawei",
        True,
        "上下杭 八一七中路 江滨中大道 宁化路 工业路 六一中路 广达路",
    ),
    _region(
        "CS",
        "仓山区",
        12,
        "ZTE",
        "Huawei",
        False,
        "首山路 金山大道 盘屿路 浦上大道 南江滨西大道 福湾路 建新北路",
    ),
    _region(
        "JA", "晋安区", 11, "ZTE", "ZTE", False, "福新中路 岳峰路 连江北路 福飞北路 鹤林路 象园路 王庄路"
    ),
    _region(
        "MW",
        "马尾区",
        6,
        "FiberHome",
        "FiberHome",
        False,
        "罗星西路 江滨东大道 君竹路 儒江西路 快安大道 星发路",
    ),
    _region("CL", "长乐区", 8, "Huawei", "ZTE", False, "吴航路 航城大道 郑和中路 胪峰大道 首占路 和平街"),
    _region(
        "MH", "闽侯县", 10, "ZTE", "Huawei", True, "高新大道 科技东路 乌龙江大道 溪源江路 学府路 甘蔗东路"
    ),
    _region("LJ", "连江县", 6, "FiberHome", "ZTE", True, "丹凤东路 江滨路 通江路 贵安路 凤城路"),
    _region("LY", "罗源县", 3, "Huawei", "FiberHome", True, "罗源大道 凤山路 南门路 滨湖路"),
    _region("MQ", "闽清县", 3, "ZTE", "ZTE", True, "台山路 梅溪路 解放大街 白金路"),
    _region("YT", "永泰县", 3, "FiberHome", "Huawei", True, "城关路 樟城大道 塔山路 南门路"),
    _region("PT", "平潭县", 4, "Huawei", "FiberHome", True, "麒麟路 中原路 金井湾大道 北厝路 城关路"),
)

EMS = {"Huawei": "U2000", "ZTE": "NetNumen U31", "FiberHome": "OTNM2000"}
CPE_VENDORS = ("Huawei", "H3C", "Cisco", "Ruijie", "ZTE")
CORE_SITES = ("GL", "TJ", "CS", "JA")  # the four core machine rooms
# Service platforms: geo-redundant pairs in two core-network rooms.
PLATFORMS: tuple[tuple[NeType, str, str], ...] = (
    (NeType.NGN, "NGN", "Huawei"),
    (NeType.GGSN, "GGSN", "Huawei"),
    (NeType.SMS_GW, "SMSGW", "ZTE"),
    (NeType.BRAS, "BRAS", "Huawei"),
)

CONTRACTORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("CT-A", "福州闽通通信技术有限公司", ("GL", "TJ", "CS")),
    ("CT-B", "福建榕信网络工程有限公司", ("JA", "MW", "CL")),
    ("CT-C", "福建海峡通服工程有限公司", ("MH", "LJ", "LY")),
    ("CT-D", "福州东南通信维护有限公司", ("MQ", "YT", "PT")),
)
IN_HOUSE_TEAMS: tuple[tuple[str, str, TeamKind], ...] = (
    ("DISPATCH", "综合调度班", TeamKind.DISPATCH),
    ("SUPPORT", "全业务支撑班", TeamKind.SUPPORT),
    ("TRANS", "传输班组", TeamKind.TRANSMISSION),
    ("DATA", "数据班组", TeamKind.DATA),
    ("CORE", "核心网班组", TeamKind.CORE),
    ("MGMT", "网络部", TeamKind.MANAGEMENT),
)

# ---------------------------------------------------------------- names


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Fujian's commonest surnames appear twice so they come up about twice as often.
SURNAMES = (
    "林林陈陈黄黄郑郑王李张刘杨赵吴周徐孙朱胡郭何罗高梁谢宋"
    "唐许韩冯邓曹彭曾肖田董潘蔡余叶程魏苏卢沈钟江游翁詹池卓柯"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚英华建国志文斌辉玲婷雪琳鑫"
    "宇浩晨阳欣怡轩涵俊思远嘉雨海峰晓东萍燕美榕闽星航凯彬鹏飞丹颖慧佳琪"
)
PHONE_PREFIXES = (
    tuple(f"13{d}" for d in range(10))
    + tuple(f"15{d}" for d in "012356789")
    + tuple(f"18{d}" for d in range(10))
)
# Two-character trade names (字号) are one character from each string.
ZIHAO_A = "鑫源华恒泰盛达联创宏兴隆瑞丰祥佳嘉博明正新天海闽榕中永金安信"
ZIHAO_B = "通达泰成发辉科德盛利鸿昌元宇力和顺远腾捷汇铭晟润宸峰航越源兴"
TRADES: dict[str, tuple[str, ...]] = {
    k: tuple(v.split())
    for k, v in {
        "制造业": "机械制造 电子科技 纺织 食品 化工 建材 电气 汽车配件 服装 鞋业 塑胶制品 精密仪器",
        "批发零售": "贸易 商贸 百货 超市 连锁 医药",
        "交通物流": "物流 运输 供应链管理 货运代理 快递",
        "信息技术": "科技 网络科技 信息技术 软件 数据服务 智能科技",
        "房地产": "房地产开发 物业管理 置业",
        "能源": "能源 燃气 新能源 光伏科技",
        "住宿餐饮": "酒店管理 餐饮管理 大酒店 饮食",
        "商务服务": "咨询 人力资源 广告 会展服务 企业管理",
        "文化传媒": "文化传媒 影视 广告传媒 出版",
        "建筑": "建设工程 建筑工程 装饰工程 市政工程",
    }.items()
}
BUREAUS = _words(
    "人民政府 教育局 财政局 人力资源和社会保障局 自然资源和规划局 住房和城乡建设局 交通运输局 "
    "卫生健康委员会 市场监督管理局 税务局 民政局 文化和旅游局 应急管理局 生态环境局 统计局 审计局 "
    "医疗保障局 行政服务中心 农业农村局 商务局 水利局 司法局 退役军人事务局 城市管理局"
)
BANKS = _words(
    "中国工商银行 中国农业银行 中国银行 中国建设银行 交通银行 兴业银行 招商银行 中信银行 "
    "福建海峡银行 福州农村商业银行 中国邮政储蓄银行 民生银行 平安银行 浦发银行"
)
INSURERS = _words("中国人寿保险 中国平安保险 太平洋保险 人保财险 泰康人寿")
BUILDINGS = _words("海峡 榕城 东方 世纪 金融 商务 国际 阳光 正祥 中天")
KEY_INDUSTRIES = {
    "政府机关": 18,
    "金融": 18,
    "医疗卫生": 10,
    "教育": 10,
    "公安政法": 6,
    "能源": 6,
    "交通物流": 6,
    "制造业": 10,
    "信息技术": 8,
    "文化传媒": 4,
    "房地产": 4,
}
SMALL_INDUSTRIES = {
    "制造业": 18,
    "批发零售": 18,
    "交通物流": 10,
    "信息技术": 12,
    "房地产": 6,
    "住宿餐饮": 10,
    "商务服务": 12,
    "建筑": 8,
    "文化传媒": 4,
    "金融": 2,
    "医疗卫生": 3,
    "教育": 3,
}

# ---------------------------------------------------------------- customer and circuit mix

LEVEL_SHARE = (
    (CustomerLevel.CROSS_PROVINCE, 0.05),
    (CustomerLevel.PROVINCIAL, 0.10),
    (CustomerLevel.MUNICIPAL_KEY, 0.15),
    (CustomerLevel.UNIT_KEY, 0.15),
)
GRADES: dict[CustomerLevel, dict[ServiceGrade, int]] = {
    CustomerLevel.CROSS_PROVINCE: {ServiceGrade.DIAMOND: 60, ServiceGrade.GOLD: 40},
    CustomerLevel.PROVINCIAL: {ServiceGrade.DIAMOND: 30, ServiceGrade.GOLD: 50, ServiceGrade.SILVER: 20},
    CustomerLevel.MUNICIPAL_KEY: {ServiceGrade.GOLD: 40, ServiceGrade.SILVER: 50, ServiceGrade.BRONZE: 10},
    CustomerLevel.UNIT_KEY: {ServiceGrade.SILVER: 40, ServiceGrade.BRONZE: 50, ServiceGrade.STANDARD: 10},
    CustomerLevel.NORMAL: {ServiceGrade.BRONZE: 20, ServiceGrade.STANDARD: 80},
}
# (fewest, most) circuits, and (fewest, most) of them centre points; ≈5 circuits per customer overall.
CIRCUITS_PER_CUSTOMER = {
    CustomerLevel.CROSS_PROVINCE: ((10, 30), (1, 3)),
    CustomerLevel.PROVINCIAL: ((8, 20), (1, 3)),
    CustomerLevel.MUNICIPAL_KEY: ((4, 10), (1, 2)),
    CustomerLevel.UNIT_KEY: ((2, 6), (1, 2)),
    CustomerLevel.NORMAL: ((1, 3), (1, 1)),
}
_A = AssuranceLevel
ASSURANCE_ORDER = (_A.AAA, _A.AA, _A.A, _A.NORMAL)
# Weights of AAA, AA, A, normal by (level, site role): AAA is for the big customers' centre points.
ASSURANCE: dict[tuple[CustomerLevel, SiteRole], tuple[int, int, int, int]] = {
    (CustomerLevel.CROSS_PROVINCE, SiteRole.CENTER): (70, 30, 0, 0),
    (CustomerLevel.CROSS_PROVINCE, SiteRole.BRANCH): (0, 40, 50, 10),
    (CustomerLevel.PROVINCIAL, SiteRole.CENTER): (40, 50, 10, 0),
    (CustomerLevel.PROVINCIAL, SiteRole.BRANCH): (0, 20, 60, 20),
    (CustomerLevel.MUNICIPAL_KEY, SiteRole.CENTER): (5, 45, 45, 5),
    (CustomerLevel.MUNICIPAL_KEY, SiteRole.BRANCH): (0, 10, 50, 40),
    (CustomerLevel.UNIT_KEY, SiteRole.CENTER): (0, 20, 60, 20),
    (CustomerLevel.UNIT_KEY, SiteRole.BRANCH): (0, 0, 40, 60),
    (CustomerLevel.NORMAL, SiteRole.CENTER): (0, 2, 13, 85),
    (CustomerLevel.NORMAL, SiteRole.BRANCH): (0, 0, 10, 90),
}
_S = ServiceType
SERVICES_CENTER = {
    _S.DATA: 25,
    _S.MPLS_VPN: 15,
    _S.INTERNET: 25,
    _S.VOICE: 15,
    _S.GPRS: 8,
    _S.SMS: 7,
    _S.IMS: 5,
}
SERVICES_BRANCH = {_S.DATA: 35, _S.MPLS_VPN: 25, _S.INTERNET: 20, _S.VOICE: 12, _S.IMS: 5, _S.GPRS: 3}
SERVICES_SMALL = {_S.INTERNET: 45, _S.DATA: 20, _S.VOICE: 20, _S.IMS: 5, _S.SMS: 5, _S.GPRS: 5}
SERVICE_ABBR = {
    _S.DATA: "DATA",
    _S.VOICE: "VOICE",
    _S.INTERNET: "INT",
    _S.GPRS: "GPRS",
    _S.SMS: "SMS",
    _S.MPLS_VPN: "VPN",
    _S.IMS: "IMS",
}
BANDWIDTH = {
    _S.VOICE: (2, 2, 2, 10),
    _S.DATA: (10, 20, 50, 100, 100, 200, 500, 1000),
    _S.INTERNET: (20, 50, 100, 100, 200, 500, 1000),
    _S.GPRS: (2, 10),
    _S.SMS: (2, 4, 10),
    _S.MPLS_VPN: (10, 20, 50, 100, 200, 1000),
    _S.IMS: (10, 20, 50),
}
_T = AccessTech
# Protected circuits need dual-homed access (a PTN/IPRAN node on two ring nodes, or OTN on two cores).
ACCESS_PROTECTED = {_T.PTN: 70, _T.IPRAN: 15, _T.OTN: 15}
ACCESS_VOICE = {_T.MSAP: 35, _T.PTN: 25, _T.PON: 20, _T.MSTP: 10, _T.SDH: 10}
ACCESS_KEY = {_T.PTN: 40, _T.PON: 28, _T.IPRAN: 10, _T.MSAP: 5, _T.MSTP: 8, _T.SDH: 4, _T.OTN: 5}
ACCESS_SMALL = {_T.PON: 50, _T.PTN: 25, _T.MSAP: 10, _T.IPRAN: 7, _T.MSTP: 5, _T.SDH: 3}
OTN_MIN_MBPS = 500  # below this an OTN wavelength is never sold
IN_HOUSE_SHARE = 0.10  # circuits maintained by SUPPORT itself (自维) instead of a contractor
HANDED_OVER_SHARE = 0.95

# ---------------------------------------------------------------- capacities (why NE counts stay sane)

PAIR_CAP = 6  # dual-homed access nodes per pair of ring neighbours
NODE_CAP = 3  # single-homed OLTs/MSAPs/chain heads per aggregation node
ACCESS_CAP = 24  # circuits per PTN/IPRAN access node
OTN_CAP = 8  # circuits per access OTN node (each takes a wavelength)
MSAP_CAP = 16
CHAIN_NODE_CAP = 6
PON_PER_OLT = 32
ONU_PER_PON = 8
PER_SLOT = 8  # ports per board

# Port kinds
LINE, USER, PON = 0, 1, 2
CPE_TYPES = (NeType.ROUTER, NeType.SWITCH, NeType.IAD, NeType.PBX, NeType.FIREWALL)
TRANSPORT_TYPES = (NeType.SDH, NeType.MSTP, NeType.OTN, NeType.MSAP)

# Management address blocks by NE family (pure data: the generator never contacts anything).
IP_BLOCKS = {"core": 10 << 24, "agg": (10 << 24) | (1 << 16), "trans": (10 << 24) | (2 << 16)}
IP_BLOCKS |= {"access": (10 << 24) | (16 << 16), "cpe": (10 << 24) | (64 << 16)}

Hop = tuple[str, str]


# ---------------------------------------------------------------- output


class _Out:
    """One csv writer per table, rows streamed as they are made; counts rows per file."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._files: list[IO[str]] = []
        self._writers: dict[str, Callable[[Iterable[object]], object]] = {}
        self.counts: dict[str, int] = {}
        for name, columns in COLUMNS.items():
            handle = (folder / f"{name}.csv").open("w", encoding="utf-8", newline="")
            self._files.append(handle)
            self._writers[name] = csv.writer(handle, lineterminator="\n").writerow
            self._writers[name](columns)
            self.counts[name] = 0

    def row(self, table: str, *values: object) -> None:
        self._writers[table](values)
        self.counts[table] += 1

    def __enter__(self) -> _Out:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for handle in self._files:
            handle.close()


# ---------------------------------------------------------------- network state


@dataclass(slots=True)
class _Ne:
    name: str
    type: NeType
    vendor: str
    ports: list[int] = field(default_factory=lambda: [0, 0, 0])  # allocated per kind
    if_index: int = 0


@dataclass(slots=True)
class _Ring:
    """Aggregation nodes n0…nk-1, a ring closed through two neighbouring cores (n0–core_a, nk-1–core_b)."""

    nodes: list[str]
    core_a: str
    core_b: str
    pair_load: list[int]
    node_load: list[int]

    def toward_a(self, i: int) -> list[str]:
        return [*self.nodes[i::-1], self.core_a]

    def toward_b(self, i: int) -> list[str]:
        return [*self.nodes[i:], self.core_b]

    def nearest(self, i: int) -> list[str]:
        a, b = self.toward_a(i), self.toward_b(i)
        return a if len(a) <= len(b) else b


@dataclass(slots=True)
class _Dual:
    """An access NE homed twice (two ring neighbours, or two core OTN nodes): two diverse paths to a core."""

    name: str
    primary: list[str]
    backup: list[str]
    load: int = 0


@dataclass(slots=True)
class _Single:
    """An NE homed on one aggregation node (OLT, MSAP); ``uplink`` runs from that node to a core."""

    name: str
    uplink: list[str]
    load: int = 0
    pon_port: str = ""  # OLTs: the PON port being filled
    pon_load: int = 0


@dataclass(slots=True)
class _Chain:
    nodes: list[str]  # nodes[0] is the head, homed on the aggregation ring
    uplink: list[str]
    load: list[int]


@dataclass(slots=True)
class _Area:
    spec: RegionSpec
    index: int
    rings: list[_Ring] = field(default_factory=list)
    duals: dict[AccessTech, _Dual] = field(default_factory=dict)
    singles: dict[AccessTech, _Single] = field(default_factory=dict)
    chains: dict[AccessTech, _Chain] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    account_managers: list[str] = field(default_factory=list)

    def serial(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]


@dataclass(slots=True)
class _Customer:
    code: str
    level: CustomerLevel
    area: _Area
    hq_address: str
    sites: int = 0


@dataclass(slots=True)
class _Site:
    customer: _Customer
    label: str
    area: _Area
    address: str
    duals: dict[AccessTech, _Dual] = field(default_factory=dict)
    msap: _Single | None = None
    onu: tuple[str, str, _Single] | None = None  # (ONU name, OLT PON port, OLT)
    cpe: dict[NeType, str] = field(default_factory=dict)


# ---------------------------------------------------------------- the generator


class _City:
    def __init__(self, out: _Out, rng: random.Random, scale: float) -> None:
        self.out = out
        self.rng = rng
        self.scale = scale
        self.areas = [_Area(spec, i) for i, spec in enumerate(REGIONS)]
        self.by_code = {a.spec.code: a for a in self.areas}
        self.nes: dict[str, _Ne] = {}
        self.facing: dict[tuple[str, str], str] = {}  # (NE, neighbour) → the NE's port towards it
        self.ne_site: dict[str, str] = {}  # cores and platforms only: a route's Z end
        self.ip_used: dict[str, int] = dict.fromkeys(IP_BLOCKS, 0)
        self.used_names: set[str] = set()
        self.used_phones: set[str] = set()
        self.core_ptn: list[str] = []
        self.core_otn: list[str] = []
        self.platforms: dict[NeType, list[str]] = {}
        self.contractor_of: dict[str, str] = {}
        self.circuit_seq = 0
        self.by_team: dict[str, list[str]] = {}

    # ------------------------------------------------------------ small helpers
    def weighted(self, weights: dict[T, int]) -> T:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def person(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        while True:
            number = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def address(self, area: _Area) -> str:
        text = f"{area.spec.name}{self.rng.choice(area.spec.roads)}{self.rng.randint(1, 399)}号"
        if self.rng.random() < 0.3:
            text += f"{self.rng.choice(BUILDINGS)}大厦{self.rng.randint(2, 28)}层"
        return text

    def room(self, area: _Area, kind: str) -> str:
        return f"{area.spec.short}{self.rng.choice(area.spec.roads)}{kind}"

    def ip(self, block: str) -> str:
        """Next address of a block, skipping .0 and .255 so every address looks like a host."""
        n = self.ip_used[block]
        self.ip_used[block] = n + 1
        value = IP_BLOCKS[block] + (n // 254) * 256 + n % 254 + 1
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"

    def count(self, base: float, minimum: int) -> int:
        return max(minimum, round(base * self.scale))

    # ------------------------------------------------------------ NEs and ports
    def add_ne(
        self,
        name: str,
        ne_type: NeType,
        vendor: str,
        site: str,
        area: _Area,
        block: str | None,
        parent: str = "",
        parent_port: str = "",
        ems: str | None = None,
    ) -> str:
        self.nes[name] = _Ne(name, ne_type, vendor)
        ems = EMS.get(vendor, "") if ems is None else ems
        mgmt_ip = self.ip(block) if block else ""
        self.out.row(
            "network_elements",
            name,
            ne_type.value,
            vendor,
            ems,
            site,
            area.spec.code,
            mgmt_ip,
            parent,
            parent_port,
        )
        return name

    def port(self, ne_name: str, kind: int) -> str:
        ne = self.nes[ne_name]
        index = ne.ports[kind]
        ne.ports[kind] += 1
        ne.if_index += 1
        name = _port_name(ne, kind, index)
        self.out.row("ports", ne_name, name, ne.if_index)
        return name

    def link(self, a: str, b: str) -> None:
        self.facing[(a, b)] = self.port(a, LINE)
        self.facing[(b, a)] = self.port(b, LINE)

    def follow(self, first: Hop, path: Sequence[str]) -> list[Hop]:
        """Hops along ``path`` after ``first``: each NE entered by its port facing the previous one."""
        hops = [first]
        previous = first[0]
        for ne in path:
            hops.append((ne, self.facing[(ne, previous)]))
            previous = ne
        return hops

    # ------------------------------------------------------------ organisation
    def regions(self) -> None:
        for area in self.areas:
            self.out.row("regions", area.spec.code, area.spec.name)

    def teams(self) -> None:
        every = ";".join(a.spec.code for a in self.areas)
        for code, name, kind in IN_HOUSE_TEAMS:
            self.out.row("teams", code, name, kind.value, every)
        for code, name, covered in CONTRACTORS:
            self.out.row("teams", code, name, TeamKind.CONTRACTOR.value, ";".join(covered))
            for region in covered:
                self.contractor_of[region] = code

    def staff(self, customers: int) -> dict[Role, list[str]]:
        """Staff by role (engineers keyed by team too), scaled with the network; returns codes by duty."""
        by_role: dict[Role, list[str]] = {}

        def hire(prefix: str, n: int, team: str, role: Role) -> None:
            for i in range(1, n + 1):
                code = f"{prefix}{i:03d}"
                self.out.row(
                    "staff",
                    code,
                    self.person(),
                    self.phone(),
                    f"{code.lower()}@example.com",
                    team,
                    role.value,
                )
                by_role.setdefault(role, []).append(code)
                self.by_team.setdefault(team, []).append(code)

        hire("D", self.count(8, 6), "DISPATCH", Role.DISPATCHER)
        hire("S", self.count(6, 3), "SUPPORT", Role.SUPPORT)
        for team in ("TRANS", "DATA", "CORE"):
            hire(f"E{team[0]}", self.count(3, 2), team, Role.ENGINEER)
        for code, _, _ in CONTRACTORS:
            hire(f"C{code[-1]}", self.count(6, 3), code, Role.CONTRACTOR)
        hire("FM", self.count(3, 2), "MGMT", Role.FAULT_MANAGER)
        hire("M3", self.count(2, 2), "MGMT", Role.MANAGER_L3)
        hire("L", self.count(2, 2), "MGMT", Role.LEADER)
        hire("AM", max(2, round(customers / 20)), "MGMT", Role.ACCOUNT_MANAGER)
        self.out.row(
            "staff", "ADMIN01", "系统管理员", self.phone(), "admin01@example.com", "MGMT", Role.ADMIN.value
        )
        for i, code in enumerate(by_role[Role.ACCOUNT_MANAGER]):
            self.areas[i % len(self.areas)].account_managers.append(code)
        return by_role

    def roster(self, by_role: dict[Role, list[str]], now: datetime) -> None:
        """Seven days from local midnight: 12-hour dispatcher shifts worked by four crews (四班倒),
        a support engineer per day shift, and a 24-hour on-call fault manager, manager, leader and
        engineer per specialist team. The night shift and on-call running past midnight start the week,
        so nobody is missing between 00:00 and 08:00 on the first day."""
        local = now.astimezone(TZ) if now.tzinfo else now.replace(tzinfo=TZ)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        dispatchers = by_role[Role.DISPATCHER]
        support = by_role[Role.SUPPORT]
        on_call = [(Role.FAULT_MANAGER, by_role[Role.FAULT_MANAGER])]
        on_call += [(Role.MANAGER_L3, by_role[Role.MANAGER_L3]), (Role.LEADER, by_role[Role.LEADER])]
        on_call += [(Role.ENGINEER, self.by_team[team]) for team in ("TRANS", "DATA", "CORE")]

        def shift(staff: str, duty: Role, start: datetime, end: datetime) -> None:
            self.out.row("roster", staff, duty.value, _rfc3339(start), _rfc3339(end))

        # Day -1's night crew and on-call people are still on duty until 08:00 of day 0.
        first_morning = midnight + timedelta(hours=8)
        for code in _crew(dispatchers, -1):
            shift(code, Role.DISPATCHER, midnight, first_morning)
        for duty, people in on_call:
            shift(people[-1 % len(people)], duty, midnight, first_morning)
        for day in range(7):
            morning = midnight + timedelta(days=day, hours=8)
            evening = morning + timedelta(hours=12)
            next_morning = morning + timedelta(days=1)
            for code in _crew(dispatchers, 2 * day):
                shift(code, Role.DISPATCHER, morning, evening)
            for code in _crew(dispatchers, 2 * day + 1):
                shift(code, Role.DISPATCHER, evening, next_morning)
            for i, code in enumerate(support):
                if i % 3 == day % 3:
                    shift(code, Role.SUPPORT, morning, evening)
            for duty, people in on_call:
                shift(people[day % len(people)], duty, morning, next_morning)

    # ------------------------------------------------------------ backbone
    def backbone(self) -> None:
        """Four core PTN nodes in a ring, an OTN node beside each, and the city-wide service platforms."""
        for i, region in enumerate(CORE_SITES, start=1):
            area = self.by_code[region]
            site = f"{area.spec.short}核心机房"
            ptn = self.add_ne(f"FZ-CORE-PTN-{i:02d}", NeType.PTN, "Huawei", site, area, "core")
            otn = self.add_ne(f"FZ-CORE-OTN-{i:02d}", NeType.OTN, "FiberHome", site, area, "core")
            self.ne_site[ptn] = self.ne_site[otn] = site
            self.core_ptn.append(ptn)
            self.core_otn.append(otn)
            self.link(otn, ptn)
        for ring in (self.core_ptn, self.core_otn):
            for i, node in enumerate(ring):
                self.link(node, ring[(i + 1) % len(ring)])
        for ne_type, label, vendor in PLATFORMS:
            for i, core in enumerate((0, 2), start=1):  # two rooms apart, so one fire takes out one
                area = self.by_code[CORE_SITES[core]]
                site = f"{area.spec.short}核心网机房"
                name = self.add_ne(f"FZ-{label}-{i:02d}", ne_type, vendor, site, area, "core")
                self.ne_site[name] = site
                self.platforms.setdefault(ne_type, []).append(name)
                self.link(name, self.core_ptn[core])

    def new_ring(self, area: _Area) -> _Ring:
        number = len(area.rings) + 1
        k = self.rng.randint(4, 6)
        core = (area.index + number - 1) % len(self.core_ptn)
        names = [
            self.add_ne(
                f"{area.spec.code}-AGG-{number:02d}-{p}",
                NeType.PTN,
                area.spec.vendor,
                self.room(area, "汇聚机房"),
                area,
                "agg",
            )
            for p in range(1, k + 1)
        ]
        ring = _Ring(
            names, self.core_ptn[core], self.core_ptn[(core + 1) % len(self.core_ptn)], [0] * (k - 1), [0] * k
        )
        self.link(ring.core_a, names[0])
        for a, b in pairwise(names):
            self.link(a, b)
        self.link(names[-1], ring.core_b)
        area.rings.append(ring)
        return ring

    def pair_slot(self, area: _Area) -> tuple[_Ring, int]:
        """The least-loaded pair of ring neighbours; a new ring once every pair is full."""
        ring = area.rings[-1] if area.rings else self.new_ring(area)
        i = min(range(len(ring.pair_load)), key=ring.pair_load.__getitem__)
        if ring.pair_load[i] >= PAIR_CAP:
            ring, i = self.new_ring(area), 0
        ring.pair_load[i] += 1
        return ring, i

    def node_slot(self, area: _Area) -> tuple[_Ring, int]:
        ring = area.rings[-1] if area.rings else self.new_ring(area)
        i = min(range(len(ring.node_load)), key=ring.node_load.__getitem__)
        if ring.node_load[i] >= NODE_CAP:
            ring, i = self.new_ring(area), 0
        ring.node_load[i] += 1
        return ring, i

    def home_single(self, name: str, area: _Area) -> list[str]:
        """Home an NE on one aggregation node; its uplink goes the short way round to a core."""
        ring, i = self.node_slot(area)
        self.link(name, ring.nodes[i])
        return ring.nearest(i)

    # ------------------------------------------------------------ access capacity
    def dual(self, area: _Area, tech: AccessTech) -> _Dual:
        """The area's PTN/IPRAN/OTN access node with room left, or a new dual-homed one."""
        current = area.duals.get(tech)
        if current is None or current.load >= (OTN_CAP if tech is AccessTech.OTN else ACCESS_CAP):
            name = f"{area.spec.code}-{tech.value}-{area.serial(tech.value):04d}"
            if tech is AccessTech.OTN:
                current = self.otn_node(area, name)
            else:
                current = self.ring_node(area, tech, name)
            area.duals[tech] = current
        return current

    def ring_node(self, area: _Area, tech: AccessTech, name: str) -> _Dual:
        """A PTN/IPRAN access node on two ring neighbours: the two ways round the ring are diverse."""
        self.add_ne(name, NeType(tech.value), area.spec.vendor, self.room(area, "接入机房"), area, "access")
        ring, i = self.pair_slot(area)
        self.link(name, ring.nodes[i])
        self.link(name, ring.nodes[i + 1])
        a, b = ring.toward_a(i), ring.toward_b(i + 1)
        return _Dual(name, *((a, b) if len(a) <= len(b) else (b, a)))

    def otn_node(self, area: _Area, name: str) -> _Dual:
        """An access OTN node homed on two neighbouring core OTN nodes: big lines skip the rings."""
        self.add_ne(name, NeType.OTN, "FiberHome", self.room(area, "OTN接入机房"), area, "access")
        first = area.index % len(self.core_otn)
        paths = []
        for core in (first, (first + 1) % len(self.core_otn)):
            self.link(name, self.core_otn[core])
            paths.append([self.core_otn[core], self.core_ptn[core]])
        return _Dual(name, paths[0], paths[1])

    def msap(self, area: _Area) -> _Single:
        current = area.singles.get(AccessTech.MSAP)
        if current is None or current.load >= MSAP_CAP:
            name = f"{area.spec.code}-MSAP-{area.serial('MSAP'):03d}"
            vendor = "ZTE" if area.index % 2 else "Huawei"
            self.add_ne(name, NeType.MSAP, vendor, self.room(area, "MSAP接入点"), area, "trans")
            current = _Single(name, self.home_single(name, area))
            area.singles[AccessTech.MSAP] = current
        return current

    def olt_port(self, area: _Area) -> tuple[_Single, str]:
        """A PON port with room for one more ONU: the OLT's current one, a new one, or a new OLT."""
        olt = area.singles.get(AccessTech.PON)
        if olt is not None and olt.pon_load >= ONU_PER_PON and olt.load >= PON_PER_OLT:
            olt = None
        if olt is None:
            name = f"{area.spec.code}-OLT-{area.serial('OLT'):02d}"
            self.add_ne(
                name, NeType.OLT, area.spec.olt_vendor, self.room(area, "综合接入机房"), area, "trans"
            )
            olt = _Single(name, self.home_single(name, area))
            area.singles[AccessTech.PON] = olt
        if not olt.pon_port or olt.pon_load >= ONU_PER_PON:
            olt.pon_port, olt.pon_load = self.port(olt.name, PON), 0
            olt.load += 1
        olt.pon_load += 1
        return olt, olt.pon_port

    def chain_slot(self, area: _Area, tech: AccessTech) -> tuple[_Chain, int]:
        """A node of the area's SDH or MSTP chain with room left, or a new 3–4 node chain."""
        chain = area.chains.get(tech)
        p = min(range(len(chain.load)), key=chain.load.__getitem__) if chain else 0
        if chain is None or chain.load[p] >= CHAIN_NODE_CAP:
            number = area.serial(tech.value)
            vendor = "FiberHome" if area.index % 2 else "Huawei"
            nodes = [
                self.add_ne(
                    f"{area.spec.code}-{tech.value}-{number:02d}-{i}",
                    NeType(tech.value),
                    vendor,
                    self.room(area, "传输机房"),
                    area,
                    "trans",
                )
                for i in range(1, self.rng.randint(3, 4) + 1)
            ]
            for a, b in pairwise(nodes):
                self.link(b, a)
            chain = _Chain(nodes, self.home_single(nodes[0], area), [0] * len(nodes))
            area.chains[tech] = chain
            p = 0
        chain.load[p] += 1
        return chain, p

    def cpe(self, site: _Site, ne_type: NeType) -> str:
        """The customer's own device of that type at the site (one each); no EMS reports it."""
        name = site.cpe.get(ne_type)
        if name is None:
            suffix = {NeType.ROUTER: "RT", NeType.SWITCH: "SW", NeType.IAD: "IAD", NeType.PBX: "PBX"}[ne_type]
            name = f"CPE-{site.customer.code}-{site.label}-{suffix}"
            vendor = self.rng.choice(CPE_VENDORS)
            self.add_ne(name, ne_type, vendor, site.address, site.area, "cpe", ems="")
            site.cpe[ne_type] = name
        return name

    # ------------------------------------------------------------ routes
    def route(
        self, site: _Site, access: AccessTech, service: ServiceType, protected: bool
    ) -> list[list[Hop]]:
        """Primary route (and a diverse backup when protected), customer side first, core last."""
        if access in (AccessTech.PTN, AccessTech.IPRAN, AccessTech.OTN):
            node = self.dual_for(site, access)
            node.load += 1
            first = (node.name, self.port(node.name, USER))
            routes = [self.follow(first, node.primary)]
            if protected:
                routes.append(self.follow(first, node.backup))
            return routes
        if access is AccessTech.PON:
            if site.onu is None:
                olt, pon = self.olt_port(site.area)
                name = f"ONU-{site.customer.code}-{site.label}"
                self.add_ne(
                    name, NeType.ONU, self.nes[olt.name].vendor, site.address, site.area, None, olt.name, pon
                )
                site.onu = (name, pon, olt)
            onu, pon, olt = site.onu
            return [[(onu, self.port(onu, USER)), *self.follow((olt.name, pon), olt.uplink)]]
        if access is AccessTech.MSAP:
            site.msap = site.msap or self.msap(site.area)
            site.msap.load += 1
            cpe = self.cpe(site, _cpe_type(service, site))
            hop = (site.msap.name, self.port(site.msap.name, USER))
            return [[(cpe, self.port(cpe, LINE)), *self.follow(hop, site.msap.uplink)]]
        chain, p = self.chain_slot(site.area, access)
        first = (chain.nodes[p], self.port(chain.nodes[p], USER))
        return [self.follow(first, [*chain.nodes[:p][::-1], *chain.uplink])]

    def dual_for(self, site: _Site, access: AccessTech) -> _Dual:
        """Circuits of one site share its access NE, as they share the building's fibre."""
        node = site.duals.get(access)
        if node is None:
            node = site.duals[access] = self.dual(site.area, access)
        return node

    # ------------------------------------------------------------ customers and circuits
    def customers(self, n: int) -> list[_Customer]:
        levels = [level for level, share in LEVEL_SHARE for _ in range(round(n * share))]
        levels += [CustomerLevel.NORMAL] * (n - len(levels))
        self.rng.shuffle(levels)
        weights = [a.spec.weight for a in self.areas]
        result = []
        for i, level in enumerate(levels, start=1):
            area = self.rng.choices(self.areas, weights)[0]
            industry = self.weighted(KEY_INDUSTRIES if level.is_key else SMALL_INDUSTRIES)
            customer = _Customer(f"C3501{i:05d}", level, area, self.address(area))
            manager = self.rng.choice(area.account_managers or self.areas[0].account_managers)
            self.out.row(
                "customers",
                customer.code,
                self.unique_name(industry, area, level),
                level.value,
                self.weighted(GRADES[level]).value,
                industry,
                area.spec.code,
                manager,
                customer.hq_address,
                self.person(),
                self.phone(),
            )
            result.append(customer)
        return result

    def unique_name(self, industry: str, area: _Area, level: CustomerLevel) -> str:
        for _ in range(30):
            name = self.org_name(industry, area, level)
            if name not in self.used_names:
                break
        else:  # the name space of that kind is used up: a branch office keeps it unique
            base, k = name, 1
            while name in self.used_names:
                name, k = f"{base}{area.spec.short}第{k}分公司", k + 1
        self.used_names.add(name)
        return name

    def org_name(self, industry: str, area: _Area, level: CustomerLevel) -> str:
        rng, spec = self.rng, area.spec
        district = f"福州市{spec.name}" if spec.name.endswith("区") else spec.name
        road = rng.choice(spec.roads)
        zihao = rng.choice(ZIHAO_A) + rng.choice(ZIHAO_B)
        if industry == "政府机关":
            return rng.choice((f"{district}{rng.choice(BUREAUS)}", f"福州市{rng.choice(BUREAUS[1:])}"))
        if industry == "公安政法":
            return rng.choice(
                (
                    f"福州市公安局{spec.short}分局",
                    f"{district}人民法院",
                    f"{district}人民检察院",
                    f"福州市公安局{spec.short}分局{road}派出所",
                )
            )
        if industry == "金融":
            return rng.choice(
                (
                    f"{rng.choice(BANKS)}福州{road}支行",
                    f"{rng.choice(BANKS)}福州{spec.short}支行",
                    f"{rng.choice(INSURERS)}福州{spec.short}支公司",
                    f"{zihao}证券福州{road}证券营业部",
                )
            )
        if industry == "医疗卫生":
            return rng.choice(
                (
                    f"{district}医院",
                    f"{district}中医院",
                    f"{district}妇幼保健院",
                    f"{district}{road}社区卫生服务中心",
                    f"福州{zihao}医院",
                    f"福州{zihao}口腔门诊部",
                )
            )
        if industry == "教育":
            return rng.choice(
                (
                    f"福州第{rng.randint(1, 60)}中学",
                    f"{district}实验小学",
                    f"福州市{spec.short}{road}小学",
                    f"{district}{road}幼儿园",
                    f"福州{zihao}职业技术学校",
                )
            )
        trade = rng.choice(TRADES.get(industry, TRADES["商务服务"]))
        if level in (CustomerLevel.CROSS_PROVINCE, CustomerLevel.PROVINCIAL):
            return rng.choice((f"{zihao}{trade}集团有限公司福州分公司", f"福建{zihao}{trade}集团有限公司"))
        prefix = rng.choice(("福州", "福州市", "福建", "福建省"))
        suffix = self.weighted({"有限公司": 75, "股份有限公司": 15, "有限责任公司": 10})
        return f"{prefix}{zihao}{trade}{suffix}"

    def circuits_of(self, customer: _Customer) -> None:
        """A customer's circuits: centre points at the HQ, branches at 1–3-circuit branch sites."""
        (low, high), (c_low, c_high) = CIRCUITS_PER_CUSTOMER[customer.level]
        total = self.rng.randint(low, high)
        centers = min(total, self.rng.randint(c_low, c_high))
        hq = _Site(customer, "HQ", customer.area, customer.hq_address)
        branches: list[_Site] = []
        for k in range(total):
            if k < centers:
                self.circuit(hq, SiteRole.CENTER)
                continue
            if not branches or self.rng.random() < 0.6:
                customer.sites += 1
                area = self.branch_area(customer)
                branches.append(_Site(customer, f"B{customer.sites:02d}", area, self.address(area)))
            self.circuit(self.rng.choice(branches), SiteRole.BRANCH)

    def branch_area(self, customer: _Customer) -> _Area:
        """Big customers have branches all over the city, small ones mostly in their own district."""
        stay = {CustomerLevel.NORMAL: 0.85, CustomerLevel.UNIT_KEY: 0.6, CustomerLevel.MUNICIPAL_KEY: 0.6}
        if self.rng.random() < stay.get(customer.level, 0.2):
            return customer.area
        return self.rng.choices(self.areas, [a.spec.weight for a in self.areas])[0]

    def circuit(self, site: _Site, role: SiteRole) -> None:
        customer = site.customer
        key = customer.level.is_key
        mix = SERVICES_CENTER if role is SiteRole.CENTER else SERVICES_BRANCH
        service = self.weighted(mix if key else SERVICES_SMALL)
        bandwidth = self.rng.choice(BANDWIDTH[service])
        assurance = self.rng.choices(ASSURANCE_ORDER, ASSURANCE[(customer.level, role)])[0]
        protected = (key and role is SiteRole.CENTER) or assurance in (_A.AAA, _A.AA)
        access = self.access(service, bandwidth, protected, key, site.area)
        routes = self.route(site, access, service, protected)
        if access is not AccessTech.MSAP and self.rng.random() < 0.5:
            self.cpe(site, _cpe_type(service, site))  # many sites have a router/IAD of their own
        self.circuit_seq += 1
        code = f"FZ-{site.area.spec.code}-{SERVICE_ABBR[service]}-{self.circuit_seq:06d}"
        platform_type = SERVICE_PLATFORM.get(service)
        platform = self.rng.choice(self.platforms[platform_type]) if platform_type else ""
        if role is SiteRole.BRANCH and service in (_S.DATA, _S.MPLS_VPN):
            z_end = customer.hq_address  # a branch's data line ends at the customer's centre point
        else:
            z_end = self.ne_site[platform or routes[0][-1][0]]
        in_house = self.rng.random() < IN_HOUSE_SHARE
        self.out.row(
            "circuits",
            code,
            customer.code,
            service.value,
            bandwidth,
            access.value,
            role.value,
            site.address,
            z_end,
            assurance.value,
            "SUPPORT" if in_house else self.contractor_of[site.area.spec.code],
            "yes" if self.rng.random() < HANDED_OVER_SHARE else "no",
            platform,
        )
        for role_name, hops in zip((RouteRole.PRIMARY.value, RouteRole.BACKUP.value), routes, strict=False):
            for seq, (ne, port) in enumerate(hops, start=1):
                self.out.row("routes", code, role_name, seq, ne, port)

    def access(
        self, service: ServiceType, bandwidth: int, protected: bool, key: bool, area: _Area
    ) -> AccessTech:
        if protected:
            tech = self.weighted(ACCESS_PROTECTED)
        elif service is _S.VOICE:
            tech = self.weighted(ACCESS_VOICE)
        else:
            tech = self.weighted(ACCESS_KEY if key else ACCESS_SMALL)
        if tech is AccessTech.OTN and bandwidth < OTN_MIN_MBPS:
            return AccessTech.PTN
        if tech in (AccessTech.SDH, AccessTech.MSTP) and not area.spec.legacy:
            return AccessTech.PTN
        return tech


# ---------------------------------------------------------------- pure helpers


def _port_name(ne: _Ne, kind: int, index: int) -> str:
    """Vendor-style port names; customer-facing boards sit above the line boards so names never clash."""
    if ne.type is NeType.ONU:
        return f"LAN{index + 1}"
    if ne.type is NeType.OLT:  # frame/slot/port: PON boards from slot 1, uplink board in slot 9
        return f"0/{1 + index // 16}/{index % 16}" if kind == PON else f"0/9/{index}"
    if ne.type in CPE_TYPES:
        return _cpe_port(ne, index)
    if kind == USER and ne.ports[LINE] > PER_SLOT:
        raise AssertionError(f"{ne.name}: line ports would run into the customer boards")
    slot = (1 if kind == LINE else 2) + index // PER_SLOT
    port = index % PER_SLOT
    if ne.type in TRANSPORT_TYPES or ne.vendor == "FiberHome":
        return f"1-1-{slot}-{port + 1}"  # rack-shelf-slot-port
    if ne.vendor == "ZTE":
        return f"{'xgei' if kind == LINE else 'gei'}-0/{slot}/0/{port + 1}"
    return f"{'10GE' if kind == LINE else 'GE'}0/{slot}/{port}"


def _cpe_port(ne: _Ne, index: int) -> str:
    if ne.type is NeType.PBX:
        return f"E1-0/0/{index}"
    return {
        "Huawei": f"GE0/0/{index}",
        "H3C": f"GE1/0/{index + 1}",
        "Cisco": f"Gi0/0/{index}",
        "Ruijie": f"Gi0/{index + 1}",
    }.get(ne.vendor, f"gei-0/0/0/{index + 1}")


def _cpe_type(service: ServiceType, site: _Site) -> NeType:
    if service is _S.VOICE:
        return NeType.PBX if site.label == "HQ" and site.customer.level.is_key else NeType.IAD
    if service is _S.DATA and site.label != "HQ":
        return NeType.SWITCH
    return NeType.ROUTER


def _crew(dispatchers: list[str], shift_index: int) -> list[str]:
    """Four crews rotate through the 12-hour shifts (shift 2d is day d's day shift)."""
    return [code for i, code in enumerate(dispatchers) if i % 4 == shift_index % 4]


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# ---------------------------------------------------------------- entry point


def generate(out_dir: Path, scale: float = 1.0, seed: int = 7, now: datetime | None = None) -> dict[str, int]:
    """Write the city's inventory CSVs into ``out_dir``; rows per file stem.

    Scale 1 ≈ 300 customers and 1,500 circuits; everything but the 12 regions grows linearly.
    ``now`` only places the seven-day roster (default: the current time in Asia/Shanghai).
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")
    rng = random.Random(seed)
    customers = max(1, round(300 * scale))
    with _Out(Path(out_dir)) as out:
        city = _City(out, rng, scale)
        city.regions()
        city.teams()
        by_role = city.staff(customers)
        city.roster(by_role, now or datetime.now(TZ))
        city.backbone()
        for area in city.areas:
            city.new_ring(area)  # every district has at least one aggregation ring
        for customer in city.customers(customers):
            city.circuits_of(customer)
        return dict(out.counts)

"""Inventory value sets (DOMAIN section 2), each with its Chinese and English label."""

from __future__ import annotations

from linewatch.core.choices import Choice


class CustomerLevel(Choice):
    CROSS_PROVINCE = ("cross_province", "跨省", "cross-province")
    PROVINCIAL = ("provincial", "省级", "provincial")
    MUNICIPAL_KEY = ("municipal_key", "市级重点", "municipal key")
    UNIT_KEY = ("unit_key", "营销单元重要", "marketing-unit key")
    NORMAL = ("normal", "普通", "normal")

    @property
    def is_key(self) -> bool:
        """Key customer (重点集团) = any level but normal."""
        return self is not CustomerLevel.NORMAL


class ServiceGrade(Choice):
    DIAMOND = ("diamond", "钻石", "diamond")
    GOLD = ("gold", "金牌", "gold")
    SILVER = ("silver", "银牌", "silver")
    BRONZE = ("bronze", "铜牌", "bronze")
    STANDARD = ("standard", "标准", "standard")


class NeType(Choice):
    SDH = ("SDH", "SDH", "SDH")
    MSTP = ("MSTP", "MSTP", "MSTP")
    PTN = ("PTN", "PTN", "PTN")
    IPRAN = ("IPRAN", "IPRAN", "IPRAN")
    OTN = ("OTN", "OTN", "OTN")
    OLT = ("OLT", "OLT", "OLT")
    ONU = ("ONU", "ONU", "ONU")
    MSAP = ("MSAP", "MSAP", "MSAP")
    ROUTER = ("ROUTER", "路由器", "router")
    SWITCH = ("SWITCH", "交换机", "switch")
    FIREWALL = ("FIREWALL", "防火墙", "firewall")
    PBX = ("PBX", "用户交换机", "PBX")
    IAD = ("IAD", "综合接入设备", "IAD")
    NGN = ("NGN", "NGN 软交换", "NGN softswitch")
    GGSN = ("GGSN", "GGSN (APN 网关)", "GGSN (APN gateway)")
    SMS_GW = ("SMS_GW", "短彩信网关", "SMS/MMS gateway")
    BRAS = ("BRAS", "BRAS (CMNET 接入)", "BRAS (CMNET access)")

    @property
    def is_platform(self) -> bool:
        return self in PLATFORM_TYPES


PLATFORM_TYPES = frozenset({NeType.NGN, NeType.GGSN, NeType.SMS_GW, NeType.BRAS})


class ServiceType(Choice):
    VOICE = ("voice", "语音专线", "voice line")
    DATA = ("data", "数据专线", "data line")
    INTERNET = ("internet", "互联网专线", "internet line")
    GPRS = ("gprs", "GPRS/APN 专线", "GPRS/APN line")
    SMS = ("sms", "集团短彩信", "group SMS/MMS")
    MPLS_VPN = ("mpls_vpn", "MPLS VPN", "MPLS VPN")
    IMS = ("ims", "IMS 专线", "IMS line")


# The platform a service type depends on (voice → NGN, gprs → GGSN, sms → SMS gateway, internet → BRAS).
SERVICE_PLATFORM = {
    ServiceType.VOICE: NeType.NGN,
    ServiceType.GPRS: NeType.GGSN,
    ServiceType.SMS: NeType.SMS_GW,
    ServiceType.INTERNET: NeType.BRAS,
}


class AccessTech(Choice):
    SDH = ("SDH", "SDH", "SDH")
    MSTP = ("MSTP", "MSTP", "MSTP")
    PTN = ("PTN", "PTN", "PTN")
    PON = ("PON", "PON", "PON")
    OTN = ("OTN", "OTN", "OTN")
    MSAP = ("MSAP", "MSAP", "MSAP")
    IPRAN = ("IPRAN", "IPRAN", "IPRAN")


class SiteRole(Choice):
    CENTER = ("center", "中心点", "center point")
    BRANCH = ("branch", "分支点", "branch point")


class AssuranceLevel(Choice):
    AAA = ("AAA", "AAA", "AAA")
    AA = ("AA", "AA", "AA")
    A = ("A", "A", "A")
    NORMAL = ("normal", "普通", "normal")


class RouteRole(Choice):
    PRIMARY = ("primary", "主用路由", "primary route")
    BACKUP = ("backup", "备用路由", "backup route")


class TeamKind(Choice):
    DISPATCH = ("dispatch", "综合调度班", "dispatch (NOC duty)")
    SUPPORT = ("support", "全业务支撑班", "support")
    TRANSMISSION = ("transmission", "传输班组", "transmission team")
    DATA = ("data", "数据班组", "data team")
    CORE = ("core", "核心网班组", "core network team")
    CONTRACTOR = ("contractor", "代维公司", "field contractor")
    MANAGEMENT = ("management", "管理", "management")


class Role(Choice):
    """Roles of DOMAIN section 1; a staff member's role is their user's role."""

    DISPATCHER = ("dispatcher", "综合调度", "dispatcher")
    SUPPORT = ("support", "全业务支撑", "support engineer")
    ENGINEER = ("engineer", "专业班组", "specialist engineer")
    CONTRACTOR = ("contractor", "代维", "field contractor")
    FAULT_MANAGER = ("fault_manager", "故障管理员", "fault manager")
    MANAGER_L3 = ("manager_l3", "三级经理", "third-level manager")
    LEADER = ("leader", "部门领导", "department leader")
    ACCOUNT_MANAGER = ("account_manager", "客户经理", "account manager")
    ADMIN = ("admin", "管理员", "administrator")

"""UI text in Chinese and English. Keys are stable; a missing key shows itself, not a crash."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "app": {"zh": "Linewatch 集客专线监控调度", "en": "Linewatch leased-line NOC"},
    "login": {"zh": "登录", "en": "Log in"},
    "logout": {"zh": "退出", "en": "Log out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "login_locked": {"zh": "失败次数过多，请稍后再试", "en": "Too many failed logins; try again later"},
    "home": {"zh": "首页", "en": "Home"},
    "customers": {"zh": "集团客户", "en": "Customers"},
    "circuits": {"zh": "专线电路", "en": "Circuits"},
    "network_elements": {"zh": "网元", "en": "Network elements"},
    "regions": {"zh": "区域", "en": "Regions"},
    "role": {"zh": "角色", "en": "Role"},
    "inventory": {"zh": "资源", "en": "Inventory"},
    "language": {"zh": "English", "en": "中文"},
    "search": {"zh": "搜索", "en": "Search"},
    "signed_in_as": {"zh": "当前用户", "en": "Signed in as"},
    "key_customers": {"zh": "重点集团", "en": "Key customers"},
    "dual_routed": {"zh": "双路由电路", "en": "Dual-routed circuits"},
}


def translate(key: str, lang: str) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]

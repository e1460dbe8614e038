"""Assurance value sets (DOMAIN 7), with Chinese and English labels."""

from __future__ import annotations

from linewatch.core.choices import Choice


class AssuranceLevel(Choice):
    ONE = ("1", "一级重保", "level 1 (highest)")
    TWO = ("2", "二级重保", "level 2")
    THREE = ("3", "三级重保", "level 3")

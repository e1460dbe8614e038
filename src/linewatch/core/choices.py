"""Labelled enumerations: every value set is defined once, with its Chinese and English label.

Values are the wire/storage form. ``parse`` matches case-insensitively and also accepts the
Chinese label, since operators' spreadsheets often carry 中文 values.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from linewatch.core.errors import InvalidChoice


class Choice(StrEnum):
    """A StrEnum whose members carry ``zh`` and ``en`` labels: ``MEMBER = ("value", "中文", "English")``."""

    zh: str
    en: str

    def __new__(cls, value: str, zh: str = "", en: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh or value
        member.en = en or value.replace("_", " ")
        return member

    @classmethod
    def parse(cls, text: str) -> Self:
        key = text.strip()
        lowered = key.lower()
        for member in cls:
            if lowered == member.value.lower() or key == member.zh:
                return member
        raise InvalidChoice(f"{text[:60]!r} is not one of: {', '.join(m.value for m in cls)}")

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en

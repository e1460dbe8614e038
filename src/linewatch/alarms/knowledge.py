"""Handling suggestions (处理建议): a knowledge base keyed by alarm type, access and service type,
plus the cause categories closed tickets recorded for the alarm type (most frequent first)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from linewatch.alarms.models import CauseTally, KnowledgeEntry
from linewatch.core.clock import Clock
from linewatch.db.audit import record


def seed_entries() -> list[dict[str, Any]]:
    text = resources.files("linewatch.alarms").joinpath("knowledge.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def seed(session: Session, clock: Clock) -> int:
    """Fill an empty knowledge base with the shipped entries; an edited one is left alone."""
    if session.scalar(select(KnowledgeEntry.id).limit(1)) is not None:
        return 0
    entries = seed_entries()
    for entry in entries:
        session.add(
            KnowledgeEntry(
                alarm_type=entry["type"],
                access=entry.get("access", ""),
                service_type=entry.get("service_type", ""),
                causes=entry["causes"],
                steps=entry["steps"],
                updated_by="seed",
                updated_at=clock.now(),
            )
        )
    return len(entries)


class Suggestions:
    """An in-memory copy of the knowledge base for the read path; reloaded after every edit."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
        self.learned: dict[str, list[str]] = {}

    def load(self, session: Session) -> None:
        self.entries = {
            (e.alarm_type, e.access.upper(), e.service_type.lower()): (list(e.causes), list(e.steps))
            for e in session.scalars(select(KnowledgeEntry))
        }
        learned: dict[str, list[tuple[int, str]]] = {}
        for tally in session.scalars(select(CauseTally)):
            learned.setdefault(tally.alarm_type, []).append((tally.count, tally.cause))
        self.learned = {t: [c for _, c in sorted(v, key=lambda x: (-x[0], x[1]))] for t, v in learned.items()}

    def suggest(self, alarm_type: str, access: str = "", service_type: str = "") -> dict[str, list[str]]:
        access, service_type = access.upper(), service_type.lower()
        for key in (
            (alarm_type, access, service_type),
            (alarm_type, access, ""),
            (alarm_type, "", service_type),
            (alarm_type, "", ""),
        ):
            if key in self.entries:
                causes, steps = self.entries[key]
                break
        else:
            causes, steps = [], []
        learned = self.learned.get(alarm_type, [])
        return {"causes": learned + [c for c in causes if c not in learned], "steps": steps}


def upsert_entry(
    session: Session,
    clock: Clock,
    actor: str,
    alarm_type: str,
    access: str,
    service_type: str,
    causes: list[str],
    steps: list[str],
) -> KnowledgeEntry:
    entry = session.scalar(
        select(KnowledgeEntry).where(
            KnowledgeEntry.alarm_type == alarm_type,
            KnowledgeEntry.access == access,
            KnowledgeEntry.service_type == service_type,
        )
    )
    before = {"causes": entry.causes, "steps": entry.steps} if entry else None
    if entry is None:
        entry = KnowledgeEntry(alarm_type=alarm_type, access=access, service_type=service_type)
        session.add(entry)
    entry.causes, entry.steps, entry.updated_by, entry.updated_at = causes, steps, actor, clock.now()
    record(
        session,
        clock,
        actor,
        "update" if before else "create",
        "knowledge",
        f"{alarm_type}/{access or '*'}/{service_type or '*'}",
        before=before,
        after={"causes": causes, "steps": steps},
    )
    return entry


def count_cause(session: Session, alarm_type: str, cause: str) -> None:
    """A closed ticket's cause category feeds the suggestions for its root alarm type."""
    tally = session.get(CauseTally, (alarm_type, cause))
    if tally is None:
        session.add(CauseTally(alarm_type=alarm_type, cause=cause, count=1))
    else:
        tally.count += 1


def list_entries(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "type": e.alarm_type,
            "access": e.access or None,
            "service_type": e.service_type or None,
            "causes": e.causes,
            "steps": e.steps,
            "updated_by": e.updated_by,
            "updated_at": e.updated_at.isoformat() if e.updated_at else None,
        }
        for e in session.scalars(
            select(KnowledgeEntry).order_by(KnowledgeEntry.alarm_type, KnowledgeEntry.id)
        )
    ]

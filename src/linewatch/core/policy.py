"""The policy: every operator-tunable threshold, loaded from YAML and validated.

The defaults live in ``policy.default.yaml`` (shipped with the package); an operator file is
deep-merged over them. The models below declare shape and bounds only — no default numbers.
"""

from __future__ import annotations

from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from linewatch.core.errors import ValidationFailed

Minutes = PositiveInt
TrackName = Literal["gold", "silver", "normal"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestPolicy(Strict):
    max_batch: PositiveInt
    max_body_bytes: PositiveInt
    dead_letter_keep_days: PositiveInt
    retry_after_seconds: PositiveInt


class FlappingPolicy(Strict):
    count: PositiveInt
    window_minutes: Minutes


class AlarmPolicy(Strict):
    flapping: FlappingPolicy
    consequent_types: list[str]
    root_window_minutes: Minutes
    impact_severities: list[Literal["critical", "major", "minor", "warning", "indeterminate"]]
    ne_level_types: list[str]
    type_aliases: dict[str, str]


class ContactHours(Strict):
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> ContactHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class DispatchPolicy(Strict):
    same_window_minutes: Minutes
    urgent_key_customers_down: PositiveInt
    general_key_customers_down: PositiveInt
    general_excludes_access: list[str]
    urgent_center_service_types: list[str]
    overdue_branch_minutes: Minutes
    diagnosis_minutes: Minutes
    customer_contact_hours: ContactHours

    @model_validator(mode="after")
    def _thresholds(self) -> DispatchPolicy:
        if self.general_key_customers_down >= self.urgent_key_customers_down:
            raise ValueError("general_key_customers_down must be below urgent_key_customers_down")
        return self


class TrackLimits(Strict):
    accept: Minutes
    contact: Minutes
    on_site: Minutes
    locate: Minutes
    escalate_fault_manager: Minutes
    escalate_manager_l3: Minutes
    escalate_leader: Minutes

    @model_validator(mode="after")
    def _ladder(self) -> TrackLimits:
        if not self.escalate_fault_manager < self.escalate_manager_l3 < self.escalate_leader:
            raise ValueError("escalation ladder must rise: fault_manager < manager_l3 < leader")
        return self


class SlaPolicy(Strict):
    grade_track: dict[Literal["diamond", "gold", "silver", "bronze", "standard"], TrackName]
    tracks: dict[TrackName, TrackLimits]
    recovery_minutes: dict[Literal["AAA", "AA", "A", "normal"], Minutes]
    progress_update_minutes: Minutes
    close_observation_minutes: Minutes

    @model_validator(mode="after")
    def _complete(self) -> SlaPolicy:
        for name, keys in (
            ("grade_track", {"diamond", "gold", "silver", "bronze", "standard"}),
            ("tracks", {"gold", "silver", "normal"}),
            ("recovery_minutes", {"AAA", "AA", "A", "normal"}),
        ):
            missing = keys - set(getattr(self, name))
            if missing:
                raise ValueError(f"{name} lacks {', '.join(sorted(missing))}")
        return self


class DispatchRule(Strict):
    name: str
    levels: list[Literal["urgent", "general", "overdue", "normal"]]
    key_customers_only: bool = False  # shape flags, not thresholds: absent = no restriction
    handed_over: bool | None = None
    service_types: list[str] | None = None


class TicketPolicy(Strict):
    auto_dispatch: list[DispatchRule]
    specialist_by_ne_type: dict[Literal["transmission", "data", "core"], list[str]]
    escalation_roles: dict[Literal["fault_manager", "manager_l3", "leader"], list[str]]
    phone_dispatch_levels: list[Literal["urgent", "general", "overdue", "normal"]]
    phone_dispatch_roles: list[str]


class CutoverPolicy(Strict):
    notice_working_days: PositiveInt
    flash_max_minutes: Minutes
    window_grace_minutes: int = Field(ge=0)
    refuse_assurance_level_at_most: int = Field(ge=0, le=3)


class AssurancePolicy(Strict):
    level_raise: int = Field(ge=0, le=3)


class WarningPolicy(Strict):
    lookback_days: PositiveInt
    orange_faults: PositiveInt
    red_faults: PositiveInt
    red_over_limit_faults: PositiveInt
    visit_due_working_days: PositiveInt
    periodic: list[Literal["weekly", "monthly"]]

    @model_validator(mode="after")
    def _order(self) -> WarningPolicy:
        if self.orange_faults >= self.red_faults:
            raise ValueError("orange_faults must be below red_faults")
        return self


class StatisticsPolicy(Strict):
    repeat_fault_days: PositiveInt
    repeat_fault_min: PositiveInt
    top_n: PositiveInt  # rows in the top faulty NEs / customers lists
    trend_days_max: PositiveInt  # a period up to this many days trends by day, a longer one by month


class ProbePolicy(Strict):
    interval_seconds: PositiveInt
    count: PositiveInt
    loss_threshold_percent: int = Field(ge=1, le=100)


class QuietHours(Strict):
    """A nightly span; may wrap midnight (22:00 → 07:30)."""

    start: time
    end: time

    @model_validator(mode="after")
    def _span(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours need start != end")
        return self


class NotifyPolicy(Strict):
    digest_incidents: PositiveInt
    digest_window_minutes: Minutes
    retry_backoff_seconds: list[PositiveInt]
    retry_receipts: list[str] = ["UNDELIV", "REJECTD", "EXPIRED"]
    default_channels: list[Literal["sms", "email", "webhook", "voice"]]
    urgent_kinds: list[str]
    quiet_hours: QuietHours | None = None  # absent = nobody is quiet unless they say so
    rate_per_minute: dict[Literal["sms", "email", "webhook", "voice"], PositiveInt]
    memory_hours: PositiveInt
    batch: PositiveInt


class AccessPolicy(Strict):
    session_hours: PositiveInt
    login_max_failures: PositiveInt
    login_lock_minutes: Minutes


class Policy(Strict):
    timezone: str
    ingest: IngestPolicy
    alarms: AlarmPolicy
    dispatch: DispatchPolicy
    sla: SlaPolicy
    tickets: TicketPolicy
    cutovers: CutoverPolicy
    assurance: AssurancePolicy
    warnings: WarningPolicy
    statistics: StatisticsPolicy
    probes: ProbePolicy
    notify: NotifyPolicy
    access: AccessPolicy

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def as_plain(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def default_policy_data() -> dict[str, Any]:
    text = resources.files("linewatch").joinpath("policy.default.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else in ``override`` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_policy(path: str | Path | None = None) -> Policy:
    """Load the defaults, merge the operator file over them, validate; errors name the key."""
    data = default_policy_data()
    source = "defaults"
    if path:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationFailed(f"cannot read policy file {path}: {exc.strerror}") from exc
        try:
            override = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ValidationFailed(f"policy file {path} is not valid YAML: {exc}") from exc
        if not isinstance(override, dict):
            raise ValidationFailed(f"policy file {path} must be a mapping at the top level")
        data = deep_merge(data, override)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        ]
        raise ValidationFailed(f"invalid policy ({source}): " + "; ".join(problems), problems) from exc

"""The policy: DOMAIN's numbers are the defaults, files merge over them, bad files are named."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from linewatch.core.errors import ValidationFailed
from linewatch.core.policy import load_policy


def test_defaults_hold_every_number_of_the_domain() -> None:
    p = load_policy()
    assert p.timezone == "Asia/Shanghai"
    d = p.dispatch
    assert (d.urgent_key_customers_down, d.general_key_customers_down) == (10, 3)
    assert (d.same_window_minutes, d.overdue_branch_minutes, d.diagnosis_minutes) == (10, 240, 15)
    assert (d.customer_contact_hours.start, d.customer_contact_hours.end) == (time(7, 30), time(22, 0))
    assert d.general_excludes_access == ["PON"]
    gold, silver, normal = (p.sla.tracks[t] for t in ("gold", "silver", "normal"))
    assert (gold.accept, gold.contact, gold.on_site, gold.locate) == (10, 30, 60, 120)
    assert (gold.escalate_fault_manager, gold.escalate_manager_l3, gold.escalate_leader) == (150, 180, 240)
    assert (silver.on_site, silver.locate, silver.escalate_leader) == (240, 300, 480)
    assert (normal.on_site, normal.locate, normal.escalate_fault_manager, normal.escalate_leader) == (
        480,
        540,
        600,
        720,
    )
    assert p.sla.grade_track == {
        "diamond": "gold",
        "gold": "gold",
        "silver": "silver",
        "bronze": "normal",
        "standard": "normal",
    }
    assert p.sla.recovery_minutes == {"AAA": 120, "AA": 240, "A": 360, "normal": 480}
    assert (p.sla.progress_update_minutes, p.sla.close_observation_minutes) == (60, 60)
    assert (p.cutovers.notice_working_days, p.cutovers.flash_max_minutes) == (6, 5)
    assert p.cutovers.refuse_assurance_level_at_most == 2
    w = p.warnings
    assert (w.lookback_days, w.orange_faults, w.red_faults, w.red_over_limit_faults) == (60, 3, 5, 2)
    assert w.visit_due_working_days == 2
    assert (p.statistics.repeat_fault_days, p.statistics.repeat_fault_min) == (30, 2)


def test_operator_file_merges_key_by_key(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "dispatch:\n  diagnosis_minutes: 20\nsla:\n  recovery_minutes:\n    AAA: 90\n", encoding="utf-8"
    )
    p = load_policy(path)
    assert p.dispatch.diagnosis_minutes == 20
    assert p.dispatch.same_window_minutes == 10  # untouched sibling keeps its default
    assert p.sla.recovery_minutes["AAA"] == 90 and p.sla.recovery_minutes["AA"] == 240


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("dispatch:\n  diagnosis_minutes: -5\n", "dispatch.diagnosis_minutes"),
        ("dispatch:\n  diagnosis_minuts: 5\n", "dispatch.diagnosis_minuts"),
        ("dispatch:\n  general_key_customers_down: 12\n", "general_key_customers_down must be below"),
        ("sla:\n  tracks:\n    gold:\n      escalate_leader: 100\n", "escalation ladder"),
        ("timezone: Mars/Olympus\n", "unknown time zone"),
        ("dispatch:\n  customer_contact_hours:\n    start: '23:00'\n", "start must be before end"),
        ("- just\n- a list\n", "mapping at the top level"),
        ("dispatch: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_files_are_refused_with_the_key_named(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        load_policy(path)
    assert named in caught.value.message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="cannot read policy file"):
        load_policy(tmp_path / "nope.yaml")

"""indexes for a period's down intervals: by start, and long intervals by their length

Revision ID: 0011
Revises: 0010

A period's down intervals are those that started in it or shortly before it (a range of
``ix_incident_impact_down``), plus the few older ones that were still running at its start:
ongoing ones (``until`` null: ``ix_incident_impact_until``) and ended ones longer than the
carry-over window, found by their length (``ix_incident_impact_span``, an expression index; the
query in ``reports/service.py`` spells the same expression). Before, the report walked every
interval that ended after the period's start: the whole rest of history for an old month.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match reports.service.SPAN (same expression text, or the planner will not use the index).
SPAN = {
    "sqlite": "(julianday(until) - julianday(since))",
    "postgresql": "(until - since)",
}


def upgrade() -> None:
    op.create_index("ix_incident_impact_down", "incident_impact", ["impact", "since", "until"])
    dialect = op.get_bind().dialect.name
    op.execute(f"CREATE INDEX ix_incident_impact_span ON incident_impact ({SPAN[dialect]})")


def downgrade() -> None:
    op.drop_index("ix_incident_impact_span", table_name="incident_impact")
    op.drop_index("ix_incident_impact_down", table_name="incident_impact")

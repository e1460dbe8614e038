"""indexes for the report queries: incidents and tickets by time, impact intervals by end

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_incident_opened_at", "incident", ["opened_at"])
    op.create_index("ix_incident_impact_until", "incident_impact", ["until", "since"])
    op.create_index("ix_ticket_created_at", "ticket", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_created_at", table_name="ticket")
    op.drop_index("ix_incident_impact_until", table_name="incident_impact")
    op.drop_index("ix_incident_opened_at", table_name="incident")

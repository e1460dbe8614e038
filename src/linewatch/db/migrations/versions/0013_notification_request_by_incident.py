"""an incident's notification requests by kind

Revision ID: 0013
Revises: 0012

The assurance notice is written once per entry of an incident into an assurance period: the
downstream hook, and the reconcile at start that redoes what a stop left undone, look for the
incident's earlier notices first (decision 173). Without this index each look was a scan of
the whole outbox.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_notification_request_incident", "notification_request", ["incident_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_notification_request_incident", table_name="notification_request")

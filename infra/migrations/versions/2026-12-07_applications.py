"""applications: only confirmed participations reserve an organization in a round

``uq_application_organization_live`` covered every participation that was not withdrawn, so a
listing alone reserved the listed organization. It now covers only confirmed ones (the lead's
part is confirmed when its bid is created): an unconfirmed listing blocks nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_application_organization_live"
OLD = "withdrawn_at IS NULL"
NEW = "withdrawn_at IS NULL AND confirmed_at IS NOT NULL"


def _rebuild(where: str) -> None:
    with op.batch_alter_table("application_organization", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_index(
            INDEX,
            ["round_id", "organization_id"],
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def upgrade() -> None:
    _rebuild(NEW)


def downgrade() -> None:
    # Refused (an IntegrityError) while an organization is listed, unconfirmed, in one live
    # application of a round and takes part in another: the old rule cannot hold such data.
    _rebuild(OLD)

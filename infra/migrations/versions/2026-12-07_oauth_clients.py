"""refresh_token.auth_time: when the person signed in for the grant a refresh-token family continues

Access tokens of the authorization code grant carry ``auth_time`` (the sign-in's time), and a
refresh keeps the original one: creating an OAuth client needs a sign-in at most 10 minutes old.
Families issued before this revision have none, so their tokens count as stale sign-ins.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auth_time", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_column("auth_time")

"""event, event_head: the outbox of events written with each change (the event feed, webhooks, mail)

Each event is written in the transaction of the change it tells of. Its ``seq`` is allocated
under the lock of the one ``event_head`` row, held to the end of that transaction, so seqs are
handed out in commit order: a reader that has seen seq N never later meets a smaller one.

Revision ID: 0011_i18
Revises: 0010
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import models.base
from alembic import op

revision: str = "0011_i18"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("occurred_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("data", models.base.JSONDocument(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("seq", name=op.f("uq_event_seq")),
    )
    op.create_index(op.f("ix_event_type"), "event", ["type"], unique=False)
    op.create_index(op.f("ix_event_round_id"), "event", ["round_id"], unique=False)
    op.create_index(op.f("ix_event_application_id"), "event", ["application_id"], unique=False)
    op.create_index(op.f("ix_event_reviewer_id"), "event", ["reviewer_id"], unique=False)
    op.create_table(
        "event_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_head")),
    )


def downgrade() -> None:
    op.drop_table("event_head")
    op.drop_index(op.f("ix_event_reviewer_id"), table_name="event")
    op.drop_index(op.f("ix_event_application_id"), table_name="event")
    op.drop_index(op.f("ix_event_round_id"), table_name="event")
    op.drop_index(op.f("ix_event_type"), table_name="event")
    op.drop_table("event")

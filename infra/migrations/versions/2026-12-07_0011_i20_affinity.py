"""Affinity from what applicants and reviewers wrote, imported scores, and preferences

Reviewer profiles take a statement and publications; a round chooses its affinity source
(``text`` by default, as API.md says, also for rounds made before this revision); scored pairs
are stored sparsely per round and source; panel reviewers' preferences are kept per round.

Revision ID: 0011_i20
Revises: 0010
Create Date: 2026-12-07 08:49:11.292803
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0011_i20"
down_revision: str | Sequence[str] | None = "0011_i18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "affinity_computation",
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("computed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("reviewers", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("inputs_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_affinity_computation_round_id_round")
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_affinity_computation")),
    )
    op.create_table(
        "reviewer_preference",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("preference", sa.String(length=20), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_reviewer_preference_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["user.id"], name=op.f("fk_reviewer_preference_reviewer_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_reviewer_preference_round_id_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewer_preference")),
        sa.UniqueConstraint(
            "round_id",
            "reviewer_id",
            "application_id",
            name=op.f("uq_reviewer_preference_round_id_reviewer_id_application_id"),
        ),
    )
    with op.batch_alter_table("reviewer_preference", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reviewer_preference_round_id"), ["round_id"], unique=False
        )
    op.create_table(
        "round_affinity",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("evidence", models.base.JSONDocument(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_round_affinity_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["user.id"], name=op.f("fk_round_affinity_reviewer_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_round_affinity_round_id_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_affinity")),
        sa.UniqueConstraint(
            "round_id",
            "source",
            "application_id",
            "reviewer_id",
            name=op.f("uq_round_affinity_round_id_source_application_id_reviewer_id"),
        ),
        sa.UniqueConstraint(
            "round_id",
            "source",
            "application_id",
            "rank",
            name=op.f("uq_round_affinity_round_id_source_application_id_rank"),
        ),
    )
    with op.batch_alter_table("reviewer_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statement", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column(
                "publications", models.base.JSONDocument(), nullable=False, server_default="[]"
            )
        )
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "affinity",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="text",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_column("affinity")
    with op.batch_alter_table("reviewer_profile", schema=None) as batch_op:
        batch_op.drop_column("publications")
        batch_op.drop_column("statement")
    op.drop_table("round_affinity")
    with op.batch_alter_table("reviewer_preference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_preference_round_id"))
    op.drop_table("reviewer_preference")
    op.drop_table("affinity_computation")

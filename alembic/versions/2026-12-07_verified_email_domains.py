"""organization.verified_email_domains: only verified email domains count in conflict detection

An organization's ``email_domains`` are claims. A claim is verified at once when one of the
organization's owners has an email address in that domain, or in a subdomain of it below its
public suffix; any other waits for an admin (``POST /organizations/{id}/email-domains/verify``).

Existing organizations: each claim that an owner's email address proves by that same rule
(``submissions.domains.verified_by_owners``, the rule the application applies) is verified; the
others stay unverified until an admin verifies them, so they stop counting in conflict detection.
Claims that are public suffixes or webmail domains never verify.

Revision ID: 0008_conflicts
Revises: 0007
Create Date: 2026-12-07 09:00:00.000000
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa

import models.base
from alembic import op
from submissions.domains import verified_by_owners

revision: str = "0008_conflicts"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORGANIZATION = sa.table(
    "organization",
    sa.column("id", sa.Uuid()),
    sa.column("email_domains", models.base.JSONDocument()),
    sa.column("verified_email_domains", models.base.JSONDocument()),
)
MEMBER = sa.table(
    "organization_member",
    sa.column("organization_id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("role", sa.String()),
)
USER = sa.table("user", sa.column("id", sa.Uuid()), sa.column("email", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verified_email_domains", models.base.JSONDocument(), nullable=True)
        )
    bind = op.get_bind()
    owners: dict[object, list[str]] = defaultdict(list)
    for organization_id, email in bind.execute(
        sa.select(MEMBER.c.organization_id, USER.c.email)
        .join(USER, USER.c.id == MEMBER.c.user_id)
        .where(MEMBER.c.role == "owner")
    ):
        owners[organization_id].append(email)
    for organization_id, claims in bind.execute(
        sa.select(ORGANIZATION.c.id, ORGANIZATION.c.email_domains)
    ).all():
        bind.execute(
            ORGANIZATION.update()
            .where(ORGANIZATION.c.id == organization_id)
            .values(verified_email_domains=verified_by_owners(claims or [], owners[organization_id]))
        )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.alter_column(
            "verified_email_domains", existing_type=models.base.JSONDocument(), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("verified_email_domains")

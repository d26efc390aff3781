"""organization.verified_email_domains: only verified email domains count in conflict detection

An organization's ``email_domains`` are claims. A claim is verified at once when the owner who
made it (the organization's creator, its first owner) has an email address in that domain, or in
a subdomain of it below its public suffix; any other waits for an admin
(``POST /organizations/{id}/email-domains/verify``). Owners added later prove nothing: they were
added without being asked.

Existing organizations: each claim that the first owner's email address proves by that same rule
(``submissions.domains.verified_by_owners``, the rule the application applies) is verified; the
others stay unverified until an admin verifies them, and meanwhile no longer count in conflict
detection. Claims that are public suffixes or webmail domains never verify.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from submissions.domains import verified_by_owners

revision: str = "0008"
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
    sa.column("created_at", models.base.UTCDateTime(timezone=True)),
    sa.column("id", sa.Uuid()),
)
USER = sa.table("user", sa.column("id", sa.Uuid()), sa.column("email", sa.String()))


def upgrade() -> None:
    # Plain ALTERs on both databases (SQLite adds and drops a column in place): a batch
    # rebuild of ``organization`` would drop a table that foreign keys refer to.
    op.add_column(
        "organization",
        sa.Column(
            "verified_email_domains",
            models.base.JSONDocument(),
            nullable=False,
            server_default=sa.text("'[]'"),
        ),
    )
    bind = op.get_bind()
    first_owner: dict[object, str] = {}
    for organization_id, email in bind.execute(
        sa.select(MEMBER.c.organization_id, USER.c.email)
        .join(USER, USER.c.id == MEMBER.c.user_id)
        .where(MEMBER.c.role == "owner")
        .order_by(MEMBER.c.created_at, MEMBER.c.id)
    ):
        first_owner.setdefault(organization_id, email)
    for organization_id, claims in bind.execute(
        sa.select(ORGANIZATION.c.id, ORGANIZATION.c.email_domains)
    ).all():
        bind.execute(
            ORGANIZATION.update()
            .where(ORGANIZATION.c.id == organization_id)
            .values(
                verified_email_domains=verified_by_owners(
                    claims or [],
                    [first_owner[organization_id]] if organization_id in first_owner else [],
                )
            )
        )


def downgrade() -> None:
    op.drop_column("organization", "verified_email_domains")

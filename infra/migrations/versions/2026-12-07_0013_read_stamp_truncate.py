"""Applications' read stamp on TRUNCATE (PostgreSQL)

``TRUNCATE`` fires no row trigger, so the triggers of ``0012_rcache`` missed it: emptying
``organization_member``, ``assignment`` or ``receipt`` at once (an operator's clean-up, a
re-import) left every application's ``read_stamp`` as it was, and a process gave its remembered
answers again (a former member's 200, a receipt that is gone;
tests/security/test_application_answer_attacks.py). A statement trigger on ``TRUNCATE`` of each
table the read shows bumps every application's stamp (the rows are gone: which applications
they touched is unknown). SQLite has no ``TRUNCATE``; its ``DELETE`` without a condition fires
the row triggers when the table has any.

Revision ID: 0013_rtrunc
Revises: 0012_rcache
Create Date: 2026-12-07 20:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_rtrunc"
down_revision: str | Sequence[str] | None = "0012_rcache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "round",
    "organization",
    "organization_member",
    "application_organization",
    "receipt",
    "assignment",
)
"""Every table ``ONE_APPLICATION`` reads besides the application itself (whose own rows go
with a ``TRUNCATE`` of it: the stamp's point read then finds none)."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION shortlist_truncate_read_stamp() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN UPDATE application SET read_stamp = read_stamp + 1; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f'CREATE TRIGGER {table}_truncate_read_stamp AFTER TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION shortlist_truncate_read_stamp()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f'DROP TRIGGER {table}_truncate_read_stamp ON "{table}"')
    op.execute("DROP FUNCTION shortlist_truncate_read_stamp()")

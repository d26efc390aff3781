"""Applications' read stamp, kept by triggers (issue 18: the cached application read)

``application.read_stamp`` grows whenever anything ``ONE_APPLICATION`` reads for it may have
changed: the application's own row, its round's status, deadline, grace or blindness, its
organizations (their parts and names), its receipts, the members of its organizations (what a
caller's ``mine`` says) and its assignments (a reviewer's ``assigned``). Triggers keep it, so
every write path bumps it, the ORM's and bulk statements alike. A process that remembers an
application as a caller saw it checks the stamp with one point read before answering it again
(``api.application_answers``).

Revision ID: 0012_rcache
Revises: 0011_i20
Create Date: 2026-12-07 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_rcache"
down_revision: str | Sequence[str] | None = "0011_i20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE application SET read_stamp = read_stamp + 1 WHERE "
BY_ORGANIZATION = (
    "id IN (SELECT application_id FROM application_organization WHERE organization_id = {})"
)

# (table, events, WHEN of an update or None, the applications a row touches (OLD./NEW. for
# {row})): every table ONE_APPLICATION reads, besides application itself.
ROUND_COLUMNS = ("status", "submission_deadline", "grace_seconds", "blind")
DEPENDENTS: list[tuple[str, tuple[str, ...], tuple[str, ...] | None, str]] = [
    ("round", ("UPDATE",), ROUND_COLUMNS, "round_id = {row}id"),
    ("organization", ("UPDATE",), ("name",), BY_ORGANIZATION.format("{row}id")),
    (
        "organization_member",
        ("INSERT", "UPDATE", "DELETE"),
        None,
        BY_ORGANIZATION.format("{row}organization_id"),
    ),
    ("application_organization", ("INSERT", "UPDATE", "DELETE"), None, "id = {row}application_id"),
    ("receipt", ("INSERT", "UPDATE", "DELETE"), None, "id = {row}application_id"),
    ("assignment", ("INSERT", "UPDATE", "DELETE"), None, "id = {row}application_id"),
]


def _rows(event: str) -> tuple[str, ...]:
    return {"INSERT": ("NEW.",), "DELETE": ("OLD.",), "UPDATE": ("OLD.", "NEW.")}[event]


def _postgresql_upgrade() -> None:
    # The application's own row: any change to it is a new stamp (also the bumps below).
    op.execute(
        "CREATE FUNCTION shortlist_application_read_stamp() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.read_stamp := OLD.read_stamp + 1; RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER application_read_stamp BEFORE UPDATE ON application FOR EACH ROW "
        "EXECUTE FUNCTION shortlist_application_read_stamp()"
    )
    for table, events, columns, where in DEPENDENTS:
        body = []
        for event in events:
            statements = " ".join(f"{BUMP}{where.format(row=row)};" for row in _rows(event))
            body.append(f"IF TG_OP = '{event}' THEN {statements} END IF;")
        op.execute(
            f"CREATE FUNCTION shortlist_{table}_read_stamp() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {' '.join(body)} RETURN NULL; END $$"
        )
        when = ""
        if columns is not None:
            changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
            when = f" WHEN ({changed})"
        op.execute(
            f"CREATE TRIGGER {table}_read_stamp AFTER {' OR '.join(events)} ON {_quoted(table)} "
            f"FOR EACH ROW{when} EXECUTE FUNCTION shortlist_{table}_read_stamp()"
        )


def _sqlite_upgrade() -> None:
    # SQLite: an AFTER trigger per event (recursive triggers are off: a trigger's own update
    # does not fire it again; the WHEN leaves the bumps below to themselves).
    op.execute(
        "CREATE TRIGGER application_read_stamp AFTER UPDATE ON application FOR EACH ROW "
        "WHEN NEW.read_stamp = OLD.read_stamp "
        "BEGIN UPDATE application SET read_stamp = OLD.read_stamp + 1 WHERE id = NEW.id; END"
    )
    for table, events, columns, where in DEPENDENTS:
        for event in events:
            when = ""
            if columns is not None:
                when = " WHEN " + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
            statements = " ".join(f"{BUMP}{where.format(row=row)};" for row in _rows(event))
            op.execute(
                f"CREATE TRIGGER {table}_read_stamp_{event.lower()} AFTER {event} ON "
                f"{_quoted(table)} FOR EACH ROW{when} BEGIN {statements} END"
            )


def _quoted(table: str) -> str:
    return f'"{table}"'


def upgrade() -> None:
    op.add_column(
        "application",
        sa.Column("read_stamp", sa.BigInteger(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER application_read_stamp ON application")
        op.execute("DROP FUNCTION shortlist_application_read_stamp()")
        for table, _events, _columns, _where in DEPENDENTS:
            op.execute(f"DROP TRIGGER {table}_read_stamp ON {_quoted(table)}")
            op.execute(f"DROP FUNCTION shortlist_{table}_read_stamp()")
    else:
        op.execute("DROP TRIGGER application_read_stamp")
        for table, events, _columns, _where in DEPENDENTS:
            for event in events:
                op.execute(f"DROP TRIGGER {table}_read_stamp_{event.lower()}")
    with op.batch_alter_table("application") as batch:
        batch.drop_column("read_stamp")

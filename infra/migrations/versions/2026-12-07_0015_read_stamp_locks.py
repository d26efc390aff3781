"""Applications' read stamp under concurrent writes (PostgreSQL)

A trigger of ``0012_rcache`` that bumps the applications of an organization or a round finds
them as its own transaction sees them (READ COMMITTED): an application that the organization
joins, or that is created in the round, in a concurrent transaction committed first is not
among them. A read between the two commits shows the new application with the old members,
name or deadline, and the later commit left its stamp as it was: a former member was answered
200, an admin the unsealed bid after the deadline moved later
(tests/security/test_application_answer_attacks.py).

Both sides now take a transaction-scoped advisory lock on the organization (members, name;
an application's parts) or the round (its status, deadline, grace, blindness; an application
inserted in it) before they bump: the second waits for the first to commit, and its bump, a
statement of its own, sees the first's rows. The side that adds or changes one application (a
part, an insert) takes the lock shared, the side that bumps them all (members, name, the
round's fields) exclusive: applications made in one round, or joined by one organization, at
the same time do not wait for each other.

Revision ID: 0015_rlocks
Revises: 0014_rinsert
Create Date: 2026-12-07 20:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_rlocks"
down_revision: str | Sequence[str] | None = "0014_rinsert"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORGANIZATION, ROUND = 1919, 1920
"""The advisory locks' first key (their class); the second is the id's hash."""

BUMP = "UPDATE application SET read_stamp = read_stamp + 1 WHERE "
BY_ORGANIZATION = (
    "id IN (SELECT application_id FROM application_organization WHERE organization_id = {})"
)

# (table, events, the lock's class and the column whose value it locks, the bump (``{row}``
# for OLD./NEW.), whether the lock is shared): the functions of 0012_rcache, the lock first.
FUNCTIONS: list[tuple[str, tuple[str, ...], int, str, str, bool]] = [
    ("round", ("UPDATE",), ROUND, "id", "round_id = {row}id", False),
    ("organization", ("UPDATE",), ORGANIZATION, "id", BY_ORGANIZATION.format("{row}id"), False),
    (
        "organization_member",
        ("INSERT", "UPDATE", "DELETE"),
        ORGANIZATION,
        "organization_id",
        BY_ORGANIZATION.format("{row}organization_id"),
        False,
    ),
    (
        "application_organization",
        ("INSERT", "UPDATE", "DELETE"),
        ORGANIZATION,
        "organization_id",
        "id = {row}application_id",
        True,
    ),
]


def _rows(event: str) -> tuple[str, ...]:
    return {"INSERT": ("NEW.",), "DELETE": ("OLD.",), "UPDATE": ("OLD.", "NEW.")}[event]


def _lock(kind: int, value: str, *, shared: bool = False) -> str:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    return f"PERFORM {function}({kind}, hashtext({value}::text));"


def _function(
    table: str,
    events: tuple[str, ...],
    kind: int,
    column: str,
    where: str,
    shared: bool,
    *,
    locked: bool,
) -> str:
    body = []
    for event in events:
        rows = _rows(event)
        locks = (
            " ".join(_lock(kind, f"{row}{column}", shared=shared) for row in rows) if locked else ""
        )
        bumps = " ".join(f"{BUMP}{where.format(row=row)};" for row in rows)
        body.append(f"IF TG_OP = '{event}' THEN {locks} {bumps} END IF;")
    return (
        f"CREATE OR REPLACE FUNCTION shortlist_{table}_read_stamp() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {' '.join(body)} RETURN NULL; END $$"
    )


def _start(*, locked: bool) -> str:
    lock = _lock(ROUND, "NEW.round_id", shared=True) if locked else ""
    return (
        "CREATE OR REPLACE FUNCTION shortlist_application_read_stamp_start() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {lock} "
        f"NEW.read_stamp := floor(random() * {2**62})::bigint; RETURN NEW; END $$"
    )


def _replace(*, locked: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, events, kind, column, where, shared in FUNCTIONS:
        op.execute(_function(table, events, kind, column, where, shared, locked=locked))
    op.execute(_start(locked=locked))


def upgrade() -> None:
    _replace(locked=True)


def downgrade() -> None:
    _replace(locked=False)

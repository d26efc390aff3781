"""Applications' read stamp on INSERT: a random start

The stamp only grew from the value a row was inserted with (0, or whatever the inserted row
carried), so an application deleted and inserted again (restored from a backup, re-imported)
could, after as many writes as it had lost, carry again a stamp a process remembers for other
content, and that process gave its old answer (tests/security/test_application_answer_attacks.py).
An inserted application's stamp now starts at a random value below 2**62, whatever the
statement gave it: no process can have remembered it (but with a chance of 2**-52), and the
increments that follow stay far below a BIGINT's bound.

Revision ID: 0014_rinsert
Revises: 0013_rtrunc
Create Date: 2026-12-07 20:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_rinsert"
down_revision: str | Sequence[str] | None = "0013_rtrunc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOUND = 2**62
"""(4611686018427387904, as SQLite's trigger spells it.)"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION shortlist_application_read_stamp_start() RETURNS trigger "
            "LANGUAGE plpgsql AS "
            f"$$ BEGIN NEW.read_stamp := floor(random() * {BOUND})::bigint; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER application_read_stamp_start BEFORE INSERT ON application "
            "FOR EACH ROW EXECUTE FUNCTION shortlist_application_read_stamp_start()"
        )
    else:
        # SQLite: random() is a signed 64-bit integer; its remainder's absolute value is below
        # the bound (and this update, changing the stamp, does not fire the update trigger).
        op.execute(
            "CREATE TRIGGER application_read_stamp_start AFTER INSERT ON application "
            "FOR EACH ROW BEGIN UPDATE application SET read_stamp = "
            "abs(random() % 4611686018427387904) WHERE id = NEW.id; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER application_read_stamp_start ON application")
        op.execute("DROP FUNCTION shortlist_application_read_stamp_start()")
    else:
        op.execute("DROP TRIGGER application_read_stamp_start")

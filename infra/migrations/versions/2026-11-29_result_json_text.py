"""round_result: inputs and result kept as the canonical JSON text that was hashed

On PostgreSQL the two columns become ``json`` (the text as given, checked but not converted)
instead of ``jsonb``: closing a round of 10,000 applications stored ~10 MB of canonical inputs,
which ``jsonb`` rebuilt in binary form inside the closing transaction (about a sixth of the
close), and the stored bytes now equal the bytes of ``inputs_sha256`` and ``result_sha256``.
SQLite stores JSON as text already: nothing to do there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("inputs", "result")


def _retype(to: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"ALTER TABLE round_result ALTER COLUMN {column} TYPE {to} USING {column}::{to}")


def upgrade() -> None:
    _retype("json")


def downgrade() -> None:
    _retype("jsonb")

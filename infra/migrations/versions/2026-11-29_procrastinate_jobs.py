"""procrastinate jobs: the job queue's own schema (PostgreSQL only)

Applies procrastinate's schema SQL (``procrastinate.schema.SchemaManager.get_schema``) for the
version pinned in pyproject.toml (3.10). A later procrastinate that changes its schema comes with
a new revision applying its migration files (``procrastinate/sql/migrations``) from 3.10 on.
On SQLite, where the embedded default scans in-process without a queue, it does nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 08:30:00.000000
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROP_SCHEMA = r"""
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE routine regprocedure;
BEGIN
    FOR routine IN
        SELECT p.oid::regprocedure FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\_%'
    LOOP
        EXECUTE 'DROP ROUTINE ' || routine || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def _execute_script(sql: str) -> None:
    # Straight to psycopg without parameters: the script holds '%' and ':' that neither
    # SQLAlchemy nor psycopg may read as placeholders, and several statements.
    connection = op.get_bind().connection.dbapi_connection
    assert connection is not None
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _execute_script(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _execute_script(DROP_SCHEMA)

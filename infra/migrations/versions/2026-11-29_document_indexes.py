"""document indexes: pending scans by age, and documents by storage key

The periodic scan pass reads the oldest ``pending_scan`` documents every minute and the storage
sweep asks which blob keys a document still refers to: both were full scans of ``document``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_document_status_created_at", "document", ["status", "created_at"])
    op.create_index("ix_document_storage_key", "document", ["storage_key"])


def downgrade() -> None:
    op.drop_index("ix_document_storage_key", table_name="document")
    op.drop_index("ix_document_status_created_at", table_name="document")

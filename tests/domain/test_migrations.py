"""The migrations are the only way the schema is made: they round-trip and match the models."""

import sqlalchemy as sa

from api.migrate import check, downgrade, upgrade


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_models_match_migrations(database_url: str) -> None:
    check(database_url)


def test_upgrade_downgrade_round_trip(database_url: str) -> None:
    before = _tables(database_url)
    assert "audit_event" in before
    downgrade(database_url, "base")
    assert _tables(database_url) == set()
    upgrade(database_url, "head")
    assert _tables(database_url) == before
    check(database_url)

"""The migrations are the only way the schema is made: they round-trip and match the models."""

import sqlalchemy as sa

from infra.migrate import check, downgrade, upgrade


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


def test_existing_claims_are_verified_by_their_first_owners_address_only(
    database_url: str,
) -> None:
    """0008: a claim the first owner's address proves is verified; any other claim
    (proven only by an owner added later, or by nobody) waits for an admin."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from models.base import JSONDocument, UTCDateTime

    downgrade(database_url, "0008-1")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    user = sa.table(
        "user",
        sa.column("id", sa.Uuid()),
        sa.column("email", sa.String()),
        sa.column("name", sa.String()),
        sa.column("roles", JSONDocument()),
        sa.column("is_active", sa.Boolean()),
        sa.column("created_at", UTCDateTime(timezone=True)),
    )
    organization = sa.table(
        "organization",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("registration_number", sa.String()),
        sa.column("country", sa.String()),
        sa.column("email_domains", JSONDocument()),
        sa.column("created_at", UTCDateTime(timezone=True)),
    )
    member = sa.table(
        "organization_member",
        sa.column("id", sa.Uuid()),
        sa.column("organization_id", sa.Uuid()),
        sa.column("user_id", sa.Uuid()),
        sa.column("role", sa.String()),
        sa.column("created_at", UTCDateTime(timezone=True)),
    )
    people = {
        name: uuid.uuid4() for name in ("alice", "mallory", "victim", "plain_member", "nobody")
    }
    emails = {
        "alice": "alice@lab.kaist.ac.kr",
        "mallory": "mallory@gmail.com",
        "victim": "victim@snu.ac.kr",
        "plain_member": "member@postech.ac.kr",
        "nobody": "nobody@example.org",
    }
    lab, shell = uuid.uuid4(), uuid.uuid4()
    claims = {
        lab: ["lab.kaist.ac.kr", "kaist.ac.kr", "ac.kr", "cs.kaist.ac.kr"],
        shell: ["snu.ac.kr", "postech.ac.kr", "gmail.com"],
    }
    memberships = [
        (lab, "alice", "owner", t0),
        (shell, "mallory", "owner", t0),
        (shell, "victim", "owner", t0 + timedelta(days=1)),  # added later: proves nothing
        (shell, "plain_member", "member", t0 + timedelta(days=2)),
    ]
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                user.insert(),
                [
                    {
                        "id": people[n],
                        "email": emails[n],
                        "name": n,
                        "roles": ["applicant"],
                        "is_active": True,
                        "created_at": t0,
                    }
                    for n in people
                ],
            )
            connection.execute(
                organization.insert(),
                [
                    {
                        "id": org,
                        "name": "Org",
                        "registration_number": "1",
                        "country": "KR",
                        "email_domains": domains,
                        "created_at": t0,
                    }
                    for org, domains in claims.items()
                ],
            )
            connection.execute(
                member.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "organization_id": org,
                        "user_id": people[who],
                        "role": role,
                        "created_at": at,
                    }
                    for org, who, role, at in memberships
                ],
            )
        upgrade(database_url, "0008")
        verified = sa.table(
            "organization",
            sa.column("id", sa.Uuid()),
            sa.column("verified_email_domains", JSONDocument()),
        )
        with engine.connect() as connection:
            rows = connection.execute(sa.select(verified.c.id, verified.c.verified_email_domains))
            found = {row[0]: row[1] for row in rows.all()}
    finally:
        engine.dispose()
    assert found == {lab: ["lab.kaist.ac.kr", "kaist.ac.kr"], shell: []}
    upgrade(database_url, "head")
    check(database_url)

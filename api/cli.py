"""The ``shortlist`` command line. Every command reads the same ``SHORTLIST_`` settings."""

import argparse
import json
import sys
from collections.abc import Callable, Sequence

from api.settings import Settings, get_settings

Command = Callable[[argparse.Namespace, Settings], int]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        access_log=False,
        log_level=settings.log_level.lower(),
    )
    return 0


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from api.migrate import upgrade

    upgrade(settings.database_url)
    print(json.dumps({"migrated": True, "database": _redact(settings.database_url)}))
    return 0


def _redact(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def _audit_verify(_args: argparse.Namespace, settings: Settings) -> int:
    from api.db import make_engine, session_scope
    from submissions.audit import verify

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(engine, write=False) as session:
            result = verify(session=session)
    finally:
        engine.dispose()
    print(result.model_dump_json())
    return 0 if result.ok else 1


def _create_admin(args: argparse.Namespace, settings: Settings) -> int:
    from api.db import make_engine, session_scope
    from api.deps import system_clock
    from submissions.accounts import create_admin

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            user, issued = create_admin(session=session, email=args.email, now=system_clock())
            out = {
                "user_id": str(user.id),
                "client_id": issued.client.client_id,
                "client_secret": issued.secret,
            }
    finally:
        engine.dispose()
    print(json.dumps(out))
    return 0


def _bootstrap(args: argparse.Namespace, settings: Settings) -> int:
    """First run: when no admin exists, create one and print its credentials once."""
    from api.db import make_engine, session_scope
    from api.deps import system_clock
    from api.oauth.keys import ensure_signing_key
    from submissions.accounts import any_admin_exists, create_admin

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            ensure_signing_key(session=session, now=system_clock())
            if any_admin_exists(session=session):
                print("An admin exists already; its credentials were shown when it was created.")
                return 0
            user, issued = create_admin(session=session, email=args.email, now=system_clock())
    finally:
        engine.dispose()
    print("Created the first admin. Keep these credentials: they are shown only once.")
    print(
        json.dumps(
            {
                "user_id": str(user.id),
                "email": user.email,
                "client_id": issued.client.client_id,
                "client_secret": issued.secret,
                "token_endpoint": f"{settings.issuer}/oauth/token",
            },
            indent=2,
        )
    )
    return 0


def _rotate_keys(_args: argparse.Namespace, settings: Settings) -> int:
    from api.db import make_engine, session_scope
    from api.deps import system_clock
    from api.oauth.keys import rotate_keys

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            key = rotate_keys(session=session, now=system_clock())
            kid = key.kid
    finally:
        engine.dispose()
    print(json.dumps({"kid": kid, "note": "older keys stay published until their tokens expire"}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shortlist", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=_serve)

    migrate = sub.add_parser("migrate", help="bring the database schema to the newest revision")
    migrate.set_defaults(handler=_migrate)

    create_admin = sub.add_parser(
        "create-admin", help="create (or promote) an admin and print a client with every scope"
    )
    create_admin.add_argument("email")
    create_admin.set_defaults(handler=_create_admin)

    bootstrap = sub.add_parser("bootstrap", help="create the first admin when none exists")
    bootstrap.add_argument("--email", default="admin@example.org")
    bootstrap.set_defaults(handler=_bootstrap)

    rotate = sub.add_parser("rotate-keys", help="start signing with a new key")
    rotate.set_defaults(handler=_rotate_keys)

    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_verify = audit_sub.add_parser("verify", help="verify the audit hash chain")
    audit_verify.set_defaults(handler=_audit_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command = args.handler
    return handler(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())

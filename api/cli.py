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

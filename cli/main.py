"""The ``shortlist`` command line. Every command reads the same ``SHORTLIST_`` settings."""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from infra.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlmodel import Session

Command = Callable[[argparse.Namespace, Settings], int]
OfflineCommand = Callable[[argparse.Namespace], int]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve with uvicorn. Under several workers the metrics are kept in multiprocess mode, in
    ``PROMETHEUS_MULTIPROC_DIR`` (emptied at start) or else in a directory made for this run."""
    import os
    import shutil
    import tempfile

    import uvicorn

    made = None
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if args.workers > 1 and not directory:
        directory = made = tempfile.mkdtemp(prefix="shortlist-metrics-")
        # Set before prometheus-client is imported: it reads the mode once, at import.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    from infra.logging import configure_logging
    from infra.metrics import prepare_multiprocess_dir

    if directory:
        prepare_multiprocess_dir(directory)
    # uvicorn's own lines (log_config=None: it installs no handlers) go through our renderer.
    configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    try:
        uvicorn.run(
            "api.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            proxy_headers=True,
            access_log=False,
            log_config=None,
            log_level=settings.log_level.lower(),
            # uvicorn kills a worker that has not answered its supervisor's ping within this
            # many seconds, and starts another. Its default, 5 s, is shorter than a worker's
            # start (its imports) on a loaded machine: each replacement was killed in turn.
            timeout_worker_healthcheck=args.worker_timeout,
        )
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)
    return 0


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from infra.logging import configure_logging
    from infra.migrate import upgrade

    configure_logging(json_logs=settings.json_logs, level=settings.log_level)  # alembic's lines
    upgrade(settings.database_url)
    print(json.dumps({"migrated": True, "database": _redact(settings.database_url)}))
    return 0


def _worker(_args: argparse.Namespace, settings: Settings) -> int:
    """Run the background jobs (document scans, webhook deliveries, text affinity) on
    PostgreSQL, for API processes started with ``SHORTLIST_JOBS_IN_PROCESS=false``; stops on
    SIGINT or SIGTERM."""
    import asyncio
    import contextlib
    import signal
    from collections.abc import Coroutine
    from typing import Any

    import structlog

    from infra.clock import system_clock
    from infra.db import make_engine
    from infra.events import install_event_signal
    from infra.jobs import make_document_scans
    from infra.jobs.affinity import ProcrastinateAffinity, make_affinity_jobs
    from infra.jobs.postgres import ProcrastinateScans
    from infra.logging import configure_logging
    from infra.scanner import make_scanner
    from infra.storage import make_blob_store
    from infra.telemetry import make_tracer_provider, trace_engine, use_globally
    from infra.webhooks import ProcrastinateWebhooks, make_webhook_deliveries

    configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    log = structlog.get_logger("shortlist.worker")
    tracer_provider = make_tracer_provider(settings)  # the job, scanner and storage spans
    use_globally(tracer_provider)
    engine = make_engine(settings.database_url, pool_size=settings.scan_concurrency)
    if tracer_provider is not None:
        trace_engine(engine, tracer_provider)
    try:
        if engine.dialect.name != "postgresql":
            print(
                "shortlist worker needs PostgreSQL: on SQLite the server scans in-process.",
                file=sys.stderr,
            )
            return 2
        scans = make_document_scans(
            settings,
            engine=engine,
            store=make_blob_store(settings),
            scanner=make_scanner(settings.scanner_url),
            clock=system_clock,
        )
        webhooks = make_webhook_deliveries(
            settings, engine=engine, signal=install_event_signal(engine), clock=system_clock
        )
        assert isinstance(webhooks, ProcrastinateWebhooks)  # on PostgreSQL
        store = make_blob_store(settings)
        affinity = make_affinity_jobs(settings, engine=engine, store=store, clock=system_clock)
        assert isinstance(affinity, ProcrastinateAffinity)  # on PostgreSQL

        async def until_stopped(*workers: Coroutine[Any, Any, None]) -> None:
            # One handler stops every worker: procrastinate's own (one per worker) would
            # replace each other, and SIGTERM would stop only one of them.
            running = asyncio.gather(*workers)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, running.cancel)
            with contextlib.suppress(asyncio.CancelledError):
                await running

        async def work() -> None:
            async with webhooks.app.open_async(), affinity.app.open_async():
                if not isinstance(scans, ProcrastinateScans):
                    log.info("worker.started", jobs="webhooks, affinity")
                    await until_stopped(
                        webhooks.work(handle_signals=False), affinity.work(handle_signals=False)
                    )
                else:
                    async with scans.app.open_async():
                        log.info("worker.started", concurrency=settings.scan_concurrency)
                        await until_stopped(
                            scans.work(handle_signals=False),
                            webhooks.work(handle_signals=False),
                            affinity.work(handle_signals=False),
                        )
            log.info("worker.stopped")

        asyncio.run(work())
    finally:
        engine.dispose()
        if tracer_provider is not None:
            tracer_provider.shutdown()
    return 0


def _redact(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def _audit_verify(_args: argparse.Namespace, settings: Settings) -> int:
    from infra.db import make_engine, session_scope
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
    from identity.accounts import create_admin
    from infra.clock import system_clock
    from infra.db import make_engine, session_scope

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
    """First run: when no admin exists, create one and print its credentials once. Also
    registers the API docs' Swagger UI client (public, PKCE) for this public URL."""
    from identity.accounts import any_admin_exists, create_admin
    from identity.oauth.keys import ensure_signing_key
    from infra.clock import system_clock
    from infra.db import make_engine, session_scope

    engine = make_engine(settings.database_url, pool_size=1)
    created = None
    try:
        with session_scope(engine) as session:
            ensure_signing_key(session=session, now=system_clock())
            if not any_admin_exists(session=session):
                created = create_admin(session=session, email=args.email, now=system_clock())
            swagger = _ensure_swagger_client(session, settings)
    finally:
        engine.dispose()
    if swagger:
        print(f"Swagger UI signs in as OAuth client {swagger!r} ({settings.issuer}/docs).")
    if created is None:
        print("An admin exists already; its credentials were shown when it was created.")
        return 0
    user, issued = created
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
    print(f"To sign in on {settings.issuer}/docs, give the admin a password first:")
    print(f"  shortlist set-password {user.email}")
    return 0


def _ensure_swagger_client(session: "Session", settings: Settings) -> str | None:
    """The public client that Swagger UI uses, redirecting only to this instance's docs."""
    from identity.accounts import ensure_public_client, find_admin
    from infra.clock import system_clock

    owner = find_admin(session=session)
    if owner is None or not (settings.serves_docs and settings.builtin_issuer):
        return None
    ensure_public_client(
        session=session,
        client_id=settings.swagger_client_id,
        name="Shortlist API docs (Swagger UI)",
        owner=owner,
        redirect_uris=[f"{settings.issuer}/docs/oauth2-redirect"],
        now=system_clock(),
    )
    return settings.swagger_client_id


def _set_password(args: argparse.Namespace, settings: Settings) -> int:
    """Read a password (prompted twice on a terminal, else the first line of stdin) and set it."""
    import getpass

    from identity.accounts import set_password
    from infra.clock import system_clock
    from infra.db import make_engine, session_scope
    from models.errors import DomainError

    if sys.stdin.isatty():
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            print("The passwords differ.", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            user = set_password(
                session=session, email=args.email, password=password, now=system_clock()
            )
            out = {"user_id": str(user.id), "email": user.email, "password_set": True}
    except DomainError as exc:
        print(f"set-password: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(json.dumps(out))
    return 0


def _rotate_keys(_args: argparse.Namespace, settings: Settings) -> int:
    from identity.oauth.keys import rotate_keys
    from infra.clock import system_clock
    from infra.db import make_engine, session_scope

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            key = rotate_keys(session=session, now=system_clock())
            kid = key.kid
    finally:
        engine.dispose()
    print(json.dumps({"kid": kid, "note": "older keys stay published until their tokens expire"}))
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from cli.demo import run_demo

    client_id = args.client_id or os.environ.get("SHORTLIST_DEMO_CLIENT_ID")
    client_secret = args.client_secret or os.environ.get("SHORTLIST_DEMO_CLIENT_SECRET")
    if not (client_id and client_secret):
        if args.url:
            # Another server: its database is not this machine's to write an admin into.
            print(
                "shortlist demo --url needs the target's admin client: --client-id and "
                "--client-secret (or SHORTLIST_DEMO_CLIENT_ID and SHORTLIST_DEMO_CLIENT_SECRET), "
                "from `shortlist create-admin` run against that server's database",
                file=sys.stderr,
            )
            return 2
        client_id, client_secret = _local_demo_admin(settings)
    return run_demo(
        base_url=args.url or settings.public_url,
        admin_id=client_id,
        admin_secret=client_secret,
        deadline_seconds=args.deadline_seconds,
        smtp_url=settings.smtp_url.get_secret_value() if settings.smtp_url else None,
        output=Path(args.output) if args.output else None,
    )


def _local_demo_admin(settings: Settings) -> tuple[str, str]:
    """The demo's admin client against the local server, made as `shortlist create-admin`
    would, in the database of these settings (the server's own)."""
    from identity.accounts import create_admin
    from infra.clock import system_clock
    from infra.db import make_engine, session_scope

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            _, issued = create_admin(
                session=session, email="demo-admin@example.org", now=system_clock()
            )
            return issued.client.client_id, issued.secret
    finally:
        engine.dispose()


def _verify_result(args: argparse.Namespace, settings: Settings) -> int:
    import uuid

    import sqlalchemy as sa

    from infra.db import make_engine, session_scope
    from models.errors import DomainError
    from reviewers.closing import verify_result

    try:
        round_id = uuid.UUID(args.round_id)
    except ValueError:
        print(f"verify-result: {args.round_id!r} is not a round id", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(engine, write=False) as session:
            outcome = verify_result(session=session, round_id=round_id)
    except DomainError as exc:  # no such round, or not closed: nothing to verify
        print(f"verify-result: {exc.detail}", file=sys.stderr)
        return 1
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        # Unreachable, or not migrated: the driver's first line says which (never the URL,
        # which may hold a password).
        lines = str(exc.orig).strip().splitlines()
        reason = lines[0] if lines else type(exc.orig).__name__
        print(
            f"verify-result: cannot read the database (SHORTLIST_DATABASE_URL): {reason}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    print(json.dumps(outcome))
    return 0 if outcome["ok"] else 1


def _verify_record(args: argparse.Namespace) -> int:
    """Offline: no settings, no database (an outside auditor has neither)."""
    from cli.verify_record import verify_record_file

    return verify_record_file(args.file, jwks_source=args.jwks)


def _storage_sweep(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    seconds = settings.storage_sweep_grace_seconds if args.grace is None else args.grace
    from infra.storage.sweep import sweep_storage

    keys = sweep_storage(settings, grace=timedelta(seconds=seconds), dry_run=args.dry_run)
    print(
        json.dumps(
            {
                "dry_run": args.dry_run,
                "grace_seconds": seconds,
                "deleted": 0 if args.dry_run else len(keys),
                "orphans": keys,
            }
        )
    )
    return 0


def _seconds(value: str) -> int:
    seconds = int(value)
    if seconds < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shortlist", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--worker-timeout",
        type=int,
        default=60,
        help="seconds a worker process may take to start or answer its supervisor before it "
        "is replaced (with --workers > 1; default 60)",
    )
    serve.set_defaults(handler=_serve)

    migrate = sub.add_parser("migrate", help="bring the database schema to the newest revision")
    migrate.set_defaults(handler=_migrate)

    worker = sub.add_parser(
        "worker",
        help="run the background jobs (document scans) on PostgreSQL, for API processes "
        "started with SHORTLIST_JOBS_IN_PROCESS=false",
    )
    worker.set_defaults(handler=_worker)

    create_admin = sub.add_parser(
        "create-admin", help="create (or promote) an admin and print a client with every scope"
    )
    create_admin.add_argument("email")
    create_admin.set_defaults(handler=_create_admin)

    bootstrap = sub.add_parser("bootstrap", help="create the first admin when none exists")
    bootstrap.add_argument("--email", default="admin@example.org")
    bootstrap.set_defaults(handler=_bootstrap)

    set_password = sub.add_parser(
        "set-password",
        help="set a user's password for the login page (prompted, or the first line of stdin)",
    )
    set_password.add_argument("email")
    set_password.set_defaults(handler=_set_password)

    rotate = sub.add_parser("rotate-keys", help="start signing with a new key")
    rotate.set_defaults(handler=_rotate_keys)

    demo = sub.add_parser("demo", help="play a two-stage competition against a running server")
    demo.add_argument(
        "--url",
        default=None,
        help="another server (default: SHORTLIST_PUBLIC_URL, whose database gets the demo's "
        "admin); needs --client-id and --client-secret",
    )
    demo.add_argument(
        "--client-id", default=None, help="an admin's OAuth client (or SHORTLIST_DEMO_CLIENT_ID)"
    )
    demo.add_argument(
        "--client-secret",
        default=None,
        help="its secret (or SHORTLIST_DEMO_CLIENT_SECRET)",
    )
    demo.add_argument(
        "--deadline-seconds",
        type=float,
        default=20,
        help="each round's submission deadline, in seconds after it opens (default 20)",
    )
    demo.add_argument(
        "--output",
        default="var/demo",
        help="where each stage's report.html, results.xlsx and decision record are written "
        "(default var/demo; '' writes none)",
    )
    demo.set_defaults(handler=_demo)

    verify = sub.add_parser(
        "verify-result", help="recompute a closed round's result from its stored inputs"
    )
    verify.add_argument("round_id")
    verify.set_defaults(handler=_verify_result)

    verify_record = sub.add_parser(
        "verify-record",
        help="check a signed decision record offline: its signature, and its result "
        "recomputed from its inputs (docs/decision-record.md)",
    )
    verify_record.add_argument("file", help="the record (a compact JWS) as downloaded")
    verify_record.add_argument(
        "--jwks",
        default=None,
        help="the service's public keys: a file, or a URL such as https://HOST/oauth/jwks; "
        "without it the signature is not checked and the exit code is 3, never 0",
    )
    verify_record.set_defaults(offline=_verify_record)

    storage = sub.add_parser("storage", help="blob storage tools")
    storage_sub = storage.add_subparsers(dest="storage_command", required=True)
    sweep = storage_sub.add_parser(
        "sweep", help="delete the stored blobs that no document refers to"
    )
    sweep.add_argument(
        "--grace",
        type=_seconds,
        default=None,
        help="spare blobs younger than this many seconds (default: SHORTLIST_STORAGE_SWEEP_"
        "GRACE_SECONDS, 3600): their upload may still be committing",
    )
    sweep.add_argument("--dry-run", action="store_true", help="list the orphans, delete none")
    sweep.set_defaults(handler=_storage_sweep)

    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_verify = audit_sub.add_parser("verify", help="verify the audit hash chain")
    audit_verify.set_defaults(handler=_audit_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    offline: OfflineCommand | None = getattr(args, "offline", None)
    if offline is not None:
        return offline(args)
    handler: Command = args.handler
    return handler(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())

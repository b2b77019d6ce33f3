"""The `esop` command: run the platform or one service, migrate, create admins, run the demo."""
from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from esop.registry import ALL_SERVICES, BACKEND_SERVICES

DEFAULT_DATA_DIR = Path(os.environ.get("ESOP_DATA_DIR", ".esop"))


def _database_url(data_dir: Path, *, create: bool = True) -> str:
    """DATABASE_URL if set, else an embedded PostgreSQL (pgserver) kept in `data_dir` (made there if
    `create`; otherwise a missing one is an error, not a new empty platform)."""
    if url := os.environ.get("DATABASE_URL"):
        return url
    if not create and not (data_dir / "pg").is_dir():
        sys.exit(f"error: no platform data in {data_dir.resolve()}: run this where you started the platform "
                 "(esop run), or give --data-dir DIR (or ESOP_DATA_DIR), or set DATABASE_URL.")
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    uri = server.get_uri()
    # Keep the server for the life of this process.
    _database_url.server = server  # type: ignore[attr-defined]
    return uri


def migrate(url: str, services: list[str]) -> None:
    from shared.migrations import upgrade

    for service in services:
        upgrade(service, url)


def cmd_migrate(args: argparse.Namespace) -> None:
    url = _database_url(args.data_dir)
    migrate(url, [args.service] if args.service else BACKEND_SERVICES)
    print("migrated:", args.service or ", ".join(BACKEND_SERVICES))


def cmd_makemigrations(args: argparse.Namespace) -> None:
    from alembic import command

    from shared.migrations import alembic_config

    url = _database_url(args.data_dir)
    migrate(url, [args.service])
    command.revision(alembic_config(args.service, url), message=args.message, autogenerate=True)


def _exit_cleanly_on_sigterm() -> None:
    """uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit (not the
    default handler) lets atexit stop the embedded PostgreSQL too."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def cmd_run(args: argparse.Namespace) -> None:
    import uvicorn

    _exit_cleanly_on_sigterm()
    if not args.service:  # the embedded platform is its own public origin
        host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
        os.environ.setdefault("PUBLIC_URL", f"http://{host}:{args.port}")
    sink = Path(os.environ.get("MESSAGE_SINK", args.data_dir / "messages.jsonl"))
    if args.service:
        if args.service != "gateway":  # the gateway keeps no data: no database for it
            url = _database_url(args.data_dir)
            migrate(url, [args.service])
            os.environ.setdefault("DATABASE_URL", url)
        os.environ.setdefault("MESSAGE_SINK", str(sink))
        from esop.registry import app_factory

        app = app_factory(args.service)()
    else:
        url = _database_url(args.data_dir)
        migrate(url, BACKEND_SERVICES)
        from esop.embedded import build_platform

        app = build_platform(url, message_sink=sink)
        print(f"ESOP platform on http://{args.host}:{args.port}  (docs: /docs, health: /health, data: {args.data_dir})",
              flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


def cmd_admin_create(args: argparse.Namespace) -> None:
    from services.identity.app import SPEC
    from services.identity.deps import IdentityDeps
    from services.identity.handlers.tenants import create_platform_admin
    from services.identity.settings import IdentitySettings
    from shared.db import make_engine, make_sessionmaker
    from shared.errors import ProblemError
    from shared.notify import FileNotifier
    from shared.outbox import Publisher

    try:
        email = args.email or input("Email: ")
        name = args.name or input("Name: ") or "Platform administrator"
        password = args.password or os.environ.get("ESOP_ADMIN_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Repeat password: ") != password:
                sys.exit("The passwords differ.")
    except EOFError:
        sys.exit("error: no terminal to ask on: give --email, --name and the password (ESOP_ADMIN_PASSWORD).")
    url = _database_url(args.data_dir, create=False)
    migrate(url, ["identity"])

    async def create() -> None:
        settings = IdentitySettings(database_url=url)
        engine = make_engine(url, "identity")
        deps = IdentityDeps(settings=settings, publish=Publisher("identity", SPEC.messaging),
                            notifier=FileNotifier(settings.message_sink))
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                user = await create_platform_admin(session, deps, email=email, name=name, password=password)
            print(f"platform administrator {user.email} created (id {user.id})")
        finally:
            await engine.dispose()

    try:
        asyncio.run(create())
    except ProblemError as exc:
        details = "; ".join(e["msg"] for e in exc.errors or [])
        sys.exit(f"error: {exc.detail}" + (f" ({details})" if details else ""))
    except ValueError as exc:
        sys.exit(f"error: {exc}")


def cmd_demo(args: argparse.Namespace) -> None:
    import httpx

    from esop.demo import DemoError, run_demo

    sink = Path(args.messages or os.environ.get("MESSAGE_SINK", args.data_dir / "messages.jsonl"))
    if args.roster and not args.roster.is_file():
        sys.exit(f"demo failed: no roster file at {args.roster}")
    try:
        asyncio.run(run_demo(args.gateway, employees=args.employees, roster=args.roster, message_sink=sink,
                             admin_email=args.admin_email, admin_password=args.admin_password,
                             feedback_share=args.feedback_share, concurrency=args.concurrency))
    except (DemoError, httpx.HTTPError) as exc:
        sys.exit(f"demo failed: {exc}")


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="esop", description="ESOP user platform")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="where the embedded PostgreSQL and the development message sink live (default .esop)")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the platform (embedded, one process) or one service")
    run.add_argument("--service", choices=ALL_SERVICES, help="run only this service (distributed topology)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)

    mig = sub.add_parser("migrate", help="run database migrations")
    mig.add_argument("--service", choices=BACKEND_SERVICES)
    mig.set_defaults(func=cmd_migrate)

    mk = sub.add_parser("makemigrations", help="autogenerate a migration for a service (developers)")
    mk.add_argument("service", choices=BACKEND_SERVICES)
    mk.add_argument("-m", "--message", required=True)
    mk.set_defaults(func=cmd_makemigrations)

    admin = sub.add_parser("admin", help="platform administrators")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    create = admin_sub.add_parser("create", help="create a platform administrator (prompts for what is missing)")
    create.add_argument("--email")
    create.add_argument("--name")
    create.add_argument("--password", help="better: leave out and type it at the prompt, or set ESOP_ADMIN_PASSWORD")
    create.set_defaults(func=cmd_admin_create)

    demo = sub.add_parser("demo", help="run the main job against a running gateway over HTTP")
    demo.add_argument("--employees", type=_at_least_one, default=200)
    demo.add_argument("--roster", type=Path, help="a roster CSV to use instead of a generated one")
    demo.add_argument("--gateway", default="http://127.0.0.1:8000")
    demo.add_argument("--messages", help="the development message sink (default DATA_DIR/messages.jsonl)")
    demo.add_argument("--admin-email", default=os.environ.get("ESOP_ADMIN_EMAIL", "admin@esop.example.com"))
    demo.add_argument("--admin-password", default=os.environ.get("ESOP_ADMIN_PASSWORD"))
    demo.add_argument("--feedback-share", type=_share, default=0.3, help="share of employees who give feedback (0-1)")
    demo.add_argument("--concurrency", type=_at_least_one, default=16)
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

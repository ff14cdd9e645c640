"""`ppb up | api | status | migrate | import | telegram-login`: the entry points (also `python -m ppb`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ppb.config import Settings, SettingsError, load_settings

log = logging.getLogger("ppb")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as error:
        print(f"ppb: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    from ppb.store.migrate import upgrade

    upgrade(settings.async_database_url, args.revision)
    print(f"ppb: database at revision {args.revision}")
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    settings = _settings()
    if not args.bare:
        print("ppb: `ppb api` runs without Ray only; pass --bare (or use `ppb up`)", file=sys.stderr)
        return 2
    import uvicorn

    from ppb.compose.web import http_app as build_app
    from ppb.store.migrate import upgrade

    upgrade(settings.async_database_url)
    uvicorn.run(
        build_app(settings, settle=True),
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from ppb.ingress import PortTaken
    from ppb.runtime import run_until_signalled

    try:
        return run_until_signalled(_settings())
    except (PortTaken, SettingsError) as error:
        print(f"ppb: {error}", file=sys.stderr)
        return 2


def cmd_status(args: argparse.Namespace) -> int:
    """What runs on the cluster (RAY_ADDRESS, else the Ray on this host)."""
    import orjson

    from ppb.status import connect, gather, render

    settings = _settings()
    try:
        connect(settings)
    except ConnectionError as error:
        where = settings.ray_address or "auto (the Ray on this host)"
        print(f"ppb: no Ray cluster answers at RAY_ADDRESS={where}: {error}", file=sys.stderr)
        return 2
    status = gather(settings)
    if args.json:
        print(orjson.dumps(status, option=orjson.OPT_INDENT_2).decode())
    else:
        print(render(status))
    apps = status["applications"]
    return 0 if "error" not in apps and any(a["status"] == "RUNNING" for a in apps.values()) else 1


def cmd_import(args: argparse.Namespace) -> int:
    from ppb.compose.store import open_store
    from ppb.scraper.importer import run_import

    return run_import(_settings(), args.file, args.username, open_store)


def cmd_telegram_login(args: argparse.Namespace) -> int:
    """Log the scraper's account in; prints its TELETHON_SESSION string (a secret)."""
    from ppb.scraper.login import run_login

    return run_login(_settings())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ppb", description="Personalized Post Bot")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start PPB on Ray (local, or RAY_ADDRESS) and Serve")
    up.set_defaults(run=cmd_up)

    api = commands.add_parser("api", help="run the REST API alone")
    api.add_argument("--bare", action="store_true", help="under uvicorn, without Ray Serve")
    api.set_defaults(run=cmd_api)

    status = commands.add_parser("status", help="the deployments, shards, bot, nudger and scraper on the cluster")
    status.add_argument("--json", action="store_true", help="as JSON")
    status.set_defaults(run=cmd_status)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(run=cmd_migrate)

    importer = commands.add_parser("import", help="import a Telegram Desktop export (result.json)")
    importer.add_argument("file", help="result.json of one channel, or of a full export")
    importer.add_argument("--username", help="the channel's @username (exports do not carry it)")
    importer.set_defaults(run=cmd_import)

    login = commands.add_parser(
        "telegram-login",
        help="log the scraper's Telegram account in (phone, code, two-step password) and print its "
             "TELETHON_SESSION string: a secret that grants full access to the account",
    )
    login.set_defaults(run=cmd_telegram_login)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ppb import logsafe

    logsafe.install()  # no bot token or URL password reaches a log
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "httpx", "telethon"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return int(args.run(args))

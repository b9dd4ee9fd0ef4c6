"""bubble-monitor: the command line. With no command it opens the dashboard.

Every command shares one data path (bubble_core); heavy modules are imported inside the command
that needs them, so `status` and the first paint of the TUI stay fast.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bubble_core.config import Config, load_config
from bubble_core.durations import parse_duration
from bubble_core.errors import BubbleMonitorError, InputError
from bubble_core.paths import default_store_path

if TYPE_CHECKING:
    from bubble_core.store import Store

PROG = "bubble-monitor"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date {text!r} (use YYYY-MM-DD)") from None


def _duration(text: str) -> dt.timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port {text!r} (a number)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be in 1..65535, got {value}")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad speed {text!r} (days per second)") from None
    if not 0 < value <= 365:
        raise argparse.ArgumentTypeError("speed must be in (0, 365] days per second")
    return value


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog=PROG,
        description="Watch the signs of an AI stock-market bubble. No command: the dashboard.",
    )
    parser.add_argument("--db", metavar="PATH", help="the DuckDB store (default: user data dir)")
    parser.add_argument("--config", metavar="PATH", help="the TOML config (default: user config)")
    parser.add_argument(
        "--replay", metavar="SCENARIO", choices=["dotcom"],
        help="replay history offline in the dashboard (scenario: dotcom)",
    )
    parser.add_argument("--speed", type=_speed, default=5.0, help="replay days per second")
    parser.add_argument("--from", dest="start", type=_date, help="replay start date")
    parser.add_argument(
        "--viewer", action="store_true", help="only read the store, never poll (for `serve`)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)

    collect = sub.add_parser("collect", help="poll the sources into the store (headless)")
    collect.add_argument("--once", action="store_true", help="poll every source once and exit")
    collect.add_argument("--log-file", metavar="PATH", help="log file (default: user log dir)")

    imp = sub.add_parser("import", help="load a history CSV")
    imp.add_argument("file", type=Path)
    target = imp.add_mutually_exclusive_group(required=True)
    target.add_argument("--symbol", help="price history of this symbol")
    target.add_argument("--series", help="observations of this macro series id")

    exp = sub.add_parser("export", help="write every table to files")
    exp.add_argument("--format", choices=["csv", "json", "parquet"], default="csv")
    exp.add_argument("--out", type=Path, default=Path("bubble-monitor-export"))

    status = sub.add_parser("status", help="indicators, drawdowns, alerts, source health")
    status.add_argument("--json", action="store_true", help="one JSON document")
    status.add_argument("--as-of", type=_date, help="use data up to this date only")
    status.add_argument(
        "--check", action="store_true",
        help="Nagios exit status: 0 ok, 1 warning, 2 critical, 3 stale/missing data",
    )

    serve = sub.add_parser("serve", help="serve the dashboard to a browser on 127.0.0.1")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)

    backtest = sub.add_parser("backtest", help="run the alert rules over a replay")
    backtest.add_argument("scenario", choices=["dotcom"])
    backtest.add_argument("--rules", type=Path, help="a TOML file of [[rules]] (adds/overrides)")
    backtest.add_argument("--json", action="store_true")

    silence = sub.add_parser("silence", help="mute an alert's notifications for a while")
    silence.add_argument("name", help="rule name (or glob, e.g. 'Nasdaq*')")
    silence.add_argument("--for", dest="duration", type=_duration, required=True)
    silence.add_argument("--comment", default="")

    rules = sub.add_parser("rules", help="alert rule tools")
    rules_sub = rules.add_subparsers(dest="rules_command", parser_class=OneLineParser,
                                     required=True)
    rules_test = rules_sub.add_parser("test", help="run rule unit tests (promtool style)")
    rules_test.add_argument("file", type=Path)

    sub.add_parser("notify-test", help="send a test notification to every configured channel")
    sub.add_parser("paths", help="print where the config, store and logs live")
    return parser


# -- commands ------------------------------------------------------------------------------------


def _store(args: argparse.Namespace, read_only: bool = False) -> Store:
    from bubble_core.store import Store

    path = Path(args.db).expanduser() if args.db else default_store_path()
    return Store(path, read_only=read_only)


def cmd_collect(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.headless import collect_forever, collect_once

    store = _store(args)
    _setup_file_logging(args, store)
    if args.once:
        return collect_once(config, store)
    return collect_forever(config, store)


def _setup_file_logging(args: argparse.Namespace, store: Store) -> None:
    if args.log_file:
        log_path = Path(args.log_file).expanduser()
    else:
        from platformdirs import user_log_path

        log_path = user_log_path(PROG, appauthor=False) / "collect.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if _SECRET_FILTER is not None:
        handler.addFilter(_SECRET_FILTER)
    logging.getLogger().addHandler(handler)


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.transfer import import_csv

    result = import_csv(_store(args), args.file, symbol=args.symbol, series=args.series)
    what = args.symbol or args.series
    extra = f", {result.daily_rolled_up} daily bars rolled up" if result.daily_rolled_up else ""
    print(f"imported {result.rows} rows of {what} into {result.table} "
          f"({result.first} .. {result.last}{extra})")
    return 0


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.transfer import export_all

    store = _store(args)
    if not store.path.exists():
        raise InputError(str(store.path), "no store here yet (run `collect` or `import`)")
    for path in export_all(store, args.out, args.format):
        print(path)
    return 0


def cmd_status(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.headless import status_document, status_exit_code, status_text

    store = _store(args)
    document = status_document(config, store, args.as_of)
    if args.json:
        print(json.dumps(document, indent=2, sort_keys=False))
    else:
        print(status_text(document))
    return status_exit_code(document) if args.check else 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from textual_serve.server import Server

    command = [sys.executable, str(Path(__file__).resolve()), "--viewer"]
    if args.db:
        command += ["--db", str(Path(args.db).resolve())]
    if args.config:
        command += ["--config", str(Path(args.config).resolve())]
    if args.replay:
        command = [sys.executable, str(Path(__file__).resolve()), "--replay", args.replay]
    import shlex

    server = Server(" ".join(shlex.quote(part) for part in command), host=args.host,
                    port=args.port, title="bubble-monitor")
    print(f"serving the dashboard on http://{args.host}:{args.port} (no authentication: "
          "keep it on 127.0.0.1 and reach it through an SSH tunnel)")
    server.serve()
    return 0


def cmd_backtest(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.headless import backtest_main

    return backtest_main(config, args.scenario, args.rules, args.json)


def cmd_silence(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.alerts.engine import cmd_silence as silence
    from bubble_core.alerts.rules import load_rules

    rules = load_rules(config.rules, str(config.path or "config.toml"))
    print(
        silence(
            _store(args),
            args.name,
            args.duration,
            args.comment,
            created_by=os.environ.get("USER") or None,
            known=[rule.name for rule in rules],
        )
    )
    return 0


def cmd_rules(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.alerts.ruletest import main_rules_test

    return main_rules_test(args.file)


def cmd_notify_test(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.alerts.notify import notify_test_main

    return asyncio.run(notify_test_main(config))


def cmd_paths(args: argparse.Namespace, config: Config) -> int:
    from platformdirs import user_log_path

    from bubble_core.config import config_path

    print(f"config: {config.path or config_path(args.config)}"
          f"{'' if config.path else ' (not created: defaults in use)'}")
    print(f"store:  {_store(args).path}")
    print(f"logs:   {user_log_path(PROG, appauthor=False)}")
    return 0


def cmd_tui(args: argparse.Namespace, config: Config) -> int:
    from bubble_core.runtime import DeferredBackend

    # The backend (DuckDB, httpx, the sources) is built on first use, in the app's worker
    # thread, so the dashboard paints before any of it is imported.
    if args.replay:
        from bubble_core.replay_data import DEFAULT_END, DEFAULT_START

        if args.start is not None and not DEFAULT_START <= args.start < DEFAULT_END:
            raise InputError(
                "--from", f"must be between {DEFAULT_START} and {DEFAULT_END} for dotcom"
            )

        def make() -> Any:
            from bubble_core.replay import ReplayBackend

            return ReplayBackend(config, speed=args.speed, start=args.start)

        backend = DeferredBackend(make, mode="REPLAY")
    else:
        path = Path(args.db).expanduser() if args.db else default_store_path()

        def make() -> Any:
            from bubble_core.live import LiveBackend
            from bubble_core.store import Store

            return LiveBackend(config, Store(path), collect=not args.viewer)

        backend = DeferredBackend(make, mode="LIVE")
    from tui.app import BubbleMonitorApp

    app = BubbleMonitorApp(backend)
    try:
        app.run()
    finally:
        backend.close()
    return app.return_code or 0


COMMANDS = {
    "collect": cmd_collect,
    "import": cmd_import,
    "export": cmd_export,
    "status": cmd_status,
    "serve": cmd_serve,
    "backtest": cmd_backtest,
    "silence": cmd_silence,
    "rules": cmd_rules,
    "notify-test": cmd_notify_test,
    "paths": cmd_paths,
}


class _MaskSecrets(logging.Filter):
    """Scrubs the configured notification URLs and their tokens out of every log record (an
    Apprise plugin logs its request URL, token included, at DEBUG)."""

    def __init__(self, urls: Sequence[str]) -> None:
        super().__init__()
        self.urls = tuple(urls)

    def filter(self, record: logging.LogRecord) -> bool:
        from bubble_core.alerts.masking import mask_secrets

        message = record.getMessage()
        masked = mask_secrets(message, self.urls)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text, self.urls)
        return True


_SECRET_FILTER: _MaskSecrets | None = None


def _mask_secrets_in_logs(config: Config) -> None:
    """Every log handler (stderr now, the collector's log file later) masks the URLs."""
    global _SECRET_FILTER
    if config.notify.urls:
        _SECRET_FILTER = _MaskSecrets(config.notify.urls)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_SECRET_FILTER)


def _check_rules(config: Config) -> None:
    """[[rules]] are part of the config: a bad one is refused before any command runs (and
    writes), not when the first evaluation needs them."""
    if config.rules:
        from bubble_core.alerts.rules import load_rules

        load_rules(config.rules, str(config.path or "config.toml"))


def _dashboard_log_handler() -> logging.Handler:
    from platformdirs import user_log_path

    path = user_log_path(PROG, appauthor=False) / "dashboard.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return logging.FileHandler(path)
    except OSError:
        return logging.NullHandler()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_handler: logging.Handler
    if args.command is None:
        # The dashboard draws on the terminal: a log line on stderr would land in the middle
        # of the screen. Its collector's warnings go to the log file; the screen shows them.
        log_handler = _dashboard_log_handler()
    else:
        log_handler = logging.StreamHandler(sys.stderr)
    if args.command == "collect" and args.once and not args.verbose:
        # `collect --once` prints one line per source itself; the log file keeps the details.
        log_handler.setLevel(logging.ERROR)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO if args.command == "collect"
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[log_handler],
    )
    # yfinance logs every failed ticker at ERROR; the collector reports them itself.
    logging.getLogger("yfinance").setLevel(logging.CRITICAL)
    try:
        config = load_config(args.config)
        _mask_secrets_in_logs(config)
        _check_rules(config)
        for warning in config.warnings:
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
        handler = COMMANDS.get(args.command or "", cmd_tui)
        return handler(args, config)
    except BubbleMonitorError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_code
    except (FileNotFoundError, PermissionError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        # A store DuckDB cannot open (not a database, corrupt, a disk error) is one line too.
        if type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb"):
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            print(f"{PROG}: store error: {first}", file=sys.stderr)
            return 1
        raise
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

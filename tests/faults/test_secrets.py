"""Promise 5, secrets: notification URLs and tokens never printed, no shell, SQL with parameters.

The config holds a Telegram bot token and a webhook password. They must appear nowhere: not in
`status` (text or JSON), `notify-test`, the collector's log (even at -v, where Apprise logs its
request URLs), failed-delivery errors, the notifications table or an export. A config holding
URLs that other users can read draws a `chmod 600` warning. No module runs a string through a
shell, and SQL gets values only as parameters: hostile symbols, series ids and paths are data.
"""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from bubble_core.config import load_config, parse_config
from bubble_core.errors import ConfigError
from bubble_core.models import DailyBar, MacroObservation, SourceBatch
from bubble_core.store import Store

from .helpers import ROOT, has_traceback, run_cli

SECRETS = ("SECRETTOKEN", "hunter2", "s3cr3t-topic")
URLS = (
    "tgram://123456:SECRETTOKEN/987",
    "json://user:hunter2@127.0.0.1:9/hook",
    "ntfy://s3cr3t-topic",
)
CONFIG = (
    "[notify]\n"
    f"urls = {list(URLS)!r}\n".replace("'", '"')
    + 'min_severity = "info"\n'
    'timeout = "2s"\n'
    'terminal = "off"\n'
    '[sources]\nfred_series = ["DFF"]\n'
)


def no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked in: {text[:2000]}"


def write_config(path: Path, mode: int = 0o600, text: str = CONFIG) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def local_only_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apprise must not reach the internet from a test: public names fail to resolve."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in ("localhost", "::1") or name.startswith("127."):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_secrets_never_reach_the_collector_log_status_notify_test_or_the_store(
    tmp_path: Path,
) -> None:
    pytest.importorskip("bubble_core.alerts.notify")
    config = write_config(tmp_path / "config.toml")
    store = tmp_path / "store.duckdb"
    log = tmp_path / "collect.log"
    # Every source fails (fakenet "fail"), so a SourceStale alert fires for each and is sent to
    # every URL; the deliveries fail too (no DNS, nothing on port 9) and are logged and stored.
    collect = run_cli("-v", "--config", config, "--db", store, "collect", "--once",
                      "--log-file", log, env=_env(FAKENET="fail"))
    assert collect.returncode == 1, collect.stderr
    assert not has_traceback(collect.stderr)
    logged = log.read_text()
    assert "api.telegram.org" in logged, "Apprise's debug lines are what this test is about"
    status_text = run_cli("--config", config, "--db", store, "status")
    status_json = run_cli("--config", config, "--db", store, "status", "--json")
    notify_test = run_cli("--config", config, "--db", store, "notify-test")
    export = run_cli("--config", config, "--db", store, "export", "--out", tmp_path / "out")
    for done in (status_text, status_json, export):
        assert done.returncode == 0, done.stderr
    assert notify_test.returncode == 1  # nothing can be delivered here
    assert "tgram://****" in notify_test.stdout
    rows = Store(store, read_only=True).query(
        "SELECT channel, coalesce(error, ''), coalesce(summary, '') FROM notifications")
    assert rows, "no delivery was recorded: the test proves nothing"
    exported = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    no_secret(collect.stdout, collect.stderr, logged, status_text.stdout, status_text.stderr,
              status_json.stdout, status_json.stderr, notify_test.stdout, notify_test.stderr,
              export.stdout, export.stderr, exported, *[" ".join(row) for row in rows])


def _env(**extra: str) -> dict[str, str]:
    from .helpers import cli_env

    return cli_env(**extra)


def test_failed_delivery_errors_and_records_are_masked(tmp_path: Path,
                                                       local_only_dns: None) -> None:
    notify = pytest.importorskip("bubble_core.alerts.notify")
    from bubble_core.alerts.engine import Notification

    config = parse_config(CONFIG)
    store = Store(tmp_path / "store.duckdb")
    store.ensure_schema()
    notifier = notify.Notifier(config.notify, store)
    now = dt.datetime(2026, 11, 23, 15, 0)
    note = Notification("NasdaqBearMarket", "firing", "critical", "NDX -21 %", -0.21, now)
    records = asyncio.run(notifier.deliver([note], now))
    assert len(records) == len(URLS) and not any(r.ok for r in records)
    retries = asyncio.run(notifier.retry_due(now + dt.timedelta(hours=1)))
    texts = [f"{r.channel} {r.error}" for r in [*records, *retries]]
    texts += [repr(item) for item in notifier.pending_retries()]
    texts += [" ".join(map(str, row)) for row in store.query("SELECT * FROM notifications")]
    no_secret(*texts)
    assert all("****" in r.channel for r in records)


def test_the_dashboard_never_shows_secrets(tmp_path: Path, local_only_dns: None) -> None:
    """Every source fails, SourceStale fires, delivery to every URL fails: the alerts and
    sources panels (delivery log, last errors) are rendered and searched for the secrets."""
    pytest.importorskip("tui.app")
    pytest.importorskip("bubble_core.alerts.notify")
    from bubble_core.live import LiveBackend
    from bubble_core.store import utcnow
    from tui.app import BubbleMonitorApp

    from .helpers import FakeHttp, FakeYahoo

    http = FakeHttp(utcnow, modes={"fred": "dns", "nyfed": "429"})
    yahoo = FakeYahoo(utcnow, mode="ratelimit", shares_mode="ratelimit")
    config = parse_config(CONFIG)
    backend = LiveBackend(config, Store(tmp_path / "tui.duckdb"),
                          http_client_factory=http.client, yahoo=yahoo.source())
    app = BubbleMonitorApp(backend)
    screens: list[str] = []

    async def run() -> None:
        async with app.run_test(size=(200, 120)) as pilot:
            for _ in range(60):
                await pilot.pause(0.25)
                last = backend._last_snapshot
                if last is not None and last.deliveries:
                    break
            for key in ("4", "5", "1"):
                await pilot.press(key)
                await pilot.pause(0.5)
                screens.append(app.export_screenshot())

    try:
        asyncio.run(run())
    finally:
        backend.close()
    assert backend._last_snapshot is not None and backend._last_snapshot.deliveries, (
        "nothing was delivered: the dashboard had no secret to leak")
    assert any("tgram://****" in screen for screen in screens), "no delivery log on screen"
    no_secret(*screens)


def test_config_errors_about_urls_do_not_echo_them() -> None:
    bad = [
        '[notify]\nurls = ["tgram://123456:SECRETTOKEN/987 trailing"]\n',
        '[notify]\nurls = ["ntfy://s3cr3t-topic"]\n'
        'url_min_severity = { "json://user:hunter2@127.0.0.1:9/x" = "critical" }\n',
        '[notify]\nurls = ["ntfy://s3cr3t-topic"]\n'
        'url_min_severity = { "ntfy://s3cr3t-topic" = "loud" }\n',
        '[notify]\nurls = ["tgram://123456:SECRETTOKEN/987", 5]\n',
        '[notify]\nurls = ["tgram://123456:SECRETTOKEN/987"]\nurl = "x"\n',
    ]
    for text in bad:
        with pytest.raises(ConfigError) as caught:
            parse_config(text)
        no_secret(str(caught.value))


def test_readable_config_with_urls_warns_to_chmod_600(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import monitor

    loose = write_config(tmp_path / "loose.toml", 0o644)
    tight = write_config(tmp_path / "tight.toml", 0o600)
    plain = write_config(tmp_path / "plain.toml", 0o644, text="[watch]\nintraday = false\n")
    assert any("chmod 600" in w for w in load_config(loose).warnings)
    assert load_config(tight).warnings == ()
    assert load_config(plain).warnings == ()
    store = tmp_path / "s.duckdb"
    Store(store).ensure_schema()
    for config, warned in ((loose, True), (tight, False), (plain, False)):
        capsys.readouterr()
        assert monitor.main(["--config", str(config), "--db", str(store), "status"]) == 0
        err = capsys.readouterr().err
        assert ("chmod 600" in err) is warned, err
        no_secret(err)


# -- no shell ------------------------------------------------------------------------------------

PRODUCT = [*ROOT.joinpath("bubble_core").rglob("*.py"), *ROOT.joinpath("data_sources").rglob(
    "*.py"), *ROOT.joinpath("tui").rglob("*.py"), *ROOT.joinpath("widgets").rglob("*.py"),
    ROOT / "monitor.py"]


def _calls(path: Path) -> list[tuple[str, ast.Call]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(ast.unparse(node.func), node) for node in ast.walk(tree) if isinstance(node, ast.Call)]


def test_no_module_runs_a_string_through_a_shell() -> None:
    shells = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
              "asyncio.create_subprocess_shell", "pty.spawn", "eval", "exec"}
    offenders = []
    for path in PRODUCT:
        for name, call in _calls(path):
            where = f"{path.relative_to(ROOT)}:{call.lineno} {name}"
            if name in shells or name.endswith(".create_subprocess_shell"):
                offenders.append(where)
            for keyword in call.keywords:
                if keyword.arg == "shell" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    offenders.append(where + " shell=...")
            if name.startswith("subprocess.") and call.args and not isinstance(
                call.args[0], (ast.List, ast.Tuple, ast.Name)
            ):
                offenders.append(where + " with a command string")
    assert offenders == []


def test_serve_quotes_every_path_it_hands_to_textual_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """textual-serve runs its command through a shell; the paths in it come from the user and
    must reach the viewer as single arguments, whatever they contain."""
    pytest.importorskip("textual_serve.server")
    import textual_serve.server

    import monitor

    captured: dict[str, str] = {}

    class FakeServer:
        def __init__(self, command: str, **kwargs: Any) -> None:
            captured["command"] = command

        def serve(self) -> None:
            pass

    monkeypatch.setattr(textual_serve.server, "Server", FakeServer)
    nasty = tmp_path / "x'; touch pwned; echo $(id) `id` \"q\" & |"
    nasty.mkdir()
    db = nasty / "store.duckdb"
    config = write_config(nasty / "c.toml", text="")
    assert monitor.main(["--db", str(db), "--config", str(config), "serve"]) == 0
    argv = shlex.split(captured["command"])
    assert argv == [sys.executable, str(ROOT / "monitor.py"), "--viewer", "--db",
                    str(db.resolve()), "--config", str(config.resolve())]


# -- SQL only with parameters --------------------------------------------------------------------

HOSTILE = ("X'; DROP TABLE daily_bars; --", 'A"B\'C);--', "DFF'); DELETE FROM fetch_log; --")
# The names that SQL text may be formatted from: tables and columns from the module's own
# constants, CSV header names passed through _quote(), and export paths quoted as a literal.
# Anything else interpolated into SQL must be reviewed, and added here only if it is no value.
SQL_FORMAT_NAMES = {"table", "names", "view", "order", "literal", "options", "condition",
                    "date", "parsed_date", "number", "value_column", "columns", "has_shares",
                    "has_cap", "checks", "_quote", "join",
                    # transfer._typed_view: the line-number expression and the FROM clause,
                    # each one of two literals chosen in code
                    "line", "source",
                    # store._insert_values: the verb (a literal at each call) and the
                    # "(?, ?), (?, ?)" placeholders
                    "verb", "rows_sql"}


def test_sql_is_formatted_only_from_reviewed_names() -> None:
    offenders = []
    for path in PRODUCT:
        if path.parts[len(ROOT.parts)] in ("tui", "widgets"):
            continue  # no SQL there (`query` is Textual's DOM query)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id
            for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)
        }
        for name, call in _calls(path):
            if name.rsplit(".", 1)[-1] not in {"execute", "executemany", "sql", "query"}:
                continue
            if not call.args:
                continue
            first = call.args[0]
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            if isinstance(first, ast.Constant):
                continue
            if isinstance(first, ast.Name):
                if first.id not in constants and first.id != "sql":
                    offenders.append(f"{where}: SQL from variable {first.id}")
                continue
            if isinstance(first, ast.Subscript) and ast.unparse(first) == "MIGRATIONS[number]":
                continue
            if isinstance(first, ast.JoinedStr):
                for value in first.values:
                    if isinstance(value, ast.FormattedValue):
                        used = {n.id for n in ast.walk(value.value) if isinstance(n, ast.Name)}
                        used |= {n.attr for n in ast.walk(value.value)
                                 if isinstance(n, ast.Attribute)}
                        unknown = used - SQL_FORMAT_NAMES
                        if unknown:
                            offenders.append(f"{where}: SQL formatted from {sorted(unknown)}")
                continue
            offenders.append(f"{where}: SQL built as {type(first).__name__}")
    assert offenders == []


def test_hostile_names_are_data_not_sql(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import monitor
    from bubble_core.snapshots import snapshot_from_store

    store = Store(tmp_path / "store.duckdb")
    now = dt.datetime(2026, 11, 23, 15, 0)
    batch = SourceBatch(
        daily_bars=[DailyBar(symbol, dt.date(2026, 11, 20), 10.0) for symbol in HOSTILE[:2]],
        macro=[MacroObservation(HOSTILE[2], dt.date(2026, 11, 20), 4.0)],
        warnings=[HOSTILE[0]],
    )
    assert store.write_batch(HOSTILE[1], batch, now, now) == 3
    assert {row[0] for row in store.query("SELECT symbol FROM daily_bars")} == set(HOSTILE[:2])
    assert store.query("SELECT series_id FROM macro_observations") == [(HOSTILE[2],)]
    assert store.query("SELECT source, error FROM fetch_log") == [(HOSTILE[1], HOSTILE[0])]

    # Hostile symbols and series in the config reach the indicator SQL as parameters.
    config = parse_config(
        '[watch]\nmag7 = ["A\\"B\'C);--", "NVDA"]\nindices = ["X\'; DROP TABLE daily_bars; --"]\n'
        'extras = []\nai_basket = ["A\\"B\'C);--"]\n'
        '[sources]\nfred_series = ["DFF\'); DELETE FROM fetch_log; --"]\n'
    )
    snapshot = snapshot_from_store(store, config, now=now, with_charts=True)
    assert set(snapshot.drawdowns) >= set(HOSTILE[:2])

    # An import refuses a hostile symbol outright; an export into a hostile directory works.
    csv = tmp_path / "x.csv"
    csv.write_text("Date,Close\n2026-11-20,1.5\n")
    capsys.readouterr()
    assert monitor.main(["--db", str(store.path), "import", str(csv), "--symbol",
                         HOSTILE[0]]) == 2
    assert "bad symbol" in capsys.readouterr().err
    out = tmp_path / "out'; DROP TABLE daily_bars; --"
    assert monitor.main(["--db", str(store.path), "export", "--out", str(out)]) == 0
    assert (out / "daily_bars.csv").read_text().count("\n") == 3
    assert store.query("SELECT count(*) FROM daily_bars")[0][0] == 2
    assert store.query("SELECT count(*) FROM fetch_log")[0][0] == 1

"""Delivery through Apprise's async API to a real HTTP server on 127.0.0.1, retries, masking."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from bubble_core.alerts.engine import Notification
from bubble_core.alerts.masking import mask_secrets, mask_url
from bubble_core.alerts.notify import Notifier, notify_test_main, recent_deliveries
from bubble_core.config import Config, NotifyConfig
from bubble_core.store import Store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:apprise.*")

T0 = dt.datetime(2025, 11, 3, 14, 30)
TOKEN = "s3cr3tT0ken42"


class Hook:
    """An http.server on 127.0.0.1 that records JSON posts; `mode` is ok, fail or hang."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.received: list[tuple[str, dict]] = []
        self.release = threading.Event()
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if hook.mode == "hang":
                    hook.release.wait(10)
                if hook.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                hook.received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = f"hook/{TOKEN}") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


def note(rule: str = "NasdaqBearMarket", severity: str = "critical", status: str = "firing",
         summary: str = "NASDAQ-100 is -21.0% below its high: a bear market") -> Notification:
    return Notification(rule, status, severity, summary, -0.21, T0, "A10", "drawdown.^NDX")


def config(*urls: str, timeout: float = 5.0, **kwargs: object) -> NotifyConfig:
    return NotifyConfig(urls=urls, timeout=dt.timedelta(seconds=timeout), **kwargs)  # type: ignore[arg-type]


async def test_real_delivery_through_apprise_json(hook: Hook, tmp_path) -> None:
    store = Store(tmp_path / "bm.duckdb")
    notifier = Notifier(config(hook.url()), store)
    records = await notifier.deliver([note()], T0)
    assert len(records) == 1
    (record,) = records
    assert record.ok and record.error is None
    assert record.channel == f"json://127.0.0.1:{hook.port}/****"
    assert (record.rule, record.status, record.ts) == ("NasdaqBearMarket", "firing", T0)
    ((path, payload),) = hook.received
    assert path == f"/hook/{TOKEN}"
    assert payload["version"] == "1.0"
    assert payload["title"] == "[CRITICAL] NasdaqBearMarket"
    assert payload["message"] == "NASDAQ-100 is -21.0% below its high: a bear market (article A10)"
    assert payload["type"] == "failure"
    rows = store.query("SELECT ts, rule, status, channel, ok, error, attempts, summary "
                       "FROM notifications")
    assert rows == [(T0, "NasdaqBearMarket", "firing", f"json://127.0.0.1:{hook.port}/****", True,
                     None, 1, "NASDAQ-100 is -21.0% below its high: a bear market")]
    assert recent_deliveries(store) == records
    assert notifier.recent() == records


async def test_resolved_is_sent_as_success(hook: Hook) -> None:
    await Notifier(config(hook.url())).deliver([note(status="resolved")], T0)
    ((_, payload),) = hook.received
    assert payload["type"] == "success" and payload["title"] == "[RESOLVED] NasdaqBearMarket"


async def test_min_severity_global_and_per_url(hook: Hook) -> None:
    quiet = hook.url("quiet/abcdef")
    loud = hook.url("loud/ghijkl")
    notifier = Notifier(config(loud, quiet, min_severity="warning",
                               url_min_severity={quiet: "critical"}))
    assert notifier.urls_for("info") == []
    assert notifier.urls_for("warning") == [loud]
    assert notifier.urls_for("critical") == [loud, quiet]
    records = await notifier.deliver(
        [note("Fed", "info"), note("Warn", "warning"), note("Crit", "critical")], T0
    )
    assert sorted((r.rule, r.ok) for r in records) == [
        ("Crit", True), ("Crit", True), ("Warn", True),
    ]
    assert sorted(path for path, _ in hook.received) == [
        "/loud/ghijkl", "/loud/ghijkl", "/quiet/abcdef",
    ]


async def test_failed_delivery_is_recorded_retried_with_backoff_and_recovers(
    hook: Hook, tmp_path
) -> None:
    store = Store(tmp_path / "bm.duckdb")
    hook.mode = "fail"
    notifier = Notifier(config(hook.url()), store)
    (failed,) = await notifier.deliver([note()], T0)
    assert not failed.ok
    assert "500" in failed.error and "attempt 1/10; retry in 30s" in failed.error
    assert TOKEN not in failed.error
    (pending,) = notifier.pending_retries()
    assert pending.next_due == T0 + dt.timedelta(seconds=30) and pending.attempts == 1
    assert TOKEN not in repr(pending)

    # Not due yet: nothing is sent, nothing waits.
    assert await notifier.retry_due(T0 + dt.timedelta(seconds=10)) == []
    # Due, still failing: the backoff doubles.
    (again,) = await notifier.retry_due(T0 + dt.timedelta(seconds=31))
    assert not again.ok and "attempt 2/10; retry in 1m" in again.error
    # The endpoint recovers; a later call (any deliver() or retry_due()) succeeds.
    hook.mode = "ok"
    later = T0 + dt.timedelta(seconds=31 + 60)
    (ok,) = await notifier.deliver([], later)
    assert ok.ok and ok.ts == later
    assert notifier.pending_retries() == []
    assert len(hook.received) == 1
    rows = store.query("SELECT ok, error, attempts, ts FROM notifications")
    assert rows == [(True, None, 3, later)]


async def test_failures_give_up_after_max_attempts() -> None:
    notifier = Notifier(config(f"json://127.0.0.1:1/hook/{TOKEN}", timeout=2), max_attempts=2)
    (first,) = await notifier.deliver([note()], T0)
    assert not first.ok and "attempt 1/2" in first.error
    (last,) = await notifier.retry_due(T0 + dt.timedelta(minutes=1))
    assert not last.ok and "gave up after 2 attempts" in last.error
    assert notifier.pending_retries() == []
    for record in (first, last):
        assert TOKEN not in record.error and TOKEN not in record.channel


def test_backoff_schedule() -> None:
    notifier = Notifier(config())
    delays = [notifier.delay_after(n).total_seconds() for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]


async def test_a_hanging_endpoint_never_blocks(hook: Hook) -> None:
    hook.mode = "hang"
    notifier = Notifier(config(hook.url(), timeout=1))
    ticks = 0

    async def ui() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(ui())
    started = time.monotonic()
    (record,) = await notifier.deliver([note()], T0)
    elapsed = time.monotonic() - started
    ticker.cancel()
    assert elapsed < 4.0
    assert not record.ok and "timed out" in record.error
    assert ticks >= elapsed / 0.01 * 0.5  # the event loop kept running throughout
    assert len(notifier.pending_retries()) == 1


async def test_restart_picks_up_queued_retries(hook: Hook, tmp_path) -> None:
    store = Store(tmp_path / "bm.duckdb")
    hook.mode = "fail"
    await Notifier(config(hook.url()), store).deliver([note()], T0)
    hook.mode = "ok"
    restarted = Notifier(config(hook.url()), store)
    assert await restarted.retry_due(T0 + dt.timedelta(seconds=5)) == []
    (record,) = await restarted.retry_due(T0 + dt.timedelta(seconds=30))
    assert record.ok
    assert store.query("SELECT count(*), bool_and(ok), max(attempts) FROM notifications") == [
        (1, True, 2)
    ]


async def test_unusable_url_is_a_recorded_failure() -> None:
    (record,) = await Notifier(config("bogus://abc/defghijk")).deliver([note()], T0)
    assert not record.ok and "Apprise cannot use this URL" in record.error
    assert record.channel == "bogus://****"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("ntfy://mytopic", "ntfy://****"),
        ("ntfys://ntfy.example.com/alerts-x1", "ntfys://ntfy.example.com/****"),
        ("json://127.0.0.1:8099/hook/t0ken", "json://127.0.0.1:8099/****"),
        ("json://localhost", "json://localhost"),
        ("mailtos://me:pw@smtp.example.com?to=a@b.c", "mailtos://****@smtp.example.com/****"),
        ("discord://1234567/abcdefTOKEN", "discord://****"),
        ("tgram://123456:ABCdefGHI/987654", "tgram://****"),
        ("slack://T1/B2/C3", "slack://****"),
        ("gotify://push.example.org/AbC123", "gotify://push.example.org/****"),
        ("pover://user@token", "pover://****"),
        ("jsons://a.b.c.eyJhbGciOiJIUzI1NiJ9/x", "jsons://****"),
        ("not a url", "****"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_secrets_scrubs_urls_and_their_parts() -> None:
    url = f"json://127.0.0.1:8099/hook/{TOKEN}?user=bob"
    text = (
        f"Failed to send to {url} (token {TOKEN}); "
        f"see https://example.com/x?api_key=abc123 and ntfy://othertopic"
    )
    scrubbed = mask_secrets(text, [url])
    assert TOKEN not in scrubbed and "abc123" not in scrubbed and "othertopic" not in scrubbed
    assert "json://127.0.0.1:8099/****" in scrubbed
    assert "ntfy://****" in scrubbed
    assert mask_secrets(None) == ""


async def test_notify_test_prints_one_masked_line_per_channel(hook: Hook) -> None:
    refused = f"json://127.0.0.1:1/hook/{TOKEN}x"
    out = io.StringIO()
    code = await notify_test_main(Config(notify=config(hook.url(), refused, timeout=2)), out=out)
    text = out.getvalue()
    assert code == 1
    assert f"ok    json://127.0.0.1:{hook.port}/****" in text
    assert "FAIL  json://127.0.0.1:1/****: " in text
    assert "1 of 2 channel(s) delivered, 1 failed" in text
    assert TOKEN not in text
    ((_, payload),) = hook.received
    assert payload["title"] == "bubble-monitor test notification"


async def test_notify_test_all_ok_and_terminal_on_a_tty(hook: Hook) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    code = await notify_test_main(config(hook.url(), terminal="auto"), out=out,
                                  env={"TERM": "foot"})
    assert code == 0
    text = out.getvalue()
    assert "\x1b]777;notify;bubble-monitor test notification;notify-test\x1b\\" in text
    assert "sent  terminal (osc777" in text


async def test_notify_test_without_urls_fails_clearly() -> None:
    out = io.StringIO()
    assert await notify_test_main(Config(), out=out) == 1
    assert "no notification URL configured" in out.getvalue()


def test_importing_alerts_loads_neither_textual_nor_apprise() -> None:
    code = (
        "import sys, bubble_core.alerts; "
        "assert 'textual' not in sys.modules, 'textual'; "
        "assert 'apprise' not in sys.modules, 'apprise'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

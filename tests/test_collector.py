"""The collector on a fake clock with fake jobs: cadence, backoff, timeouts, restarts, collect."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import T0, table_dump

import monitor
from bubble_core.collector import Collector, Job, us_market_open
from bubble_core.config import Config, parse_config
from bubble_core.errors import SourceError
from bubble_core.headless import CollectorBusyError, collect_once
from bubble_core.lock import CollectorLock
from bubble_core.models import MacroObservation, SourceBatch
from bubble_core.store import Store

CADENCE = dt.timedelta(minutes=5)
S = dt.timedelta(seconds=1)


class Clock:
    def __init__(self, now: dt.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


class FakeJob:
    """A job whose behaviour the test scripts: a batch, an exception, or a wait."""

    def __init__(self, name: str = "fred", timeout: float = 5.0) -> None:
        self.name = name
        self.calls: list[dt.datetime] = []
        self.outcome: Any = SourceBatch(macro=[MacroObservation("DFF", T0.date(), 3.87)])
        self.running = 0
        self.max_running = 0
        self.gate: asyncio.Event | None = None
        self.timeout = timeout

    async def run(self, now: dt.datetime) -> SourceBatch:
        self.calls.append(now)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if isinstance(self.outcome, BaseException):
                raise self.outcome
            return self.outcome
        finally:
            self.running -= 1

    def job(self) -> Job:
        return Job(self.name, self.run, lambda now: CADENCE, timeout=self.timeout)


def _collector(store: Store, *fakes: FakeJob, clock: Clock, jitter: float = 1.0,
               max_backoff: dt.timedelta = dt.timedelta(minutes=5)) -> Collector:
    return Collector(store, [f.job() for f in fakes], max_backoff=max_backoff, clock=clock,
                     jitter=lambda: jitter)


def _values(store: Store) -> dict[str, list[tuple]]:
    return {t: rows for t, rows in table_dump(store).items() if t != "fetch_log"}


# -- cadence --------------------------------------------------------------------------------------


async def test_a_job_runs_when_due_then_waits_its_cadence(store: Store) -> None:
    clock, fake = Clock(), FakeJob()
    collector = _collector(store, fake, clock=clock)
    assert [job.name for job in collector.due()] == ["fred"]
    [outcome] = await collector.run_due()
    assert (outcome.ok, outcome.rows, outcome.error) == (True, 1, None)
    assert outcome.next_due == T0 + CADENCE
    assert fake.calls == [T0]
    assert store.query("SELECT series_id, value FROM macro_observations") == [("DFF", 3.87)]

    clock.advance(CADENCE - S)
    assert collector.due() == []
    assert await collector.run_due() == []
    assert collector.seconds_until_next() == 1.0
    clock.advance(S)
    assert len(await collector.run_due()) == 1
    assert fake.calls == [T0, T0 + CADENCE]
    # force runs everything now, due or not
    assert len(await collector.run_due(force=True)) == 1
    assert len(fake.calls) == 3


async def test_an_empty_poll_is_a_success_with_a_note(store: Store) -> None:
    clock, fake = Clock(), FakeJob()
    fake.outcome = SourceBatch()
    [outcome] = await _collector(store, fake, clock=clock).run_due()
    assert outcome.ok and outcome.rows == 0
    assert store.query("SELECT ok, error, rows FROM fetch_log") == [(True, "no new rows", 0)]


# -- failures and backoff --------------------------------------------------------------------------


async def test_failures_back_off_exponentially_up_to_the_cap(store: Store) -> None:
    clock, fake = Clock(), FakeJob()
    fake.outcome = SourceError("fred", "HTTP 503 Service Unavailable")
    collector = _collector(store, fake, clock=clock, jitter=1.0)
    delays = []
    for _ in range(6):
        [outcome] = await collector.run_due()
        assert not outcome.ok and outcome.error == "HTTP 503 Service Unavailable"
        delay = outcome.next_due - clock.now
        delays.append(delay.total_seconds())
        clock.advance(delay - S)
        assert await collector.run_due() == []  # not a second early
        clock.advance(S)
    assert delays == [30, 60, 120, 240, 300, 300]  # max_backoff 5 min
    assert len(fake.calls) == 6
    assert collector.states["fred"].consecutive_failures == 6
    assert store.source_health()["fred"]["consecutive_failures"] == 6
    # A failed fetch stores no value: only fetch-log lines with ok = false.
    assert all(rows == [] for rows in _values(store).values())
    log = store.query("SELECT ok, rows, error FROM fetch_log")
    assert log == [(False, 0, "HTTP 503 Service Unavailable")] * 6


@pytest.mark.parametrize(("jitter", "first"), [(0.0, 15.0), (0.5, 22.5), (1.0, 30.0)])
async def test_jitter_scales_the_delay_between_half_and_full(store: Store, jitter: float,
                                                             first: float) -> None:
    clock, fake = Clock(), FakeJob()
    fake.outcome = SourceError("fred", "down")
    [outcome] = await _collector(store, fake, clock=clock, jitter=jitter).run_due()
    assert (outcome.next_due - T0).total_seconds() == first


async def test_retry_after_is_honoured(store: Store) -> None:
    clock, fake = Clock(), FakeJob()
    fake.outcome = SourceError("fred", "HTTP 429 Too Many Requests", retry_after=600.0)
    collector = _collector(store, fake, clock=clock)
    [outcome] = await collector.run_due()
    assert outcome.next_due == T0 + dt.timedelta(seconds=600)
    assert store.query("SELECT retry_after FROM fetch_log") == [(600.0,)]
    # A Retry-After shorter than the backoff does not shorten it.
    fake.outcome = SourceError("fred", "HTTP 429", retry_after=5.0)
    clock.advance(dt.timedelta(seconds=600))
    [outcome] = await collector.run_due()
    assert outcome.next_due == clock.now + dt.timedelta(seconds=60)
    # After a restart the stored Retry-After still holds.
    fake.outcome = SourceError("fred", "HTTP 429", retry_after=900.0)
    clock.advance(dt.timedelta(seconds=60))
    await collector.run_due()
    failed_at = clock.now
    clock.advance(dt.timedelta(seconds=100))
    restarted = _collector(store, fake, clock=clock)
    assert restarted.due() == []
    assert restarted.next_retry("fred") == failed_at + dt.timedelta(seconds=900)


async def test_a_hanging_job_is_a_timeout_failure(store: Store) -> None:
    clock, fake = Clock(), FakeJob(timeout=0.05)
    fake.gate = asyncio.Event()  # never set: the job hangs
    [outcome] = await _collector(store, fake, clock=clock).run_due()
    assert not outcome.ok
    assert outcome.error.startswith("no answer within")
    assert store.query("SELECT ok, error FROM fetch_log") == [(False, outcome.error)]
    assert fake.running == 0  # cancelled, not left behind


async def test_an_unexpected_exception_is_recorded_not_raised(store: Store) -> None:
    clock, fake, good = Clock(), FakeJob(), FakeJob("nyfed")
    fake.outcome = KeyError("observations")
    [bad_outcome, good_outcome] = await _collector(store, fake, good, clock=clock).run_due()
    assert not bad_outcome.ok
    assert bad_outcome.error == "unexpected KeyError: 'observations'"
    assert good_outcome.ok  # the other source is unaffected
    assert store.query("SELECT source, ok, error FROM fetch_log ORDER BY source") == [
        ("fred", False, "unexpected KeyError: 'observations'"), ("nyfed", True, None)]


async def test_a_success_resets_the_failures(store: Store) -> None:
    clock, fake = Clock(), FakeJob()
    fake.outcome = SourceError("fred", "down")
    collector = _collector(store, fake, clock=clock)
    for _ in range(3):
        [outcome] = await collector.run_due()
        clock.now = outcome.next_due
    assert collector.states["fred"].consecutive_failures == 3
    fake.outcome = SourceBatch(macro=[MacroObservation("DFF", T0.date(), 3.9)])
    [outcome] = await collector.run_due()
    assert outcome.ok
    assert outcome.next_due == clock.now + CADENCE
    assert collector.states["fred"].consecutive_failures == 0
    assert collector.states["fred"].last_error is None
    assert store.source_health()["fred"]["consecutive_failures"] == 0
    fake.outcome = SourceError("fred", "down again")
    clock.now = outcome.next_due
    [outcome] = await collector.run_due()
    assert outcome.next_due == clock.now + dt.timedelta(seconds=30)  # back to the first step


# -- restarts -------------------------------------------------------------------------------------


async def test_a_restart_does_not_rerun_a_job_that_just_succeeded(store: Store) -> None:
    clock, fake = Clock(), FakeJob()
    await _collector(store, fake, clock=clock).run_due()
    clock.advance(dt.timedelta(minutes=1))
    restarted = _collector(store, fake, clock=clock)
    assert restarted.due() == []
    assert await restarted.run_due() == []
    assert restarted.next_retry("fred") == T0 + CADENCE
    assert len(fake.calls) == 1
    clock.advance(dt.timedelta(minutes=4))
    assert len(await restarted.run_due()) == 1


async def test_a_restart_keeps_the_backoff_of_a_failing_job(store: Store) -> None:
    clock, fake, new = Clock(), FakeJob(), FakeJob("nyfed")
    fake.outcome = SourceError("fred", "down")
    collector = _collector(store, fake, clock=clock)
    for _ in range(3):  # 30 s, 60 s, then 120 s to wait
        [outcome] = await collector.run_due()
        clock.now = outcome.next_due
    last_failure = clock.now - dt.timedelta(seconds=120)
    clock.now = last_failure + dt.timedelta(seconds=10)
    restarted = _collector(store, fake, new, clock=clock)
    assert restarted.states["fred"].consecutive_failures == 3
    assert restarted.states["fred"].last_error == "down"
    assert restarted.next_retry("fred") == last_failure + dt.timedelta(seconds=120)
    assert [job.name for job in restarted.due()] == ["nyfed"]  # a job never seen: due now


async def test_run_due_never_runs_a_job_twice_concurrently(store: Store) -> None:
    clock, fake = Clock(), FakeJob()
    fake.gate = asyncio.Event()
    collector = _collector(store, fake, clock=clock)
    first = asyncio.create_task(collector.run_due())
    await asyncio.sleep(0.01)
    assert fake.running == 1
    second = await asyncio.wait_for(collector.run_due(), timeout=2)  # the TUI's refresh key
    forced = await asyncio.wait_for(collector.run_due(force=True), timeout=2)
    fake.gate.set()
    outcomes = await first
    assert [o.ok for o in outcomes] == [True]
    assert second == [] and forced == []
    assert fake.max_running == 1
    assert len(fake.calls) == 1


# -- market hours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "is_open"),
    [
        (dt.datetime(2025, 7, 15, 14, 0), True),  # Tuesday 10:00 EDT
        (dt.datetime(2025, 7, 15, 13, 29), False),  # 09:29 EDT
        (dt.datetime(2025, 7, 15, 13, 30), True),  # 09:30 EDT
        (dt.datetime(2025, 7, 15, 19, 59), True),  # 15:59 EDT
        (dt.datetime(2025, 7, 15, 20, 0), False),  # 16:00 EDT: closed
        (dt.datetime(2025, 7, 19, 15, 0), False),  # Saturday
        (dt.datetime(2025, 7, 20, 15, 0), False),  # Sunday
        (dt.datetime(2025, 3, 7, 14, 30), True),  # Friday before DST: 09:30 EST
        (dt.datetime(2025, 3, 7, 13, 30), False),  # 08:30 EST
        (dt.datetime(2025, 3, 10, 13, 30), True),  # Monday after DST starts: 09:30 EDT
        (dt.datetime(2025, 3, 10, 20, 30), False),  # 16:30 EDT
        (dt.datetime(2025, 10, 31, 19, 30), True),  # Friday 15:30 EDT
        (dt.datetime(2025, 11, 3, 14, 0), False),  # Monday after DST ends: 09:00 EST
        (dt.datetime(2025, 11, 3, 14, 30), True),  # 09:30 EST
        (dt.datetime(2025, 11, 3, 20, 30), True),  # 15:30 EST
        (dt.datetime(2025, 11, 3, 21, 0), False),  # 16:00 EST
        (dt.datetime(2025, 11, 8, 2, 0), False),  # Friday 21:00 EST, Saturday in UTC
    ],
)
def test_us_market_open(utc: dt.datetime, is_open: bool) -> None:
    assert us_market_open(utc) is is_open


# -- collect --once with every source down --------------------------------------------------------


class DeadYahoo:
    """A YahooSource stand-in for a machine without DNS."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _fail(self, what: str) -> SourceError:
        self.calls.append(what)
        return SourceError("yahoo", f"DNS failure ({what}: cannot resolve finance.yahoo.com)")

    async def fetch_daily(self, *args: Any, **kwargs: Any) -> SourceBatch:
        raise self._fail("daily")

    async def fetch_intraday(self, *args: Any, **kwargs: Any) -> SourceBatch:
        raise self._fail("intraday")

    async def fetch_shares(self, *args: Any, **kwargs: Any) -> SourceBatch:
        raise self._fail("shares")


def _refuse_everything(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)


def _config(**sources: bool) -> Config:
    lines = "".join(f"{name} = {str(on).lower()}\n" for name, on in sources.items())
    return parse_config("[sources]\n" + lines) if sources else Config()


def _collect(config: Config, store: Store) -> tuple[int, DeadYahoo, list[str]]:
    pytest.importorskip("data_sources.fred")
    pytest.importorskip("data_sources.nyfed")
    pytest.importorskip("bubble_core.alerts.engine")
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return _refuse_everything(request)

    yahoo = DeadYahoo()
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    try:
        code = collect_once(config, store, http_client=client, yahoo=yahoo)
    finally:
        asyncio.run(client.aclose())
    return code, yahoo, requests


def test_collect_once_with_every_source_down(store: Store,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, yahoo, requests = _collect(Config(), store)
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert "Traceback" not in err
    by_source = {line.split(":")[0]: line for line in lines[:-1]}
    assert sorted(by_source) == ["fred", "nyfed", "yahoo", "yahoo_shares"]
    assert len(lines) == 5
    assert "DNS failure" in by_source["yahoo"] and "FAILED" in by_source["yahoo"]
    assert "DNS failure" in by_source["yahoo_shares"]
    assert "DNS failure" in by_source["nyfed"]
    assert "DNS failure" in by_source["fred"]
    assert lines[-1] == "bubble-monitor: every source failed; nothing stored"
    assert sorted(yahoo.calls) == ["daily", "shares"]
    assert any("fred" in url for url in requests) and any("newyorkfed" in url for url in requests)
    # Nothing stored but the failures in the fetch log.
    dump = table_dump(store)
    for table in ("daily_bars", "intraday_bars", "shares_outstanding", "market_caps",
                  "macro_observations"):
        assert dump[table] == [], table
    assert sorted((row[0], row[3], row[5]) for row in dump["fetch_log"]) == [
        ("fred", False, 0), ("nyfed", False, 0), ("yahoo", False, 0), ("yahoo_shares", False, 0)]
    after = CollectorLock(store.path)
    assert after.acquire()  # released on the way out
    after.release()


def test_collect_once_polls_only_the_enabled_sources(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    code, yahoo, _ = _collect(_config(yahoo=False, fred=False), store)
    assert code == 1
    assert [line.split(":")[0] for line in capsys.readouterr().err.splitlines()] == [
        "nyfed", "bubble-monitor"]
    assert yahoo.calls == []
    assert [row[0] for row in store.query("SELECT source FROM fetch_log")] == ["nyfed"]


def test_a_second_collect_is_refused_while_the_lock_is_held(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    holder = CollectorLock(store.path)
    assert holder.acquire()
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        with pytest.raises(CollectorBusyError, match=f"pid {os.getpid()}"):
            collect_once(Config(), store)
        code = monitor.main(["--db", str(store.path), "collect", "--once",
                             "--log-file", str(tmp_path / "collect.log")])
    finally:
        holder.release()
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"bubble-monitor: another collector (pid {os.getpid()}) is already "
        f"writing to {store.path}"
    ]
    assert not store.path.exists()  # refused before touching the store
    after = CollectorLock(store.path)
    assert after.acquire()
    after.release()


def test_the_lock_is_released_when_collect_once_fails(monkeypatch: pytest.MonkeyPatch,
                                                      store: Store) -> None:
    import bubble_core.headless as headless

    def boom(*args: Any) -> Any:
        raise RuntimeError("crash inside")

    monkeypatch.setattr(headless, "_collect_once", boom)
    with pytest.raises(RuntimeError):
        collect_once(Config(), store)
    lock = CollectorLock(store.path)
    assert lock.acquire()
    lock.release()



PATCHED_CLI = """
import sys, httpx
import bubble_core.headless as headless
from bubble_core.errors import SourceError
import monitor


class DeadYahoo:
    async def fetch_daily(self, *args, **kwargs):
        raise SourceError("yahoo", "DNS failure (no resolver)")

    fetch_intraday = fetch_shares = fetch_daily


def refuse(request):
    raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)


real = headless.collect_once


def offline(config, store, http_client=None, yahoo=None):
    client = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    return real(config, store, client, DeadYahoo())


headless.collect_once = offline
sys.exit(monitor.main(sys.argv[1:]))
"""


def test_the_collect_once_command_prints_one_line_per_source(store: Store, tmp_path: Any) -> None:
    """The real CLI (logging set up by main) with the network replaced: no log echo on stderr."""
    pytest.importorskip("bubble_core.alerts.engine")
    log = tmp_path / "collect.log"
    result = subprocess.run(
        [sys.executable, "-c", PATCHED_CLI, "--db", str(store.path), "collect", "--once",
         "--log-file", str(log)],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "yahoo", "yahoo_shares", "fred", "nyfed", "bubble-monitor"], result.stderr
    assert all("DNS failure" in line for line in lines[:4])
    assert result.stdout == ""
    # The details went to the log file instead.
    assert "fred failed (1 in a row)" in log.read_text()


LOCK_HOLDER = """
import os, sys
from bubble_core.lock import CollectorLock
lock = CollectorLock(sys.argv[1])
print("held" if lock.acquire() else "refused", flush=True)
sys.stdin.readline()
os._exit(0)  # dies holding the lock: the kernel must release it
"""


def test_the_collector_lock_across_processes(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(store.path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "held"
        mine = CollectorLock(store.path)
        assert mine.acquire() is False
        assert mine.owner_pid() == child.pid
        with pytest.raises(CollectorBusyError, match=f"another collector \\(pid {child.pid}\\)"):
            collect_once(Config(), store)
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.wait(timeout=30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert mine.acquire() is True  # a dead owner never leaves a stale lock
    assert mine.owner_pid() == os.getpid()
    mine.release()
    assert not store.path.exists()

"""Promise 1, source faults: every source fails in every way for many cycles and comes back.

The collector runs the production jobs (`build_jobs`) on a fake clock. FRED and the New York Fed
answer through httpx.MockTransport, Yahoo through fake yfinance calls, each scripted per cycle.
For every fault the suite checks that nothing escapes `run_due`, the fetch log holds the failure
and its reason, the backoff doubles from 30 s up to `max_backoff` (never below a 429's
Retry-After, never beyond a bound), the data is marked stale, the first poll after the source
comes back succeeds and resets the failure count, and no zero, NaN or invented value is stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from bubble_core.collector import Collector, Job, JobOutcome
from bubble_core.live import build_jobs
from bubble_core.models import SourceBatch
from bubble_core.snapshots import snapshot_from_store, source_cadences, source_health
from bubble_core.store import Store

from .helpers import (
    FRED_FAULTS,
    NYFED_FAULTS,
    YAHOO_FAULTS,
    FakeClock,
    FakeHttp,
    FakeYahoo,
    bad_values,
    duplicate_keys,
    fault_config,
    fetch_log,
    invented_macro,
    invented_prices,
)

BASE = 30.0  # the collector's first backoff, seconds
MAX_BACKOFF = 300.0  # FAULT_CONFIG's max_backoff = "5m"
FAILURES = 8  # enough to reach the cap (30, 60, 120, 240, 300, 300, ...)

FRED_REASONS = {
    "timeout": "timeout",
    "dns": "DNS failure",
    "refused": "connection refused",
    "429": "HTTP 429",
    "500": "HTTP 500",
    "html": "HTML error page",
    "truncated": "bad date",
    "empty": "no observations",
    "nan": "bad value",
    "other_series": "names series",
}
NYFED_REASONS = {
    "timeout": "timeout",
    "dns": "DNS failure",
    "429": "HTTP 429",
    "500": "HTTP 500",
    "html": "malformed JSON",
    "truncated": "malformed JSON",
    "empty": "malformed JSON",
    "nan": "no rates",
    "no_rates": "no rates",
    "wrong_shape": "malformed JSON",
}
YAHOO_REASONS = {
    "ratelimit": "rate limited",
    "ratelimit_logged": "rate limited",
    "nan": "no valid prices",
    "zero": "no valid prices",
    "empty": "no rows",
    "dns": "could not resolve",
    "timeout": "timed out",
    "garbage": "Expecting value",
}


@pytest.fixture(autouse=True)
def quiet_yfinance_logger() -> Iterator[None]:
    logger = logging.getLogger("yfinance")
    level, propagate = logger.level, logger.propagate
    logger.propagate = False
    yield
    logger.setLevel(level)
    logger.propagate = propagate


def sources_toml(*enabled: str) -> str:
    return "".join(f"{name} = {'true' if name in enabled else 'false'}\n"
                   for name in ("yahoo", "fred", "nyfed"))


class Rig:
    """A store, the fakes, and a collector of the production jobs on a fake clock."""

    def __init__(self, tmp_path: Any, *enabled: str, jitter: Any = None) -> None:
        self.clock = FakeClock()
        self.http = FakeHttp(self.clock)
        self.yahoo = FakeYahoo(self.clock)
        self.config = fault_config(sources_toml(*enabled))
        self.store = Store(tmp_path / "faults.duckdb")
        self.store.ensure_schema()
        # Each store operation still opens and closes its own connection; this idle one keeps
        # DuckDB's instance alive in between, so that hundreds of polls take seconds, not
        # minutes (connection churn itself is what the crash and many-process tests exercise).
        self.keeper = duckdb.connect(str(self.store.path))
        self.client = self.http.client()
        self.jobs = build_jobs(self.config, self.store, self.client, self.yahoo.source())
        self.collector = Collector(
            self.store, self.jobs, max_backoff=self.config.sources.max_backoff,
            clock=self.clock, jitter=jitter or (lambda: 1.0),
        )

    def close(self) -> None:
        self.keeper.close()

    async def step(self) -> list[JobOutcome]:
        """Move the clock to the next due job and run every due job, as `collect` does."""
        self.clock.advance(self.collector.seconds_until_next())
        return await self.collector.run_due()

    async def until(self, job: str) -> JobOutcome:
        """Run cycles until `job` has run once; return its outcome."""
        for _ in range(500):
            for outcome in await self.step():
                if outcome.job == job:
                    return outcome
        raise AssertionError(f"{job} never ran")

    def stale(self, source: str, full: bool = False) -> bool:
        """Is `source` marked stale? `full` builds the whole snapshot (the TUI's and status's
        path); otherwise only its source-health part, which is what marks staleness."""
        if full:
            snapshot = snapshot_from_store(
                self.store, self.config, now=self.clock(), with_charts=False,
                expected_sources=tuple(job.name for job in self.jobs),
            )
            return snapshot.sources[source].stale
        health = source_health(self.store.source_health(), source_cadences(self.config),
                               self.clock())
        return health[source].stale

    def check_values(self) -> None:
        assert bad_values(self.store) == []
        assert duplicate_keys(self.store) == []
        assert invented_macro(self.store, self.http.served) == []
        assert invented_prices(self.store, self.yahoo.served) == []


@pytest.fixture
def make_rig(fast_dir: Any) -> Iterator[Any]:
    rigs: list[Rig] = []

    def make(*enabled: str, jitter: Any = None) -> Rig:
        rig = Rig(fast_dir / f"rig{len(rigs)}", *enabled, jitter=jitter)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def says(reason: str, error: str | None) -> bool:
    """Does a failure's text give the expected reason (any of "a|b", any case)?"""
    return any(part.lower() in (error or "").lower() for part in reason.split("|"))


def expected_delays(retry_after: float | None = None) -> list[float]:
    delays = [min(BASE * 2**n, MAX_BACKOFF) for n in range(FAILURES)]
    return [max(d, retry_after) if retry_after else d for d in delays]


async def fail_then_recover(rig: Rig, job: str, set_mode: Any, reason: str,
                            retry_after: float | None = None) -> None:
    """One success, FAILURES failures with `reason`, then the source comes back by itself."""
    first = await rig.until(job)
    assert first.ok, first.error
    assert not rig.stale(job)

    set_mode("fault")
    delays: list[float] = []
    for attempt in range(1, FAILURES + 1):
        outcome = await rig.until(job)
        assert not outcome.ok
        assert says(reason, outcome.error), outcome.error
        assert rig.collector.states[job].consecutive_failures == attempt
        delays.append((outcome.next_due - rig.clock()).total_seconds())
        if attempt == 1:
            assert not rig.stale(job), "one failed poll must not make fresh data stale"
    assert delays == expected_delays(retry_after)
    assert rig.stale(job, full=True), "after half an hour of failures it must be marked stale"
    health = rig.store.source_health()[job]
    assert health["consecutive_failures"] == FAILURES
    assert says(reason, health["last_error"])

    set_mode("ok")
    back = await rig.until(job)
    assert back.ok, back.error
    assert rig.collector.states[job].consecutive_failures == 0
    assert rig.store.source_health()[job]["consecutive_failures"] == 0
    assert not rig.stale(job)
    again = await rig.until(job)  # and it keeps its normal cadence afterwards
    assert again.ok

    log = fetch_log(rig.store, job)
    failures = [row for row in log if not row[3]]
    assert len(failures) == FAILURES
    assert all(row[5] == 0 and says(reason, row[4]) for row in failures)
    if retry_after is not None:
        assert {row[6] for row in failures} == {retry_after}
    assert sum(1 for row in log if row[3]) == 3
    rig.check_values()


@pytest.mark.parametrize("fault", FRED_FAULTS)
async def test_fred_fault_backs_off_goes_stale_and_recovers(make_rig: Any, fault: str) -> None:
    rig = make_rig("fred")

    def set_mode(mode: str) -> None:
        rig.http.modes["fred"] = fault if mode == "fault" else "ok"

    await fail_then_recover(rig, "fred", set_mode, FRED_REASONS[fault],
                            retry_after=120.0 if fault == "429" else None)


@pytest.mark.parametrize("fault", NYFED_FAULTS)
async def test_nyfed_fault_backs_off_goes_stale_and_recovers(make_rig: Any, fault: str) -> None:
    rig = make_rig("nyfed")

    def set_mode(mode: str) -> None:
        rig.http.modes["nyfed"] = fault if mode == "fault" else "ok"

    await fail_then_recover(rig, "nyfed", set_mode, NYFED_REASONS[fault],
                            retry_after=120.0 if fault == "429" else None)


@pytest.mark.parametrize("fault", YAHOO_FAULTS)
async def test_yahoo_fault_backs_off_goes_stale_and_recovers(make_rig: Any, fault: str) -> None:
    rig = make_rig("yahoo")

    def set_mode(mode: str) -> None:
        rig.yahoo.mode = fault if mode == "fault" else "ok"
        rig.yahoo.shares_mode = rig.yahoo.mode

    await fail_then_recover(rig, "yahoo", set_mode, YAHOO_REASONS[fault])
    # The minute bars of the session were stored only from the good polls.
    assert rig.store.query("SELECT count(*) FROM intraday_bars")[0][0] > 0


@pytest.mark.parametrize("fault", ["ratelimit", "nan", "zero", "empty", "dns"])
async def test_yahoo_share_counts_fault_and_recover(make_rig: Any, fault: str) -> None:
    rig = make_rig("yahoo")
    rig.yahoo.shares_mode = fault
    for attempt in range(1, 5):
        outcome = await rig.until("yahoo_shares")
        assert not outcome.ok
        assert rig.collector.states["yahoo_shares"].consecutive_failures == attempt
    assert rig.store.query("SELECT count(*) FROM shares_outstanding")[0][0] == 0
    rig.yahoo.shares_mode = "ok"
    outcome = await rig.until("yahoo_shares")
    assert outcome.ok and outcome.rows > 0
    rig.check_values()


async def test_one_nan_symbol_is_a_warning_and_stores_nothing_for_it(make_rig: Any) -> None:
    rig = make_rig("yahoo")
    rig.yahoo.mode = "nan_one"  # the first requested symbol's column is all NaN
    outcome = await rig.until("yahoo")
    assert outcome.ok
    stored = {row[0] for row in rig.store.query("SELECT DISTINCT symbol FROM daily_bars")}
    assert stored == {"AAPL", "^NDX"}
    warning = fetch_log(rig.store, "yahoo")[-1][4]
    assert "NVDA" in warning and "no valid prices" in warning
    rig.check_values()


async def test_every_source_in_turn_for_many_cycles(make_rig: Any) -> None:
    """All four jobs together; each source takes its turn failing in random ways, the others
    keep working; 150 cycles of fake time; everything recovers at the end, nothing invented."""
    rig = make_rig("yahoo", "fred", "nyfed", jitter=random.Random(7).random)
    chooser = random.Random(11)
    turns = ["fred", "nyfed", "yahoo"] * 3
    failures = {"yahoo": 0, "yahoo_shares": 0, "fred": 0, "nyfed": 0}
    max_delay = dt.timedelta(seconds=max(MAX_BACKOFF, float(rig.http.retry_after)))
    for index in range(150):
        turn = turns[index * len(turns) // 150]
        rig.http.modes = {
            "fred": chooser.choice(FRED_FAULTS) if turn == "fred" else "ok",
            "nyfed": chooser.choice(NYFED_FAULTS) if turn == "nyfed" else "ok",
        }
        rig.yahoo.mode = chooser.choice(YAHOO_FAULTS) if turn == "yahoo" else "ok"
        rig.yahoo.shares_mode = rig.yahoo.mode
        for outcome in await rig.step():
            if not outcome.ok:
                failures[outcome.job] += 1
                assert outcome.error
                wait = outcome.next_due - rig.clock()
                # Jitter keeps it within [50 %, 100 %] of the exponential step, capped.
                assert dt.timedelta(seconds=BASE / 2) <= wait <= max_delay
    assert failures["fred"] > 5 and failures["nyfed"] > 5 and failures["yahoo"] > 5
    rig.http.modes = {"fred": "ok", "nyfed": "ok"}
    rig.yahoo.mode = rig.yahoo.shares_mode = "ok"
    for job in ("yahoo", "fred", "nyfed"):
        outcome = await rig.until(job)
        assert outcome.ok, (job, outcome.error)
    health = rig.store.source_health()
    assert all(health[job]["consecutive_failures"] == 0 for job in ("yahoo", "fred", "nyfed"))
    rig.check_values()


@pytest.mark.parametrize(
    "header", ["inf", "1e400", "99999999999999", "Fri, 31 Dec 9999 23:59:59 GMT", "nan", "-5"]
)
async def test_absurd_retry_after_cannot_stop_the_collector(make_rig: Any, header: str) -> None:
    """A 429's Retry-After is honoured, but a header of 10^14 s or 'inf' must neither crash the
    collector (datetime overflow) nor park the source for centuries."""
    rig = make_rig("fred")
    rig.http.modes["fred"] = "429"
    rig.http.retry_after = header
    for _ in range(3):
        outcome = await rig.until("fred")
        assert not outcome.ok
        assert outcome.next_due - rig.clock() <= dt.timedelta(days=1)
    # The stored Retry-After is what a restarted collector resumes from: it must resume too.
    restarted = Collector(rig.store, rig.jobs, max_backoff=rig.config.sources.max_backoff,
                          clock=rig.clock)
    assert restarted.next_retry("fred") - rig.clock() <= dt.timedelta(days=1)


@pytest.mark.parametrize("header", ["inf", "-inf", "nan", "1e400", "-5", "soon", ""])
def test_retry_after_header_is_a_finite_delay_or_none(header: str) -> None:
    import math

    import httpx

    from data_sources.base import retry_after_seconds

    seconds = retry_after_seconds(httpx.Response(429, headers={"Retry-After": header}))
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


async def test_hanging_and_crashing_jobs_do_not_stop_the_others(tmp_path: Any) -> None:
    clock = FakeClock()
    store = Store(tmp_path / "hang.duckdb")
    store.ensure_schema()

    async def hang(now: dt.datetime) -> SourceBatch:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def crash(now: dt.datetime) -> SourceBatch:
        return {}["no such key"]  # a bug in a source, not a SourceError

    async def fine(now: dt.datetime) -> SourceBatch:
        return SourceBatch()

    jobs = [
        Job("hang", hang, lambda now: dt.timedelta(minutes=1), timeout=0.2),
        Job("crash", crash, lambda now: dt.timedelta(minutes=1)),
        Job("fine", fine, lambda now: dt.timedelta(minutes=1)),
    ]
    collector = Collector(store, jobs, clock=clock, jitter=lambda: 1.0)
    for _ in range(3):
        outcomes = {o.job: o for o in await collector.run_due(force=True)}
        assert says("no answer within|timed out|timeout", outcomes["hang"].error)
        assert says("KeyError", outcomes["crash"].error)
        assert outcomes["fine"].ok
        clock.advance(60)
    assert collector.states["hang"].consecutive_failures == 3


def test_live_backend_keeps_returning_snapshots_while_every_source_fails(tmp_path: Any) -> None:
    pytest.importorskip("bubble_core.alerts.engine")
    from bubble_core.live import LiveBackend
    from bubble_core.store import utcnow

    http = FakeHttp(utcnow, modes={"fred": "500", "nyfed": "timeout"})
    yahoo = FakeYahoo(utcnow, mode="ratelimit", shares_mode="ratelimit")
    config = fault_config(sources_toml("yahoo", "fred", "nyfed"))
    backend = LiveBackend(config, Store(tmp_path / "live.duckdb"),
                          http_client_factory=http.client, yahoo=yahoo.source())
    try:
        for _ in range(5):
            backend.request_refresh()  # poll every source on every tick despite the backoff
            snapshot = backend.tick()
            assert set(snapshot.sources) >= {"yahoo", "fred", "nyfed"}
            assert all(s.consecutive_failures > 0 for s in snapshot.sources.values())
            assert all(s.stale for s in snapshot.sources.values())
        assert backend.collecting
        assert backend.mode().mode == "OFFLINE"
        http.modes = {"fred": "ok", "nyfed": "ok"}
        yahoo.mode = yahoo.shares_mode = "ok"
        backend.request_refresh()
        snapshot = backend.tick()
        assert all(s.consecutive_failures == 0 for s in snapshot.sources.values())
        assert not any(s.stale for s in snapshot.sources.values())
        assert backend.mode().mode == "LIVE"
        store = Store(tmp_path / "live.duckdb")
        assert bad_values(store) == []
        assert invented_macro(store, http.served) == []
        assert invented_prices(store, yahoo.served) == []
    finally:
        backend.close()


def test_an_import_in_the_fetch_log_does_not_make_an_unreachable_world_look_live(
    tmp_path: Any,
) -> None:
    pytest.importorskip("bubble_core.alerts.engine")
    from bubble_core.live import LiveBackend
    from bubble_core.store import log_fetch, utcnow

    store = Store(tmp_path / "live.duckdb")
    with store.writer() as con:  # a user imported history before going offline
        log_fetch(con, "import", utcnow(), utcnow(), ok=True, rows=3, error=None)
    http = FakeHttp(utcnow, modes={"fred": "dns", "nyfed": "dns"})
    yahoo = FakeYahoo(utcnow, mode="dns", shares_mode="dns")
    config = fault_config(sources_toml("yahoo", "fred", "nyfed"))
    backend = LiveBackend(config, store, http_client_factory=http.client, yahoo=yahoo.source())
    try:
        snapshot = backend.tick()
        assert "import" in snapshot.sources and snapshot.sources["import"].consecutive_failures == 0
        assert backend.mode().mode == "OFFLINE"
    finally:
        backend.close()

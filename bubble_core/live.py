"""Live monitoring: the real sources, the collector, alerts, and the backend the TUI drives.

One process per store collects (it holds the collector lock); any other process on the same
store is a viewer that only reads. Both share `LiveBackend`; the viewer just never polls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from bubble_core.collector import Collector, Job, us_market_open
from bubble_core.config import Config
from bubble_core.lock import CollectorLock
from bubble_core.models import DailyBar, SourceBatch
from bubble_core.runtime import ModeInfo
from bubble_core.snapshot import AlertNotice, DeliveryRecord, Snapshot
from bubble_core.snapshots import snapshot_from_store
from bubble_core.store import Store, utcnow

log = logging.getLogger("bubble_monitor.live")
T = TypeVar("T")

SOURCE_NAMES: tuple[str, ...] = ("yahoo", "yahoo_shares", "fred", "nyfed")
# Minute bars this far back from the newest stored one are written again on each poll.
INTRADAY_REWRITE = dt.timedelta(minutes=5)


class LoopThread:
    """A private asyncio loop in a daemon thread.

    The TUI calls the backend from short-lived thread workers; the httpx client and the
    collector's coroutines need one long-lived loop, so they live here.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="bubble-monitor-io", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


def rollup_intraday(batch: SourceBatch) -> list[DailyBar]:
    """Today's running daily bar from the intraday bars of this poll (first open, last close)."""
    from zoneinfo import ZoneInfo

    by_day: dict[tuple[str, dt.date], list[Any]] = {}
    for bar in batch.intraday_bars:
        zone = ZoneInfo("Asia/Tokyo" if bar.symbol.endswith(".T") else "America/New_York")
        local_day = bar.ts.replace(tzinfo=dt.UTC).astimezone(zone).date()
        by_day.setdefault((bar.symbol, local_day), []).append(bar)
    rolled: list[DailyBar] = []
    for (symbol, day), bars in by_day.items():
        bars.sort(key=lambda b: b.ts)
        closes = [b.close for b in bars]
        volumes = [b.volume for b in bars if b.volume is not None]
        rolled.append(
            DailyBar(
                symbol=symbol,
                date=day,
                close=closes[-1],
                open=closes[0],
                high=max(closes),
                low=min(closes),
                volume=sum(volumes) if volumes else None,
            )
        )
    return rolled


def build_jobs(config: Config, store: Store, http_client: Any, yahoo: Any = None) -> list[Job]:
    """The live jobs. `http_client` is an httpx.AsyncClient; `yahoo` a YahooSource (or a fake)."""
    from data_sources.fred import FredSource
    from data_sources.nyfed import NyFedSource
    from data_sources.yahoo import YahooSource

    timeout = config.sources.timeout.total_seconds()
    cadence = config.cadence
    jobs: list[Job] = []

    if config.sources.yahoo:
        yahoo_source = yahoo or YahooSource(timeout=timeout)
        symbols = config.watch.symbols

        async def poll_prices(now: dt.datetime) -> SourceBatch:
            last = await asyncio.to_thread(store.last_daily_dates)
            yesterday = now.date() - dt.timedelta(days=4)
            needs_daily = [s for s in symbols if s not in last or last[s] < yesterday]
            # One download per poll: daily bars when history is missing or behind, else the
            # intraday minute bars of today while the market is open, else today's daily bars.
            if needs_daily or not (config.watch.intraday and us_market_open(now)):
                return await yahoo_source.fetch_daily(symbols, {s: last.get(s) for s in symbols})
            batch = await yahoo_source.fetch_intraday(symbols)
            batch.daily_bars.extend(rollup_intraday(batch))
            # Write only the newest minutes (Yahoo revises the last few): re-writing the whole
            # session every minute grew the file fourfold (bench/storage.py).
            stored = await asyncio.to_thread(
                store.last_intraday_times, now - dt.timedelta(days=2)
            )
            batch.intraday_bars = [
                bar for bar in batch.intraday_bars
                if bar.symbol not in stored or bar.ts >= stored[bar.symbol] - INTRADAY_REWRITE
            ]
            return batch

        def price_cadence(now: dt.datetime) -> dt.timedelta:
            return cadence.prices_open if us_market_open(now) else cadence.prices_closed

        jobs.append(Job("yahoo", poll_prices, price_cadence, timeout=timeout * 4))

        async def poll_shares(now: dt.datetime) -> SourceBatch:
            return await yahoo_source.fetch_shares(config.watch.equities)

        jobs.append(
            Job("yahoo_shares", poll_shares, lambda now: cadence.shares, timeout=timeout * 4)
        )

    if config.sources.fred:
        fred = FredSource(http_client, timeout=timeout)

        async def poll_fred(now: dt.datetime) -> SourceBatch:
            last = await asyncio.to_thread(store.last_macro_dates)
            series = config.sources.fred_series
            return await fred.fetch(series, {s: last.get(s) for s in series})

        jobs.append(Job("fred", poll_fred, lambda now: cadence.fred, timeout=timeout * 3))

    if config.sources.nyfed:
        nyfed = NyFedSource(http_client, timeout=timeout)

        async def poll_nyfed(now: dt.datetime) -> SourceBatch:
            last = await asyncio.to_thread(store.last_macro_dates)
            return await nyfed.fetch(last.get("EFFR"))

        jobs.append(Job("nyfed", poll_nyfed, lambda now: cadence.nyfed, timeout=timeout * 2))
    return jobs


HISTORY_ROWS = 40


def alert_log(store: Store, notifier: Any = None) -> tuple[DeliveryRecord, ...]:
    """The alerts panel's history: each firing and resolution (the in-app channel) and each
    remote delivery with its result, newest first."""
    rows = store.query(
        """
        SELECT ts, rule,
               CASE WHEN to_state = 'firing' THEN 'firing' ELSE 'resolved' END
        FROM alert_history
        WHERE (to_state = 'firing' AND from_state <> 'recovering')
           OR (to_state = 'inactive' AND from_state IN ('firing', 'recovering'))
        ORDER BY ts DESC LIMIT ?
        """,
        [HISTORY_ROWS],
    )
    records = [DeliveryRecord(ts, rule, status, "in-app", True) for ts, rule, status in rows]
    if notifier is not None:
        records.extend(notifier.recent(HISTORY_ROWS))
    records.sort(key=lambda record: record.ts, reverse=True)
    return tuple(records[:HISTORY_ROWS])


class AlertPipeline:
    """Rules -> engine -> notifier, persisted in the store."""

    def __init__(self, config: Config, store: Store, deliver_remote: bool = True) -> None:
        from bubble_core.alerts.engine import AlertEngine
        from bubble_core.alerts.rules import load_rules

        self.rules = load_rules(config.rules, str(config.path or "config.toml"))
        self.store = store
        self.engine = AlertEngine(self.rules, store)
        self.notifier: Any = None
        if deliver_remote and config.notify.urls:
            from bubble_core.alerts.notify import Notifier

            self.notifier = Notifier(config.notify, store)

    async def evaluate(self, snapshot: Snapshot, now: dt.datetime) -> Snapshot:
        notifications = await asyncio.to_thread(self.engine.evaluate, snapshot, now)
        if self.notifier is not None:
            await self.notifier.retry_due(now)
            if notifications:
                await self.notifier.deliver(notifications, now)
        notices = tuple(
            AlertNotice(n.rule, n.status, n.severity, n.summary) for n in notifications
        )
        return dataclasses.replace(
            snapshot,
            alerts=tuple(self.engine.statuses(now)),
            deliveries=await asyncio.to_thread(alert_log, self.store, self.notifier),
            notices=notices,
        )

    def statuses_only(self, snapshot: Snapshot, now: dt.datetime) -> Snapshot:
        return dataclasses.replace(
            snapshot,
            alerts=tuple(self.engine.statuses(now)),
            deliveries=alert_log(self.store, self.notifier),
        )


class LiveBackend:
    """The TUI's backend on a real store: collects if it can take the lock, else views."""

    def __init__(self, config: Config, store: Store, http_client_factory: Any = None,
                 yahoo: Any = None, collect: bool = True) -> None:
        self.config = config
        self.store = store
        self._http_client_factory = http_client_factory
        self._yahoo = yahoo
        self._want_collect = collect and not store.read_only
        self._lock = CollectorLock(store.path)
        self._loop: LoopThread | None = None
        self._collector: Collector | None = None
        self._alerts: AlertPipeline | None = None
        self._client: Any = None
        self._started = False
        self._last_snapshot: Snapshot | None = None
        self._refresh_requested = False
        self._read_store = store

    # Heavy set-up (httpx, the sources, the rules) happens on the first tick, in the worker
    # thread, so the first frame paints without waiting for it.
    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self.store.ensure_schema()
        if self._want_collect and self._lock.acquire():
            import httpx

            self._loop = LoopThread()
            factory = self._http_client_factory or (
                lambda: httpx.AsyncClient(
                    headers={"User-Agent": "bubble-monitor/0.1"}, follow_redirects=True
                )
            )

            async def make_client() -> Any:
                return factory()

            self._client = self._loop.run(make_client())
            jobs = build_jobs(self.config, self.store, self._client, self._yahoo)
            self._collector = Collector(
                self.store, jobs, max_backoff=self.config.sources.max_backoff
            )
        else:
            # Another process collects: read through read-only connections, which never take
            # DuckDB's write lock, so this viewer cannot stall the collector's writes.
            self._read_store = Store(self.store.path, read_only=True)
        self._alerts = AlertPipeline(
            self.config, self._read_store, deliver_remote=self._collector is not None
        )

    @property
    def collecting(self) -> bool:
        return self._collector is not None

    def mode(self) -> ModeInfo:
        if not self._started:
            return ModeInfo("LIVE", "starting")
        if self._collector is None:
            owner = self._lock.owner_pid()
            detail = f"collector pid {owner}" if owner else "read-only"
            return ModeInfo("VIEWER", detail)
        snapshot = self._last_snapshot
        # Only the polled sources count: an `import` in the fetch log is not a reachable source.
        polled = [
            snapshot.sources[job.name] for job in self._collector.jobs
            if snapshot is not None and job.name in snapshot.sources
        ]
        if polled and all(health.consecutive_failures > 0 for health in polled):
            return ModeInfo("OFFLINE", "no source reachable")
        return ModeInfo("LIVE")

    def request_refresh(self) -> None:
        self._refresh_requested = True

    def tick(self) -> Snapshot:
        self._start()
        now = utcnow()
        if self._collector is not None and self._loop is not None:
            force, self._refresh_requested = self._refresh_requested, False
            self._loop.run(self._collector.run_due(force=force))
            now = utcnow()
        snapshot = self._build(now)
        if self._alerts is not None:
            if self._collector is not None and self._loop is not None:
                snapshot = self._loop.run(self._alerts.evaluate(snapshot, now))
            else:
                snapshot = self._alerts.statuses_only(snapshot, now)
        self._last_snapshot = snapshot
        return snapshot

    def _build(self, now: dt.datetime) -> Snapshot:
        return snapshot_from_store(
            self._read_store,
            self.config,
            now=now,
            next_retry=self._collector.next_retry if self._collector else None,
            expected_sources=tuple(job.name for job in self._collector.jobs)
            if self._collector
            else (),
        )

    def snapshot(self) -> Snapshot:
        self._start()
        snapshot = self._build(utcnow())
        if self._alerts is not None:
            snapshot = self._alerts.statuses_only(snapshot, utcnow())
        return snapshot

    def seconds_until_next_tick(self) -> float:
        if self._collector is None:
            return 30.0  # a viewer re-reads the store; the collector writes at most every minute
        return min(max(self._collector.seconds_until_next(), 1.0), 60.0)

    def silence(self, rule: str, duration: dt.timedelta, comment: str) -> None:
        self._start()
        assert self._alerts is not None
        from bubble_core.alerts.engine import AlertEngine

        now = utcnow()
        # Silences are written even from a viewer: one short write transaction.
        AlertEngine(self._alerts.rules, self.store).silence(rule, now + duration, comment, "tui")

    def close(self) -> None:
        if self._loop is not None:
            if self._client is not None:
                try:
                    self._loop.run(self._client.aclose(), timeout=5)
                except Exception:  # closing is best effort at exit
                    pass
            self._loop.stop()
        self._lock.release()

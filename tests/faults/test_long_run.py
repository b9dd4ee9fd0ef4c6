"""Promise 6, long run: thirty simulated days of polls, faults and alerts on a fake clock.

The production pieces run as `collect` runs them: `build_jobs` + `Collector.run_due`, then
`snapshot_from_store` and the `AlertPipeline` (its Notifier persisting every notification, only
the network send stubbed) after every cycle that polled. Sources are in-process fakes: Yahoo
(yfinance-shaped frames), FRED and the New York Fed (httpx.MockTransport). The NASDAQ-100 is
scripted to fall through -10 % and -20 % and to recover; FRED has a six-hour outage, Yahoo a whole
day of 429s.

At the end the notification log must be exactly EXPECTED (one firing and one resolved per
crossing, the one `repeat` reminder of a week-long breach, one SourceStale firing and resolved
per outage: no storm), memory must have stopped growing (Python objects and RSS, day 5 against
day 29) and the store must hold each minute bar once and stay a few megabytes.

What is simplified, and why. A cycle costs about 50 ms of DuckDB work (poll write, snapshot,
alert state), so the real cadence (prices every minute while the market is open: ~10,000 cycles
a month) would take ten minutes. Here prices are polled every 30 minutes in the session and
hourly outside it (FRED and the New York Fed hourly and shares daily, as by default), and the
fake clock wakes the collector at most every 30 minutes, running together the jobs due within
that window: ~760 cycles, about a minute. The store still receives every minute bar of every
session (each intraday poll downloads the whole day so far, as the real one does), so its size
is that of minute polls. Each store operation opens and closes its own connection as in
production; an idle extra connection keeps DuckDB's instance alive between them during a day
(no re-load, no checkpoint per operation) and is dropped once a simulated day, when memory is
sampled, as production drops the instance after every operation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import math
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bubble_core.collector import Collector
from bubble_core.config import parse_config
from bubble_core.live import build_jobs
from bubble_core.snapshots import snapshot_from_store
from bubble_core.store import Store

from .helpers import (
    BASE_PRICES,
    NEW_YORK,
    FakeClock,
    FakeHttp,
    FakeYahoo,
    bad_values,
    duplicate_keys,
)

DAYS = 30
OPEN_CADENCE = "30m"  # the default is 1m: see the module docstring
CLOSED_CADENCE = "1h"  # the default is 30m
WAKE = dt.timedelta(minutes=30)
START = dt.datetime(2026, 11, 2, 0, 0)  # a Monday; New York is on EST all month
PEAK = 20_000.0

CONFIG = f"""
[watch]
mag7 = ["NVDA", "AAPL"]
indices = ["^NDX"]
extras = []
ai_basket = []
intraday = true

[cadence]
prices_open = "{OPEN_CADENCE}"
prices_closed = "{CLOSED_CADENCE}"
fred = "1h"
nyfed = "1h"
shares = "1d"

[sources]
timeout = "5s"
max_backoff = "30m"
fred_series = ["DFF", "DGS10"]

[notify]
urls = ["json://127.0.0.1:9/hook"]
min_severity = "info"
"""

RULES = [
    {"name": "NdxCorrection", "indicator": "drawdown.^NDX", "op": "<=", "threshold": -0.10,
     "clear": -0.08, "severity": "warning", "repeat": "7d",
     "summary": "NASDAQ-100 {value:.1%} below its high"},
    {"name": "NdxBear", "indicator": "drawdown.^NDX", "op": "<=", "threshold": -0.20,
     "clear": -0.15, "severity": "critical", "repeat": "7d",
     "summary": "NASDAQ-100 {value:.1%} below its high"},
]

# The NASDAQ-100's close, by trading day of the month (0 = Monday 2 November); in between, the
# price moves linearly through the session, with a +-0.3 % wobble every bar.
NDX_CLOSES = {
    0: 19_900, 7: 19_800,
    8: 17_700,    # -11.5 %: NdxCorrection fires
    9: 18_150,    # -9.25 %: inside the hysteresis band, still firing
    10: 17_800,
    12: 18_700,   # -6.5 %: past clear (-8 %), resolved
    14: 18_900,
    15: 15_500,   # -22.5 %: both fire
    20: 15_900,
    21: 19_700,   # -1.5 %: both resolve
    30: 19_800,
}
FRED_OUTAGE = (START + dt.timedelta(days=3, hours=10), START + dt.timedelta(days=3, hours=16))
YAHOO_OUTAGE = (START + dt.timedelta(days=17), START + dt.timedelta(days=18))

EXPECTED = [
    ("SourceStale:fred", "firing"),
    ("SourceStale:fred", "resolved"),
    ("NdxCorrection", "firing"),
    ("NdxCorrection", "resolved"),
    ("SourceStale:yahoo", "firing"),
    ("SourceStale:yahoo", "resolved"),
    ("NdxCorrection", "firing"),
    ("NdxBear", "firing"),
    ("NdxCorrection", "firing"),  # still firing a week later: the one `repeat` reminder
    ("NdxBear", "firing"),
    ("NdxBear", "resolved"),
    ("NdxCorrection", "resolved"),
]


def trading_day(moment: dt.datetime) -> float:
    """Trading days since START, fractional through the session (New York time)."""
    local = moment.replace(tzinfo=dt.UTC).astimezone(NEW_YORK)
    days = sum(1 for d in range((local.date() - START.date()).days)
               if (START.date() + dt.timedelta(days=d)).weekday() < 5)
    if local.weekday() >= 5:  # the weekend shows Friday's close
        return days - 1
    minutes = local.hour * 60 + local.minute - (9 * 60 + 30)
    return days - 1 + min(max(minutes / 390, 0.0), 1.0)


def scripted(day: float) -> float:
    keys = sorted(NDX_CLOSES)
    if day <= keys[0]:
        return NDX_CLOSES[keys[0]]
    for low, high in zip(keys, keys[1:], strict=False):
        if low <= day <= high:
            share = (day - low) / (high - low)
            return NDX_CLOSES[low] + share * (NDX_CLOSES[high] - NDX_CLOSES[low])
    return NDX_CLOSES[keys[-1]]


def price(symbol: str, moment: dt.datetime) -> float:
    wobble = 1 + 0.003 * math.sin(moment.timestamp() / 600.0 + len(symbol))
    if symbol != "^NDX":
        return round(BASE_PRICES[symbol] * wobble, 4)
    if moment < START:  # the backfilled history: a climb to the all-time high
        days = (START - moment).total_seconds() / 86_400
        return round(PEAK * (1 - 0.004 * days), 2)
    return round(min(scripted(trading_day(moment)) * wobble, PEAK * 0.999), 2)


class RecordingNotifier:
    """The real Notifier with delivery stubbed out: every notification is persisted."""

    def __new__(cls, config: Any, store: Store) -> Any:
        from bubble_core.alerts.notify import Notifier

        class Recording(Notifier):
            sent: list[tuple[str, str]] = []

            async def _send(self, url: str, title: str, body: str,
                            notify_type: str) -> tuple[bool, str | None]:
                self.sent.append((url, title))
                return True, None

        return Recording(config, store)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
def test_thirty_days_of_polls_faults_and_alerts(fast_dir: Path) -> None:
    pytest.importorskip("bubble_core.alerts.engine")
    asyncio.run(_simulate(fast_dir))


async def _simulate(tmp_path: Path) -> None:
    from bubble_core.alerts.engine import AlertEngine
    from bubble_core.alerts.rules import load_rules
    from bubble_core.live import AlertPipeline

    clock = FakeClock(START)
    http = FakeHttp(clock)
    yahoo = FakeYahoo(clock, price=price, daily_days=60)
    config = parse_config(CONFIG, "long-run.toml")
    store = Store(tmp_path / "month.duckdb")
    store.ensure_schema()
    # Every operation still opens, works and closes its own connection, as in production; this
    # idle one only keeps DuckDB's database instance alive in between, so that each open does
    # not reload the catalogue and each close does not checkpoint (a month would take an hour).
    keeper = duckdb.connect(str(store.path))
    current_day = 0
    client = http.client()
    jobs = build_jobs(config, store, client, yahoo.source())
    collector = Collector(store, jobs, max_backoff=config.sources.max_backoff, clock=clock)
    pipeline = AlertPipeline(config, store, deliver_remote=False)
    pipeline.rules = load_rules(RULES, "long-run.toml", include_defaults=False)
    pipeline.engine = AlertEngine(pipeline.rules, store)
    pipeline.notifier = RecordingNotifier(config.notify, store)
    names = tuple(job.name for job in jobs)

    cycles = polls = failures = 0
    samples: dict[int, tuple[int, int]] = {}
    end = START + dt.timedelta(days=DAYS)
    while clock() < end:
        clock.advance(collector.seconds_until_next())
        # A collector that wakes at most every WAKE: the jobs due within it run together.
        clock.now = max(state.next_due for state in collector.states.values()
                        if state.next_due <= clock() + WAKE)
        now = clock()
        http.modes["fred"] = "500" if FRED_OUTAGE[0] <= now < FRED_OUTAGE[1] else "ok"
        yahoo.mode = "ratelimit" if YAHOO_OUTAGE[0] <= now < YAHOO_OUTAGE[1] else "ok"
        yahoo.shares_mode = yahoo.mode
        outcomes = await collector.run_due()
        cycles += 1
        polls += len(outcomes)
        failures += sum(1 for o in outcomes if not o.ok)
        if outcomes:  # as collect_forever: evaluate after every cycle that polled
            snapshot = await asyncio.to_thread(
                snapshot_from_store, store, config, None, now, collector.next_retry, names,
                False,
            )
            await pipeline.evaluate(snapshot, now)
        day = int((now - START).total_seconds() // 86_400)
        if day != current_day:
            # Once a day, let the instance go as production lets it go after every operation
            # (checkpoint, memory freed), and take the day's memory sample right then.
            current_day = day
            keeper.close()
            gc.collect()
            samples[day] = (len(gc.get_objects()), rss_bytes())
            keeper = duckdb.connect(str(store.path))
    await client.aclose()
    keeper.close()

    log = store.query("SELECT rule, status, ts FROM notifications ORDER BY id")
    assert [tuple(row[:2]) for row in log] == EXPECTED, log
    assert all(ok for (ok,) in store.query("SELECT ok FROM notifications"))
    assert bad_values(store) == []
    assert duplicate_keys(store) == []

    objects_5, rss_5 = samples[5]
    objects_end, rss_end = samples[DAYS - 1]
    size = store.file_size()
    intraday = store.query("SELECT count(*) FROM intraday_bars")[0][0]
    print(f"\nlong run: {DAYS} days, {cycles} cycles, {polls} polls ({failures} failed), "
          f"prices every {OPEN_CADENCE} while open; Python objects day 5 {objects_5} -> "
          f"day {DAYS - 1} {objects_end}; RSS "
          f"{rss_5 / 1e6:.0f} MB -> {rss_end / 1e6:.0f} MB; store {size / 1e6:.1f} MB, "
          f"{intraday} intraday bars")
    assert objects_end - objects_5 < 5_000, "Python objects keep piling up"
    assert rss_end - rss_5 < 20_000_000, "the process keeps growing"
    assert size < 20_000_000
    # Every minute bar of every session of the month, once: 390 a day for 3 symbols.
    sessions = sum(1 for d in range(DAYS) if (START + dt.timedelta(days=d)).weekday() < 5)
    assert intraday <= sessions * 390 * 3

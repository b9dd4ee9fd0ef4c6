"""The live price job: one download per poll, and only the newest minute bars written."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import httpx

from bubble_core.config import Config, WatchConfig
from bubble_core.live import build_jobs
from bubble_core.models import DailyBar, IntradayBar, SourceBatch
from bubble_core.store import Store

OPEN_MONDAY = dt.datetime(2025, 11, 3, 15, 0)  # 10:00 in New York


class FakeYahoo:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.minutes = 10

    async def fetch_daily(self, symbols, since):
        self.calls.append("daily")
        return SourceBatch(
            daily_bars=[DailyBar(s, dt.date(2025, 10, 31), 100.0) for s in symbols]
        )

    async def fetch_intraday(self, symbols):
        self.calls.append("intraday")
        start = dt.datetime(2025, 11, 3, 14, 30)
        return SourceBatch(
            intraday_bars=[
                IntradayBar(s, start + dt.timedelta(minutes=m), 100.0 + m)
                for s in symbols
                for m in range(self.minutes)
            ]
        )

    async def fetch_shares(self, symbols):
        return SourceBatch()


def test_price_poll_writes_only_new_minutes_and_rolls_up_today(tmp_path: Path) -> None:
    config = Config(watch=WatchConfig(mag7=("NVDA",), indices=(), extras=(), ai_basket=()))
    store = Store(tmp_path / "s.duckdb")
    yahoo = FakeYahoo()

    async def run() -> list[int]:
        async with httpx.AsyncClient() as client:
            jobs = {job.name: job for job in build_jobs(config, store, client, yahoo)}
            written = []
            batch = await jobs["yahoo"].run(OPEN_MONDAY)  # no history yet: daily backfill
            written.append(store.write_batch("yahoo", batch, OPEN_MONDAY, OPEN_MONDAY))
            for minutes in (10, 12):
                yahoo.minutes = minutes
                batch = await jobs["yahoo"].run(OPEN_MONDAY)
                written.append(len(batch.intraday_bars))
                store.write_batch("yahoo", batch, OPEN_MONDAY, OPEN_MONDAY)
            return written

    written = asyncio.run(run())
    assert yahoo.calls == ["daily", "intraday", "intraday"]  # one download per poll
    assert written[1] == 10  # the first intraday poll writes the session so far
    assert written[2] == 6 + 2  # minutes 4..9 again (5 min back from 9, inclusive), 2 new
    rows = store.query("SELECT count(*), count(DISTINCT ts) FROM intraday_bars")
    assert rows == [(12, 12)]
    today = store.query("SELECT open, close FROM daily_bars WHERE date = '2025-11-03'")
    assert today == [(100.0, 111.0)]  # rolled up from all of today's minutes

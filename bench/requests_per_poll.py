"""Figure 4: requests the collector makes per price poll, counted with fake transports.

Two levels, no network at all:

1. The collector (`build_jobs` + `Collector`, the code `collect` and the TUI run) over a simulated
   Thursday, Friday and Saturday with a fake clock, for N = 20 symbols. Yahoo is a YahooSource
   whose blocking `download` / `shares_fetch` callables count their calls and return yfinance-shaped
   frames; FRED and the New York Fed go through an httpx.MockTransport that counts requests.
2. yfinance itself: one real `yf.download` of the 20 symbols (and one `get_shares_full`) against a
   counting fake curl_cffi session, to count the HTTP requests behind one download call.

    python bench/requests_per_poll.py
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, build_store, figure, note, remove_store, store_path

SIM_START = dt.datetime(2025, 9, 5, 0, 0)  # Friday 00:00 UTC; the store ends Fri 2025-08-29
SIM_HOURS = 48  # Friday (a session, and a catch-up of the week's daily bars), Saturday
EXTRA_SYMBOLS = ("SYN1", "SYN2", "SYN3", "SYN4")


def bench_config() -> Any:
    from bubble_core.config import EXTRAS, Config, WatchConfig

    return Config(watch=WatchConfig(extras=EXTRAS + EXTRA_SYMBOLS), path=None)


# -- level 1: the collector ---------------------------------------------------------------------


class Counter:
    def __init__(self) -> None:
        self.downloads: list[tuple[dt.datetime, str, int]] = []  # (sim time, interval, symbols)
        self.shares: collections.Counter[str] = collections.Counter()
        self.http: list[tuple[dt.datetime, str]] = []
        self.now = SIM_START


def fake_frame(symbols: list[str], index: Any) -> Any:
    import numpy as np
    import pandas as pd

    fields = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
    columns = pd.MultiIndex.from_product([fields, symbols], names=["Price", "Ticker"])
    data = np.full((len(index), len(columns)), 100.0)
    return pd.DataFrame(data, index=index, columns=columns)


def make_yahoo(counter: Counter) -> Any:
    import pandas as pd

    from data_sources.yahoo import YahooSource

    def download(**kwargs: Any) -> Any:
        symbols = list(kwargs["tickers"])
        counter.downloads.append((counter.now, kwargs["interval"], len(symbols)))
        if kwargs["interval"] == "1m":
            # The last five minutes (yfinance returns the whole session so far; the count of
            # requests does not depend on it).
            end = pd.Timestamp(counter.now).tz_localize("UTC").floor("min")
            index = pd.date_range(end=end, periods=5, freq="min")
        else:
            start = pd.Timestamp(kwargs.get("start") or "2025-08-01")
            index = pd.bdate_range(start, pd.Timestamp(counter.now.date()))
        return fake_frame(symbols, index)

    def shares_fetch(symbol: str) -> Any:
        counter.shares[symbol] += 1
        return pd.Series([1e9], index=pd.DatetimeIndex([pd.Timestamp(counter.now.date())]))

    return YahooSource(download=download, shares_fetch=shares_fetch)


def make_http(counter: Counter) -> Any:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        counter.http.append((counter.now, request.url.host))
        day = counter.now.date().isoformat()
        if "stlouisfed" in request.url.host:
            series = request.url.params["id"]
            return httpx.Response(200, text=f"observation_date,{series}\n{day},4.33\n")
        body = {"refRates": [{"effectiveDate": day, "type": "EFFR", "percentRate": 4.33,
                              "targetRateFrom": 4.25, "targetRateTo": 4.5}]}
        return httpx.Response(200, text=json.dumps(body))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def simulate(store_file: Path) -> tuple[Counter, list[tuple[dt.datetime, str]]]:
    from bubble_core.collector import Collector
    from bubble_core.live import build_jobs
    from bubble_core.store import Store

    counter = Counter()
    config = bench_config()
    store = Store(store_file)
    client = make_http(counter)
    polls: list[tuple[dt.datetime, str]] = []
    try:
        jobs = build_jobs(config, store, client, make_yahoo(counter))
        collector = Collector(store, jobs, max_backoff=config.sources.max_backoff,
                              clock=lambda: counter.now, jitter=lambda: 0.5)
        end = SIM_START + dt.timedelta(hours=SIM_HOURS)
        while counter.now < end:
            outcomes = await collector.run_due()
            for outcome in outcomes:
                if not outcome.ok:
                    raise RuntimeError(f"{outcome.job} failed: {outcome.error}")
                polls.append((counter.now, outcome.job))
            wait = max(collector.seconds_until_next(counter.now), 1.0)
            counter.now += dt.timedelta(seconds=wait)
    finally:
        await client.aclose()
    return counter, polls


# -- level 2: yfinance over a counting fake session --------------------------------------------


def yfinance_requests(symbols: list[str]) -> dict[str, Any]:



    cache = tempfile.mkdtemp(prefix="yf-cache-", dir=BENCH_DIR)
    try:
        return _yfinance_requests(symbols, cache)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _yfinance_requests(symbols: list[str], cache: str) -> dict[str, Any]:
    import http.cookiejar
    import warnings

    import yfinance as yf
    from curl_cffi import requests as curl_requests
    from yfinance._http import cookie_jar

    warnings.filterwarnings("ignore")  # yfinance's pandas deprecation warnings (after its own)

    yf.set_tz_cache_location(cache)
    if hasattr(yf, "set_cache_location"):
        yf.set_cache_location(cache)
    log: list[str] = []

    class FakeResponse:
        def __init__(self, url: str, status: int, text: str) -> None:
            self.url = url
            self.status_code = status
            self.text = text
            self.content = text.encode()
            self.headers: dict[str, str] = {}
            self.reason = "OK"

        def json(self) -> Any:
            return json.loads(self.text)

        def raise_for_status(self) -> None:
            pass

    class CountingSession(curl_requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            params = kwargs.get("params") or {}
            if "fc.yahoo.com" in url:
                log.append("cookie")
                # What Yahoo's answer does: an A3 cookie for .yahoo.com, valid a year.
                expires = int(dt.datetime.now(dt.UTC).timestamp()) + 365 * 86400
                cookie_jar(self).set_cookie(http.cookiejar.Cookie(
                    0, "A3", "fake", None, False, ".yahoo.com", True, True, "/", True, True,
                    expires, False, None, None, {}))
                return FakeResponse(url, 404, "")
            if "getcrumb" in url:
                log.append("crumb")
                return FakeResponse(url, 200, "fakecrumb")
            if "/v8/finance/chart/" in url:
                symbol = url.rsplit("/", 1)[-1]
                probe = params.get("range") == "1d" and params.get("interval") == "1d"
                log.append("chart-tz-probe" if probe else f"chart:{symbol}")
                return FakeResponse(url, 200, json.dumps(chart_json(symbol, params)))
            if "fundamentals-timeseries" in url:
                log.append("shares")
                return FakeResponse(url, 200, json.dumps(
                    {"timeseries": {"result": [{"timestamp": [1756684800],
                                                "shares_out": [1e9]}]}}))
            log.append(f"other:{url[:60]}")
            return FakeResponse(url, 404, "")

    session = CountingSession()
    counts: dict[str, Any] = {}

    def run(label: str, function: Any) -> Any:
        log.clear()
        value = function()
        counts[label] = collections.Counter(
            "chart" if entry.startswith("chart:") else entry for entry in log)
        return value

    kwargs = {"tickers": symbols, "interval": "1m", "period": "1d", "progress": False,
              "threads": True, "group_by": "column", "auto_adjust": False,
              "multi_level_index": True, "session": session}
    frame = run("first_download", lambda: yf.download(**kwargs))
    counts["first_frame_shape"] = getattr(frame, "shape", None)
    frame = run("next_download", lambda: yf.download(**kwargs))
    counts["next_frame_shape"] = getattr(frame, "shape", None)
    run("shares_one_symbol", lambda: yf.Ticker(symbols[0], session=session).get_shares_full(
        start=(dt.date.today() - dt.timedelta(days=548)).isoformat()))
    return counts


def chart_json(symbol: str, params: dict[str, Any]) -> dict[str, Any]:
    interval = params.get("interval", "1d")
    now = int(dt.datetime.now(dt.UTC).timestamp()) // 60 * 60
    step = 60 if interval == "1m" else 86400
    stamps = [now - step * (4 - i) for i in range(5)]
    period = {"timezone": "EDT", "start": stamps[0], "end": stamps[-1] + 60,
              "gmtoffset": -14400}
    quote = {key: [100.0] * 5 for key in ("open", "high", "low", "close")}
    quote["volume"] = [1000] * 5
    meta = {
        "currency": "USD", "symbol": symbol, "exchangeName": "NMS", "instrumentType": "EQUITY",
        "firstTradeDate": 345479400, "regularMarketTime": stamps[-1], "gmtoffset": -14400,
        "timezone": "EDT", "exchangeTimezoneName": "America/New_York",
        "regularMarketPrice": 100.0, "chartPreviousClose": 99.0, "priceHint": 2,
        "currentTradingPeriod": {"pre": period, "regular": period, "post": period},
        "dataGranularity": interval, "range": params.get("range", ""),
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    if interval.endswith("m"):
        meta["tradingPeriods"] = [[period]]
    result = {"meta": meta, "timestamp": stamps, "indicators": {"quote": [quote]}}
    if not interval.endswith("m"):
        result["indicators"]["adjclose"] = [{"adjclose": [100.0] * 5}]
    return {"chart": {"result": [result], "error": None}}


# -- main ---------------------------------------------------------------------------------------


def main() -> int:
    from bubble_core.collector import us_market_open

    config = bench_config()
    symbols = list(config.watch.symbols)
    equities = list(config.watch.equities)
    base = build_store(store_path("d252-i0"), daily_days=252)
    # On tmpfs when there is one: the commits' fsyncs would only slow the simulation down.
    shm = Path("/dev/shm")
    work = (shm if shm.is_dir() and os.access(shm, os.W_OK) else BENCH_DIR) / "requests-sim.duckdb"
    remove_store(work)
    work.write_bytes(base.read_bytes())

    try:
        counter, polls = asyncio.run(simulate(work))
    finally:
        remove_store(work)

    price_polls = [t for t, job in polls if job == "yahoo"]
    by_poll = collections.Counter(t for t, _, _ in counter.downloads)
    per_poll = [by_poll.get(t, 0) for t in price_polls]
    open_polls = [t for t in price_polls if us_market_open(t)]
    closed_polls = [t for t in price_polls if not us_market_open(t)]
    open_hours = sum(
        1 for m in range(SIM_HOURS * 60) if us_market_open(SIM_START + dt.timedelta(minutes=m))
    ) / 60
    closed_hours = SIM_HOURS - open_hours
    kinds = collections.Counter(interval for _, interval, _ in counter.downloads)
    days = SIM_HOURS / 24
    shares_max = max(counter.shares.values()) / days if counter.shares else 0.0
    fred_hour = sum(1 for _, host in counter.http if "stlouisfed" in host) / SIM_HOURS
    nyfed_hour = sum(1 for _, host in counter.http if "newyorkfed" in host) / SIM_HOURS
    note(f"simulated {SIM_HOURS} h from {SIM_START:%a %Y-%m-%d %H:%M} UTC: {len(price_polls)} "
         f"price polls ({len(open_polls)} open, {len(closed_polls)} closed), downloads by "
         f"interval {dict(kinds)}, shares calls {sum(counter.shares.values())}")

    figure("requests_downloads_per_price_poll", f"{max(per_poll)}",
           f"max over {len(price_polls)} price polls of {len(symbols)} symbols, mean "
           f"{sum(per_poll) / len(per_poll):.2f}; {len(open_polls) / open_hours:.0f} polls/h "
           f"while open", "1 batched download", max(per_poll) == 1 and min(per_poll) == 1)
    figure("requests_shares_per_symbol_per_day", f"{shares_max:.2f}",
           f"max over {len(equities)} equities; indices skipped: "
           f"{sorted(set(symbols) - set(counter.shares))}", "<=1", shares_max <= 1)
    closed_rate = len(closed_polls) / closed_hours
    gaps = [(b - a).total_seconds() / 60 for a, b in zip(closed_polls, closed_polls[1:],
                                                         strict=False)
            if not us_market_open(a)]
    figure("requests_price_polls_per_closed_hour", f"{closed_rate:.2f}",
           f"{len(closed_polls)} polls in {closed_hours:g} closed hours (nights + Saturday), "
           f"shortest gap {min(gaps):.0f} min; FRED {fred_hour:.1f} req/h "
           f"({len(config.sources.fred_series)} series hourly), NY Fed {nyfed_hour:.1f} req/h",
           "<=2 (30-min cadence)", closed_rate <= 2.0 + 1e-9)

    os.environ.setdefault("YF_DISABLE_CURL_CFFI", "")
    counts = yfinance_requests(symbols)
    first, nxt, shares = (counts["first_download"], counts["next_download"],
                          counts["shares_one_symbol"])
    note(f"yfinance over the fake session: first download {dict(first)} -> frame "
         f"{counts['first_frame_shape']}; next {dict(nxt)} -> {counts['next_frame_shape']}; "
         f"get_shares_full {dict(shares)}")
    figure("requests_http_per_price_poll", f"{sum(nxt.values())}",
           f"yfinance sends one chart request per ticker: {nxt['chart']} chart requests for "
           f"{len(symbols)} symbols in one download call (threads); the first call of a "
           f"process adds {sum(first.values()) - sum(nxt.values())} (cookie, crumb, one "
           "time-zone probe per ticker, then cached)")
    figure("requests_http_shares_per_symbol", f"{sum(shares.values())}",
           f"get_shares_full: {dict(shares)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

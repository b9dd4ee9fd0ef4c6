"""Fakes shared by the fault suite: a clock, scripted HTTP sources, a scripted yfinance, checks.

Nothing here touches the network. FRED and the New York Fed are answered by `FakeHttp` through
httpx.MockTransport; Yahoo by `FakeYahoo`, whose `download`/`shares_fetch` stand in for
yfinance's and return yfinance-shaped DataFrames (or raise what yfinance raises). Each fake has a
`mode` per source, switched between cycles by the tests: "ok" serves plausible data, anything
else is one of the faults of the issue (timeout, DNS failure, 429, 500, HTML page, truncated
payload, NaN or zero prices, empty frame).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bubble_core.config import Config, parse_config
from bubble_core.store import Store

ROOT = Path(__file__).resolve().parents[2]
FAKENET = Path(__file__).with_name("fakenet.py")
NEW_YORK = ZoneInfo("America/New_York")

# Monday 2026-11-23, 10:00 in New York (15:00 UTC): the US market is open.
MONDAY_OPEN = dt.datetime(2026, 11, 23, 15, 0)

FAULT_CONFIG = """
[watch]
mag7 = ["NVDA", "AAPL"]
indices = ["^NDX"]
extras = []
ai_basket = []
intraday = true

[cadence]
prices_open = "1m"
prices_closed = "1m"
fred = "5m"
nyfed = "5m"
shares = "1h"

[sources]
timeout = "1s"
max_backoff = "5m"
fred_series = ["DFF", "DGS10"]
"""


def fault_config(extra: str = "") -> Config:
    return parse_config(FAULT_CONFIG + extra, "faults.toml")


class FakeClock:
    """Naive-UTC time that moves only when a test says so."""

    def __init__(self, start: dt.datetime = MONDAY_OPEN) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float | dt.timedelta) -> dt.datetime:
        delta = seconds if isinstance(seconds, dt.timedelta) else dt.timedelta(seconds=seconds)
        self.now += delta
        return self.now


# -- FRED and the New York Fed over a mock transport ---------------------------------------------

FRED_FAULTS = ("timeout", "dns", "refused", "429", "500", "html", "truncated", "empty", "nan",
               "other_series")
NYFED_FAULTS = ("timeout", "dns", "429", "500", "html", "truncated", "empty", "nan", "no_rates",
                "wrong_shape")

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Error - St. Louis Fed</title></head>"
    "<body><h1>Service unavailable</h1></body></html>"
)


def fred_value(series_id: str, day: dt.date) -> float:
    """What the fake FRED serves: a plausible rate, never zero, a pure function of its key."""
    return round(2.0 + (sum(map(ord, series_id)) % 7) * 0.5 + (day.toordinal() % 11) * 0.01, 4)


def effr_value(day: dt.date) -> float:
    return round(3.85 + (day.toordinal() % 5) * 0.01, 4)


EFFR_TARGET = (3.75, 4.0)


@dataclass
class FakeHttp:
    """FRED's fredgraph.csv and the New York Fed's EFFR API, one scripted mode per source."""

    clock: Callable[[], dt.datetime]
    modes: dict[str, str] = field(default_factory=lambda: {"fred": "ok", "nyfed": "ok"})
    retry_after: str = "120"
    requests: dict[str, int] = field(default_factory=lambda: {"fred": 0, "nyfed": 0})
    served: dict[tuple[str, dt.date], float] = field(default_factory=dict)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def handler(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        source = "fred" if "stlouisfed" in host else "nyfed" if "newyorkfed" in host else None
        if source is None:
            raise httpx.ConnectError(f"[Errno -2] Name or service not known: {host}",
                                     request=request)
        self.requests[source] += 1
        mode = self.modes[source]
        if mode == "timeout":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if mode == "dns":
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)
        if mode == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if mode == "429":
            return httpx.Response(429, headers={"Retry-After": self.retry_after},
                                  text="Too Many Requests")
        if mode == "500":
            return httpx.Response(500, text="Internal Server Error")
        if mode == "html":
            return httpx.Response(200, text=HTML_PAGE,
                                  headers={"content-type": "text/html; charset=utf-8"})
        if mode == "empty":
            return httpx.Response(200, text="")
        if source == "fred":
            return self._fred(request, mode)
        return self._nyfed(mode)

    def _days(self, count: int = 10) -> list[dt.date]:
        today = self.clock().date()
        return [today - dt.timedelta(days=back) for back in range(count - 1, -1, -1)]

    def _fred(self, request: httpx.Request, mode: str) -> httpx.Response:
        series = request.url.params.get("id", "DFF")
        days = self._days()
        if mode == "other_series":
            return httpx.Response(200, text=f"observation_date,NOTME\n{days[-1]},1.0\n")
        lines = [f"observation_date,{series}"]
        for index, day in enumerate(days):
            if mode == "nan":
                lines.append(f"{day},NaN")
            elif index == 3:
                lines.append(f"{day},")  # FRED's newer missing marker
            elif index == 5:
                lines.append(f"{day},.")  # and the historical one
            else:
                lines.append(f"{day},{fred_value(series, day)}")
        body = "\n".join(lines) + "\n"
        if mode == "truncated":
            return httpx.Response(200, text=body[: len(body) * 2 // 3 - 3])
        if mode == "ok":
            for index, day in enumerate(days):
                if index not in (3, 5):
                    self.served[(series, day)] = fred_value(series, day)
        return httpx.Response(200, text=body)

    def _nyfed(self, mode: str) -> httpx.Response:
        if mode == "no_rates":
            return httpx.Response(200, text='{"refRates": []}')
        if mode == "wrong_shape":
            return httpx.Response(200, text='{"refRates": {"effectiveDate": "2026-11-20"}}')
        entries = []
        for day in reversed(self._days()):
            if day.weekday() >= 5:
                continue
            entries.append({
                "effectiveDate": day.isoformat(),
                "type": "EFFR",
                "percentRate": math.nan if mode == "nan" else effr_value(day),
                "percentPercentile1": 3.8,
                "volumeInBillions": 91,
                "targetRateFrom": EFFR_TARGET[0],
                "targetRateTo": EFFR_TARGET[1],
                "revisionIndicator": "",
            })
        body = json.dumps({"refRates": entries})  # NaN is written as the bare token NaN
        if mode == "truncated":
            return httpx.Response(200, text=body[: len(body) // 2])
        if mode == "ok":
            for entry in entries:
                day = dt.date.fromisoformat(entry["effectiveDate"])
                self.served[("EFFR", day)] = entry["percentRate"]
                self.served[("EFFR_TARGET_FROM", day)] = EFFR_TARGET[0]
                self.served[("EFFR_TARGET_TO", day)] = EFFR_TARGET[1]
        return httpx.Response(200, text=body)


# -- Yahoo through yfinance-shaped frames ------------------------------------------------------

YAHOO_FAULTS = ("ratelimit", "ratelimit_logged", "nan", "zero", "empty", "dns", "timeout",
                "garbage")
FIELDS = ("Adj Close", "Close", "High", "Low", "Open", "Volume")
BASE_PRICES = {"NVDA": 180.0, "AAPL": 230.0, "^NDX": 20000.0, "MSFT": 500.0}


def default_price(symbol: str, moment: dt.datetime) -> float:
    base = BASE_PRICES.get(symbol, 100.0)
    minute = int(moment.timestamp() // 60)
    return round(base * (1 + 0.001 * (minute % 7)), 4)


def session_minutes(day: dt.date, until: dt.datetime | None = None) -> list[dt.datetime]:
    """Naive-UTC opens of the one-minute bars of a New York session, up to `until`."""
    if day.weekday() >= 5:
        return []
    open_local = dt.datetime(day.year, day.month, day.day, 9, 30, tzinfo=NEW_YORK)
    first = open_local.astimezone(dt.UTC).replace(tzinfo=None)
    minutes = [first + dt.timedelta(minutes=i) for i in range(390)]
    if until is not None:
        minutes = [m for m in minutes if m <= until]
    return minutes


def yf_frame(closes: dict[str, list[float]], index: Sequence[Any], *, intraday: bool) -> Any:
    """A frame shaped like yf.download(group_by="column", auto_adjust=False)."""
    import pandas as pd

    symbols = sorted(closes)
    columns = pd.MultiIndex.from_product([FIELDS, symbols], names=["Price", "Ticker"])
    data: dict[tuple[str, str], list[float]] = {}
    for symbol in symbols:
        close = closes[symbol]
        data[("Close", symbol)] = close
        data[("Open", symbol)] = close
        data[("High", symbol)] = close
        data[("Low", symbol)] = close
        data[("Adj Close", symbol)] = close
        data[("Volume", symbol)] = [math.nan if not c or math.isnan(c) else 1000.0
                                    for c in close]
    if intraday:
        stamps = pd.DatetimeIndex(list(index), name="Datetime").tz_localize("UTC")
        stamps = stamps.tz_convert("America/New_York")
    else:
        stamps = pd.DatetimeIndex(pd.to_datetime(list(index)), name="Date")
    return pd.DataFrame(data, index=stamps, columns=columns)


def empty_frame(symbols: Sequence[str]) -> Any:
    import pandas as pd

    columns = pd.MultiIndex.from_product([FIELDS, sorted(symbols)], names=["Price", "Ticker"])
    return pd.DataFrame(index=pd.DatetimeIndex([], name="Date"), columns=columns)


@dataclass
class FakeYahoo:
    """yfinance's `download` and `Ticker(...).get_shares_full`, scripted.

    `mode` applies to price downloads, `shares_mode` to share counts. `price` gives the close of
    a symbol at a bar's naive-UTC open time; the long run scripts its crashes through it.
    """

    clock: Callable[[], dt.datetime]
    mode: str = "ok"
    shares_mode: str = "ok"
    price: Callable[[str, dt.datetime], float] = default_price
    calls: int = 0
    served: dict[str, set[float]] = field(default_factory=dict)
    daily_days: int = 30

    def source(self) -> Any:
        from data_sources.yahoo import YahooSource

        return YahooSource(download=self.download, shares_fetch=self.shares_fetch, timeout=1.0)

    def _fault(self, mode: str, symbols: Sequence[str]) -> Any:
        from yfinance.exceptions import YFRateLimitError

        if mode == "ratelimit":
            raise YFRateLimitError()
        if mode == "ratelimit_logged":  # what yf.download really does: log, return empty
            logging.getLogger("yfinance").error(
                "%s: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
                list(symbols),
            )
            return empty_frame(symbols)
        if mode == "dns":
            raise ConnectionError(
                "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com"
            )
        if mode == "timeout":
            raise TimeoutError("Failed to perform, curl: (28) Operation timed out after 1000 ms")
        if mode == "garbage":  # an HTML page where JSON was expected, as yfinance reports it
            raise ValueError("Expecting value: line 1 column 1 (char 0)")
        if mode == "empty":
            return empty_frame(symbols)
        return None

    def download(self, **kwargs: Any) -> Any:
        self.calls += 1
        symbols = list(kwargs["tickers"])
        faulted = self._fault(self.mode, symbols)
        if faulted is not None:
            return faulted
        now = self.clock()
        if kwargs["interval"] == "1m":
            stamps = session_minutes(now.date(), now) or session_minutes(
                _last_weekday(now.date()))
            intraday = True
        else:
            # Daily bars dated by the New York session, today's only once it has opened, each
            # the price of its last minute bar so far (as Yahoo serves them).
            today = now.replace(tzinfo=dt.UTC).astimezone(NEW_YORK).date()
            if "start" in kwargs:
                start = dt.date.fromisoformat(kwargs["start"])
            else:
                start = today - dt.timedelta(days=self.daily_days)
            days = [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]
            stamps = [dt.datetime.combine(day, dt.time()) for day in days
                      if day.weekday() < 5 and session_minutes(day, now)]
            intraday = False
        closes: dict[str, list[float]] = {}
        for position, symbol in enumerate(symbols):
            values = []
            for stamp in stamps:
                moment = stamp if intraday else session_minutes(stamp.date(), now)[-1]
                value = self.price(symbol, moment)
                if self.mode == "nan" or (self.mode == "nan_one" and position == 0):
                    value = math.nan
                elif self.mode == "zero":
                    value = 0.0
                else:
                    self.served.setdefault(symbol, set()).add(value)
                values.append(value)
            closes[symbol] = values
        return yf_frame(closes, stamps, intraday=intraday)

    def shares_fetch(self, symbol: str) -> Any:
        import pandas as pd

        self.calls += 1
        if self.shares_mode == "empty":
            return pd.Series([], dtype=float)
        faulted = self._fault(self.shares_mode, [symbol])
        if faulted is not None:
            return faulted
        day = self.clock().date()
        index = pd.DatetimeIndex([day - dt.timedelta(days=1), day])
        if self.shares_mode == "nan":
            return pd.Series([math.nan, math.nan], index=index)
        if self.shares_mode == "zero":
            return pd.Series([0.0, 0.0], index=index)
        value = 24.3e9 if symbol == "NVDA" else 14.8e9
        self.served.setdefault(f"shares:{symbol}", set()).add(value)
        return pd.Series([value, value], index=index)


def _last_weekday(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


# -- checks on a store ---------------------------------------------------------------------------

PRICE_COLUMNS = {
    "daily_bars": ("close", "open", "high", "low", "adj_close"),
    "intraday_bars": ("close",),
    "shares_outstanding": ("shares",),
    "market_caps": ("market_cap",),
}

PRIMARY_KEYS = {
    "daily_bars": ("symbol", "date"),
    "intraday_bars": ("symbol", "ts"),
    "shares_outstanding": ("symbol", "date"),
    "market_caps": ("symbol", "date"),
    "macro_observations": ("series_id", "date"),
    "fetch_log": ("source", "started"),
}


def bad_values(store: Store) -> list[str]:
    """Every stored price, share count or cap that is NaN, infinite, zero or negative, and
    every macro value that is not finite: none may ever be stored."""
    problems: list[str] = []
    for table, columns in PRICE_COLUMNS.items():
        for column in columns:
            rows = store.query(
                f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL "
                f"AND (isnan({column}) OR NOT isfinite({column}) OR {column} <= 0)"
            )
            if rows[0][0]:
                problems.append(f"{table}.{column}: {rows[0][0]} bad values")
    rows = store.query("SELECT count(*) FROM macro_observations WHERE NOT isfinite(value)")
    if rows[0][0]:
        problems.append(f"macro_observations.value: {rows[0][0]} non-finite values")
    return problems


def duplicate_keys(store: Store) -> list[str]:
    problems = []
    for table, key in PRIMARY_KEYS.items():
        cols = ", ".join(key)
        rows = store.query(
            f"SELECT {cols}, count(*) FROM {table} GROUP BY {cols} HAVING count(*) > 1 LIMIT 3"
        )
        if rows:
            problems.append(f"{table}: duplicate keys {rows}")
    return problems


def invented_macro(store: Store, served: dict[tuple[str, dt.date], float]) -> list[Any]:
    """Macro rows whose value is not exactly what a successful fake response carried."""
    rows = store.query("SELECT series_id, date, value FROM macro_observations")
    return [row for row in rows if served.get((row[0], row[1])) != row[2]]


def invented_prices(store: Store, served: dict[str, set[float]]) -> list[Any]:
    """Price rows whose close never appeared in a successful fake frame of that symbol."""
    rows = store.query(
        "SELECT 'daily', symbol, close FROM daily_bars "
        "UNION ALL SELECT 'intraday', symbol, close FROM intraday_bars"
    )
    rows += store.query(
        "SELECT 'shares', 'shares:' || symbol, shares FROM shares_outstanding"
    )
    return [row for row in rows if row[2] not in served.get(row[1], set())]


def fetch_log(store: Store, source: str | None = None) -> list[tuple[Any, ...]]:
    sql = "SELECT source, started, finished, ok, error, rows, retry_after FROM fetch_log"
    params: list[Any] = []
    if source is not None:
        sql += " WHERE source = ?"
        params.append(source)
    return store.query(sql + " ORDER BY started, source", params)


# -- the real CLI, offline -----------------------------------------------------------------------


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # Never the user's config or store: a config path that does not exist means defaults.
    env["BUBBLE_MONITOR_CONFIG"] = str(Path(os.sep) / "nonexistent" / "bubble-monitor.toml")
    env.pop("BUBBLE_MONITOR_DB", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def cli_command(*args: str | Path) -> list[str]:
    """`bubble-monitor ARGS` with the network swapped for fakes (see fakenet.py)."""
    return [sys.executable, str(FAKENET), *map(str, args)]


def run_cli(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 60,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args), capture_output=True, text=True, timeout=timeout,
        env=env or cli_env(), cwd=cwd or ROOT,
    )


def has_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" in text

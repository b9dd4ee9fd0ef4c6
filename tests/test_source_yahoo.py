"""Yahoo source: yfinance-shaped DataFrames in, typed rows out, failures as warnings or errors.

yfinance's I/O is injected, so nothing here touches the network.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from yfinance.exceptions import YFRateLimitError

from bubble_core.errors import SourceError
from bubble_core.models import DailyBar, IntradayBar, SharesObservation
from data_sources import yahoo
from data_sources.yahoo import (
    YahooSource,
    frame_to_daily_bars,
    frame_to_intraday_bars,
    parse_yfinance_log,
    shares_to_observations,
)

FIELDS = ("Adj Close", "Close", "High", "Low", "Open", "Volume")
NAN = math.nan
D1, D2, D3 = dt.date(2026, 10, 5), dt.date(2026, 10, 6), dt.date(2026, 10, 7)


def yf_frame(
    closes: Mapping[str, Sequence[float]],
    index: Sequence[Any],
    *,
    tz: str | None = None,
    index_name: str = "Date",
) -> pd.DataFrame:
    """A frame shaped like yf.download(group_by="column", auto_adjust=False).

    Open = close - 1, High = close + 1, Low = close - 2, Adj Close = close * 0.5,
    Volume = 1000 (NaN where the close is NaN, like a failed ticker's reindexed columns).
    """
    symbols = sorted(closes)
    columns = pd.MultiIndex.from_product([FIELDS, symbols], names=["Price", "Ticker"])
    data: dict[tuple[str, str], list[float]] = {}
    for symbol in symbols:
        close = list(closes[symbol])
        data[("Close", symbol)] = close
        data[("Open", symbol)] = [c - 1 for c in close]
        data[("High", symbol)] = [c + 1 for c in close]
        data[("Low", symbol)] = [c - 2 for c in close]
        data[("Adj Close", symbol)] = [c * 0.5 for c in close]
        data[("Volume", symbol)] = [NAN if math.isnan(c) else 1000.0 for c in close]
    stamps = pd.DatetimeIndex(pd.to_datetime(list(index)), name=index_name)
    if tz is not None:
        stamps = stamps.tz_localize(tz)
    return pd.DataFrame(data, index=stamps, columns=columns)


def empty_yf_frame(symbols: Sequence[str]) -> pd.DataFrame:
    """What yf.download returns when every ticker failed: zero rows, all the columns."""
    columns = pd.MultiIndex.from_product([FIELDS, sorted(symbols)], names=["Price", "Ticker"])
    return pd.DataFrame(index=pd.DatetimeIndex([], name="Date"), columns=columns)


class FakeDownload:
    """Records each call's kwargs; answers with the next result (a frame, an exception, or a
    callable taking the kwargs)."""

    def __init__(self, *results: Any) -> None:
        self.results = list(results)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> pd.DataFrame:
        self.calls.append(kwargs)
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, BaseException):
            raise result
        if callable(result):
            return result(**kwargs)
        return result


def logs_then_returns(message: str, frame: pd.DataFrame) -> Callable[..., pd.DataFrame]:
    def download(**_: Any) -> pd.DataFrame:
        logging.getLogger("yfinance").error(message)
        return frame

    return download


@pytest.fixture(autouse=True)
def quiet_yfinance_logger() -> Iterator[None]:
    # Keep the fakes' log lines off the test output without hiding them from the source,
    # and leave the logger as it was found.
    logger = logging.getLogger("yfinance")
    level, propagate = logger.level, logger.propagate
    logger.propagate = False
    yield
    logger.setLevel(level)
    logger.propagate = propagate


# -- frame_to_daily_bars -----------------------------------------------------------------------


def test_daily_bars_from_multiindex_frame() -> None:
    frame = yf_frame({"AAPL": [10.0, 11.0], "MSFT": [20.0, 21.0]}, [D1, D2])
    bars, problems = frame_to_daily_bars(frame, ["AAPL", "MSFT"])
    assert problems == {}
    assert bars == [
        DailyBar("AAPL", D1, 10.0, open=9.0, high=11.0, low=8.0, adj_close=5.0, volume=1000.0),
        DailyBar("AAPL", D2, 11.0, open=10.0, high=12.0, low=9.0, adj_close=5.5, volume=1000.0),
        DailyBar("MSFT", D1, 20.0, open=19.0, high=21.0, low=18.0, adj_close=10.0, volume=1000.0),
        DailyBar("MSFT", D2, 21.0, open=20.0, high=22.0, low=19.0, adj_close=10.5, volume=1000.0),
    ]


def test_daily_bars_all_nan_ticker_is_a_problem_not_rows() -> None:
    frame = yf_frame({"AAPL": [10.0, 11.0], "MSFT": [NAN, NAN]}, [D1, D2])
    bars, problems = frame_to_daily_bars(frame, ["AAPL", "MSFT"])
    assert {b.symbol for b in bars} == {"AAPL"}
    assert len(bars) == 2
    assert problems == {"MSFT": "no valid prices"}


def test_daily_bars_zero_and_negative_closes_dropped() -> None:
    frame = yf_frame({"AAPL": [0.0, 11.0, -3.0]}, [D1, D2, D3])
    bars, problems = frame_to_daily_bars(frame, ["AAPL"])
    assert [(b.date, b.close) for b in bars] == [(D2, 11.0)]
    assert problems == {}


def test_daily_bars_zero_volume_is_missing() -> None:
    frame = yf_frame({"^GSPC": [5000.0]}, [D1])
    frame[("Volume", "^GSPC")] = 0.0
    bars, _ = frame_to_daily_bars(frame, ["^GSPC"])
    assert bars[0].volume is None
    assert bars[0].close == 5000.0


def test_daily_bars_symbol_absent_from_frame() -> None:
    frame = yf_frame({"AAPL": [10.0]}, [D1])
    bars, problems = frame_to_daily_bars(frame, ["AAPL", "TSLA"])
    assert len(bars) == 1
    assert problems == {"TSLA": "not in response"}


def test_daily_bars_flat_single_ticker_columns() -> None:
    frame = yf_frame({"NVDA": [100.0, 101.0]}, [D1, D2]).droplevel("Ticker", axis=1)
    assert not isinstance(frame.columns, pd.MultiIndex)
    bars, problems = frame_to_daily_bars(frame, ["NVDA"])
    assert problems == {}
    assert [(b.symbol, b.date, b.close, b.adj_close) for b in bars] == [
        ("NVDA", D1, 100.0, 50.0),
        ("NVDA", D2, 101.0, 50.5),
    ]


def test_daily_bars_ticker_price_column_order() -> None:
    frame = yf_frame({"AAPL": [10.0], "MSFT": [20.0]}, [D1]).swaplevel(0, 1, axis=1)
    assert frame.columns.names == ["Ticker", "Price"]
    bars, problems = frame_to_daily_bars(frame, ["AAPL", "MSFT"])
    assert problems == {}
    assert [(b.symbol, b.close, b.high) for b in bars] == [
        ("AAPL", 10.0, 11.0),
        ("MSFT", 20.0, 21.0),
    ]


def test_daily_bars_tz_aware_index_keeps_exchange_date() -> None:
    # Midnight in New York is 04:00 UTC of the same day; the bar belongs to that day.
    frame = yf_frame({"AAPL": [10.0]}, ["2026-10-05 00:00"], tz="America/New_York")
    bars, _ = frame_to_daily_bars(frame, ["AAPL"])
    assert bars[0].date == D1


def test_daily_bars_case_insensitive_symbols_and_duplicate_dates() -> None:
    frame = yf_frame({"BRK-B": [400.0, 401.0]}, [D1, D1])
    bars, problems = frame_to_daily_bars(frame, ["brk-b"])
    assert problems == {}
    assert [(b.symbol, b.date, b.close) for b in bars] == [("brk-b", D1, 401.0)]


def test_daily_bars_empty_frame() -> None:
    bars, problems = frame_to_daily_bars(empty_yf_frame(["AAPL", "MSFT"]), ["AAPL", "MSFT"])
    assert bars == []
    assert problems == {"AAPL": "no rows", "MSFT": "no rows"}


def test_daily_bars_frame_without_columns() -> None:
    bars, problems = frame_to_daily_bars(pd.DataFrame(), ["AAPL"])
    assert bars == []
    assert problems == {"AAPL": "empty response"}


# -- parse_yfinance_log ------------------------------------------------------------------------


def test_parse_log_attributes_summary_lines() -> None:
    log = parse_yfinance_log(
        [
            "\n2 Failed downloads:",
            "['TSLA', 'MSFT']: YFRateLimitError('Too Many Requests. Rate limited. "
            "Try after a while.')",
            "$BADX: possibly delisted; no price data found  (period=5d)",
            "Error: something general",
        ],
        ["MSFT", "TSLA", "BADX", "AAPL"],
    )
    assert log.rate_limited is True
    assert log.per_symbol["TSLA"].startswith("YFRateLimitError('Too Many Requests")
    assert log.per_symbol["MSFT"] == log.per_symbol["TSLA"]
    assert log.per_symbol["BADX"] == "possibly delisted; no price data found (period=5d)"
    assert "AAPL" not in log.per_symbol
    assert log.general == ["Error: something general"]


def test_parse_log_without_rate_limit() -> None:
    log = parse_yfinance_log(["['AAPL']: YFPricesMissingError('possibly delisted')"], ["AAPL"])
    assert log.rate_limited is False
    assert log.per_symbol == {"AAPL": "YFPricesMissingError('possibly delisted')"}


# -- fetch_daily -------------------------------------------------------------------------------


async def test_fetch_daily_steady_state_is_one_download() -> None:
    frame = yf_frame({"AAPL": [10.0, 11.0], "MSFT": [20.0, 21.0]}, [D1, D2])
    download = FakeDownload(frame)
    since = {"AAPL": D2, "MSFT": dt.date(2026, 10, 1)}
    batch = await YahooSource(download=download).fetch_daily(["AAPL", "MSFT"], since)
    assert len(download.calls) == 1
    call = download.calls[0]
    assert call["tickers"] == ["AAPL", "MSFT"]
    assert call["start"] == "2026-09-24"  # the oldest stored date minus 7 days
    assert "period" not in call
    assert call["interval"] == "1d"
    assert call["auto_adjust"] is False
    assert call["progress"] is False
    assert call["group_by"] == "column"
    assert call["multi_level_index"] is True
    assert len(batch.daily_bars) == 4
    assert batch.warnings == []


async def test_fetch_daily_passes_timeout() -> None:
    download = FakeDownload(yf_frame({"AAPL": [10.0]}, [D1]))
    await YahooSource(download=download, timeout=7.5).fetch_daily(["AAPL"], {"AAPL": D1})
    assert download.calls[0]["timeout"] == 7.5


async def test_fetch_daily_backfill_uses_period_max() -> None:
    download = FakeDownload(
        yf_frame({"AAPL": [10.0]}, [D3]),
        yf_frame({"NVDA": [100.0, 101.0]}, [D1, D2]),
    )
    batch = await YahooSource(download=download).fetch_daily(
        ["AAPL", "NVDA"], {"AAPL": D2, "NVDA": None}
    )
    assert [c["tickers"] for c in download.calls] == [["AAPL"], ["NVDA"]]
    assert download.calls[0]["start"] == "2026-09-29"
    assert download.calls[1]["period"] == "max"
    assert "start" not in download.calls[1]
    assert [(b.symbol, b.date) for b in batch.daily_bars] == [
        ("AAPL", D3),
        ("NVDA", D1),
        ("NVDA", D2),
    ]


async def test_fetch_daily_all_new_is_one_backfill_download() -> None:
    download = FakeDownload(yf_frame({"AAPL": [10.0], "MSFT": [20.0]}, [D1]))
    await YahooSource(download=download).fetch_daily(["AAPL", "MSFT"], {})
    assert len(download.calls) == 1
    assert download.calls[0]["period"] == "max"
    assert download.calls[0]["tickers"] == ["AAPL", "MSFT"]


async def test_fetch_daily_one_ticker_failed_is_warning() -> None:
    frame = yf_frame({"AAPL": [10.0, 11.0], "MSFT": [NAN, NAN]}, [D1, D2])
    download = FakeDownload(
        logs_then_returns("['MSFT']: YFPricesMissingError('possibly delisted')", frame)
    )
    since = {"AAPL": D1, "MSFT": D1}
    batch = await YahooSource(download=download).fetch_daily(["AAPL", "MSFT"], since)
    assert [(b.symbol, b.close) for b in batch.daily_bars] == [("AAPL", 10.0), ("AAPL", 11.0)]
    assert batch.warnings == ["MSFT: no data (YFPricesMissingError('possibly delisted'))"]


async def test_fetch_daily_failed_ticker_without_log_uses_parser_reason() -> None:
    frame = yf_frame({"AAPL": [10.0], "MSFT": [NAN]}, [D1])
    batch = await YahooSource(download=FakeDownload(frame)).fetch_daily(
        ["AAPL", "MSFT"], {"AAPL": D1, "MSFT": D1}
    )
    assert batch.warnings == ["MSFT: no data (no valid prices)"]


async def test_fetch_daily_zero_price_dropped() -> None:
    frame = yf_frame({"AAPL": [0.0, 11.0]}, [D1, D2])
    batch = await YahooSource(download=FakeDownload(frame)).fetch_daily(["AAPL"], {"AAPL": D1})
    assert [(b.date, b.close) for b in batch.daily_bars] == [(D2, 11.0)]
    assert batch.warnings == []


async def test_fetch_daily_empty_frame_raises() -> None:
    download = FakeDownload(empty_yf_frame(["AAPL", "MSFT"]))
    with pytest.raises(SourceError) as info:
        await YahooSource(download=download).fetch_daily(["AAPL", "MSFT"], {"AAPL": D1})
    assert info.value.source == "yahoo"
    assert info.value.reason.startswith("no data for any of 2 symbols")
    assert "rate limited" not in info.value.reason


async def test_fetch_daily_all_nan_raises() -> None:
    frame = yf_frame({"AAPL": [NAN], "MSFT": [NAN]}, [D1])
    with pytest.raises(SourceError, match="no data for any of 2 symbols"):
        await YahooSource(download=FakeDownload(frame)).fetch_daily(["AAPL", "MSFT"], {})


async def test_fetch_daily_logged_rate_limit_raises_rate_limited() -> None:
    download = FakeDownload(
        logs_then_returns(
            "['AAPL', 'MSFT']: YFRateLimitError('Too Many Requests. Rate limited. "
            "Try after a while.')",
            empty_yf_frame(["AAPL", "MSFT"]),
        )
    )
    with pytest.raises(SourceError) as info:
        await YahooSource(download=download).fetch_daily(["AAPL", "MSFT"], {"AAPL": D1})
    assert info.value.reason.startswith("rate limited by Yahoo: no data for any of 2 symbols")
    assert "Too Many Requests" in info.value.reason


async def test_fetch_daily_raised_rate_limit_raises_rate_limited() -> None:
    download = FakeDownload(YFRateLimitError())
    with pytest.raises(SourceError) as info:
        await YahooSource(download=download).fetch_daily(["AAPL"], {"AAPL": D1})
    assert info.value.source == "yahoo"
    assert "rate limited" in info.value.reason
    assert "YFRateLimitError" in info.value.reason


async def test_fetch_daily_other_exception_is_source_error() -> None:
    download = FakeDownload(RuntimeError("boom"))
    with pytest.raises(SourceError) as info:
        await YahooSource(download=download).fetch_daily(["AAPL"], {"AAPL": D1})
    assert info.value.reason == "no data for any of 1 symbols (RuntimeError: boom)"


async def test_fetch_daily_backfill_failure_is_warning_when_steady_call_worked() -> None:
    download = FakeDownload(
        yf_frame({"AAPL": [10.0]}, [D1]),
        logs_then_returns(
            "$NEWCO: possibly delisted; no price data found", empty_yf_frame(["NEWCO"])
        ),
    )
    batch = await YahooSource(download=download).fetch_daily(
        ["AAPL", "NEWCO"], {"AAPL": D1, "NEWCO": None}
    )
    assert [b.symbol for b in batch.daily_bars] == ["AAPL"]
    assert batch.warnings == ["NEWCO: no data (possibly delisted; no price data found)"]


async def test_fetch_daily_restores_logger() -> None:
    logger = logging.getLogger("yfinance")
    logger.setLevel(logging.CRITICAL)  # an app that silenced yfinance
    handlers = list(logger.handlers)
    frame = yf_frame({"AAPL": [10.0], "MSFT": [NAN]}, [D1])
    download = FakeDownload(logs_then_returns("['MSFT']: YFPricesMissingError('gone')", frame))
    batch = await YahooSource(download=download).fetch_daily(["AAPL", "MSFT"], {})
    # The reason was captured despite the silenced logger, and everything was put back.
    assert batch.warnings == ["MSFT: no data (YFPricesMissingError('gone'))"]
    assert logger.level == logging.CRITICAL
    assert logger.handlers == handlers


async def test_downloads_are_serialised() -> None:
    active = 0
    peak = 0
    guard = threading.Lock()

    def slow(**kwargs: Any) -> pd.DataFrame:
        nonlocal active, peak
        with guard:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with guard:
            active -= 1
        return yf_frame({symbol: [10.0] for symbol in kwargs["tickers"]}, [D1])

    source = YahooSource(download=FakeDownload(slow))
    results = await asyncio.gather(
        source.fetch_daily(["AAPL"], {"AAPL": D1}),
        source.fetch_daily(["MSFT"], {"MSFT": D1}),
        source.fetch_intraday(["NVDA"]),
    )
    assert peak == 1
    assert [r.row_count() for r in results] == [1, 1, 1]


async def test_fetch_daily_no_symbols_makes_no_call() -> None:
    download = FakeDownload(RuntimeError("must not be called"))
    batch = await YahooSource(download=download).fetch_daily([], {})
    assert download.calls == []
    assert batch.row_count() == 0


# -- intraday ----------------------------------------------------------------------------------


def test_intraday_tz_aware_index_becomes_naive_utc() -> None:
    frame = yf_frame(
        {"AAPL": [230.0, 230.5]},
        ["2026-10-06 09:30", "2026-10-06 09:31"],
        tz="America/New_York",
        index_name="Datetime",
    )
    bars, problems = frame_to_intraday_bars(frame, ["AAPL"])
    assert problems == {}
    assert bars == [
        IntradayBar("AAPL", dt.datetime(2026, 10, 6, 13, 30), 230.0, volume=1000.0),
        IntradayBar("AAPL", dt.datetime(2026, 10, 6, 13, 31), 230.5, volume=1000.0),
    ]
    assert all(b.ts.tzinfo is None for b in bars)


def test_intraday_naive_index_taken_as_utc() -> None:
    frame = yf_frame({"AAPL": [230.0]}, ["2026-10-06 13:30"], index_name="Datetime")
    bars, _ = frame_to_intraday_bars(frame, ["AAPL"])
    assert bars[0].ts == dt.datetime(2026, 10, 6, 13, 30)


async def test_fetch_intraday_one_call_1m() -> None:
    frame = yf_frame(
        {"AAPL": [230.0, NAN], "MSFT": [NAN, NAN]},
        ["2026-10-06 09:30", "2026-10-06 09:31"],
        tz="America/New_York",
    )
    download = FakeDownload(frame)
    batch = await YahooSource(download=download).fetch_intraday(["AAPL", "MSFT"])
    assert len(download.calls) == 1
    assert download.calls[0]["period"] == "1d"
    assert download.calls[0]["interval"] == "1m"
    assert download.calls[0]["tickers"] == ["AAPL", "MSFT"]
    assert batch.intraday_bars == [
        IntradayBar("AAPL", dt.datetime(2026, 10, 6, 13, 30), 230.0, volume=1000.0)
    ]
    assert batch.warnings == ["MSFT: no data (no valid prices)"]


async def test_fetch_intraday_all_failed_raises() -> None:
    download = FakeDownload(
        logs_then_returns(
            "['AAPL']: YFRateLimitError('Too Many Requests')", empty_yf_frame(["AAPL"])
        )
    )
    with pytest.raises(SourceError, match="rate limited"):
        await YahooSource(download=download).fetch_intraday(["AAPL"])


# -- shares ------------------------------------------------------------------------------------


def shares_series(pairs: Sequence[tuple[str, float]]) -> pd.Series:
    index = pd.DatetimeIndex([p[0] for p in pairs]).tz_localize("America/New_York")
    return pd.Series([p[1] for p in pairs], index=index)


def test_shares_last_value_per_date_and_invalid_dropped() -> None:
    series = shares_series(
        [
            ("2026-07-01 00:00", 24_400e6),
            ("2026-07-01 00:00", 24_350e6),  # same day, reported later: the correction
            ("2026-08-01 00:00", NAN),
            ("2026-09-01 00:00", 0.0),
            ("2026-10-01 00:00", 24_300e6),
        ]
    )
    assert shares_to_observations("NVDA", series) == [
        SharesObservation("NVDA", dt.date(2026, 7, 1), 24_350e6),
        SharesObservation("NVDA", dt.date(2026, 10, 1), 24_300e6),
    ]


def test_shares_unsorted_input_and_dataframe() -> None:
    series = shares_series([("2026-10-01 16:00", 2.0e9), ("2026-10-01 09:00", 1.0e9)])
    frame = series.to_frame("shares_out")
    assert shares_to_observations("AAPL", frame) == [
        SharesObservation("AAPL", dt.date(2026, 10, 1), 2.0e9)
    ]
    assert shares_to_observations("AAPL", None) == []


async def test_fetch_shares_skips_indices_and_warns_per_symbol() -> None:
    calls: list[str] = []

    def fetch(symbol: str) -> pd.Series | None:
        calls.append(symbol)
        if symbol == "MSFT":
            raise KeyError("timeseries")
        if symbol == "META":
            return None
        return shares_series([("2026-10-01", 1.0e9), ("2026-10-01", 1.1e9)])

    source = YahooSource(shares_fetch=fetch)
    batch = await source.fetch_shares(["^GSPC", "AAPL", "MSFT", "^NDX", "META"])
    assert calls == ["AAPL", "MSFT", "META"]
    assert batch.shares == [SharesObservation("AAPL", dt.date(2026, 10, 1), 1.1e9)]
    assert batch.warnings == [
        "MSFT: no shares data (KeyError: 'timeseries')",
        "META: no shares data (empty response)",
    ]


async def test_fetch_shares_logged_reason_used() -> None:
    def fetch(symbol: str) -> pd.Series | None:
        if symbol == "TSLA":
            logging.getLogger("yfinance").error("TSLA: Yahoo web request for share count failed")
            return None
        return shares_series([("2026-10-01", 3.2e9)])

    batch = await YahooSource(shares_fetch=fetch).fetch_shares(["AAPL", "TSLA"])
    assert batch.warnings == ["TSLA: no shares data (Yahoo web request for share count failed)"]


async def test_fetch_shares_rate_limit_stops_and_raises() -> None:
    calls: list[str] = []

    def fetch(symbol: str) -> pd.Series | None:
        calls.append(symbol)
        raise YFRateLimitError()

    with pytest.raises(SourceError) as info:
        await YahooSource(shares_fetch=fetch).fetch_shares(["AAPL", "MSFT", "NVDA"])
    assert calls == ["AAPL"]  # no digging deeper into the penalty
    assert info.value.reason.startswith("rate limited by Yahoo: no shares data for any of 3")


async def test_fetch_shares_only_indices_is_empty_batch() -> None:
    def fetch(symbol: str) -> pd.Series | None:
        raise AssertionError("indices have no shares")

    batch = await YahooSource(shares_fetch=fetch).fetch_shares(["^GSPC", "^NDX"])
    assert batch.row_count() == 0 and batch.warnings == []


# -- defaults and import cost ------------------------------------------------------------------


async def test_default_download_wraps_yfinance(monkeypatch: pytest.MonkeyPatch) -> None:
    import yfinance

    seen: list[dict[str, Any]] = []

    def fake_download(**kwargs: Any) -> pd.DataFrame:
        seen.append(kwargs)
        return yf_frame({"AAPL": [10.0]}, [D1])

    monkeypatch.setattr(yfinance, "download", fake_download)
    batch = await YahooSource(timeout=9.0).fetch_daily(["AAPL"], {"AAPL": D2})
    assert len(batch.daily_bars) == 1
    assert seen[0]["tickers"] == ["AAPL"]
    assert seen[0]["threads"] is True
    assert seen[0]["timeout"] == 9.0


async def test_default_shares_fetch_wraps_yfinance(monkeypatch: pytest.MonkeyPatch) -> None:
    import yfinance

    starts: list[str] = []

    class FakeTicker:
        def __init__(self, symbol: str) -> None:
            self.symbol = symbol

        def get_shares_full(self, start: str) -> pd.Series:
            starts.append(start)
            return shares_series([("2026-10-01", 5.0e9)])

    monkeypatch.setattr(yfinance, "Ticker", FakeTicker)
    batch = await YahooSource().fetch_shares(["AAPL"])
    assert batch.shares == [SharesObservation("AAPL", dt.date(2026, 10, 1), 5.0e9)]
    assert starts == [(dt.date.today() - dt.timedelta(days=548)).isoformat()]


def test_module_import_does_not_load_yfinance_or_pandas() -> None:
    root = Path(yahoo.__file__).resolve().parent.parent
    code = (
        "import sys, data_sources.yahoo; "
        "print(sorted(m for m in ('yfinance', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"

"""Yahoo Finance prices and share counts through yfinance.

yfinance and pandas are imported inside functions only: importing them costs about a second,
and the TUI's start-up time is benchmarked. The blocking yfinance calls are injectable, so
tests hand in fakes and never touch the network; everything else here is pure parsing of
yfinance-shaped DataFrames into typed rows.

`yf.download` never raises. A failed ticker shows up as all-NaN columns (or, when every ticker
fails, an empty frame) plus ERROR records on the "yfinance" logger, which is the only place the
reason (rate limit, delisted, ...) is visible. So every call runs with a handler on that logger.
"""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bubble_core.errors import SourceError
from bubble_core.models import DailyBar, IntradayBar, SharesObservation, SourceBatch
from data_sources.base import finite_positive, short_reason

if TYPE_CHECKING:
    import pandas

YF_LOGGER_NAME = "yfinance"

# yf.download keeps per-call state but shares the YfData session singleton and the logger we
# listen on, so concurrent calls would both corrupt each other and mix up their error reports.
# Share-count requests take the same lock so their log records are attributed correctly too.
_YF_LOCK = threading.Lock()

# Re-read a week before the oldest stored date: Yahoo revises the last bars (late prints,
# dividends feeding Adj Close), and a week covers a long weekend plus a holiday.
DAILY_OVERLAP = dt.timedelta(days=7)
# What fast_info asks for too: 18 months of share counts.
SHARES_HISTORY = dt.timedelta(days=548)

_RATE_LIMIT_RE = re.compile(r"YFRateLimitError|too many requests|rate.?limit", re.IGNORECASE)
# yf.download's summary lines: "['TSLA', 'MSFT']: YFRateLimitError('Too Many Requests...')".
_LIST_PREFIX_RE = re.compile(r"^\s*(\[[^\]]*\])\s*:\s*(.+)$", re.DOTALL)
# history()'s own lines: "$BADX: possibly delisted; no price data found ...".
_SYMBOL_PREFIX_RE = re.compile(r"^\s*\$?([A-Za-z0-9^.=_\-]+)\s*:\s*(.+)$", re.DOTALL)
_SUMMARY_HEADER_RE = re.compile(r"^\s*\d+ Failed downloads?:\s*$")


# -- log capture -------------------------------------------------------------------------------


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not break the fetch
            message = str(record.msg)
        self.messages.append(message)


@contextmanager
def capture_yfinance_log() -> Iterator[_LogCapture]:
    """Collect WARNING+ messages of the "yfinance" logger for the duration of the block."""
    logger = logging.getLogger(YF_LOGGER_NAME)
    handler = _LogCapture()
    previous_level = logger.level
    # An app that silenced yfinance (level CRITICAL) would also hide the failure reasons from
    # us. Never go below ERROR: at DEBUG yf.download turns its threads off.
    lowered = not logger.isEnabledFor(logging.ERROR)
    if lowered:
        logger.setLevel(logging.ERROR)
    logger.addHandler(handler)
    # The messages become one reason in the fetch log; printed too they would flood the
    # terminal of `collect` with one traceback-like line per symbol.
    previous_propagate = logger.propagate
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = previous_propagate
        if lowered:
            logger.setLevel(previous_level)


@dataclass(slots=True)
class YahooLog:
    """What the yfinance log said about one call."""

    per_symbol: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    rate_limited: bool = False


def parse_yfinance_log(messages: Iterable[str], symbols: Sequence[str]) -> YahooLog:
    """Attribute captured yfinance log messages to the requested symbols."""
    by_upper = {symbol.upper(): symbol for symbol in symbols}
    log = YahooLog()
    for message in messages:
        text = message.strip()
        if not text or _SUMMARY_HEADER_RE.match(text):
            continue
        if _RATE_LIMIT_RE.search(text):
            log.rate_limited = True
        named: list[str] = []
        reason = text
        list_match = _LIST_PREFIX_RE.match(text)
        if list_match:
            try:
                listed = ast.literal_eval(list_match.group(1))
            except (ValueError, SyntaxError):
                listed = []
            if isinstance(listed, list):
                named = [by_upper[s.upper()] for s in listed if str(s).upper() in by_upper]
                reason = list_match.group(2)
        else:
            symbol_match = _SYMBOL_PREFIX_RE.match(text)
            # Only a requested symbol counts: "Error: ..." must not become a ticker named Error.
            if symbol_match and symbol_match.group(1).upper() in by_upper:
                named = [by_upper[symbol_match.group(1).upper()]]
                reason = symbol_match.group(2)
        reason = short_reason(reason)
        if named:
            for symbol in named:
                log.per_symbol.setdefault(symbol, reason)
        else:
            log.general.append(reason)
    return log


def is_rate_limit_error(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    names = {cls.__name__ for cls in type(exc).__mro__}
    return "YFRateLimitError" in names or bool(_RATE_LIMIT_RE.search(str(exc)))


def _describe_exception(exc: BaseException) -> str:
    return short_reason(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


# -- pure parsing ------------------------------------------------------------------------------


def _unique(symbols: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(s for s in symbols if s))


def split_by_symbol(
    frame: pandas.DataFrame | None, symbols: Sequence[str]
) -> dict[str, pandas.DataFrame]:
    """Each requested symbol's columns as a flat frame (Open, High, ..., Close).

    Accepts yf.download's MultiIndex in either order (Price/Ticker for group_by="column",
    Ticker/Price for group_by="ticker") and flat columns when a single symbol was requested.
    Symbols missing from the frame are missing from the result.
    """
    import pandas as pd

    if frame is None or frame.shape[1] == 0:
        return {}
    by_upper = {symbol.upper(): symbol for symbol in symbols}
    columns = frame.columns
    if not isinstance(columns, pd.MultiIndex):
        if len(symbols) == 1 and "Close" in {str(c) for c in columns}:
            return {symbols[0]: frame}
        return {}
    if columns.nlevels != 2:
        return {}
    if "Close" in {str(v) for v in columns.get_level_values(0)}:
        ticker_level = 1
    elif "Close" in {str(v) for v in columns.get_level_values(1)}:
        ticker_level = 0
    else:
        return {}
    parts: dict[str, pandas.DataFrame] = {}
    for ticker in dict.fromkeys(columns.get_level_values(ticker_level)):
        symbol = by_upper.get(str(ticker).upper())
        if symbol is not None and symbol not in parts:
            parts[symbol] = frame.xs(ticker, axis=1, level=ticker_level)
    return parts


def _has_rows(frame: pandas.DataFrame | None) -> bool:
    return frame is not None and len(frame) > 0


def _column(part: pandas.DataFrame, name: str) -> list[Any] | None:
    if name not in part.columns:
        return None
    column = part[name]
    if column.ndim == 2:  # a duplicated column name: take the first
        column = column.iloc[:, 0]
    return column.tolist()


def _volume(value: object) -> float | None:
    # Indices report volume 0, which means "no volume figure", not "nothing traded".
    return finite_positive(value)


def _symbol_frames(
    frame: pandas.DataFrame | None, symbols: Sequence[str], problems: dict[str, str]
) -> Iterator[tuple[str, Any, Any, pandas.DatetimeIndex]]:
    """(symbol, its part of the frame, its Close column, its timestamps) for each symbol that
    has them; a reason in `problems` for each that has not."""
    import pandas as pd

    wanted = _unique(symbols)
    parts = split_by_symbol(frame, wanted)
    for symbol in wanted:
        part = parts.get(symbol)
        if part is None:
            problems[symbol] = "not in response" if _has_rows(frame) else "empty response"
            continue
        closes = _column(part, "Close")
        if closes is None:
            problems[symbol] = "no Close column"
            continue
        try:
            stamps = pd.DatetimeIndex(part.index)
        except (TypeError, ValueError) as exc:
            problems[symbol] = f"unreadable dates ({exc})"
            continue
        yield symbol, part, closes, stamps


def frame_to_daily_bars(
    frame: pandas.DataFrame | None, symbols: Sequence[str]
) -> tuple[list[DailyBar], dict[str, str]]:
    """Daily bars from a yf.download frame, plus a reason for each symbol that gave no bar.

    A row whose Close is missing, NaN, zero or negative is dropped: that is "no data", never a
    price. The date is the index's own calendar date (exchange-local for Yahoo's daily bars).
    """
    import pandas as pd

    bars: list[DailyBar] = []
    problems: dict[str, str] = {}
    for symbol, part, closes, stamps in _symbol_frames(frame, symbols, problems):
        opens = _column(part, "Open")
        highs = _column(part, "High")
        lows = _column(part, "Low")
        adj = _column(part, "Adj Close")
        volumes = _column(part, "Volume")
        # Keyed by date: a repeated date must not reach the store twice in one upsert.
        rows: dict[dt.date, DailyBar] = {}
        for i, stamp in enumerate(stamps):
            close = finite_positive(closes[i])
            if close is None or pd.isna(stamp):
                continue
            day = stamp.date()
            rows[day] = DailyBar(
                symbol=symbol,
                date=day,
                close=close,
                open=finite_positive(opens[i]) if opens is not None else None,
                high=finite_positive(highs[i]) if highs is not None else None,
                low=finite_positive(lows[i]) if lows is not None else None,
                adj_close=finite_positive(adj[i]) if adj is not None else None,
                volume=_volume(volumes[i]) if volumes is not None else None,
            )
        if not rows:
            problems[symbol] = "no valid prices" if len(part) else "no rows"
            continue
        bars.extend(rows[day] for day in sorted(rows))
    return bars, problems


def frame_to_intraday_bars(
    frame: pandas.DataFrame | None, symbols: Sequence[str]
) -> tuple[list[IntradayBar], dict[str, str]]:
    """Intraday bars with `ts` as naive UTC, plus a reason for each symbol that gave no bar.

    A tz-aware index (what yf.download returns for minute bars) is converted to UTC; a naive
    index is taken to be UTC already.
    """
    import pandas as pd

    bars: list[IntradayBar] = []
    problems: dict[str, str] = {}
    for symbol, part, closes, stamps in _symbol_frames(frame, symbols, problems):
        if stamps.tz is not None:
            stamps = stamps.tz_convert("UTC").tz_localize(None)
        volumes = _column(part, "Volume")
        rows: dict[dt.datetime, IntradayBar] = {}
        for i, stamp in enumerate(stamps):
            close = finite_positive(closes[i])
            if close is None or pd.isna(stamp):
                continue
            ts = stamp.to_pydatetime()
            rows[ts] = IntradayBar(
                symbol=symbol,
                ts=ts,
                close=close,
                volume=_volume(volumes[i]) if volumes is not None else None,
            )
        if not rows:
            problems[symbol] = "no valid prices" if len(part) else "no rows"
            continue
        bars.extend(rows[ts] for ts in sorted(rows))
    return bars, problems


def shares_to_observations(
    symbol: str, data: pandas.Series | pandas.DataFrame | None
) -> list[SharesObservation]:
    """Share counts from get_shares_full's Series, one per date (the last report of the day).

    Yahoo often reports several counts on the same day; the later one is the correction.
    """
    import pandas as pd

    if data is None:
        return []
    if isinstance(data, pd.DataFrame):
        if data.shape[1] == 0:
            return []
        data = data.iloc[:, 0]
    if data.empty:
        return []
    series = pd.Series(data.tolist(), index=pd.DatetimeIndex(data.index))
    # A stable sort keeps Yahoo's order among equal timestamps, so "last" stays the last.
    series = series.sort_index(kind="stable")
    by_date: dict[dt.date, float] = {}
    for stamp, value in series.items():
        shares = finite_positive(value)
        if shares is None or pd.isna(stamp):
            continue
        by_date[stamp.date()] = shares
    return [
        SharesObservation(symbol=symbol, date=day, shares=shares)
        for day, shares in sorted(by_date.items())
    ]


# -- default (real) I/O ------------------------------------------------------------------------


def _default_download(**kwargs: Any) -> pandas.DataFrame:
    import warnings

    import yfinance

    with warnings.catch_warnings():
        # yfinance 1.7 calls pandas APIs that pandas 3 deprecates; not ours to fix, and not
        # something a user of `collect` can act on.
        warnings.simplefilter("ignore")
        return yfinance.download(**kwargs)


def _default_shares_fetch(symbol: str) -> pandas.Series | pandas.DataFrame | None:
    import yfinance

    start = dt.date.today() - SHARES_HISTORY
    return yfinance.Ticker(symbol).get_shares_full(start=start.isoformat())


@dataclass(slots=True)
class _CallResult:
    value: Any = None
    messages: list[str] = field(default_factory=list)
    error: BaseException | None = None


def _failure_reasons(
    problems: Mapping[str, str], call: _CallResult, symbols: Sequence[str]
) -> tuple[dict[str, str], bool]:
    """The best reason per failed symbol: its own log line, the exception, a general line."""
    log = parse_yfinance_log(call.messages, symbols)
    rate_limited = log.rate_limited or is_rate_limit_error(call.error)
    fallback = _describe_exception(call.error) if call.error is not None else None
    if fallback is None and log.general:
        fallback = log.general[0]
    reasons = {
        symbol: log.per_symbol.get(symbol) or fallback or problem
        for symbol, problem in problems.items()
    }
    return reasons, rate_limited


def _all_failed_reason(what: str, failed: Mapping[str, str], rate_limited: bool) -> str:
    count = len(failed)
    dns = next(
        (reason for reason in failed.values() if "Could not resolve host" in reason), None
    )
    if dns is not None:
        host = re.search(r"Could not resolve host:? ([\w.-]+)", dns)
        where = f" {host.group(1).rstrip('.')}" if host else ""
        return f"DNS failure: could not resolve{where} (no {what} for any of {count} symbols)"
    distinct = list(dict.fromkeys(failed.values()))
    detail = "; ".join(distinct[:3]) + ("; ..." if len(distinct) > 3 else "")
    prefix = "rate limited by Yahoo: " if rate_limited else ""
    return short_reason(f"{prefix}no {what} for any of {count} symbols ({detail})", 300)


class YahooSource:
    """Daily and intraday bars and share counts from Yahoo, one download call per kind."""

    name = "yahoo"

    def __init__(
        self,
        download: Callable[..., pandas.DataFrame] | None = None,
        shares_fetch: Callable[[str], pandas.Series | pandas.DataFrame | None] | None = None,
        timeout: float = 20.0,
    ) -> None:
        self._download = download or _default_download
        self._shares_fetch = shares_fetch or _default_shares_fetch
        self._timeout = timeout

    # -- blocking parts, run in a worker thread ------------------------------------------------

    def _download_kwargs(
        self,
        symbols: Sequence[str],
        *,
        interval: str,
        start: dt.date | None = None,
        period: str | None = None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"tickers": list(symbols), "interval": interval}
        # Only one of start/period: yfinance resolves its "1mo unless start is given" default
        # only when period is left out, so an explicit pair would be ambiguous.
        if start is not None:
            kwargs["start"] = start.isoformat()
        else:
            kwargs["period"] = period
        kwargs.update(
            progress=False,  # the progress bar writes to stderr, under the TUI
            threads=True,
            group_by="column",
            auto_adjust=False,  # keep both Close (split-adjusted) and Adj Close
            multi_level_index=True,  # same column shape for one symbol or many
            timeout=self._timeout,
        )
        return kwargs

    def _call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> _CallResult:
        result = _CallResult()
        with _YF_LOCK, capture_yfinance_log() as capture:
            try:
                result.value = function(*args, **kwargs)
            except Exception as exc:  # yfinance raises YFRateLimitError and arbitrary errors
                result.error = exc
            result.messages = list(capture.messages)
        return result

    async def _download_bars(
        self,
        groups: Sequence[tuple[list[str], dict[str, Any]]],
        parse: Callable[[Any, Sequence[str]], tuple[list[Any], dict[str, str]]],
        what: str,
    ) -> tuple[list[Any], list[str]]:
        rows: list[Any] = []
        failed: dict[str, str] = {}
        rate_limited = False
        total = 0
        for symbols, kwargs in groups:
            total += len(symbols)
            call = await asyncio.to_thread(self._call, self._download, **kwargs)
            if call.error is None:
                try:
                    parsed, problems = parse(call.value, symbols)
                except Exception as exc:  # an unexpected frame shape fails this call only
                    parsed, problems = [], {s: f"unreadable frame ({exc})" for s in symbols}
            else:
                parsed, problems = [], {s: "download failed" for s in symbols}
            rows.extend(parsed)
            reasons, limited = _failure_reasons(problems, call, symbols)
            failed.update(reasons)
            rate_limited = rate_limited or limited
        if total and len(failed) == total:
            raise SourceError("yahoo", _all_failed_reason(what, failed, rate_limited))
        return rows, [f"{symbol}: no {what} ({reason})" for symbol, reason in failed.items()]

    # -- public API ----------------------------------------------------------------------------

    async def fetch_daily(
        self, symbols: Sequence[str], since: Mapping[str, dt.date | None]
    ) -> SourceBatch:
        """Daily bars: one download for the symbols already stored, one to backfill new ones."""
        wanted = _unique(symbols)
        known = [s for s in wanted if since.get(s) is not None]
        backfill = [s for s in wanted if since.get(s) is None]
        groups: list[tuple[list[str], dict[str, Any]]] = []
        if known:
            # One start for all: a few days more for some symbols is cheaper than one request
            # per distinct start date, and the store upserts.
            start = min(since[s] for s in known if since[s] is not None) - DAILY_OVERLAP
            groups.append((known, self._download_kwargs(known, interval="1d", start=start)))
        if backfill:
            groups.append((backfill, self._download_kwargs(backfill, interval="1d", period="max")))
        bars, warnings = await self._download_bars(groups, frame_to_daily_bars, "data")
        return SourceBatch(daily_bars=bars, warnings=warnings)

    async def fetch_intraday(self, symbols: Sequence[str]) -> SourceBatch:
        """Today's (or the last session's) one-minute bars, in one download call."""
        wanted = _unique(symbols)
        groups = [(wanted, self._download_kwargs(wanted, interval="1m", period="1d"))]
        bars, warnings = await self._download_bars(
            groups if wanted else [], frame_to_intraday_bars, "data"
        )
        return SourceBatch(intraday_bars=bars, warnings=warnings)

    async def fetch_shares(self, symbols: Sequence[str]) -> SourceBatch:
        """Share counts, one request per symbol; indices ("^...") have none and are skipped."""
        wanted = [s for s in _unique(symbols) if not s.startswith("^")]
        batch = SourceBatch()
        failed: dict[str, str] = {}
        rate_limited = False
        for symbol in wanted:
            if rate_limited:
                # Yahoo throttles per client: the next requests would fail too and only
                # prolong the penalty.
                failed[symbol] = "skipped after rate limit"
                continue
            call = await asyncio.to_thread(self._call, self._shares_fetch, symbol)
            observations: list[SharesObservation] = []
            problem = "empty response" if call.value is None else "no valid share counts"
            if call.error is None:
                try:
                    observations = shares_to_observations(symbol, call.value)
                except Exception as exc:  # an odd Series must not sink the other symbols
                    problem = f"unreadable shares data ({exc})"
            if observations:
                batch.shares.extend(observations)
                continue
            reasons, limited = _failure_reasons({symbol: problem}, call, [symbol])
            failed[symbol] = reasons[symbol]
            rate_limited = rate_limited or limited
        if wanted and not batch.shares:
            raise SourceError("yahoo", _all_failed_reason("shares data", failed, rate_limited))
        batch.warnings.extend(
            f"{symbol}: no shares data ({reason})" for symbol, reason in failed.items()
        )
        return batch

"""Typed rows that flow from the sources into the store.

Sources return these; the store writes them; nothing else constructs raw tuples for the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One trading day of a symbol. `close` is split-adjusted, as Yahoo reports it."""

    symbol: str
    date: dt.date
    close: float
    open: float | None = None
    high: float | None = None
    low: float | None = None
    adj_close: float | None = None
    volume: float | None = None


@dataclass(frozen=True, slots=True)
class IntradayBar:
    """One intraday bar; `ts` is the bar's open time, timezone-naive UTC."""

    symbol: str
    ts: dt.datetime
    close: float
    volume: float | None = None


@dataclass(frozen=True, slots=True)
class SharesObservation:
    symbol: str
    date: dt.date
    shares: float


@dataclass(frozen=True, slots=True)
class MarketCapObservation:
    """A market cap reported directly (an import, a quote), in USD."""

    symbol: str
    date: dt.date
    market_cap: float


@dataclass(frozen=True, slots=True)
class MacroObservation:
    """One observation of a macro series (FRED id, or EFFR from the New York Fed)."""

    series_id: str
    date: dt.date
    value: float


@dataclass(slots=True)
class SourceBatch:
    """Everything one poll of one source produced, written in one transaction."""

    daily_bars: list[DailyBar] = field(default_factory=list)
    intraday_bars: list[IntradayBar] = field(default_factory=list)
    shares: list[SharesObservation] = field(default_factory=list)
    market_caps: list[MarketCapObservation] = field(default_factory=list)
    macro: list[MacroObservation] = field(default_factory=list)
    # Non-fatal problems (one symbol of ten missing): recorded in the fetch log, rows still stored.
    warnings: list[str] = field(default_factory=list)

    def row_count(self) -> int:
        return (
            len(self.daily_bars)
            + len(self.intraday_bars)
            + len(self.shares)
            + len(self.market_caps)
            + len(self.macro)
        )

    def extend(self, other: SourceBatch) -> None:
        self.daily_bars.extend(other.daily_bars)
        self.intraday_bars.extend(other.intraday_bars)
        self.shares.extend(other.shares)
        self.market_caps.extend(other.market_caps)
        self.macro.extend(other.macro)
        self.warnings.extend(other.warnings)

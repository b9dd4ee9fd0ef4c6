"""The bundled dot-com history and its day-by-day replay, offline.

Data files live in `bubble_core/data/replay/` (see PROVENANCE.md there): the NASDAQ Composite
1999-2018 and Moody's Aaa/Baa monthly yields (both from the `arch` package's data, originally
Yahoo Finance and FRED), the FOMC federal funds target decisions 1998-2003, and the article's
dot-com reference figures.

`DotcomReplay` feeds that history through the same typed rows the live sources produce
(`DailyBar`, `MacroObservation` in a `SourceBatch`), one trading day at a time, releasing each
value only on the day it would have become known:

- a NASDAQ bar on its own date;
- a Moody's monthly value dated the first of month M on the first NASDAQ trading day of M+1;
- the FOMC target as macro series "DFEDTAR" with the target in force that day (a decision takes
  effect on its own date).

Stdlib only (csv, gzip, tomllib, importlib.resources): no pandas, no Textual.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import functools
import gzip
import io
import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from bubble_core.models import DailyBar, MacroObservation, SourceBatch

NASDAQ_SYMBOL = "^IXIC"
MOODYS_SERIES: tuple[str, ...] = ("AAA", "BAA")
FED_TARGET_SERIES = "DFEDTAR"

DEFAULT_START = dt.date(1999, 1, 4)
DEFAULT_END = dt.date(2003, 12, 31)

# The FOMC table ends with the 2003-06-25 cut to 1.00 %, which stayed in force until the
# 2004-06-30 increase: the table is complete (no missing change) through this day only.
FOMC_TABLE_COMPLETE_THROUGH = dt.date(2004, 6, 29)

_NASDAQ_FILE = "nasdaq_composite.csv.gz"
_MOODYS_FILE = "moodys_aaa_baa.csv.gz"
_FOMC_FILE = "fomc_target.csv"
_FIGURES_FILE = "dotcom_figures.toml"

_ONE_DAY = dt.timedelta(days=1)


def _data_file(name: str) -> Traversable:
    return resources.files("bubble_core") / "data" / "replay" / name


def _read_csv_gz(name: str) -> list[dict[str, str]]:
    raw = _data_file(name).read_bytes()
    text = gzip.decompress(raw).decode("ascii")
    return list(csv.DictReader(io.StringIO(text)))


@functools.cache
def _nasdaq_bars() -> tuple[DailyBar, ...]:
    bars: list[DailyBar] = []
    for row in _read_csv_gz(_NASDAQ_FILE):
        close = float(row["close"])
        bars.append(
            DailyBar(
                symbol=NASDAQ_SYMBOL,
                date=dt.date.fromisoformat(row["date"]),
                close=close,
                open=float(row["open"]),
                high=float(row["high"]),
                low=float(row["low"]),
                # The source's Adj Close equals Close on every row (an index pays no dividend).
                adj_close=close,
                volume=float(row["volume"]),
            )
        )
    bars.sort(key=lambda bar: bar.date)
    return tuple(bars)


@functools.cache
def _moodys_observations() -> tuple[MacroObservation, ...]:
    observations: list[MacroObservation] = []
    for row in _read_csv_gz(_MOODYS_FILE):
        month = dt.date.fromisoformat(row["date"])
        for series in MOODYS_SERIES:
            observations.append(MacroObservation(series, month, float(row[series.lower()])))
    observations.sort(key=lambda obs: (obs.date, obs.series_id))
    return tuple(observations)


@functools.cache
def _fomc_targets() -> tuple[tuple[dt.date, float, str], ...]:
    text = _data_file(_FOMC_FILE).read_text(encoding="utf-8")
    rows = [
        (dt.date.fromisoformat(row["date"]), float(row["target_percent"]), row["note"])
        for row in csv.DictReader(io.StringIO(text))
    ]
    rows.sort(key=lambda row: row[0])
    return tuple(rows)


@functools.cache
def _fomc_dates() -> tuple[dt.date, ...]:
    return tuple(row[0] for row in _fomc_targets())


def load_nasdaq() -> list[DailyBar]:
    """Every bundled NASDAQ Composite bar (symbol "^IXIC"), oldest first, 1999-01-04..2018-12-31."""
    return list(_nasdaq_bars())


def load_moodys() -> list[MacroObservation]:
    """Moody's Aaa and Baa monthly yields in percent (series "AAA", "BAA"), each dated on the
    first of its month, 1998-01..2018-12, ordered by (date, series)."""
    return list(_moodys_observations())


def load_fomc_targets() -> list[tuple[dt.date, float, str]]:
    """The FOMC target decisions: (effective date, new target in percent, note), oldest first."""
    return list(_fomc_targets())


def load_dotcom_figures() -> dict[str, Any]:
    """The article's dot-com reference figures keyed by row id ("A4", "C1"), plus "source"."""
    return tomllib.loads(_data_file(_FIGURES_FILE).read_text(encoding="utf-8"))


def fomc_target_on(day: dt.date) -> float | None:
    """The federal funds target in force on `day` (percent), or None outside the table's span
    (before its first decision, or after FOMC_TABLE_COMPLETE_THROUGH)."""
    if day > FOMC_TABLE_COMPLETE_THROUGH:
        return None
    table = _fomc_targets()
    index = bisect.bisect_right(_fomc_dates(), day) - 1
    return table[index][1] if index >= 0 else None


def _first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


class DotcomReplay:
    """The dot-com history replayed day by day as the rows live sources produce. Deterministic.

    `trading_days` are the dates with a NASDAQ bar in [start, end]. `preload()` is everything
    known before `start` (so all-time highs are real when starting mid-history); `batch_for(day)`
    is what became known on `day`. Over a replay, preload plus the batches of every trading day
    deliver each bundled row exactly once and never before its publication day.
    """

    def __init__(self, start: dt.date = DEFAULT_START, end: dt.date = DEFAULT_END) -> None:
        if start > end:
            raise ValueError(f"replay start {start} is after its end {end}")
        self.start = start
        self.end = end
        self._bars = _nasdaq_bars()
        self._calendar: list[dt.date] = [bar.date for bar in self._bars]
        self._bar_by_date: dict[dt.date, DailyBar] = {bar.date: bar for bar in self._bars}
        self.trading_days: list[dt.date] = [d for d in self._calendar if start <= d <= end]
        self._moodys_by_publication: dict[dt.date, list[MacroObservation]] = {}
        for obs in _moodys_observations():
            published = self.moodys_publication_date(obs.date)
            self._moodys_by_publication.setdefault(published, []).append(obs)
        past = bisect.bisect_right(self._calendar, FOMC_TABLE_COMPLETE_THROUGH)
        self._first_day_past_fomc_table = (
            self._calendar[past] if past < len(self._calendar) else None
        )

    def moodys_publication_date(self, month: dt.date) -> dt.date:
        """When the monthly value dated `month` (first of month M) becomes known: the first
        NASDAQ trading day of month M+1. Outside the bundled calendar, the first of M+1."""
        first = _first_of_next_month(month)
        index = bisect.bisect_left(self._calendar, first)
        if index < len(self._calendar):
            candidate = self._calendar[index]
            if (candidate.year, candidate.month) == (first.year, first.month):
                return candidate
        return first

    def preload(self) -> SourceBatch:
        """All history strictly before `start`: NASDAQ bars, the Moody's values published before
        it, and DFEDTAR for every calendar day (a 7-day series, as on FRED) from the first
        decision in the table to the day before `start`."""
        batch = SourceBatch()
        batch.daily_bars.extend(bar for bar in self._bars if bar.date < self.start)
        batch.macro.extend(
            obs
            for published in sorted(self._moodys_by_publication)
            if published < self.start
            for obs in self._moodys_by_publication[published]
        )
        table = _fomc_targets()
        if table:
            day = table[0][0]
            last = min(self.start - _ONE_DAY, FOMC_TABLE_COMPLETE_THROUGH)
            while day <= last:
                target = fomc_target_on(day)
                if target is not None:
                    batch.macro.append(MacroObservation(FED_TARGET_SERIES, day, target))
                day += _ONE_DAY
        return batch

    def batch_for(self, day: dt.date) -> SourceBatch:
        """What became known on `day`: its NASDAQ bar (none on a non-trading day), the Moody's
        values published that day, and the DFEDTAR target in force that day."""
        batch = SourceBatch()
        bar = self._bar_by_date.get(day)
        if bar is not None:
            batch.daily_bars.append(bar)
        batch.macro.extend(self._moodys_by_publication.get(day, ()))
        target = fomc_target_on(day)
        if target is not None:
            batch.macro.append(MacroObservation(FED_TARGET_SERIES, day, target))
        if day == self._first_day_past_fomc_table:
            batch.warnings.append(
                f"{FED_TARGET_SERIES}: the bundled FOMC table is complete through "
                f"{FOMC_TABLE_COMPLETE_THROUGH.isoformat()}; no fed funds target after it"
            )
        return batch

    def batches_between(self, first: dt.date, last: dt.date) -> list[tuple[dt.date, SourceBatch]]:
        """(day, batch_for(day)) for every trading day of the replay in [first, last], in order."""
        lo = bisect.bisect_left(self.trading_days, first)
        hi = bisect.bisect_right(self.trading_days, last)
        return [(day, self.batch_for(day)) for day in self.trading_days[lo:hi]]

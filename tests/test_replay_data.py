"""The bundled dot-com history and its replay: real figures, no look-ahead, publication lags."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from importlib import resources
from pathlib import Path

import pytest

from bubble_core.models import DailyBar, MacroObservation, SourceBatch
from bubble_core.replay_data import (
    DEFAULT_END,
    DEFAULT_START,
    FED_TARGET_SERIES,
    FOMC_TABLE_COMPLETE_THROUGH,
    NASDAQ_SYMBOL,
    DotcomReplay,
    fomc_target_on,
    load_dotcom_figures,
    load_fomc_targets,
    load_moodys,
    load_nasdaq,
)

D = dt.date
ARCH_NASDAQ_ROWS = 5031  # data rows of arch 8.0.0's arch/data/nasdaq/nasdaq.csv.gz
DayBatches = list[tuple[dt.date, SourceBatch]]
REPLAY_DIR = resources.files("bubble_core") / "data" / "replay"


@pytest.fixture(scope="module")
def nasdaq() -> list[DailyBar]:
    return load_nasdaq()


@pytest.fixture(scope="module")
def replay() -> DotcomReplay:
    return DotcomReplay()


@pytest.fixture(scope="module")
def replay_batches(replay: DotcomReplay) -> DayBatches:
    return replay.batches_between(replay.start, replay.end)


def _arch_data_dir() -> Path:
    arch = pytest.importorskip("arch")
    return Path(arch.__file__).parent / "data"


# --- the bundled files ---------------------------------------------------------------------------


def test_nasdaq_covers_1999_to_2018(nasdaq: list[DailyBar]) -> None:
    assert len(nasdaq) == ARCH_NASDAQ_ROWS
    assert nasdaq[0].date == D(1999, 1, 4)
    assert nasdaq[-1].date == D(2018, 12, 31)
    assert all(bar.symbol == NASDAQ_SYMBOL for bar in nasdaq)
    dates = [bar.date for bar in nasdaq]
    assert dates == sorted(set(dates))
    first = nasdaq[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        2207.540039,
        2233.570068,
        2192.679932,
        2208.050049,
        936660000.0,
    )
    assert all(bar.low <= bar.close <= bar.high for bar in nasdaq if bar.low and bar.high)


def test_nasdaq_rows_equal_arch_source(nasdaq: list[DailyBar]) -> None:
    """Row count and values untouched, against arch's own file when arch is installed."""
    path = _arch_data_dir() / "nasdaq" / "nasdaq.csv.gz"
    with gzip.open(path, "rt", newline="") as handle:
        source = list(csv.DictReader(handle))
    assert len(source) == len(nasdaq) == ARCH_NASDAQ_ROWS
    for row, bar in zip(source, nasdaq, strict=True):
        month, day, year = (int(part) for part in row["Date"].split("/"))
        assert bar.date == D(year, month, day)
        assert bar.open == float(row["Open"])
        assert bar.high == float(row["High"])
        assert bar.low == float(row["Low"])
        assert bar.close == float(row["Close"]) == float(row["Adj Close"])
        assert bar.volume == float(row["Volume"])


def test_moodys_monthly_1998_to_2018() -> None:
    observations = load_moodys()
    assert len(observations) == 2 * 252
    assert {obs.series_id for obs in observations} == {"AAA", "BAA"}
    assert all(obs.date.day == 1 for obs in observations)
    assert observations[0] == MacroObservation("AAA", D(1998, 1, 1), 6.61)
    assert observations[1] == MacroObservation("BAA", D(1998, 1, 1), 7.19)
    assert observations[-1] == MacroObservation("BAA", D(2018, 12, 1), 5.13)
    by_key = {(obs.series_id, obs.date): obs.value for obs in observations}
    assert by_key[("AAA", D(2000, 7, 1))] == 7.65
    assert by_key[("BAA", D(2000, 7, 1))] == 8.35


def test_moodys_equal_arch_source() -> None:
    path = _arch_data_dir() / "default" / "default.csv.gz"
    with gzip.open(path, "rt", newline="") as handle:
        source = {}
        for row in csv.DictReader(handle):
            month, day, year = (int(part) for part in row["Date"].split("/"))
            if D(1998, 1, 1) <= D(year, month, day) <= D(2018, 12, 1):
                source[("AAA", D(year, month, day))] = float(row["AAA"])
                source[("BAA", D(year, month, day))] = float(row["BAA"])
    assert {(obs.series_id, obs.date): obs.value for obs in load_moodys()} == source


def test_bundled_files_are_small_and_licensed() -> None:
    names = [
        "nasdaq_composite.csv.gz",
        "moodys_aaa_baa.csv.gz",
        "fomc_target.csv",
        "dotcom_figures.toml",
        "PROVENANCE.md",
        "LICENSE-arch.txt",
    ]
    total = sum(len((REPLAY_DIR / name).read_bytes()) for name in names)
    assert total < 200_000
    licence = (REPLAY_DIR / "LICENSE-arch.txt").read_text(encoding="utf-8")
    assert "Copyright (c) 2017 Kevin Sheppard" in licence
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in licence


# --- the dot-com crash in the data ---------------------------------------------------------------


def test_all_time_high_trough_and_recovery(nasdaq: list[DailyBar]) -> None:
    bubble = [bar for bar in nasdaq if bar.date <= D(2003, 12, 31)]
    peak = max(bubble, key=lambda bar: bar.close)
    assert (peak.date, round(peak.close, 2)) == (D(2000, 3, 10), 5048.62)
    trough = min((bar for bar in bubble if bar.date > peak.date), key=lambda bar: bar.close)
    assert (trough.date, round(trough.close, 2)) == (D(2002, 10, 9), 1114.11)
    drawdown = trough.close / peak.close - 1
    assert drawdown == pytest.approx(-0.7793, abs=5e-5)

    # Nothing closed above the March 2000 high until fifteen years later.
    recovery = next(bar for bar in nasdaq if bar.date > trough.date and bar.close > peak.close)
    assert (recovery.date, round(recovery.close, 2)) == (D(2015, 4, 23), 5056.06)
    assert all(bar.close <= peak.close for bar in nasdaq if bar.date < recovery.date)


# --- FOMC table and figures ----------------------------------------------------------------------


def test_fomc_table() -> None:
    table = load_fomc_targets()
    assert table[0][:2] == (D(1998, 11, 17), 4.75)
    assert table[-1][:2] == (D(2003, 6, 25), 1.00)
    dates = [row[0] for row in table]
    assert dates == sorted(set(dates))
    assert all(a[1] != b[1] for a, b in zip(table, table[1:], strict=False))  # one row per change
    targets = {row[0]: row[1] for row in table}
    assert targets[D(2000, 5, 16)] == 6.50
    cuts_2001 = [
        b for a, b in zip(table, table[1:], strict=False) if b[0].year == 2001 and b[1] < a[1]
    ]
    assert len(cuts_2001) == 11
    assert targets[D(2001, 12, 11)] == 1.75
    intermeeting = {row[0] for row in table if "intermeeting" in row[2]}
    assert intermeeting == {D(2001, 1, 3), D(2001, 4, 18), D(2001, 9, 17)}


def test_fomc_target_on() -> None:
    assert fomc_target_on(D(1998, 11, 16)) is None
    assert fomc_target_on(D(1998, 11, 17)) == 4.75
    assert fomc_target_on(D(2000, 5, 15)) == 6.00
    assert fomc_target_on(D(2000, 5, 16)) == 6.50  # a decision takes effect on its date
    assert fomc_target_on(D(2004, 6, 29)) == 1.00
    assert fomc_target_on(FOMC_TABLE_COMPLETE_THROUGH + dt.timedelta(days=1)) is None


def test_dotcom_figures() -> None:
    figures = load_dotcom_figures()
    a4, c1 = figures["A4"], figures["C1"]
    assert a4["id"] == "A4" and c1["id"] == "C1"
    assert a4["internet_companies"] == 402
    assert a4["market_cap_usd_bn"] == 996
    assert a4["market_cap_to_gdp"] == pytest.approx(0.0967)
    assert c1["average_loss_to_revenue"] == pytest.approx(0.40)
    assert (c1["internet_stocks"], c1["revenue_usd_bn"], c1["losses_usd_bn"]) == (834, 78, 31)
    assert c1["year"] == 2000


# --- the replay ----------------------------------------------------------------------------------


def test_replay_trading_days(replay: DotcomReplay, nasdaq: list[DailyBar]) -> None:
    assert (replay.start, replay.end) == (DEFAULT_START, DEFAULT_END)
    expected = [bar.date for bar in nasdaq if DEFAULT_START <= bar.date <= DEFAULT_END]
    assert replay.trading_days == expected
    assert replay.trading_days[0] == D(1999, 1, 4)
    assert replay.trading_days[-1] == D(2003, 12, 31)
    with pytest.raises(ValueError):
        DotcomReplay(D(2001, 1, 2), D(2000, 1, 3))


def test_no_look_ahead_over_the_whole_replay(replay_batches: DayBatches) -> None:
    assert replay_batches
    for day, batch in replay_batches:
        assert [bar.date for bar in batch.daily_bars] == [day]
        assert all(obs.date <= day for obs in batch.macro)
        assert not batch.intraday_bars and not batch.shares and not batch.market_caps


def test_preload_plus_batches_deliver_each_row_once(replay: DotcomReplay) -> None:
    start = D(2001, 1, 2)
    later = DotcomReplay(start, DEFAULT_END)
    delivered = later.preload()
    for _day, batch in later.batches_between(later.start, later.end):
        delivered.extend(batch)
    bars = [bar for bar in load_nasdaq() if bar.date <= DEFAULT_END]
    assert delivered.daily_bars == bars
    moodys = [obs for obs in delivered.macro if obs.series_id in ("AAA", "BAA")]
    assert len(moodys) == len(set(moodys))
    # Every month up to November 2003 is published by 2003-12-31 (December's value is not).
    months = {obs.date for obs in moodys}
    assert min(months) == D(1998, 1, 1) and max(months) == D(2003, 11, 1)
    assert len(months) == 6 * 12 - 1


def test_moodys_publication_lag(replay: DotcomReplay, replay_batches: DayBatches) -> None:
    published: dict[dt.date, dt.date] = {}
    for day, batch in replay_batches:
        for obs in batch.macro:
            if obs.series_id not in ("AAA", "BAA"):
                continue
            # The value dated the first of month M is known on the first trading day of M+1.
            next_month = D(obs.date.year + obs.date.month // 12, obs.date.month % 12 + 1, 1)
            assert (day.year, day.month) == (next_month.year, next_month.month)
            first_trading = min(d for d in replay.trading_days if d >= next_month)
            assert day == first_trading
            assert published.setdefault(obs.date, day) == day
    assert published[D(1998, 12, 1)] == D(1999, 1, 4)
    assert published[D(2000, 2, 1)] == D(2000, 3, 1)
    assert published[D(2001, 8, 1)] == D(2001, 9, 4)  # 2001-09-03 was Labor Day
    assert published[D(2001, 9, 1)] == D(2001, 10, 1)
    assert len(published) == 60  # 1998-12 .. 2003-11
    assert replay.moodys_publication_date(D(2001, 8, 1)) == D(2001, 9, 4)


def test_preload_mid_history_contains_the_march_2000_high() -> None:
    start = D(2001, 1, 2)
    batch = DotcomReplay(start=start).preload()
    assert batch.daily_bars
    assert all(bar.date < start for bar in batch.daily_bars)
    assert all(obs.date < start for obs in batch.macro)
    peak = max(batch.daily_bars, key=lambda bar: bar.close)
    assert (peak.date, round(peak.close, 2)) == (D(2000, 3, 10), 5048.62)
    # Moody's: published before start, i.e. through November 2000.
    months = {obs.date for obs in batch.macro if obs.series_id == "AAA"}
    assert max(months) == D(2000, 11, 1)
    assert D(2000, 12, 1) not in months
    # DFEDTAR: a 7-day series from the first decision to the day before start.
    targets = {obs.date: obs.value for obs in batch.macro if obs.series_id == FED_TARGET_SERIES}
    assert min(targets) == D(1998, 11, 17) and max(targets) == D(2001, 1, 1)
    assert len(targets) == (D(2001, 1, 1) - D(1998, 11, 17)).days + 1
    assert targets[D(2000, 5, 16)] == 6.50


def test_default_preload_has_no_bars_but_has_1998_context(replay: DotcomReplay) -> None:
    batch = replay.preload()
    assert batch.daily_bars == []
    months = {obs.date for obs in batch.macro if obs.series_id == "BAA"}
    assert months == {D(1998, m, 1) for m in range(1, 12)}
    targets = {obs.date: obs.value for obs in batch.macro if obs.series_id == FED_TARGET_SERIES}
    assert set(targets.values()) == {4.75}
    assert max(targets) == D(1999, 1, 3)


def test_dfedtar_each_replay_day_matches_table(replay_batches: DayBatches) -> None:
    table = load_fomc_targets()
    changes = 0
    previous: float | None = None
    for day, batch in replay_batches:
        expected = [row[1] for row in table if row[0] <= day][-1]  # last decision on or before
        targets = [obs for obs in batch.macro if obs.series_id == FED_TARGET_SERIES]
        assert targets == [MacroObservation(FED_TARGET_SERIES, day, expected)]
        if previous is not None and expected != previous:
            changes += 1
        previous = expected
    assert changes == len([row for row in table if row[0] >= D(1999, 1, 5)])  # 19 changes


def test_batches_are_deterministic(replay: DotcomReplay) -> None:
    again = DotcomReplay()
    a = replay.batches_between(D(2001, 1, 1), D(2001, 2, 28))
    b = again.batches_between(D(2001, 1, 1), D(2001, 2, 28))
    assert a == b
    assert a[0][0] == D(2001, 1, 2)
    assert replay.preload() == again.preload()


def test_batch_for_non_trading_day_has_no_bar(replay: DotcomReplay) -> None:
    batch = replay.batch_for(D(2001, 9, 12))  # markets closed after 11 September 2001
    assert batch.daily_bars == []
    assert [obs.value for obs in batch.macro] == [3.50]


def test_dfedtar_stops_where_the_table_is_no_longer_complete() -> None:
    replay = DotcomReplay(D(2004, 6, 1), D(2004, 7, 30))
    batches = dict(replay.batches_between(replay.start, replay.end))
    assert [o.value for o in batches[D(2004, 6, 29)].macro if o.series_id == "DFEDTAR"] == [1.0]
    after = [d for d in batches if d > FOMC_TABLE_COMPLETE_THROUGH]
    assert after[0] == D(2004, 6, 30)
    assert all(obs.series_id != FED_TARGET_SERIES for day in after for obs in batches[day].macro)
    assert batches[after[0]].warnings and "2004-06-29" in batches[after[0]].warnings[0]
    assert all(not batches[day].warnings for day in after[1:])


def test_fomc_csv_has_the_documented_columns() -> None:
    text = (REPLAY_DIR / "fomc_target.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == ["date", "target_percent", "note"]
    assert len(list(reader)) == 20

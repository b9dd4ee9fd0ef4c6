"""`drawdowns` (DuckDB window SQL) against a brute-force Python reference on random series."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bubble_core.indicators import drawdowns
from bubble_core.migrations import MIGRATIONS

START = dt.date(2020, 1, 1)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """One in-memory database with the store's schema, emptied before each example."""
    connection = duckdb.connect(":memory:")
    for migration in MIGRATIONS:
        connection.execute(migration)
    yield connection
    connection.close()


def reference(rows: list[tuple[dt.date, float]], as_of: dt.date) -> dict[str, Any] | None:
    """The figures of one symbol, computed the slow and obvious way."""
    seen = [(day, close) for day, close in sorted(rows) if day <= as_of]
    if not seen:
        return None
    peak, peak_date = seen[0][1], seen[0][0]
    running = []  # (day, close, peak so far, first day that peak was reached, drawdown)
    for day, close in seen:
        if close > peak:
            peak, peak_date = close, day
        running.append((day, close, peak, peak_date, close / peak - 1))
    last_day, last, peak, peak_date, drawdown = running[-1]
    deepest = min(r[4] for r in running)
    trough = next(r for r in running if r[4] == deepest)  # earliest of equally deep troughs
    declined = deepest < 0
    recovery = next(
        (r[0] for r in running if r[0] > trough[0] and r[1] >= trough[2]), None
    )
    closes = [r[1] for r in running]
    return {
        "last_date": last_day,
        "last": last,
        "peak_date": peak_date,
        "peak": peak,
        "drawdown": drawdown,
        "days_since_peak": (last_day - peak_date).days,
        "max_drawdown": deepest,
        "max_drawdown_peak_date": trough[3] if declined else None,
        "max_drawdown_trough_date": trough[0] if declined else None,
        "recovery_date": recovery if declined else None,
        "change_1d": closes[-1] / closes[-2] - 1 if len(closes) >= 2 else None,
        "change_5d": closes[-1] / closes[-6] - 1 if len(closes) >= 6 else None,
        "stale": (as_of - last_day).days > 5,
    }


# Prices from a small grid make ties (equal highs, equal lows) common; a few fractional ones
# exercise the float arithmetic.
PRICES = st.integers(1, 12).map(float) | st.floats(0.01, 1e6, allow_nan=False)


@st.composite
def series(draw: st.DrawFn) -> list[tuple[dt.date, float]]:
    gaps = draw(st.lists(st.integers(1, 6), min_size=1, max_size=40))
    day = START
    rows = []
    for gap in gaps:
        day += dt.timedelta(days=gap)
        rows.append((day, draw(PRICES)))
    return rows


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.dictionaries(st.sampled_from(["^NDX", "KRE", "9984.T"]), series(), min_size=1, max_size=3),
    st.integers(-3, 260),
)
def test_drawdowns_match_the_reference(
    con: duckdb.DuckDBPyConnection, world: dict[str, list[tuple[dt.date, float]]], offset: int
) -> None:
    con.execute("DELETE FROM daily_bars")
    con.executemany(
        "INSERT INTO daily_bars (symbol, date, close, source) VALUES (?, ?, ?, 'h')",
        [(symbol, day, close) for symbol, rows in world.items() for day, close in rows],
    )
    as_of = START + dt.timedelta(days=offset)
    got = drawdowns(con, as_of)
    expected = {s: reference(rows, as_of) for s, rows in world.items()}
    expected = {s: figures for s, figures in expected.items() if figures is not None}
    assert sorted(got) == sorted(expected)
    for symbol, figures in expected.items():
        actual = got[symbol]
        for name, value in figures.items():
            if isinstance(value, float):
                assert getattr(actual, name) == pytest.approx(value, rel=1e-12, abs=1e-15), (
                    symbol, name)
            else:
                assert getattr(actual, name) == value, (symbol, name)

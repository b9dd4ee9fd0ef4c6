"""Build a Snapshot from the store: indicators, drawdowns, source health, charts.

Shared by `status`, the TUI backends and the backtest, so all of them show the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import duckdb

from bubble_core.config import Config
from bubble_core.indicators import chart_series, compute_indicators, drawdowns
from bubble_core.snapshot import Snapshot, SourceHealth
from bubble_core.store import Store

CHART_MACRO_SERIES: tuple[str, ...] = (
    "DFF", "EFFR", "DFEDTARU", "DFEDTARL", "DFEDTAR", "DGS10", "BAMLC0A4CBBBEY",
    "BAMLH0A0HYM2EY", "BAMLH0A0HYM2", "BAA", "AAA",
)
CHART_PRICE_SYMBOLS: tuple[str, ...] = ("^NDX", "^IXIC", "^GSPC")


def source_cadences(config: Config) -> dict[str, dt.timedelta]:
    """The slowest expected interval between successes of each source (for staleness)."""
    cadence = config.cadence
    return {
        "yahoo": max(cadence.prices_open, cadence.prices_closed),
        "yahoo_shares": cadence.shares,
        "fred": cadence.fred,
        "nyfed": cadence.nyfed,
    }


def source_health(
    store_health: Mapping[str, Mapping[str, object]],
    cadences: Mapping[str, dt.timedelta],
    now: dt.datetime,
    next_retry: Callable[[str], dt.datetime | None] | None = None,
    expected: tuple[str, ...] = (),
) -> dict[str, SourceHealth]:
    """A source is stale when it never succeeded, or not within 3 cadences (+5 min slack)."""
    result: dict[str, SourceHealth] = {}
    for name in sorted(set(store_health) | set(expected)):
        info = store_health.get(name, {})
        last_success = info.get("last_success")
        cadence = cadences.get(name, dt.timedelta(hours=1))
        stale = last_success is None or (
            now - last_success > cadence * 3 + dt.timedelta(minutes=5)  # type: ignore[operator]
        )
        failures = int(info.get("consecutive_failures", 0) or 0)  # type: ignore[call-overload]
        result[name] = SourceHealth(
            name=name,
            last_success=last_success,  # type: ignore[arg-type]
            last_attempt=info.get("last_attempt"),  # type: ignore[arg-type]
            last_error=info.get("last_error") if failures else None,  # type: ignore[arg-type]
            consecutive_failures=failures,
            stale=stale,
            next_retry=next_retry(name) if next_retry else None,
        )
    return result


def compute_snapshot(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    as_of: dt.date,
    now: dt.datetime,
    health: dict[str, SourceHealth] | None = None,
    with_charts: bool = True,
) -> Snapshot:
    indicators, events = compute_indicators(con, config, as_of)
    charts = (
        chart_series(con, as_of, CHART_PRICE_SYMBOLS, CHART_MACRO_SERIES, config)
        if with_charts
        else {}
    )
    return Snapshot(
        as_of=as_of,
        generated_at=now,
        indicators=indicators,
        drawdowns=drawdowns(con, as_of),
        events=tuple(events),
        sources=health or {},
        charts=charts,
    )


def snapshot_from_store(
    store: Store,
    config: Config,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
    next_retry: Callable[[str], dt.datetime | None] | None = None,
    expected_sources: tuple[str, ...] = (),
    with_charts: bool = True,
) -> Snapshot:
    from bubble_core.store import utcnow

    now = now or utcnow()
    as_of = as_of or now.date()
    # One connection for the whole refresh: opening a DuckDB file costs ~10 ms each time.
    with store.reader() as con:
        health = source_health(
            store.source_health(con), source_cadences(config), now, next_retry,
            expected_sources,
        )
        return compute_snapshot(con, config, as_of, now, health, with_charts)

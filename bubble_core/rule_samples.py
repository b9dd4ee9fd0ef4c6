"""Rule samples for every day of a backtest, in a few SQL passes over the whole history.

A backtest asks, for each of ~1,250 days, the values the alert rules read. Building a full
snapshot per day costs ~25 ms of query overhead; the same figures for all days at once cost a few
window and ASOF-join queries. Each figure here is defined exactly as in `indicators.py` (close over
running high, lag over trading days, latest observation dated at or before the day), and
tests/test_replay.py checks the two paths agree day by day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from bubble_core.indicator_catalog import SPECS
from bubble_core.indicators import target_changes
from bubble_core.snapshot import FedTargetChange, IndicatorValue, Snapshot

SYMBOL_SAMPLES_SQL = """
WITH days AS (SELECT unnest($days::DATE[]) AS day),
running AS (
    SELECT symbol, date,
           close / max(close) OVER (PARTITION BY symbol ORDER BY date
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - 1
               AS drawdown,
           close / lag(close, 1) OVER (PARTITION BY symbol ORDER BY date) - 1 AS change_1d,
           close / lag(close, 5) OVER (PARTITION BY symbol ORDER BY date) - 1 AS change_5d
    FROM daily_bars WHERE close > 0
),
grid AS (SELECT day, symbol FROM days CROSS JOIN (SELECT DISTINCT symbol FROM running))
SELECT g.day, g.symbol, r.date, r.drawdown, r.change_1d, r.change_5d
FROM grid g ASOF JOIN running r ON r.symbol = g.symbol AND r.date <= g.day
"""

MACRO_SAMPLES_SQL = """
WITH days AS (SELECT unnest($days::DATE[]) AS day),
grid AS (
    SELECT day, series_id
    FROM days CROSS JOIN (SELECT unnest($series::VARCHAR[]) AS series_id)
)
SELECT g.day, g.series_id, m.date, m.value
FROM grid g ASOF JOIN macro_observations m ON m.series_id = g.series_id AND m.date <= g.day
"""

# name -> the series it reads, best first (as in indicators._rates), all as fractions.
MACRO_INDICATORS: dict[str, tuple[str, ...]] = {
    "fed_funds_effective": ("DFF", "EFFR"),
    "fed_target_upper": ("DFEDTARU", "DFEDTAR", "EFFR_TARGET_TO"),
    "fed_target_lower": ("DFEDTARL", "DFEDTAR", "EFFR_TARGET_FROM"),
    "treasury_10y": ("DGS10",),
    "bbb_yield": ("BAMLC0A4CBBBEY",),
    "hy_yield": ("BAMLH0A0HYM2EY",),
    "hy_spread": ("BAMLH0A0HYM2",),
    "baa_yield": ("BAA",),
}
EVENT_WINDOW_DAYS = 7


def _value(name: str, value: float | None, as_of: dt.date | None, day: dt.date,
           reason: str) -> IndicatorValue:
    spec = SPECS.get(name)
    stale_after = spec.stale_after_days if spec else 5
    stale = as_of is None or (day - as_of).days > stale_after
    return IndicatorValue(
        name=name,
        label=spec.label if spec else name,
        value=value,
        as_of=as_of,
        unit=spec.unit if spec else "fraction",
        reference=spec.reference if spec else None,
        source=spec.source if spec else None,
        stale=stale or value is None,
        reason=None if value is not None else reason,
    )


def daily_rule_snapshots(
    con: duckdb.DuckDBPyConnection,
    days: Sequence[dt.date],
    generated_at: dt.time = dt.time(21, 0),
) -> list[Snapshot]:
    """One light Snapshot per day holding what rules can read about prices, rates and events.

    Cap-based ratios are absent (null with a reason): the replay scenarios bundle no market caps.
    """
    day_list = list(days)
    per_day: dict[dt.date, dict[str, IndicatorValue]] = {day: {} for day in day_list}

    for day, symbol, last_date, drawdown, change_1d, change_5d in con.execute(
        SYMBOL_SAMPLES_SQL, {"days": day_list}
    ).fetchall():
        stale = (day - last_date).days > 5
        for kind, value in (
            ("drawdown", drawdown), ("change_1d", change_1d), ("change_5d", change_5d)
        ):
            name = f"{kind}.{symbol}"
            per_day[day][name] = IndicatorValue(
                name=name, label=name, value=None if value is None else float(value),
                as_of=last_date, unit="fraction", stale=stale or value is None,
                reason=None if value is not None else "not enough history",
            )

    series = sorted({s for ids in MACRO_INDICATORS.values() for s in ids} | {"AAA", "GDP"})
    observed: dict[dt.date, dict[str, tuple[dt.date, float]]] = {day: {} for day in day_list}
    for day, series_id, obs_date, value in con.execute(
        MACRO_SAMPLES_SQL, {"days": day_list, "series": series}
    ).fetchall():
        observed[day][series_id] = (obs_date, float(value))

    for day in day_list:
        seen = observed[day]
        for name, candidates in MACRO_INDICATORS.items():
            hit = next((seen[s] for s in candidates if s in seen), None)
            per_day[day][name] = _value(
                name, hit[1] / 100 if hit else None, hit[0] if hit else None, day,
                f"no {' or '.join(candidates)} observation",
            )
        if "BAA" in seen and "AAA" in seen:
            when = min(seen["BAA"][0], seen["AAA"][0])
            spread = (seen["BAA"][1] - seen["AAA"][1]) / 100
            per_day[day]["baa_aaa_spread"] = _value("baa_aaa_spread", spread, when, day, "")
        else:
            per_day[day]["baa_aaa_spread"] = _value(
                "baa_aaa_spread", None, None, day, "no Moody's BAA and AAA observations"
            )
        gdp = seen.get("GDP")
        per_day[day]["gdp"] = _value(
            "gdp", gdp[1] if gdp else None, gdp[0] if gdp else None, day, "no GDP observation"
        )

    last_day = max(day_list) if day_list else dt.date.min
    _, changes = target_changes(con, last_day)
    snapshots: list[Snapshot] = []
    for day in day_list:
        events: tuple[FedTargetChange, ...] = tuple(
            c for c in changes if 0 <= (day - c.date).days < EVENT_WINDOW_DAYS
        )
        snapshots.append(
            Snapshot(
                as_of=day,
                generated_at=dt.datetime.combine(day, generated_at),
                indicators=per_day[day],
                drawdowns={},
                events=events,
            )
        )
    return snapshots

"""The article's indicators, computed in DuckDB over the stored history.

Every figure is read as of a date: only rows dated at or before `as_of` are visible (no
look-ahead), so `status --as-of 2000-03-10` and a replay on that day agree. History work is SQL
(window functions, ASOF joins); Python only assembles the few result rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from bubble_core.config import Config
from bubble_core.indicator_catalog import SPECS
from bubble_core.snapshot import Drawdown, FedTargetChange, IndicatorValue, Series

# Days back from as_of within which a target change counts as a fresh event to notify.
EVENT_WINDOW_DAYS = 7
PRICE_CHART_YEARS = 10
MACRO_CHART_YEARS = 5
RATIO_CHART_YEARS = 3
CHART_MAX_POINTS = 1500


# -- drawdowns ---------------------------------------------------------------------------------

# One window pass (running high, lags) then hash aggregates (arg_min / arg_max): 2.3x faster
# than ranking rows with window sorts (bench/refresh.py). The peak date is the first day the
# close reached that high; the property test checks every column against a brute force.
DRAWDOWN_SQL = """
WITH dd AS (
    SELECT symbol, date, close,
           max(close) OVER w AS peak,
           close / max(close) OVER w - 1 AS drawdown,
           lag(close, 1) OVER w AS close_1d,
           lag(close, 5) OVER w AS close_5d
    FROM daily_bars
    WHERE date <= $as_of AND close > 0
    WINDOW w AS (PARTITION BY symbol ORDER BY date
                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
agg AS (
    SELECT symbol, max(date) AS date, arg_max(close, date) AS close,
           arg_max(peak, date) AS peak, arg_max(drawdown, date) AS drawdown,
           arg_max(close_1d, date) AS close_1d, arg_max(close_5d, date) AS close_5d,
           min(drawdown) AS max_drawdown,
           arg_min(date, (drawdown, date)) AS trough_date,
           arg_min(peak, (drawdown, date)) AS mdd_peak
    FROM dd GROUP BY symbol
),
dates AS (
    SELECT a.symbol,
           min(d.date) FILTER (WHERE d.close = a.peak) AS peak_date,
           min(d.date) FILTER (WHERE d.close = a.mdd_peak AND d.date <= a.trough_date)
               AS mdd_peak_date,
           min(d.date) FILTER (WHERE d.date > a.trough_date AND d.close >= a.mdd_peak)
               AS recovery_date
    FROM agg a JOIN daily_bars d
      ON d.symbol = a.symbol AND d.date <= $as_of AND d.close > 0
    GROUP BY a.symbol
)
SELECT a.symbol, a.date, a.close, t.peak_date, a.peak, a.drawdown,
       a.max_drawdown, t.mdd_peak_date, a.trough_date, t.recovery_date,
       a.close / a.close_1d - 1, a.close / a.close_5d - 1
FROM agg a JOIN dates t USING (symbol) ORDER BY a.symbol
"""


def drawdowns(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Drawdown]:
    """Drawdown figures of every symbol with daily history up to `as_of`."""
    result: dict[str, Drawdown] = {}
    rows = con.execute(DRAWDOWN_SQL, {"as_of": as_of}).fetchall()
    for (symbol, last_date, last, peak_date, peak, drawdown, max_dd, mdd_peak, trough, recovery,
         change_1d, change_5d) in rows:
        no_decline = max_dd >= 0
        result[symbol] = Drawdown(
            symbol=symbol,
            last_date=last_date,
            last=float(last),
            peak_date=peak_date,
            peak=float(peak),
            drawdown=float(drawdown),
            days_since_peak=(last_date - peak_date).days,
            max_drawdown=float(max_dd),
            max_drawdown_peak_date=None if no_decline else mdd_peak,
            max_drawdown_trough_date=None if no_decline else trough,
            recovery_date=None if no_decline else recovery,
            change_1d=None if change_1d is None else float(change_1d),
            change_5d=None if change_5d is None else float(change_5d),
            stale=(as_of - last_date).days > 5,
        )
    return result


# -- market caps ----------------------------------------------------------------------------

# Market cap of each symbol on its latest bar at or before as_of: a reported cap of that day if
# one was imported, else close x the latest shares outstanding known on that day (ASOF join).
CAPS_SQL = """
WITH last_bar AS (
    SELECT symbol, date, close FROM daily_bars
    WHERE date <= $as_of AND list_contains($symbols, symbol)
    QUALIFY row_number() OVER (PARTITION BY symbol ORDER BY date DESC) = 1
),
reported AS (
    SELECT symbol, date, market_cap FROM market_caps
    WHERE date <= $as_of AND list_contains($symbols, symbol)
    QUALIFY row_number() OVER (PARTITION BY symbol ORDER BY date DESC) = 1
),
computed AS (
    SELECT b.symbol, b.date, b.close * s.shares AS market_cap
    FROM last_bar b ASOF LEFT JOIN shares_outstanding s
      ON s.symbol = b.symbol AND s.date <= b.date
)
SELECT coalesce(r.symbol, c.symbol) AS symbol,
       CASE WHEN r.date >= c.date OR c.market_cap IS NULL THEN r.date ELSE c.date END,
       CASE WHEN r.date >= c.date OR c.market_cap IS NULL THEN r.market_cap
            ELSE c.market_cap END
FROM computed c FULL JOIN reported r USING (symbol)
"""


def market_caps(
    con: duckdb.DuckDBPyConnection, symbols: Sequence[str], as_of: dt.date
) -> dict[str, tuple[dt.date, float]]:
    rows = con.execute(CAPS_SQL, {"as_of": as_of, "symbols": list(symbols)}).fetchall()
    return {
        symbol: (day, float(cap))
        for symbol, day, cap in rows
        if cap is not None and day is not None
    }


CAP_CHANGE_SQL = """
WITH ranked AS (
    SELECT symbol, date, close,
           row_number() OVER (PARTITION BY symbol ORDER BY date DESC) AS age_rank
    FROM daily_bars
    WHERE date <= $as_of AND list_contains($symbols, symbol)
),
ends AS (
    SELECT symbol,
           max(date) FILTER (WHERE age_rank = 1) AS end_date,
           max(close) FILTER (WHERE age_rank = 1) AS end_close,
           max(date) FILTER (WHERE age_rank = 6) AS start_date,
           max(close) FILTER (WHERE age_rank = 6) AS start_close
    FROM ranked WHERE age_rank IN (1, 6) GROUP BY symbol
),
with_shares AS (
    SELECT e.*, s.shares FROM ends e ASOF LEFT JOIN shares_outstanding s
      ON s.symbol = e.symbol AND s.date <= e.end_date
)
SELECT symbol, start_date, end_date, start_close * shares, end_close * shares
FROM with_shares
WHERE start_close IS NOT NULL AND shares IS NOT NULL
"""


# -- macro -------------------------------------------------------------------------------------


def latest_macro(
    con: duckdb.DuckDBPyConnection, series: Sequence[str], as_of: dt.date
) -> dict[str, tuple[dt.date, float]]:
    rows = con.execute(
        """
        SELECT series_id, max(date), arg_max(value, date) FROM macro_observations
        WHERE date <= $as_of AND list_contains($series, series_id)
        GROUP BY series_id
        """,
        {"as_of": as_of, "series": list(series)},
    ).fetchall()
    return {series_id: (day, float(value)) for series_id, day, value in rows}


TARGET_CHANGES_SQL = """
WITH target AS (
    SELECT date, value AS upper FROM macro_observations
    WHERE series_id = $upper_id AND date <= $as_of
),
lower_t AS (
    SELECT date, value AS lower FROM macro_observations
    WHERE series_id = $lower_id AND date <= $as_of
),
steps AS (
    SELECT t.date, t.upper, l.lower,
           t.upper - lag(t.upper) OVER (ORDER BY t.date) AS change
    FROM target t LEFT JOIN lower_t l USING (date)
)
SELECT date, lower, upper, change FROM steps WHERE change IS NOT NULL AND change <> 0
ORDER BY date
"""


def target_changes(
    con: duckdb.DuckDBPyConnection, as_of: dt.date
) -> tuple[str | None, list[FedTargetChange]]:
    """All changes of the Fed's target up to as_of, from the best series stored."""
    for upper_id, lower_id in (
        ("DFEDTARU", "DFEDTARL"),
        ("DFEDTAR", "DFEDTAR"),
        ("EFFR_TARGET_TO", "EFFR_TARGET_FROM"),
    ):
        present = con.execute(
            "SELECT count(*) FROM macro_observations WHERE series_id = ? AND date <= ?",
            [upper_id, as_of],
        ).fetchone()
        if present and present[0]:
            rows = con.execute(
                TARGET_CHANGES_SQL, {"upper_id": upper_id, "lower_id": lower_id, "as_of": as_of}
            ).fetchall()
            changes = [
                FedTargetChange(
                    date=day,
                    # Before 2008 the Fed set a single target, not a range.
                    lower=None if lower is None or lower_id == upper_id else float(lower),
                    upper=float(upper),
                    change=float(change),
                )
                for day, lower, upper, change in rows
            ]
            return upper_id, changes
    return None, []


# -- assembling the figures -----------------------------------------------------------------------


def _indicator(
    name: str,
    value: float | None,
    as_of_input: dt.date | None,
    as_of: dt.date,
    reason: str | None = None,
    **extra: Any,
) -> IndicatorValue:
    spec = SPECS[name]
    if value is None and reason is None:
        reason = "no data"
    stale = True if as_of_input is None else (as_of - as_of_input).days > spec.stale_after_days
    return IndicatorValue(
        name=name,
        label=spec.label,
        value=value,
        as_of=as_of_input,
        unit=spec.unit,
        reference=spec.reference,
        source=spec.source,
        stale=stale if value is not None else True,
        reason=None if value is not None else reason,
        extra=dict(extra),
    )


def compute_indicators(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: dt.date
) -> tuple[dict[str, IndicatorValue], list[FedTargetChange]]:
    watch = config.watch
    indicators: dict[str, IndicatorValue] = {}

    macro = latest_macro(
        con,
        [
            "GDP", "DFF", "EFFR", "DFEDTARU", "DFEDTARL", "DFEDTAR", "EFFR_TARGET_TO",
            "EFFR_TARGET_FROM", "DGS10", "BAMLC0A4CBBBEY", "BAMLH0A0HYM2EY", "BAMLH0A0HYM2",
            "BAA", "AAA",
        ],
        as_of,
    )

    gdp = macro.get("GDP")
    gdp_reason = None if gdp else "no GDP observation"
    indicators["gdp"] = _indicator(
        "gdp", gdp[1] if gdp else None, gdp[0] if gdp else None, as_of, gdp_reason
    )

    # NVDA is A1's company whether or not the configured Mag-7 list names it.
    caps = market_caps(con, (*watch.mag7, "NVDA", "^GSPC"), as_of)
    nvda = caps.get("NVDA")
    if nvda is None:
        indicators["nvda_cap_to_gdp"] = _indicator(
            "nvda_cap_to_gdp", None, None, as_of, "no NVDA market cap (price x shares)"
        )
    elif gdp is None:
        indicators["nvda_cap_to_gdp"] = _indicator(
            "nvda_cap_to_gdp", None, None, as_of, "no GDP observation"
        )
    else:
        indicators["nvda_cap_to_gdp"] = _indicator(
            "nvda_cap_to_gdp",
            nvda[1] / (gdp[1] * 1e9),
            min(nvda[0], as_of),
            as_of,
            market_cap=nvda[1],
            gdp_date=gdp[0],
            dotcom_sector_to_gdp=0.0967,
        )

    missing = [symbol for symbol in watch.mag7 if symbol not in caps]
    mag7_total: float | None = None
    mag7_date: dt.date | None = None
    seven = {symbol: caps[symbol][1] for symbol in watch.mag7 if symbol in caps}
    if missing or not watch.mag7:
        reason = (
            f"no market cap for {', '.join(missing)}" if missing else "[watch] mag7 is empty"
        )
        indicators["mag7_market_cap"] = _indicator(
            "mag7_market_cap", None, None, as_of, reason, caps=seven
        )
    else:
        mag7_total = sum(seven.values())
        mag7_date = min(caps[symbol][0] for symbol in watch.mag7)
        indicators["mag7_market_cap"] = _indicator(
            "mag7_market_cap", mag7_total, mag7_date, as_of, caps=seven
        )

    if mag7_total is None:
        indicators["mag7_cap_to_gdp"] = _indicator(
            "mag7_cap_to_gdp", None, None, as_of, indicators["mag7_market_cap"].reason
        )
    elif gdp is None:
        indicators["mag7_cap_to_gdp"] = _indicator(
            "mag7_cap_to_gdp", None, None, as_of, "no GDP observation"
        )
    else:
        indicators["mag7_cap_to_gdp"] = _indicator(
            "mag7_cap_to_gdp", mag7_total / (gdp[1] * 1e9), mag7_date, as_of, gdp_date=gdp[0]
        )

    indicators["mag7_share_of_sp500"] = _mag7_share(
        con, config, as_of, mag7_total, mag7_date, caps.get("^GSPC")
    )
    indicators.update(_ai_basket(con, watch.ai_basket, as_of))
    indicators.update(_rates(macro, as_of))

    target_series, changes = target_changes(con, as_of)
    if changes:
        last = changes[-1]
        indicators["fed_last_change"] = _indicator(
            "fed_last_change",
            last.change / 100,
            last.date,
            as_of,
            date=last.date,
            series=target_series,
        )
        # The size of the last change is a fact that does not go stale with time.
        indicators["fed_last_change"] = _fresh(indicators["fed_last_change"])
    else:
        indicators["fed_last_change"] = _indicator(
            "fed_last_change", None, None, as_of, "no change of the Fed target in stored history"
        )
    recent = tuple(
        change for change in changes if (as_of - change.date).days < EVENT_WINDOW_DAYS
    )
    return indicators, list(recent)


def _fresh(indicator: IndicatorValue) -> IndicatorValue:
    return IndicatorValue(
        name=indicator.name,
        label=indicator.label,
        value=indicator.value,
        as_of=indicator.as_of,
        unit=indicator.unit,
        reference=indicator.reference,
        source=indicator.source,
        stale=False,
        reason=indicator.reason,
        extra=indicator.extra,
    )


def _mag7_share(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    as_of: dt.date,
    mag7_total: float | None,
    mag7_date: dt.date | None,
    reported_sp500: tuple[dt.date, float] | None,
) -> IndicatorValue:
    """Mag-7 cap over the S&P 500's total cap (method documented in the README)."""
    if mag7_total is None or mag7_date is None:
        return _indicator("mag7_share_of_sp500", None, None, as_of, "no Mag-7 market cap")
    row = con.execute(
        "SELECT date, close FROM daily_bars WHERE symbol = '^GSPC' AND date <= ? "
        "ORDER BY date DESC LIMIT 1",
        [as_of],
    ).fetchone()
    if reported_sp500 is not None and (row is None or reported_sp500[0] >= row[0]):
        total, total_date, method = reported_sp500[1], reported_sp500[0], "reported"
    elif row is not None:
        total = float(row[1]) * config.indicators.sp500_cap_per_point
        total_date, method = row[0], "index_level_x_divisor"
    else:
        return _indicator(
            "mag7_share_of_sp500", None, None, as_of, "no S&P 500 level (^GSPC) or total cap"
        )
    return _indicator(
        "mag7_share_of_sp500",
        mag7_total / total,
        min(mag7_date, total_date),
        as_of,
        sp500_market_cap=total,
        method=method,
    )


def _ai_basket(
    con: duckdb.DuckDBPyConnection, basket: Sequence[str], as_of: dt.date
) -> dict[str, IndicatorValue]:
    """Cap-weighted 5-trading-day change of the AI basket, in percent and in USD (A5)."""
    rows = con.execute(CAP_CHANGE_SQL, {"as_of": as_of, "symbols": list(basket)}).fetchall()
    if not rows:
        reason = "no 5-day price history with shares for the AI basket"
        return {
            "ai_basket_change_5d": _indicator("ai_basket_change_5d", None, None, as_of, reason),
            "ai_basket_change_5d_usd": _indicator(
                "ai_basket_change_5d_usd", None, None, as_of, reason
            ),
        }
    start = sum(float(r[3]) for r in rows)
    end = sum(float(r[4]) for r in rows)
    end_date = min(r[2] for r in rows)
    members = sorted(r[0] for r in rows)
    missing = sorted(set(basket) - set(members))
    extra = {"members": members, "missing": missing}
    return {
        "ai_basket_change_5d": _indicator(
            "ai_basket_change_5d", end / start - 1, end_date, as_of, **extra
        ),
        "ai_basket_change_5d_usd": _indicator(
            "ai_basket_change_5d_usd", end - start, end_date, as_of, **extra
        ),
    }


def _rates(macro: dict[str, tuple[dt.date, float]], as_of: dt.date) -> dict[str, IndicatorValue]:
    def pct(
        name: str, *series_ids: str, reason: str, **extra: Any
    ) -> IndicatorValue:
        for series_id in series_ids:
            if series_id in macro:
                day, value = macro[series_id]
                return _indicator(name, value / 100, day, as_of, series=series_id, **extra)
        return _indicator(name, None, None, as_of, reason)

    out = {
        "fed_funds_effective": pct(
            "fed_funds_effective", "DFF", "EFFR", reason="no DFF or EFFR observation"
        ),
        "fed_target_upper": pct(
            "fed_target_upper", "DFEDTARU", "DFEDTAR", "EFFR_TARGET_TO",
            reason="no target-range observation",
        ),
        "fed_target_lower": pct(
            "fed_target_lower", "DFEDTARL", "DFEDTAR", "EFFR_TARGET_FROM",
            reason="no target-range observation",
        ),
        "treasury_10y": pct("treasury_10y", "DGS10", reason="no DGS10 observation"),
        "bbb_yield": pct("bbb_yield", "BAMLC0A4CBBBEY", reason="no BAMLC0A4CBBBEY observation"),
        "hy_yield": pct("hy_yield", "BAMLH0A0HYM2EY", reason="no BAMLH0A0HYM2EY observation"),
        "hy_spread": pct("hy_spread", "BAMLH0A0HYM2", reason="no BAMLH0A0HYM2 observation"),
        "baa_yield": pct("baa_yield", "BAA", reason="no Moody's BAA observation"),
    }
    if "BAA" in macro and "AAA" in macro:
        day = min(macro["BAA"][0], macro["AAA"][0])
        out["baa_aaa_spread"] = _indicator(
            "baa_aaa_spread", (macro["BAA"][1] - macro["AAA"][1]) / 100, day, as_of
        )
    else:
        out["baa_aaa_spread"] = _indicator(
            "baa_aaa_spread", None, None, as_of, "no Moody's BAA and AAA observations"
        )
    return out


# -- chart series --------------------------------------------------------------------------------


def _thin(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Keep at most CHART_MAX_POINTS rows, evenly spaced, always keeping the last one."""
    if len(rows) <= CHART_MAX_POINTS:
        return rows
    step = len(rows) / CHART_MAX_POINTS
    picked = [rows[int(i * step)] for i in range(CHART_MAX_POINTS - 1)]
    picked.append(rows[-1])
    return picked


def chart_series(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    price_symbols: Sequence[str],
    macro_series: Sequence[str],
    config: Config,
) -> dict[str, Series]:
    charts: dict[str, Series] = {}
    price_start = as_of - dt.timedelta(days=365 * PRICE_CHART_YEARS)
    rows = con.execute(
        """
        WITH running AS (
            SELECT symbol, date, close,
                   max(close) OVER (PARTITION BY symbol ORDER BY date
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS peak
            FROM daily_bars WHERE date <= $as_of AND list_contains($symbols, symbol)
        )
        SELECT symbol, date, close, peak, close / peak - 1 FROM running
        WHERE date >= $start ORDER BY symbol, date
        """,
        {"as_of": as_of, "symbols": list(price_symbols), "start": price_start},
    ).fetchall()
    by_symbol: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_symbol.setdefault(row[0], []).append(row)
    for symbol, symbol_rows in by_symbol.items():
        thinned = _thin(symbol_rows)
        dates = tuple(r[1] for r in thinned)
        charts[f"close.{symbol}"] = (dates, tuple(float(r[2]) for r in thinned))
        charts[f"peak.{symbol}"] = (dates, tuple(float(r[3]) for r in thinned))
        charts[f"drawdown.{symbol}"] = (dates, tuple(float(r[4]) for r in thinned))

    macro_start = as_of - dt.timedelta(days=365 * MACRO_CHART_YEARS)
    rows = con.execute(
        """
        SELECT series_id, date, value FROM macro_observations
        WHERE date <= $as_of AND date >= $start AND list_contains($series, series_id)
        ORDER BY series_id, date
        """,
        {"as_of": as_of, "start": macro_start, "series": list(macro_series)},
    ).fetchall()
    by_series: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_series.setdefault(row[0], []).append(row)
    for series_id, series_rows in by_series.items():
        thinned = _thin(series_rows)
        charts[f"macro.{series_id}"] = (
            tuple(r[1] for r in thinned),
            tuple(float(r[2]) for r in thinned),
        )
    charts.update(_ratio_history(con, as_of, config))
    return charts


RATIO_HISTORY_SQL = """
WITH bars AS (
    SELECT symbol, date, close FROM daily_bars
    WHERE date <= $as_of AND date >= $start AND list_contains($mag7, symbol)
),
caps AS (
    SELECT b.symbol, b.date, b.close * s.shares AS cap
    FROM bars b ASOF JOIN shares_outstanding s ON s.symbol = b.symbol AND s.date <= b.date
),
daily AS (
    SELECT date, sum(cap) AS mag7, count(*) AS n,
           max(cap) FILTER (WHERE symbol = 'NVDA') AS nvda
    FROM caps GROUP BY date
),
gdp AS (SELECT date, value FROM macro_observations WHERE series_id = 'GDP'),
sp AS (SELECT date, close FROM daily_bars WHERE symbol = '^GSPC')
SELECT d.date, d.nvda / (g.value * 1e9), d.mag7 / (g.value * 1e9),
       d.mag7 / (sp.close * $per_point)
FROM daily d
ASOF LEFT JOIN gdp g ON g.date <= d.date
LEFT JOIN sp ON sp.date = d.date
WHERE d.n = $count
ORDER BY d.date
"""


def _ratio_history(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, config: Config
) -> dict[str, Series]:
    rows = con.execute(
        RATIO_HISTORY_SQL,
        {
            "as_of": as_of,
            "start": as_of - dt.timedelta(days=365 * RATIO_CHART_YEARS),
            "mag7": list(config.watch.mag7),
            "count": len(config.watch.mag7),
            "per_point": config.indicators.sp500_cap_per_point,
        },
    ).fetchall()
    rows = _thin(rows)
    charts: dict[str, Series] = {}
    for index, name in (
        (1, "nvda_cap_to_gdp"),
        (2, "mag7_cap_to_gdp"),
        (3, "mag7_share_of_sp500"),
    ):
        points = [(r[0], float(r[index])) for r in rows if r[index] is not None]
        if points:
            charts[f"ratio.{name}"] = (
                tuple(p[0] for p in points),
                tuple(p[1] for p in points),
            )
    return charts

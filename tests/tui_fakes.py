"""A fake MonitorBackend and frozen Snapshots for the TUI tests (no network, no DuckDB).

The figures are realistic but synthetic: late October 2025 for the live snapshot (NVDA above
5 T$, Mag-7 at 74 % of GDP, a shallow ^NDX drawdown) and October 2002 for the replay snapshot
(^IXIC 77.9 % below its March 2000 high, fed funds target 1.75 %, Moody's Baa 7.3 %).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from bubble_core.indicator_catalog import INDICATORS, SPECS
from bubble_core.runtime import ModeInfo
from bubble_core.snapshot import (
    AlertNotice,
    AlertStatus,
    DeliveryRecord,
    Drawdown,
    FedTargetChange,
    IndicatorValue,
    Series,
    Snapshot,
    SourceHealth,
)

FROZEN_NOW = dt.datetime(2025, 10, 30, 14, 5, 0)  # naive = UTC
LIVE_AS_OF = dt.date(2025, 10, 29)
REPLAY_AS_OF = dt.date(2002, 10, 9)


def frozen_clock() -> dt.datetime:
    return FROZEN_NOW


# --------------------------------------------------------------------------------------------
# Deterministic synthetic series


def _business_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _path(days: Sequence[dt.date], anchors: Sequence[tuple[dt.date, float]], wobble: float,
          seed: int) -> tuple[float, ...]:
    """Piecewise log-linear between anchors, with a deterministic wobble (no randomness)."""
    values = []
    j = 0
    for i, day in enumerate(days):
        while j < len(anchors) - 2 and day > anchors[j + 1][0]:
            j += 1
        (d0, v0), (d1, v1) = anchors[j], anchors[j + 1]
        span = max((d1 - d0).days, 1)
        t = min(max((day - d0).days / span, 0.0), 1.0)
        base = math.exp(math.log(v0) + (math.log(v1) - math.log(v0)) * t)
        noise = (
            math.sin(i * 0.37 + seed) * 0.6
            + math.sin(i * 0.11 + seed * 2) * 0.3
            + math.sin(i * 1.7 + seed * 3) * 0.25
        )
        # The wobble fades out at the anchors so the series hits them exactly.
        fade = math.sin(math.pi * t)
        values.append(base * (1 + wobble * noise * fade))
    return tuple(values)


def _running_peak(values: Sequence[float]) -> tuple[float, ...]:
    peak = -math.inf
    out = []
    for value in values:
        peak = max(peak, value)
        out.append(peak)
    return tuple(out)


def _price_charts(symbol: str, days: Sequence[dt.date], closes: Sequence[float],
                  prior_peak: float = 0.0) -> dict[str, Series]:
    dates = tuple(days)
    peaks = tuple(max(p, prior_peak) for p in _running_peak(closes))
    drawdowns = tuple(c / p - 1 for c, p in zip(closes, peaks, strict=True))
    return {
        f"close.{symbol}": (dates, tuple(closes)),
        f"peak.{symbol}": (dates, peaks),
        f"drawdown.{symbol}": (dates, drawdowns),
    }


def _steps(days: Sequence[dt.date], changes: Sequence[tuple[dt.date, float]]) -> Series:
    values = []
    j = 0
    for day in days:
        while j + 1 < len(changes) and day >= changes[j + 1][0]:
            j += 1
        values.append(changes[j][1])
    return tuple(days), tuple(values)


def _drawdown_from(symbol: str, charts: dict[str, Series], *, change_1d: float | None = None,
                   change_5d: float | None = None, stale: bool = False,
                   last_date: dt.date | None = None) -> Drawdown:
    dates, closes = charts[f"close.{symbol}"]
    _, peaks = charts[f"peak.{symbol}"]
    _, dds = charts[f"drawdown.{symbol}"]
    last = closes[-1]
    peak = peaks[-1]
    prior = _PRIOR_PEAKS.get(symbol)
    peak_index = max(i for i, c in enumerate(closes) if c == peak) if peak in closes else 0
    peak_date = prior[1] if prior and peak == prior[0] else dates[peak_index]
    trough_index = min(range(len(dds)), key=dds.__getitem__)
    c1 = change_1d if change_1d is not None else closes[-1] / closes[-2] - 1
    c5 = change_5d if change_5d is not None else closes[-1] / closes[-6] - 1
    last_day = last_date or dates[-1]
    return Drawdown(
        symbol=symbol,
        last_date=last_day,
        last=last,
        peak_date=peak_date,
        peak=peak,
        drawdown=last / peak - 1,
        days_since_peak=(last_day - peak_date).days,
        max_drawdown=dds[trough_index],
        max_drawdown_peak_date=peak_date,
        max_drawdown_trough_date=dates[trough_index],
        recovery_date=None,
        change_1d=c1,
        change_5d=c5,
        stale=stale,
    )


def _indicator(name: str, value: float | None, as_of: dt.date | None, *, stale: bool = False,
               reason: str | None = None, extra: dict[str, Any] | None = None) -> IndicatorValue:
    spec = SPECS[name]
    return IndicatorValue(
        name=name,
        label=spec.label,
        value=value,
        as_of=as_of,
        unit=spec.unit,
        reference=spec.reference,
        source=spec.source,
        stale=stale,
        reason=reason if value is None else None,
        extra=extra or {},
    )


# --------------------------------------------------------------------------------------------
# Live, late October 2025

LIVE_CAPS = {
    "NVDA": 5.03e12,
    "MSFT": 4.03e12,
    "AAPL": 4.00e12,
    "GOOGL": 3.25e12,
    "AMZN": 2.42e12,
    "META": 1.89e12,
    "TSLA": 1.53e12,
}
GDP_BN = 29_839.0
SP500_CAP = 58.5e12

# symbol: (anchors over 2024-01-02 .. 2025-10-29, 1d change, 5d change)
_LIVE_NAMES: dict[str, tuple[list[tuple[dt.date, float]], float, float]] = {
    "NVDA": ([(dt.date(2024, 1, 2), 48.2), (dt.date(2025, 1, 6), 149.4),
              (dt.date(2025, 4, 4), 94.3), (dt.date(2025, 10, 29), 207.04)], 0.0299, 0.1352),
    "MSFT": ([(dt.date(2024, 1, 2), 370.9), (dt.date(2025, 4, 8), 354.6),
              (dt.date(2025, 7, 31), 533.5), (dt.date(2025, 10, 29), 541.55)], -0.0009, 0.0294),
    "AAPL": ([(dt.date(2024, 1, 2), 185.6), (dt.date(2024, 12, 26), 259.0),
              (dt.date(2025, 4, 8), 172.4), (dt.date(2025, 10, 29), 269.70)], 0.0026, 0.0313),
    "GOOGL": ([(dt.date(2024, 1, 2), 138.2), (dt.date(2025, 4, 7), 145.6),
               (dt.date(2025, 10, 29), 274.57)], 0.0249, 0.0781),
    "AMZN": ([(dt.date(2024, 1, 2), 149.9), (dt.date(2025, 2, 4), 242.1),
              (dt.date(2025, 4, 4), 171.0), (dt.date(2025, 10, 29), 230.30)], -0.0104, 0.0316),
    "META": ([(dt.date(2024, 1, 2), 346.3), (dt.date(2025, 8, 15), 790.0),
              (dt.date(2025, 10, 29), 751.67)], 0.0005, 0.0071),
    "TSLA": ([(dt.date(2024, 1, 2), 248.4), (dt.date(2024, 12, 17), 479.9),
              (dt.date(2025, 4, 8), 221.9), (dt.date(2025, 10, 29), 461.51)], 0.0084, 0.0551),
    "AMD": ([(dt.date(2024, 1, 2), 138.6), (dt.date(2025, 4, 8), 78.2),
             (dt.date(2025, 10, 29), 264.33)], 0.0250, 0.2137),
    "AVGO": ([(dt.date(2024, 1, 2), 110.2), (dt.date(2025, 4, 4), 146.3),
              (dt.date(2025, 10, 29), 390.91)], 0.0141, 0.1036),
    "ORCL": ([(dt.date(2024, 1, 2), 104.6), (dt.date(2025, 9, 10), 328.33),
              (dt.date(2025, 10, 29), 275.30)], -0.0246, -0.0398),
    "CRWV": ([(dt.date(2025, 3, 28), 40.0), (dt.date(2025, 6, 20), 187.0),
              (dt.date(2025, 10, 29), 141.52)], -0.0370, 0.0217),
    "9984.T": ([(dt.date(2024, 1, 2), 6_300.0), (dt.date(2025, 4, 7), 6_000.0),
                (dt.date(2025, 10, 27), 25_755.0)], 0.0413, 0.1820),
    "KRE": ([(dt.date(2024, 1, 2), 52.1), (dt.date(2024, 11, 25), 70.8),
             (dt.date(2025, 10, 29), 58.84)], -0.0178, -0.0311),
}
# Regional banks (KRE) peaked at 78.7 in January 2022, before the chart starts.
_PRIOR_PEAKS = {"KRE": (78.7, dt.date(2022, 1, 13))}


def live_snapshot(*, notices: Sequence[AlertNotice] = ()) -> Snapshot:
    start, end = dt.date(2024, 1, 2), LIVE_AS_OF
    days = _business_days(start, end)
    charts: dict[str, Series] = {}
    ndx = _path(days, [(start, 16_543.9), (dt.date(2024, 7, 10), 20_675.4),
                       (dt.date(2025, 2, 19), 22_175.6), (dt.date(2025, 4, 8), 16_663.4),
                       (dt.date(2025, 10, 28), 26_182.1), (end, 26_012.16)], 0.012, 1)
    ixic = _path(days, [(start, 14_765.9), (dt.date(2024, 12, 16), 20_173.9),
                        (dt.date(2025, 4, 8), 15_267.9), (dt.date(2025, 10, 28), 24_019.99),
                        (end, 23_958.47)], 0.012, 2)
    charts.update(_price_charts("^NDX", days, ndx))
    charts.update(_price_charts("^IXIC", days, ixic))
    drawdowns = {
        "^NDX": _drawdown_from("^NDX", charts, change_1d=-0.0015, change_5d=0.0262),
        "^IXIC": _drawdown_from("^IXIC", charts, change_1d=0.0055, change_5d=0.0288),
    }
    for index, (symbol, (anchors, c1, c5)) in enumerate(_LIVE_NAMES.items()):
        sym_days = [d for d in days if anchors[0][0] <= d <= anchors[-1][0]]
        closes = _path(sym_days, anchors, 0.02, 10 + index)
        prior_peak = _PRIOR_PEAKS[symbol][0] if symbol in _PRIOR_PEAKS else 0.0
        charts.update(_price_charts(symbol, sym_days, closes, prior_peak))
        stale = symbol == "9984.T"
        drawdowns[symbol] = _drawdown_from(symbol, charts, change_1d=c1, change_5d=c5,
                                           stale=stale)

    month_days = [d for d in days if d >= dt.date(2024, 6, 3)]
    nvda_ratio = _path(month_days, [(month_days[0], 0.096), (dt.date(2025, 1, 6), 0.126),
                                    (dt.date(2025, 4, 4), 0.079), (end, 5.03e12 / 29_839e9)],
                       0.02, 5)
    mag7_ratio = _path(month_days, [(month_days[0], 0.548), (dt.date(2025, 2, 18), 0.640),
                                    (dt.date(2025, 4, 8), 0.508), (end, 22.15e12 / 29_839e9)],
                       0.01, 6)
    share = _path(month_days, [(month_days[0], 0.318), (dt.date(2025, 4, 8), 0.305),
                               (end, 22.15e12 / SP500_CAP)], 0.006, 7)
    charts["ratio.nvda_cap_to_gdp"] = (tuple(month_days), nvda_ratio)
    charts["ratio.mag7_cap_to_gdp"] = (tuple(month_days), mag7_ratio)
    charts["ratio.mag7_share_of_sp500"] = (tuple(month_days), share)

    fed_days = [d for d in days if d >= dt.date(2024, 3, 1)]
    upper = [(fed_days[0], 5.50), (dt.date(2024, 9, 19), 5.00), (dt.date(2024, 11, 8), 4.75),
             (dt.date(2024, 12, 19), 4.50), (dt.date(2025, 9, 18), 4.25),
             (dt.date(2025, 10, 30), 4.00)]
    charts["macro.DFEDTARU"] = _steps(fed_days, upper)
    charts["macro.DFEDTARL"] = _steps(fed_days, [(d, v - 0.25) for d, v in upper])
    charts["macro.DFF"] = _steps(fed_days, [(d, v - 0.17) for d, v in upper])
    charts["macro.EFFR"] = charts["macro.DFF"]
    charts["macro.DGS10"] = (tuple(fed_days), _path(
        fed_days, [(fed_days[0], 4.18), (dt.date(2024, 9, 16), 3.62),
                   (dt.date(2025, 1, 13), 4.79), (end, 3.99)], 0.02, 8))
    charts["macro.BAMLC0A4CBBBEY"] = (tuple(fed_days), _path(
        fed_days, [(fed_days[0], 5.70), (dt.date(2024, 9, 16), 4.98),
                   (dt.date(2025, 1, 13), 5.73), (end, 4.93)], 0.01, 9))
    charts["macro.BAMLH0A0HYM2EY"] = (tuple(fed_days), _path(
        fed_days, [(fed_days[0], 7.79), (dt.date(2025, 4, 8), 8.55), (end, 6.72)], 0.015, 11))

    caps = dict(LIVE_CAPS)
    mag7_cap = sum(caps.values())
    indicators = {
        "nvda_cap_to_gdp": _indicator("nvda_cap_to_gdp", caps["NVDA"] / (GDP_BN * 1e9), end),
        "mag7_cap_to_gdp": _indicator("mag7_cap_to_gdp", mag7_cap / (GDP_BN * 1e9), end),
        "mag7_share_of_sp500": _indicator("mag7_share_of_sp500", mag7_cap / SP500_CAP, end),
        "mag7_market_cap": _indicator("mag7_market_cap", mag7_cap, end, extra={"caps": caps}),
        "ai_basket_change_5d": _indicator("ai_basket_change_5d", 0.0412, end),
        "ai_basket_change_5d_usd": _indicator("ai_basket_change_5d_usd", 1.12e12, end),
        "fed_funds_effective": _indicator("fed_funds_effective", 0.0387, end),
        "fed_target_upper": _indicator("fed_target_upper", 0.04, dt.date(2025, 10, 30)),
        "fed_target_lower": _indicator("fed_target_lower", 0.0375, dt.date(2025, 10, 30)),
        "fed_last_change": _indicator("fed_last_change", -0.0025, dt.date(2025, 10, 29),
                                      extra={"date": dt.date(2025, 10, 29)}),
        "treasury_10y": _indicator("treasury_10y", 0.0399, end),
        "bbb_yield": _indicator("bbb_yield", 0.0493, end),
        # Stale on purpose: the ICE series lag, and the tests check the age is shown.
        "hy_yield": _indicator("hy_yield", 0.0672, dt.date(2025, 10, 20), stale=True),
        "hy_spread": _indicator("hy_spread", 0.0281, dt.date(2025, 10, 20), stale=True),
        "baa_yield": _indicator("baa_yield", 0.0595, dt.date(2025, 10, 24)),
        "baa_aaa_spread": _indicator("baa_aaa_spread", 0.0068, dt.date(2025, 10, 24)),
        "gdp": _indicator("gdp", GDP_BN, dt.date(2025, 4, 1)),
    }
    sources = {
        "yahoo": SourceHealth("yahoo", dt.datetime(2025, 10, 30, 14, 4, 10),
                              dt.datetime(2025, 10, 30, 14, 4, 10), None, 0, False,
                              dt.datetime(2025, 10, 30, 14, 5, 10)),
        "fred": SourceHealth("fred", dt.datetime(2025, 10, 30, 9, 0, 2),
                             dt.datetime(2025, 10, 30, 13, 50, 0),
                             "HTTP 503 Service Unavailable [upstream]", 3, False,
                             dt.datetime(2025, 10, 30, 14, 20, 0)),
        "nyfed": SourceHealth("nyfed", dt.datetime(2025, 10, 30, 13, 5, 0),
                              dt.datetime(2025, 10, 30, 13, 5, 0), None, 0, False,
                              dt.datetime(2025, 10, 30, 15, 5, 0)),
    }
    alerts = (
        AlertStatus("nvda_gdp_above_article", "firing", "warning", "nvda_cap_to_gdp",
                    indicators["nvda_cap_to_gdp"].value, dt.datetime(2025, 10, 29, 20, 1),
                    "NVDA cap / GDP 16.86% >= 16.8% (article A1)", "A1",
                    last_notified=dt.datetime(2025, 10, 29, 20, 1)),
        AlertStatus("fed_cut", "firing", "info", "fed_last_change", -0.0025,
                    dt.datetime(2025, 10, 29, 18, 0), "Fed cut the target by 0.25 pp", "A6",
                    silenced_until=dt.datetime(2025, 10, 31, 8, 0)),
        AlertStatus("ai_basket_5d_drop", "pending", "warning", "ai_basket_change_5d", 0.0412,
                    dt.datetime(2025, 10, 30, 13, 45), "AI basket 5-day change < -3%", "A5"),
        AlertStatus("ndx_drawdown_10", "inactive", "critical", "drawdown.^NDX",
                    drawdowns["^NDX"].drawdown, None, "^NDX more than 10% below its high"),
        AlertStatus("hy_yield_above_article", "inactive", "info", "hy_yield", 0.0672, None,
                    "High-yield yield above the article's 10.5%", "A7"),
    )
    deliveries = (
        DeliveryRecord(dt.datetime(2025, 10, 29, 20, 1, 5), "nvda_gdp_above_article",
                       "firing", "ntfy://bubble-…", True),
        DeliveryRecord(dt.datetime(2025, 10, 29, 20, 1, 6), "nvda_gdp_above_article",
                       "firing", "slack://T0…/B0…", False, "HTTP 404 channel_not_found"),
        DeliveryRecord(dt.datetime(2025, 10, 29, 18, 0, 3), "fed_cut", "firing",
                       "ntfy://bubble-…", True),
        DeliveryRecord(dt.datetime(2025, 10, 20, 15, 30, 0), "ai_basket_5d_drop", "resolved",
                       "ntfy://bubble-…", True),
    )
    return Snapshot(
        as_of=end,
        generated_at=dt.datetime(2025, 10, 30, 14, 4, 12),
        indicators=indicators,
        drawdowns=drawdowns,
        events=(FedTargetChange(dt.date(2025, 10, 29), 3.75, 4.00, -0.25),),
        sources=sources,
        alerts=alerts,
        deliveries=deliveries,
        notices=tuple(notices),
        charts=charts,
    )


# --------------------------------------------------------------------------------------------
# Replay, 9 October 2002 (the Nasdaq's low)


def replay_snapshot(as_of: dt.date = REPLAY_AS_OF) -> Snapshot:
    start = dt.date(1996, 1, 2)
    days = _business_days(start, as_of)
    ixic = _path(days, [(start, 1_052.1), (dt.date(1998, 10, 8), 1_419.1),
                        (dt.date(2000, 3, 10), 5_048.62), (dt.date(2001, 4, 4), 1_638.8),
                        (dt.date(2002, 1, 4), 2_059.4), (dt.date(2002, 10, 9), 1_114.11)],
                 0.02, 3)
    ndx = _path(days, [(start, 576.2), (dt.date(1998, 10, 8), 1_128.0),
                       (dt.date(2000, 3, 27), 4_704.73), (dt.date(2001, 4, 4), 1_089.0),
                       (dt.date(2002, 1, 4), 1_675.0), (dt.date(2002, 10, 9), 804.64)], 0.02, 4)
    charts: dict[str, Series] = {}
    charts.update(_price_charts("^IXIC", days, ixic))
    charts.update(_price_charts("^NDX", days, ndx))
    drawdowns = {
        "^IXIC": _drawdown_from("^IXIC", charts, change_1d=-0.0304, change_5d=-0.0613),
        "^NDX": _drawdown_from("^NDX", charts, change_1d=-0.0357, change_5d=-0.0705),
    }
    target = [(days[0], 5.50), (dt.date(1996, 1, 31), 5.25), (dt.date(1997, 3, 25), 5.50),
              (dt.date(1998, 9, 29), 5.25), (dt.date(1998, 10, 15), 5.00),
              (dt.date(1998, 11, 17), 4.75), (dt.date(1999, 6, 30), 5.00),
              (dt.date(1999, 8, 24), 5.25), (dt.date(1999, 11, 16), 5.50),
              (dt.date(2000, 2, 2), 5.75), (dt.date(2000, 3, 21), 6.00),
              (dt.date(2000, 5, 16), 6.50), (dt.date(2001, 1, 3), 6.00),
              (dt.date(2001, 1, 31), 5.50), (dt.date(2001, 3, 20), 5.00),
              (dt.date(2001, 4, 18), 4.50), (dt.date(2001, 5, 15), 4.00),
              (dt.date(2001, 6, 27), 3.75), (dt.date(2001, 8, 21), 3.50),
              (dt.date(2001, 9, 17), 3.00), (dt.date(2001, 10, 2), 2.50),
              (dt.date(2001, 11, 6), 2.00), (dt.date(2001, 12, 11), 1.75)]
    charts["macro.DFEDTAR"] = _steps(days, target)
    charts["macro.DFF"] = _steps(days, [(d, v + 0.02) for d, v in target])
    months = [d for d in days if d.day <= 7 and d.weekday() == 0] or days
    charts["macro.BAA"] = (tuple(months), _path(
        months, [(months[0], 7.47), (dt.date(1998, 10, 5), 6.91), (dt.date(2000, 5, 1), 8.90),
                 (dt.date(2002, 10, 7), 7.31)], 0.01, 12))
    charts["macro.AAA"] = (tuple(months), _path(
        months, [(months[0], 6.81), (dt.date(1998, 10, 5), 6.10), (dt.date(2000, 5, 1), 7.99),
                 (dt.date(2002, 10, 7), 6.26)], 0.01, 13))
    missing = "not in the dot-com replay data"
    indicators = {
        spec.name: _indicator(spec.name, None, None, reason=missing) for spec in INDICATORS
    }
    indicators.update({
        "fed_funds_effective": _indicator("fed_funds_effective", 0.0177, as_of),
        "fed_target_upper": _indicator("fed_target_upper", 0.0175, as_of),
        "fed_last_change": _indicator("fed_last_change", -0.0050, dt.date(2001, 12, 11),
                                      extra={"date": dt.date(2001, 12, 11)}),
        "baa_yield": _indicator("baa_yield", 0.0731, dt.date(2002, 10, 1)),
        "baa_aaa_spread": _indicator("baa_aaa_spread", 0.0105, dt.date(2002, 10, 1)),
    })
    alerts = (
        AlertStatus("ixic_drawdown_20", "firing", "critical", "drawdown.^IXIC",
                    drawdowns["^IXIC"].drawdown, dt.datetime(2000, 4, 14, 21, 0),
                    "^IXIC more than 20% below its high"),
        AlertStatus("ndx_drawdown_10", "firing", "critical", "drawdown.^NDX",
                    drawdowns["^NDX"].drawdown, dt.datetime(2000, 4, 3, 21, 0),
                    "^NDX more than 10% below its high"),
    )
    return Snapshot(
        as_of=as_of,
        generated_at=FROZEN_NOW,
        indicators=indicators,
        drawdowns=drawdowns,
        events=(FedTargetChange(dt.date(2001, 12, 11), None, 1.75, -0.50),),
        sources={},
        alerts=alerts,
        charts=charts,
    )


def replay_mode(as_of: dt.date = REPLAY_AS_OF, paused: bool = False) -> ModeInfo:
    return ModeInfo("REPLAY", "dotcom x5 days/s", simulated_date=as_of, paused=paused)


# --------------------------------------------------------------------------------------------
# An empty store with unreachable sources


def empty_snapshot() -> Snapshot:
    indicators = {
        spec.name: _indicator(spec.name, None, None, reason="no data stored yet")
        for spec in INDICATORS
    }
    error = "ConnectError: [Errno -3] Temporary failure in name resolution"
    sources = {
        name: SourceHealth(name, None, dt.datetime(2025, 10, 30, 14, 4, 50), error, 2, True,
                           dt.datetime(2025, 10, 30, 14, 9, 50))
        for name in ("yahoo", "fred", "nyfed")
    }
    return Snapshot(
        as_of=FROZEN_NOW.date(),
        generated_at=FROZEN_NOW,
        indicators=indicators,
        drawdowns={},
        sources=sources,
    )


# --------------------------------------------------------------------------------------------
# The fake backend


class FakeBackend:
    """A MonitorBackend that serves frozen snapshots and records every call.

    `tick_delay` makes tick() sleep; `hang` makes it wait on an Event (set it to release);
    `concurrent` / `max_concurrent` count backend calls in flight, across all methods.
    """

    def __init__(
        self,
        snapshots: Snapshot | Sequence[Snapshot] | None = None,
        *,
        mode: ModeInfo | None = None,
        stored: Snapshot | None = None,
        next_tick: float = 3600.0,
        tick_delay: float = 0.0,
        hang: threading.Event | None = None,
        hang_seconds: float = 5.0,
        tick_error: Exception | None = None,
    ) -> None:
        if snapshots is None:
            snapshots = live_snapshot()
        self._snapshots = [snapshots] if isinstance(snapshots, Snapshot) else list(snapshots)
        self._mode = mode or ModeInfo("LIVE", "collector in this process")
        self._stored = stored
        self.next_tick = next_tick
        self.tick_delay = tick_delay
        self.hang = hang
        self.hang_seconds = hang_seconds
        self.tick_error = tick_error
        self.calls: list[tuple[Any, ...]] = []
        self.tick_count = 0
        self.silenced: list[tuple[str, dt.timedelta, str]] = []
        self.closed = False
        self.concurrent = 0
        self.max_concurrent = 0
        self._lock = threading.Lock()
        self._index = 0

    # bookkeeping
    def _enter(self, name: str, *args: Any) -> None:
        with self._lock:
            self.calls.append((name, *args))
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)

    def _leave(self) -> None:
        with self._lock:
            self.concurrent -= 1

    def _guarded(self, name: str, fn: Callable[[], Any], *args: Any) -> Any:
        self._enter(name, *args)
        try:
            return fn()
        finally:
            self._leave()

    def call_names(self) -> list[str]:
        return [call[0] for call in self.calls]

    # MonitorBackend
    def mode(self) -> ModeInfo:
        return self._guarded("mode", lambda: self._mode)

    def set_mode(self, mode: ModeInfo) -> None:
        self._mode = mode

    def snapshot(self) -> Snapshot:
        return self._guarded("snapshot", lambda: self._stored or self._snapshots[0])

    def tick(self) -> Snapshot:
        def run() -> Snapshot:
            if self.hang is not None:
                self.hang.wait(self.hang_seconds)
            if self.tick_delay:
                time.sleep(self.tick_delay)
            self.tick_count += 1
            if self.tick_error is not None:
                raise self.tick_error
            snapshot = self._snapshots[min(self._index, len(self._snapshots) - 1)]
            self._index += 1
            return snapshot

        return self._guarded("tick", run)

    def seconds_until_next_tick(self) -> float:
        return self._guarded("seconds_until_next_tick", lambda: self.next_tick)

    def silence(self, rule: str, duration: dt.timedelta, comment: str) -> None:
        def run() -> None:
            self.silenced.append((rule, duration, comment))

        self._guarded("silence", run, rule, duration, comment)

    def close(self) -> None:
        self.closed = True


class FakeReplayBackend(FakeBackend):
    """A replay backend: answers ReplayControls and steps its simulated date."""

    def __init__(self, snapshots: Snapshot | Sequence[Snapshot] | None = None, **kwargs: Any):
        kwargs.setdefault("mode", replay_mode())
        super().__init__(snapshots if snapshots is not None else replay_snapshot(), **kwargs)
        self.speed = 5.0
        self.paused = False

    def toggle_pause(self) -> bool:
        def run() -> bool:
            self.paused = not self.paused
            self._mode = replace(self._mode, paused=self.paused)
            return self.paused

        return self._guarded("toggle_pause", run)

    def step_day(self) -> None:
        def run() -> None:
            current = self._mode.simulated_date or REPLAY_AS_OF
            self._mode = replace(self._mode, simulated_date=current + dt.timedelta(days=1))

        self._guarded("step_day", run)

    def change_speed(self, factor: float) -> float:
        def run() -> float:
            self.speed *= factor
            self._mode = replace(self._mode, detail=f"dotcom x{self.speed:g} days/s")
            return self.speed

        return self._guarded("change_speed", run, factor)

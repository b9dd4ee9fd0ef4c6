"""The indicators bubble-monitor computes, with the article's reference values.

Row ids (A1, ...) are those of shared/reference/article-figures.md. Ratios and yields are fractions
(0.064 = 6.40 %), as `status --json` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    name: str
    label: str
    unit: str  # fraction | usd | usd_bn | percent_points
    reference: float | None
    source: str | None
    # How old the input may be (days) before the figure is shown as stale. Prices allow a long
    # weekend; GDP is quarterly and published a month after the quarter.
    stale_after_days: int


DOTCOM_SECTOR_TO_GDP = 0.0967  # A4: 402 internet companies, USD 996 bn, end 1999

INDICATORS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec("nvda_cap_to_gdp", "NVDA cap / US GDP", "fraction", 0.168, "A1", 5),
    IndicatorSpec("mag7_cap_to_gdp", "Mag-7 cap / US GDP", "fraction", 0.74, "A2", 5),
    IndicatorSpec("mag7_share_of_sp500", "Mag-7 share of S&P 500", "fraction", 0.37, "A3", 5),
    IndicatorSpec("mag7_market_cap", "Mag-7 market cap", "usd", 22_000e9, "A2", 5),
    IndicatorSpec("ai_basket_change_5d", "AI basket, 5 trading days", "fraction", -0.03, "A5", 5),
    IndicatorSpec(
        "ai_basket_change_5d_usd", "AI basket, 5 days, USD", "usd", -1_000e9, "A5", 5
    ),
    IndicatorSpec("fed_funds_effective", "Effective fed funds", "fraction", None, "A6", 7),
    IndicatorSpec("fed_target_upper", "Fed target, upper", "fraction", None, "A6", 7),
    IndicatorSpec("fed_target_lower", "Fed target, lower", "fraction", None, "A6", 7),
    IndicatorSpec("fed_last_change", "Last target change", "percent_points", -0.0025, "A6", 7),
    IndicatorSpec("treasury_10y", "10-year Treasury", "fraction", None, "A7", 7),
    IndicatorSpec("bbb_yield", "BBB effective yield", "fraction", 0.064, "A7", 7),
    IndicatorSpec("hy_yield", "High-yield effective yield", "fraction", 0.105, "A7", 7),
    IndicatorSpec("hy_spread", "High-yield spread (OAS)", "fraction", None, "A7", 7),
    IndicatorSpec("baa_yield", "Moody's Baa yield", "fraction", 0.0658, "A7", 62),
    IndicatorSpec("baa_aaa_spread", "Moody's Baa - Aaa spread", "fraction", None, "A7", 62),
    IndicatorSpec("gdp", "US nominal GDP (SAAR)", "usd_bn", 29_839.0, "A1", 240),
)

INDICATOR_NAMES: frozenset[str] = frozenset(spec.name for spec in INDICATORS)
SPECS: dict[str, IndicatorSpec] = {spec.name: spec for spec in INDICATORS}

# Per-symbol rule indicators: "drawdown.^NDX", "change_5d.NVDA", "change_1d.KRE".
SYMBOL_INDICATOR_KINDS: tuple[str, ...] = ("drawdown", "change_1d", "change_5d")

# Events notify once each: a change of the Fed's target (range), with its size.
EVENT_NAMES: frozenset[str] = frozenset({"event.fed_target_change"})


def is_known_indicator(name: str) -> bool:
    """True for a status key, an event, or KIND.SYMBOL with a known per-symbol kind."""
    if name in INDICATOR_NAMES or name in EVENT_NAMES:
        return True
    kind, dot, symbol = name.partition(".")
    return bool(dot) and kind in SYMBOL_INDICATOR_KINDS and bool(symbol.strip())

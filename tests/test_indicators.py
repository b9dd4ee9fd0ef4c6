"""The article's indicators on small hand-made worlds, checked against hand-computed figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bubble_core.config import Config, parse_config
from bubble_core.indicators import EVENT_WINDOW_DAYS, compute_indicators, drawdowns
from bubble_core.models import DailyBar, MacroObservation, MarketCapObservation, SharesObservation
from bubble_core.snapshot import FedTargetChange
from bubble_core.snapshots import snapshot_from_store
from bubble_core.store import Store
from bubble_core.transfer import import_csv

AS_OF = dt.date(2025, 10, 31)
BN = 1e9
# End-October 2025 caps in USD bn, summing to the article's 22,000 bn (A2).
MAG7_CAPS = {"AAPL": 4000, "MSFT": 3800, "GOOGL": 3400, "AMZN": 2600, "NVDA": 5000,
             "META": 1900, "TSLA": 1300}


def _mag7(write, skip: tuple[str, ...] = (), day: dt.date = AS_OF) -> None:
    bars, shares = [], []
    for symbol, cap in MAG7_CAPS.items():
        close = 200.0 if symbol == "NVDA" else 100.0
        bars.append(DailyBar(symbol, day, close))
        if symbol not in skip:
            # Shares known since the end of the quarter: ASOF-joined to the bar.
            shares.append(SharesObservation(symbol, dt.date(2025, 9, 30), cap * BN / close))
    write(daily_bars=bars, shares=shares)


def _indicators(store: Store, as_of: dt.date = AS_OF, config: Config | None = None):
    with store.reader() as con:
        return compute_indicators(con, config or Config(), as_of)


def _gdp(write, value: float = 29_839.0, day: dt.date = dt.date(2025, 7, 1)) -> None:
    write(macro=[MacroObservation("GDP", day, value)])


# -- A1, A2: caps over GDP ---------------------------------------------------------------------


def test_the_article_arithmetic_nvda_and_mag7_over_gdp(store: Store, write) -> None:
    _mag7(write)
    _gdp(write)
    values, events = _indicators(store)
    nvda = values["nvda_cap_to_gdp"]
    assert round(nvda.value, 4) == 0.1676  # 5,000 / 29,839: the article's "16.8 %"
    assert nvda.extra["market_cap"] == pytest.approx(5_000 * BN)
    assert nvda.extra["gdp_date"] == dt.date(2025, 7, 1)
    assert nvda.as_of == AS_OF
    assert nvda.reference == 0.168 and nvda.source == "A1"
    assert values["mag7_market_cap"].value == pytest.approx(22_000 * BN)
    assert values["mag7_market_cap"].extra["caps"]["TSLA"] == pytest.approx(1_300 * BN)
    assert round(values["mag7_cap_to_gdp"].value, 3) == 0.737  # the article's "74 %"
    assert values["gdp"].value == 29_839.0
    assert values["gdp"].as_of == dt.date(2025, 7, 1)
    assert not values["gdp"].stale  # quarterly: four months old is still current
    assert not nvda.stale
    assert events == []


def test_missing_gdp_gives_no_value_and_says_why(store: Store, write) -> None:
    _mag7(write)
    values, _ = _indicators(store)
    for name in ("gdp", "nvda_cap_to_gdp", "mag7_cap_to_gdp"):
        assert values[name].value is None
        assert values[name].reason == "no GDP observation"
        assert values[name].stale
    assert values["mag7_market_cap"].value == pytest.approx(22_000 * BN)


def test_missing_one_mag7_cap_names_the_symbol(store: Store, write) -> None:
    _mag7(write, skip=("TSLA",))
    _gdp(write)
    values, _ = _indicators(store)
    assert values["mag7_market_cap"].value is None
    assert values["mag7_market_cap"].reason == "no market cap for TSLA"
    assert values["mag7_cap_to_gdp"].reason == "no market cap for TSLA"
    assert values["mag7_share_of_sp500"].value is None
    assert values["nvda_cap_to_gdp"].value == pytest.approx(5_000 / 29_839)


def test_a_reported_cap_stands_in_for_missing_shares(store: Store, write) -> None:
    _mag7(write, skip=("TSLA",))
    _gdp(write)
    write(market_caps=[MarketCapObservation("TSLA", AS_OF, 1_300 * BN)])
    values, _ = _indicators(store)
    assert values["mag7_market_cap"].value == pytest.approx(22_000 * BN)


def test_shares_published_after_the_bar_are_not_used(store: Store, write) -> None:
    _mag7(write)
    _gdp(write)
    write(shares=[SharesObservation("NVDA", dt.date(2025, 11, 5), 1e15)])
    values, _ = _indicators(store)
    assert values["nvda_cap_to_gdp"].extra["market_cap"] == pytest.approx(5_000 * BN)


def test_gdp_is_the_latest_observation_at_or_before_as_of(store: Store, write) -> None:
    _gdp(write, 30_000.0, dt.date(2025, 4, 1))
    _gdp(write, 30_500.0, dt.date(2025, 7, 1))
    before, _ = _indicators(store, dt.date(2025, 6, 30))
    on, _ = _indicators(store, dt.date(2025, 7, 1))
    assert (before["gdp"].value, before["gdp"].as_of) == (30_000.0, dt.date(2025, 4, 1))
    assert (on["gdp"].value, on["gdp"].as_of) == (30_500.0, dt.date(2025, 7, 1))
    early, _ = _indicators(store, dt.date(2025, 3, 31))
    assert early["gdp"].value is None


# -- A3: share of the S&P 500 ---------------------------------------------------------------------


def test_mag7_share_with_a_reported_sp500_cap(store: Store, write) -> None:
    _mag7(write)
    write(daily_bars=[DailyBar("^GSPC", AS_OF, 6_840.0)],
          market_caps=[MarketCapObservation("^GSPC", AS_OF, 55_000 * BN)])
    share = _indicators(store)[0]["mag7_share_of_sp500"]
    assert share.value == pytest.approx(0.4)  # 22,000 / 55,000
    assert share.extra["method"] == "reported"
    assert share.extra["sp500_market_cap"] == pytest.approx(55_000 * BN)


def test_mag7_share_with_the_index_divisor(store: Store, write) -> None:
    _mag7(write)
    write(daily_bars=[DailyBar("^GSPC", AS_OF, 6_840.0)])
    share = _indicators(store)[0]["mag7_share_of_sp500"]
    # 6,840 points x 8.69 bn USD per point = 59,440 bn; 22,000 / 59,439.6 = 37.0 % (A3)
    assert share.value == pytest.approx(22_000 * BN / (6_840 * 8.69e9))
    assert round(share.value, 3) == 0.370
    assert share.extra["method"] == "index_level_x_divisor"
    custom = parse_config("[indicators]\nsp500_cap_per_point = 1e10\n")
    share = _indicators(store, config=custom)[0]["mag7_share_of_sp500"]
    assert share.value == pytest.approx(22_000 / 68_400)


def test_an_older_reported_sp500_cap_loses_to_a_newer_index_level(store: Store, write) -> None:
    _mag7(write)
    write(daily_bars=[DailyBar("^GSPC", AS_OF, 5_500.0)],
          market_caps=[MarketCapObservation("^GSPC", AS_OF - dt.timedelta(days=1), 1 * BN)])
    share = _indicators(store, config=parse_config(
        "[indicators]\nsp500_cap_per_point = 1e10\n"))[0]["mag7_share_of_sp500"]
    assert share.extra["method"] == "index_level_x_divisor"
    assert share.value == pytest.approx(0.4)


def test_no_sp500_at_all(store: Store, write) -> None:
    _mag7(write)
    share = _indicators(store)[0]["mag7_share_of_sp500"]
    assert share.value is None
    assert "^GSPC" in share.reason


# -- A5: the AI basket ---------------------------------------------------------------------------

DAYS = [dt.date(2025, 10, d) for d in (22, 23, 24, 27, 28, 29, 30, 31)]


def test_ai_basket_five_day_change_is_cap_weighted(store: Store, write) -> None:
    # As of 10-31 the start is five trading days back, 10-24 (the 1000 of 10-22 is older).
    # NVDA 8 bn shares, 100 -> 90: 800 -> 720 bn. AMD 4 bn shares, 50 -> 62.5: 200 -> 250 bn.
    # Basket 1,000 -> 970 bn: -3 % and -30 bn USD, the article's A5 figure at 1/33 scale.
    nvda = [1000.0, 97.0, 100.0, 99.0, 95.0, 96.0, 93.0, 90.0]
    amd = [1.0, 50.0, 50.0, 55.0, 60.0, 61.0, 61.0, 62.5]
    write(
        daily_bars=[DailyBar("NVDA", d, c) for d, c in zip(DAYS, nvda, strict=True)]
        + [DailyBar("AMD", d, c) for d, c in zip(DAYS, amd, strict=True)]
        + [DailyBar("ORCL", d, 200.0) for d in DAYS[-3:]],
        shares=[SharesObservation("NVDA", DAYS[0], 8e9), SharesObservation("AMD", DAYS[0], 4e9),
                SharesObservation("ORCL", DAYS[0], 3e9)],
    )
    config = parse_config('[watch]\nai_basket = ["NVDA", "AMD", "ORCL", "CRWV"]\n')
    values, _ = _indicators(store, config=config)
    pct, usd = values["ai_basket_change_5d"], values["ai_basket_change_5d_usd"]
    assert pct.value == pytest.approx(-0.03)
    assert usd.value == pytest.approx(-30 * BN)
    assert pct.extra == {"members": ["AMD", "NVDA"], "missing": ["CRWV", "ORCL"]}
    assert pct.as_of == AS_OF
    # One trading day earlier: NVDA 97 -> 93 (776 -> 744), AMD 50 -> 61 (200 -> 244): +1.2 %.
    earlier, _ = _indicators(store, DAYS[-2], config)
    assert earlier["ai_basket_change_5d"].value == pytest.approx(12 / 1000 * 1000 / 976)
    assert earlier["ai_basket_change_5d_usd"].value == pytest.approx(12 * BN)


def test_ai_basket_without_history(store: Store, write) -> None:
    _mag7(write)
    values, _ = _indicators(store)
    assert values["ai_basket_change_5d"].value is None
    assert "5-day" in values["ai_basket_change_5d"].reason


# -- A6, A7: the Fed and credit -----------------------------------------------------------------

TARGET = [  # (date, upper, lower), daily as FRED publishes it
    (dt.date(2025, 9, 16), 4.50, 4.25),
    (dt.date(2025, 9, 17), 4.25, 4.00),
    (dt.date(2025, 10, 28), 4.25, 4.00),
    (dt.date(2025, 10, 29), 4.00, 3.75),
    (dt.date(2025, 10, 30), 4.00, 3.75),
]


def _fed(write) -> None:
    write(macro=[MacroObservation("DFEDTARU", d, u) for d, u, _ in TARGET]
          + [MacroObservation("DFEDTARL", d, low) for d, _, low in TARGET]
          + [MacroObservation("DFF", dt.date(2025, 10, 30), 3.87)])


def test_fed_target_change_size_and_date(store: Store, write) -> None:
    _fed(write)
    values, events = _indicators(store)
    change = values["fed_last_change"]
    assert change.value == pytest.approx(-0.0025)  # 0.25 point, as a fraction
    assert change.extra == {"date": dt.date(2025, 10, 29), "series": "DFEDTARU"}
    assert change.as_of == dt.date(2025, 10, 29)
    assert not change.stale
    assert events == [FedTargetChange(dt.date(2025, 10, 29), 3.75, 4.00, pytest.approx(-0.25))]
    assert values["fed_target_upper"].value == pytest.approx(0.04)
    assert values["fed_target_lower"].value == pytest.approx(0.0375)
    assert values["fed_funds_effective"].value == pytest.approx(0.0387)
    assert values["fed_funds_effective"].extra == {"series": "DFF"}


def test_fed_change_is_an_event_only_within_the_window(store: Store, write) -> None:
    _fed(write)
    change_day = dt.date(2025, 10, 29)
    for days, fresh in ((0, True), (EVENT_WINDOW_DAYS - 1, True), (EVENT_WINDOW_DAYS, False),
                        (30, False)):
        values, events = _indicators(store, change_day + dt.timedelta(days=days))
        assert [e.date for e in events] == ([change_day] if fresh else []), days
        assert values["fed_last_change"].extra["date"] == change_day
    # The day before the cut: the September cut is the last change, and no event.
    values, events = _indicators(store, dt.date(2025, 10, 28))
    assert events == []
    assert values["fed_last_change"].extra["date"] == dt.date(2025, 9, 17)
    assert values["fed_last_change"].value == pytest.approx(-0.0025)
    assert values["fed_target_upper"].value == pytest.approx(0.0425)


def test_no_target_history(store: Store, write) -> None:
    write(macro=[MacroObservation("DFEDTARU", dt.date(2025, 10, 30), 4.0)])
    values, events = _indicators(store)
    assert values["fed_last_change"].value is None
    assert "no change" in values["fed_last_change"].reason
    assert events == []


def test_credit_and_rates_are_fractions(store: Store, write) -> None:
    day = dt.date(2025, 10, 30)
    write(macro=[MacroObservation(s, day, v) for s, v in (
        ("BAMLC0A4CBBBEY", 6.40), ("BAMLH0A0HYM2EY", 10.5), ("BAMLH0A0HYM2", 2.95),
        ("DGS10", 4.08), ("BAA", 6.58), ("AAA", 5.30))])
    values, _ = _indicators(store)
    assert values["bbb_yield"].value == pytest.approx(0.064)  # Oracle/OpenAI's 6.40 % (A7)
    assert values["hy_yield"].value == pytest.approx(0.105)  # xAI's 10.5 % (A7)
    assert values["hy_spread"].value == pytest.approx(0.0295)
    assert values["treasury_10y"].value == pytest.approx(0.0408)
    assert values["baa_yield"].value == pytest.approx(0.0658)
    assert values["baa_aaa_spread"].value == pytest.approx(0.0128)
    assert values["bbb_yield"].as_of == day and not values["bbb_yield"].stale
    stale, _ = _indicators(store, day + dt.timedelta(days=8))
    assert stale["bbb_yield"].stale and stale["bbb_yield"].value == pytest.approx(0.064)
    assert values["fed_funds_effective"].value is None
    assert values["fed_funds_effective"].reason == "no DFF or EFFR observation"


# -- A8 to A10: drawdowns -------------------------------------------------------------------------

SERIES = [  # a hand-made series with gaps (weekends), a tie at the high and a tie at the low
    (dt.date(2025, 1, 2), 100.0),
    (dt.date(2025, 1, 3), 120.0),  # the high, first reached
    (dt.date(2025, 1, 6), 90.0),
    (dt.date(2025, 1, 7), 120.0),  # the same high again: the peak date stays 01-03
    (dt.date(2025, 1, 8), 60.0),  # -50 %: the trough
    (dt.date(2025, 1, 9), 110.0),
    (dt.date(2025, 1, 10), 60.0),  # -50 % again: the earlier trough counts
    (dt.date(2025, 1, 13), 80.0),
]


def _series(write, extra: list[tuple[dt.date, float]] = ()) -> None:  # type: ignore[assignment]
    write(daily_bars=[DailyBar("^NDX", d, c) for d, c in [*SERIES, *extra]])


def _drawdown(store: Store, as_of: dt.date):
    with store.reader() as con:
        return drawdowns(con, as_of)["^NDX"]


def test_drawdown_figures_of_a_hand_made_series(store: Store, write) -> None:
    _series(write)
    dd = _drawdown(store, dt.date(2025, 1, 13))
    assert (dd.last_date, dd.last) == (dt.date(2025, 1, 13), 80.0)
    assert (dd.peak_date, dd.peak) == (dt.date(2025, 1, 3), 120.0)
    assert dd.drawdown == pytest.approx(80 / 120 - 1)
    assert dd.days_since_peak == 10
    assert dd.max_drawdown == pytest.approx(-0.5)
    assert dd.max_drawdown_peak_date == dt.date(2025, 1, 3)
    assert dd.max_drawdown_trough_date == dt.date(2025, 1, 8)
    assert dd.recovery_date is None  # 120 never regained
    assert dd.change_1d == pytest.approx(80 / 60 - 1)
    assert dd.change_5d == pytest.approx(80 / 90 - 1)  # five bars back: 01-06
    assert not dd.stale


def test_drawdown_as_of_mid_series_and_recovery(store: Store, write) -> None:
    _series(write)
    dd = _drawdown(store, dt.date(2025, 1, 7))
    assert (dd.last, dd.drawdown, dd.peak_date, dd.days_since_peak) == (
        120.0, 0.0, dt.date(2025, 1, 3), 4)
    assert dd.max_drawdown == pytest.approx(-0.25)
    assert dd.max_drawdown_trough_date == dt.date(2025, 1, 6)
    assert dd.recovery_date == dt.date(2025, 1, 7)  # back to the old high counts
    assert dd.change_5d is None  # only four bars before
    first = _drawdown(store, dt.date(2025, 1, 2))
    assert (first.drawdown, first.max_drawdown, first.change_1d) == (0.0, 0.0, None)
    assert first.max_drawdown_trough_date is None and first.recovery_date is None


def test_regaining_the_old_high_sets_the_recovery_date(store: Store, write) -> None:
    _series(write, [(dt.date(2025, 1, 14), 120.0), (dt.date(2025, 1, 15), 125.0)])
    dd = _drawdown(store, dt.date(2025, 1, 14))
    assert dd.recovery_date == dt.date(2025, 1, 14)
    assert dd.peak_date == dt.date(2025, 1, 3) and dd.days_since_peak == 11
    later = _drawdown(store, dt.date(2025, 1, 20))
    assert (later.peak_date, later.peak, later.days_since_peak) == (dt.date(2025, 1, 15), 125.0, 0)
    assert later.max_drawdown_trough_date == dt.date(2025, 1, 8)
    assert later.recovery_date == dt.date(2025, 1, 14)
    assert later.stale is False
    assert _drawdown(store, dt.date(2025, 1, 21)).stale  # 6 days without a bar


def test_no_drawdown_for_a_symbol_without_bars_yet(store: Store, write) -> None:
    _series(write)
    with store.reader() as con:
        assert drawdowns(con, dt.date(2025, 1, 1)) == {}


# -- no look-ahead ---------------------------------------------------------------------------------


def _world(write) -> None:
    _mag7(write)
    _gdp(write)
    _fed(write)
    _series(write)
    write(daily_bars=[DailyBar("^GSPC", AS_OF, 6_840.0)],
          macro=[MacroObservation("BAMLC0A4CBBBEY", dt.date(2025, 10, 30), 6.4)])


def _later(write) -> None:
    """Absurd values dated after AS_OF: any of them leaking in would change a figure."""
    later = dt.date(2025, 11, 3)
    write(
        daily_bars=[DailyBar(s, later, 1e6) for s in [*MAG7_CAPS, "^GSPC", "^NDX"]],
        shares=[SharesObservation(s, dt.date(2025, 11, 1), 1e15) for s in MAG7_CAPS],
        market_caps=[MarketCapObservation("^GSPC", later, 1.0)],
        macro=[MacroObservation("GDP", dt.date(2025, 11, 1), 1.0),
               MacroObservation("DFEDTARU", later, 9.0), MacroObservation("DFEDTARL", later, 8.0),
               MacroObservation("DFF", later, 99.0),
               MacroObservation("BAMLC0A4CBBBEY", later, 99.0)],
    )


def test_as_of_never_reads_later_data(store: Store, write) -> None:
    _world(write)
    config = Config()
    now = dt.datetime(2025, 11, 10, 12)
    before = snapshot_from_store(store, config, AS_OF, now, with_charts=True)
    _later(write)
    after = snapshot_from_store(store, config, AS_OF, now, with_charts=True)
    assert after.indicators == before.indicators
    assert after.drawdowns == before.drawdowns
    assert after.events == before.events
    assert after.charts == before.charts
    assert before.indicators["nvda_cap_to_gdp"].value == pytest.approx(5_000 / 29_839)
    # ...and the later rows are really there: a later as_of sees them.
    seen = snapshot_from_store(store, config, dt.date(2025, 11, 3), now, with_charts=False)
    assert seen.indicators["gdp"].value == 1.0
    assert seen.drawdowns["^NDX"].last == 1e6
    assert seen.indicators["fed_target_upper"].value == pytest.approx(0.09)


def test_imported_csvs_feed_the_indicators(store: Store, tmp_path: Path) -> None:
    prices = tmp_path / "nvda.csv"
    prices.write_text("Date,Close,shares\n2025-10-30,190,25000000000\n2025-10-31,200,.\n")
    gdp = tmp_path / "GDP.csv"
    gdp.write_text("observation_date,GDP\n2025-04-01,29500\n2025-07-01,29839\n")
    import_csv(store, prices, symbol="NVDA")
    import_csv(store, gdp, series="GDP")
    values, _ = _indicators(store)
    assert round(values["nvda_cap_to_gdp"].value, 4) == 0.1676
    assert values["nvda_cap_to_gdp"].as_of == AS_OF


def test_an_empty_mag7_list_does_not_crash(store: Store, write) -> None:
    _mag7(write)
    _gdp(write)
    config = parse_config("[watch]\nmag7 = []\n")
    values, _ = _indicators(store, config=config)
    assert values["mag7_market_cap"].value is None
    assert values["mag7_market_cap"].reason
    assert values["nvda_cap_to_gdp"].value == pytest.approx(5_000 / 29_839)


def test_nvda_over_gdp_does_not_depend_on_the_mag7_list(store: Store, write) -> None:
    _mag7(write)
    _gdp(write)
    values, _ = _indicators(store, config=parse_config('[watch]\nmag7 = ["AAPL", "MSFT"]\n'))
    assert values["nvda_cap_to_gdp"].value == pytest.approx(5_000 / 29_839)
    assert values["mag7_market_cap"].value == pytest.approx(7_800 * BN)

"""The TUI's pure helpers: number and age formats, time zones, sparklines, chart axes."""

from __future__ import annotations

import datetime as dt

from rich.text import Text

from widgets.cap_bars import bar
from widgets.charting import (
    date_ticks,
    downsample,
    from_year_fraction,
    nice_ticks,
    step_points,
    year_fraction,
)
from widgets.formatting import (
    DASH,
    TimeContext,
    age,
    age_days,
    change_since,
    clock_time,
    compact_number,
    pct,
    pp,
    price,
    signed_pct,
    sparkline,
    usd,
)
from widgets.table_sync import signature


def test_percent_formats():
    assert pct(0.16857) == "16.86%"
    assert pct(0.0967) == "9.67%"
    assert pct(0.74, 1) == "74.0%"
    assert pct(None) == DASH
    assert pct(float("nan")) == DASH
    assert signed_pct(-0.7793) == "-77.93%"
    assert signed_pct(0.0299) == "+2.99%"
    assert pp(-0.0025) == "-0.25 pp"


def test_money_and_prices():
    assert usd(5.03e12) == "5.03 T$"
    assert usd(22.15e12) == "22.1 T$"
    assert usd(950e9) == "950 B$"
    assert usd(-1.1e12) == "-1.10 T$"
    assert price(26012.16) == "26,012"
    assert price(1114.11) == "1,114.1"
    assert price(207.04) == "207.04"
    assert compact_number(26000) == "26k"
    assert compact_number(2500) == "2.5k"
    assert compact_number(4.25) == "4.25"


def test_ages():
    assert age(dt.timedelta(seconds=45)) == "45s"
    assert age(dt.timedelta(minutes=12)) == "12m"
    assert age(dt.timedelta(hours=2)) == "2h"
    assert age(dt.timedelta(days=3)) == "3d"
    assert age(dt.timedelta(days=400)) == "13mo"
    assert age(dt.timedelta(days=1000)) == "2y"
    assert age(None) == DASH
    assert age_days(dt.date(2025, 10, 20), dt.date(2025, 10, 29)) == "9d"


def test_clock_time_in_the_display_zone():
    naive = TimeContext.from_clock(dt.datetime(2025, 10, 30, 14, 5))
    assert naive.tz is None
    assert clock_time(dt.datetime(2025, 10, 30, 9, 0), naive) == "09:00"
    assert clock_time(dt.datetime(2025, 10, 29, 20, 1), naive) == "10-29 20:01"
    assert clock_time(dt.datetime(2000, 4, 14, 21, 0), naive) == "2000-04-14"
    paris = dt.timezone(dt.timedelta(hours=1))
    aware = TimeContext.from_clock(dt.datetime(2025, 10, 30, 15, 5, tzinfo=paris))
    assert aware.now == dt.datetime(2025, 10, 30, 14, 5)
    # naive snapshot timestamps are UTC; shown in the clock's zone
    assert clock_time(dt.datetime(2025, 10, 30, 9, 0), aware) == "10:00"


def test_sparkline_and_change():
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
    assert len(sparkline(list(range(100)), 10)) == 10
    assert sparkline([], 8) == ""
    assert sparkline([2, 2, 2], 8) == "▄▄▄"
    days = [dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(60)]
    values = [i / 100 for i in range(60)]
    assert round(change_since(days, values, 30), 4) == 0.30


def test_bars():
    assert bar(1.0, 4) == "████"
    assert bar(0.5, 4) == "██"
    assert bar(0.0, 4) == ""
    assert bar(0.3, 4) == "█▎"  # 9.6 eighths, rounded to 10


def test_downsample_keeps_extremes_and_the_last_point():
    xs = list(range(1000))
    ys = [0.0] * 1000
    ys[500] = -77.9
    ys[-1] = 1.0
    out_x, out_y = downsample(xs, ys, 50)
    assert len(out_x) <= 101
    assert -77.9 in out_y
    assert out_x[-1] == 999 and out_y[-1] == 1.0


def test_step_points():
    xs, ys = step_points([1, 2, 3, 4], [5.5, 5.5, 5.0, 5.0])
    assert list(zip(xs, ys, strict=True)) == [(1, 5.5), (3, 5.5), (3, 5.0), (4, 5.0)]


def test_axes():
    assert from_year_fraction(year_fraction(dt.date(2002, 10, 9))) == dt.date(2002, 10, 9)
    ticks, labels = date_ticks(1996.0, 2002.8, 70)
    assert labels[0] in ("1996", "1997") and all(len(label) == 4 for label in labels)
    ticks, labels = date_ticks(2024.4, 2025.83, 70)
    assert all(len(label) == 7 for label in labels)  # 2025-04
    ticks, labels = nice_ticks(0, 80, 4, lambda v: f"{v:.0f}%")
    assert labels == ["0%", "20%", "40%", "60%", "80%"]


def test_cell_signature_sees_the_style():
    assert signature(Text("1", style="red")) != signature(Text("1", style="green"))
    assert signature(Text("1", style="red")) == signature(Text("1", style="red"))

"""Pure helpers for the plotext charts: date axes, downsampling, step series, nice ticks.

Charts plot dates as fractional years (2025.83), so plotext never parses date strings, and
label the axis with our own ticks. Long series are reduced to about two points per column,
keeping each bucket's extremes so a crash's trough survives the reduction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence


def year_fraction(day: dt.date) -> float:
    start = dt.date(day.year, 1, 1)
    length = (dt.date(day.year + 1, 1, 1) - start).days
    return day.year + (day - start).days / length


def from_year_fraction(value: float) -> dt.date:
    year = int(math.floor(value))
    start = dt.date(year, 1, 1)
    length = (dt.date(year + 1, 1, 1) - start).days
    return start + dt.timedelta(days=int(round((value - year) * length)))


def downsample(xs: Sequence[float], ys: Sequence[float],
               buckets: int) -> tuple[list[float], list[float]]:
    """At most 2 * buckets points: each bucket's minimum and maximum, in x order."""
    n = len(xs)
    if n <= buckets * 2 or buckets <= 0:
        return list(xs), list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    step = n / buckets
    for b in range(buckets):
        lo = int(b * step)
        hi = max(int((b + 1) * step), lo + 1)
        chunk = range(lo, min(hi, n))
        i_min = min(chunk, key=ys.__getitem__)
        i_max = max(chunk, key=ys.__getitem__)
        for i in sorted({i_min, i_max}):
            out_x.append(xs[i])
            out_y.append(ys[i])
    # Keep the very last point exactly: it is the value the tables show.
    if out_x[-1] != xs[-1]:
        out_x.append(xs[-1])
        out_y.append(ys[-1])
    return out_x, out_y


def step_points(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    """A step line through the change points only: (x, old) then (x, new) at each change."""
    if not xs:
        return [], []
    out_x = [xs[0]]
    out_y = [ys[0]]
    for i in range(1, len(xs)):
        if ys[i] != ys[i - 1]:
            out_x += [xs[i], xs[i]]
            out_y += [ys[i - 1], ys[i]]
    if out_x[-1] != xs[-1]:
        out_x.append(xs[-1])
        out_y.append(ys[-1])
    return out_x, out_y


def nice_step(span: float, count: int) -> float:
    if span <= 0 or count <= 0:
        return 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def nice_ticks(low: float, high: float, count: int,
               fmt: Callable[[float], str]) -> tuple[list[float], list[str]]:
    """About `count` round values between low and high, with their labels."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [], []
    if high <= low:
        return [low], [fmt(low)]
    step = nice_step(high - low, max(count, 1))
    first = math.ceil(low / step) * step
    ticks: list[float] = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks, [fmt(t) for t in ticks]


def date_ticks(low: float, high: float, width: int) -> tuple[list[float], list[str]]:
    """Ticks on a fractional-year axis, labelled "2000" or "2025-04", about 12 columns apart."""
    span = high - low
    if span <= 0:
        return [low], [str(from_year_fraction(low))]
    slots = max(width // 12, 2)
    if span / slots >= 0.9:
        step = max(1, int(nice_step(span, slots)))
        first = math.ceil(low)
        ticks = [float(y) for y in range(first, int(high) + 1) if (y - first) % step == 0]
        return ticks, [str(int(t)) for t in ticks]
    months_total = span * 12
    month_step = next((m for m in (1, 2, 3, 4, 6, 12) if months_total / m <= slots), 12)
    start = from_year_fraction(low)
    year, month = start.year, start.month
    ticks, labels = [], []
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if (month - 1) % month_step:
            continue
        value = year_fraction(dt.date(year, month, 1))
        if value > high:
            break
        ticks.append(value)
        labels.append(f"{year}-{month:02d}")
    return ticks, labels

"""RateChart: the effective fed funds rate and the Fed's target (range) as a step chart.

Uses DFEDTARU / DFEDTARL (the range, since Dec 2008) or DFEDTAR (the single target before),
and EFFR or DFF for the effective rate; the last `years` years of what is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from widgets.charting import date_ticks, downsample, nice_ticks, step_points, year_fraction
from widgets.formatting import TimeContext
from widgets.plot_base import SnapshotPlot
from widgets.price_chart import window

if TYPE_CHECKING:
    from bubble_core.snapshot import Series, Snapshot


class RateChart(SnapshotPlot):
    PLACEHOLDER = "loading rates…"

    def __init__(self, *, years: float = 8.0, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.years = years

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        charts = snapshot.charts
        effective = charts.get("macro.EFFR") or charts.get("macro.DFF")
        upper = charts.get("macro.DFEDTARU")
        lower = charts.get("macro.DFEDTARL")
        single = charts.get("macro.DFEDTAR")
        lines: list[tuple[str, str, Series, bool]] = []
        if single:
            lines.append(("target", "accent", single, True))
        if upper:
            lines.append(("target range", "accent", upper, True))
        if lower:
            lines.append(("target range", "accent", lower, True))
        if effective:
            lines.append(("effective", "primary", effective, False))
        lines = [line for line in lines if len(line[2][0]) > 1]
        if not lines:
            self.set_data(None, placeholder="no fed funds history stored yet")
            return
        last = max(line[2][0][-1] for line in lines)
        start = last - dt.timedelta(days=int(self.years * 365.25))
        self.set_data(tuple((label, color, window(series, start), step)
                            for label, color, series, step in lines))

    def legend(self) -> list[tuple[str, str]]:
        entries = [(label, color) for label, color, _series, _step in self.data]
        return list(dict.fromkeys(entries))

    def draw(self, plt: Any, width: int, height: int) -> None:
        buckets = max(width - 8, 10)
        low, high = float("inf"), float("-inf")
        x_low, x_high = float("inf"), float("-inf")
        for _label, color, (dates, values), step in self.data:
            if len(dates) < 2:
                continue
            xs = [year_fraction(d) for d in dates]
            if step:
                xs, ys = step_points(xs, list(values))
            else:
                xs, ys = downsample(xs, list(values), buckets)
            plt.plot(xs, ys, marker="braille", color=self.color(color))
            low, high = min(low, *ys), max(high, *ys)
            x_low, x_high = min(x_low, xs[0]), max(x_high, xs[-1])
        pad = max((high - low) * 0.08, 0.1)
        low, high = max(low - pad, 0.0), high + pad
        plt.ylim(low, high)
        ticks, labels = nice_ticks(low, high, max(height // 3, 2), lambda v: f"{v:.2f}%")
        plt.yticks(ticks, [f"{label:>6}" for label in labels])
        xt, xl = date_ticks(x_low, x_high, width - 8)
        plt.xticks(xt, xl)
        plt.xlim(x_low, x_high)
        plt.xaxes(True, False)
        plt.yaxes(True, False)

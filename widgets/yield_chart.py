"""YieldChart: 10-year Treasury, BBB, high-yield and Moody's Baa yields, with the article's
6.40 / 6.58 / 10.5 % borrowing rates as horizontal lines (shown on wide screens)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from widgets.charting import date_ticks, downsample, nice_ticks, year_fraction
from widgets.formatting import TimeContext
from widgets.plot_base import SnapshotPlot
from widgets.price_chart import window

SERIES = (
    ("macro.DGS10", "10y", "primary"),
    ("macro.BAMLC0A4CBBBEY", "BBB", "accent"),
    ("macro.BAA", "Baa", "success"),
    ("macro.BAMLH0A0HYM2EY", "HY", "error"),
)

if TYPE_CHECKING:
    from bubble_core.snapshot import Snapshot

ARTICLE = ((6.40, "accent"), (6.58, "success"), (10.5, "error"))


class YieldChart(SnapshotPlot):
    PLACEHOLDER = "loading yields…"

    def __init__(self, *, years: float = 8.0, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.years = years

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        found = [(label, color, snapshot.charts[key]) for key, label, color in SERIES
                 if len(snapshot.charts.get(key, ((), ()))[0]) > 1]
        if not found:
            self.set_data(None, placeholder="no yield history stored yet")
            return
        last = max(series[0][-1] for _, _, series in found)
        start = last - dt.timedelta(days=int(self.years * 365.25))
        self.set_data(tuple((label, color, window(series, start))
                            for label, color, series in found))

    def legend(self) -> list[tuple[str, str]]:
        entries = [(label, color) for label, color, _ in self.data]
        return [*entries, ("article: BBB 6.40, Baa 6.58, HY 10.5%", "dashed:foreground-muted")]

    def draw(self, plt: Any, width: int, height: int) -> None:
        buckets = max(width - 8, 10)
        low, high = float("inf"), float("-inf")
        x_low, x_high = float("inf"), float("-inf")
        for _label, color, (dates, values) in self.data:
            if len(dates) < 2:
                continue
            xs, ys = downsample([year_fraction(d) for d in dates], list(values), buckets)
            plt.plot(xs, ys, marker="braille", color=self.color(color))
            low, high = min(low, *ys), max(high, *ys)
            x_low, x_high = min(x_low, xs[0]), max(x_high, xs[-1])
        for level, color in ARTICLE:
            plt.hline(level, self.color(color))
        low = max(min(low, 6.4) - 1.0, 0.0)
        high = max(high, 10.5)
        plt.ylim(low, high + 0.5)
        ticks, labels = nice_ticks(low, high, max(height // 3, 2), lambda v: f"{v:.0f}%")
        plt.yticks(ticks, [f"{label:>6}" for label in labels])
        xt, xl = date_ticks(x_low, x_high, width - 8)
        plt.xticks(xt, xl)
        plt.xlim(x_low, x_high)
        plt.xaxes(True, False)
        plt.yaxes(True, False)

"""RatioChart: the history of the three concentration ratios, in percent, with the 1999
dot-com benchmark (9.67 % of GDP) as a horizontal line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bubble_core.indicator_catalog import DOTCOM_SECTOR_TO_GDP
from widgets.charting import date_ticks, downsample, nice_ticks, year_fraction
from widgets.formatting import TimeContext
from widgets.plot_base import SnapshotPlot

SERIES = (
    ("nvda_cap_to_gdp", "NVDA/GDP", "accent"),
    ("mag7_cap_to_gdp", "Mag-7/GDP", "primary"),
    ("mag7_share_of_sp500", "Mag-7/S&P", "success"),
)

if TYPE_CHECKING:
    from bubble_core.snapshot import Snapshot


class RatioChart(SnapshotPlot):
    PLACEHOLDER = "loading the ratios' history…"

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        data = tuple(
            (label, color, snapshot.charts[f"ratio.{name}"])
            for name, label, color in SERIES
            if len(snapshot.charts.get(f"ratio.{name}", ((), ()))[0]) > 1
        )
        self.set_data(data or None, placeholder="no ratio history stored yet")

    def legend(self) -> list[tuple[str, str]]:
        entries = [(label, color) for label, color, _ in self.data]
        return [*entries, (f"1999 sector {DOTCOM_SECTOR_TO_GDP:.2%}", "error")]

    def draw(self, plt: Any, width: int, height: int) -> None:
        buckets = max(width - 8, 10)
        low, high = float("inf"), float("-inf")
        x_low, x_high = float("inf"), float("-inf")
        for _label, color, (dates, values) in self.data:
            xs = [year_fraction(d) for d in dates]
            ys = [v * 100 for v in values]
            xs, ys = downsample(xs, ys, buckets)
            plt.plot(xs, ys, marker="braille", color=self.color(color))
            low, high = min(low, *ys), max(high, *ys)
            x_low, x_high = min(x_low, xs[0]), max(x_high, xs[-1])
        bench = DOTCOM_SECTOR_TO_GDP * 100
        plt.hline(bench, self.color("error"))
        x_low = min(x_low, x_high - 0.05)
        low, high = min(low, bench, 0.0), max(high, bench)
        plt.ylim(low, high * 1.05)
        ticks, labels = nice_ticks(low, high, max(height // 3, 2), lambda v: f"{v:.0f}%")
        plt.yticks(ticks, [f"{label:>4}" for label in labels])
        xt, xl = date_ticks(x_low, x_high, width - 6)
        plt.xticks(xt, xl)
        plt.xlim(x_low, x_high)
        plt.xaxes(True, False)
        plt.yaxes(True, False)

"""PriceChart: one symbol's close with its all-time-high line, and the drawdown beneath.

The symbol is chosen by the app (the row selected in the watch table, ^NDX by default).
History is cut to the last `years` years and reduced to about two points per column.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from widgets.charting import date_ticks, downsample, nice_ticks, year_fraction
from widgets.formatting import TimeContext, compact_number
from widgets.plot_base import SnapshotPlot

if TYPE_CHECKING:
    from bubble_core.snapshot import Series, Snapshot


def window(series: Series, start: dt.date | None) -> Series:
    dates, values = series
    if start is None or not dates or dates[0] >= start:
        return series
    index = next((i for i, d in enumerate(dates) if d >= start), len(dates))
    return dates[index:], values[index:]


class PriceChart(SnapshotPlot):
    PLACEHOLDER = "loading prices…"
    MIN_HEIGHT = 5
    DRAWDOWN_MIN_HEIGHT = 10

    def __init__(self, symbol: str = "^NDX", *, years: float = 8.0, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.symbol = symbol
        self.years = years
        self._charts: dict[str, Series] = {}

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        self._charts = snapshot.charts
        self._select()

    def show_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            self.symbol = symbol
            self._select()

    def _select(self) -> None:
        close = self._charts.get(f"close.{self.symbol}")
        if not close or len(close[0]) < 2:
            self.set_data(None, placeholder=f"no price history for {self.symbol}")
            return
        start = close[0][-1] - dt.timedelta(days=int(self.years * 365.25))
        peak = self._charts.get(f"peak.{self.symbol}")
        drawdown = self._charts.get(f"drawdown.{self.symbol}")
        self.set_data((
            self.symbol,
            window(close, start),
            window(peak, start) if peak else None,
            window(drawdown, start) if drawdown else None,
        ))

    def legend(self) -> list[tuple[str, str]]:
        symbol, _close, peak, drawdown = self.data
        entries = [(f"{symbol} close", "primary")]
        if peak is not None:
            entries.append(("all-time high", "accent"))
        if drawdown is not None and self.size.height - 1 >= self.DRAWDOWN_MIN_HEIGHT:
            entries.append(("drawdown from the high (below)", "error"))
        return entries

    def draw(self, plt: Any, width: int, height: int) -> None:
        symbol, close, peak, drawdown = self.data
        with_drawdown = drawdown is not None and height >= self.DRAWDOWN_MIN_HEIGHT
        buckets = max(width - 8, 10)
        xs = [year_fraction(d) for d in close[0]]
        xt, xl = date_ticks(xs[0], xs[-1], width - 8)
        label_width = 6
        if with_drawdown:
            plt.subplots(2, 1)
            top = plt.subplot(1, 1)
            dd_height = max(min(height // 3, 9), 4)
            top.plotsize(width, height - dd_height)
            bottom = plt.subplot(2, 1)
            bottom.plotsize(width, dd_height)
        else:
            top = plt
        x1, y1 = downsample(xs, close[1], buckets)
        top.plot(x1, y1, marker="braille", color=self.color("primary"))
        low, high = min(y1), max(y1)
        if peak is not None:
            px = [year_fraction(d) for d in peak[0]]
            x2, y2 = downsample(px, peak[1], buckets)
            top.plot(x2, y2, marker="braille", color=self.color("accent"))
            high = max(high, *y2)
        ticks, labels = nice_ticks(low, high, max((height - 4) // 3, 2), compact_number)
        top.yticks(ticks, [f"{label:>{label_width}}" for label in labels])
        top.xlim(xs[0], xs[-1])
        top.xaxes(True, False)
        top.yaxes(True, False)
        if not with_drawdown:
            top.xticks(xt, xl)
            return
        top.xticks([])
        dx = [year_fraction(d) for d in drawdown[0]]
        x3, y3 = downsample(dx, [v * 100 for v in drawdown[1]], buckets)
        bottom.plot(x3, y3, marker="braille", color=self.color("error"), fillx=True)
        deepest = min(min(y3), -1.0)
        ticks, labels = nice_ticks(deepest, 0.0, 2, lambda v: f"{v:.0f}%")
        bottom.yticks(ticks, [f"{label:>{label_width}}" for label in labels])
        bottom.ylim(deepest, 0.0)
        bottom.xlim(xs[0], xs[-1])
        bottom.xticks(xt, xl)
        bottom.xaxes(True, False)
        bottom.yaxes(True, False)

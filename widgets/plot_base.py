"""SnapshotPlot: a textual-plotext chart that replots only when its data or its size changed.

Subclasses implement `draw(plt, width, height)` from `self.data` (and `legend()`). `set_data`
compares the new data with the old (series are immutable tuples, so equality is cheap and exact)
and does nothing when they match: a tick that brings the same history neither rebuilds nor
resends the chart.

It follows textual-plotext's `PlotextPlot` (a private `Plot` figure per widget, the app theme
mapped onto a plotext theme, the figure rebuilt at the widget's size in `render`), but creates the
figure, and imports plotext, only when there is data to draw: the first frame, painted before any
data arrives, costs no plotting import.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual.widget import Widget


class SnapshotPlot(Widget):
    DEFAULT_CSS = """
    SnapshotPlot {
        width: 1fr;
        height: 1fr;
        min-height: 4;
    }
    """

    MIN_WIDTH = 24
    MIN_HEIGHT = 5
    PLACEHOLDER = "loading…"

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.data: Any = None
        self.placeholder = self.PLACEHOLDER
        self._plot: Any = None  # textual_plotext.plot.Plot, made on first use
        self._dirty = True
        self._drawn_size: tuple[int, int] | None = None
        self._built: Text | None = None  # the last rendered chart, reused until it changes
        self.replots = 0  # how many times the figure was rebuilt (tests read it)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        self._dirty = True
        self.refresh()

    @property
    def plt(self) -> Any:
        """The plotext figure (a textual_plotext Plot), as PlotextPlot.plt."""
        if self._plot is None:
            from textual_plotext.plot import Plot

            self._plot = Plot()
        return self._plot

    def set_data(self, data: Any, placeholder: str | None = None) -> bool:
        """Store new data; replot only if it differs. Returns True if it will replot."""
        if placeholder is not None and placeholder != self.placeholder:
            self.placeholder = placeholder
            if data is None:
                self.refresh()
        if data == self.data:
            return False
        self.data = data
        self._dirty = True
        self.refresh()
        return True

    def has_data(self) -> bool:
        return self.data is not None

    def color(self, variable: str, fallback: str = "#888888") -> tuple[int, int, int]:
        """An RGB triple from the app theme ($primary, $warning...) for plotext."""
        value = self.app.theme_variables.get(variable, fallback)
        try:
            return Color.parse(value).rgb
        except Exception:
            return Color.parse(fallback).rgb

    def draw(self, plt: Any, width: int, height: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def legend(self) -> list[tuple[str, str]]:
        """(label, theme colour variable) pairs shown on one line above the plot."""
        return []

    def _legend_line(self, entries: list[tuple[str, str]], width: int) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for label, variable in entries:
            marker = "── " if variable.startswith("dashed:") else "━━ "
            name = variable.removeprefix("dashed:")
            line.append(marker, Style(color=f"rgb{self.color(name)}"))
            line.append(label + "  ", Style(dim=True))
        line.rstrip()
        line.truncate(width, overflow="ellipsis")
        return line

    def _plotext_theme(self) -> str:
        """Register (once per app theme) and name a plotext theme matching the app's colours."""
        from plotext._dict import themes
        from textual_plotext.plot import _rgbify_theme, _sequence

        name = f"textual-auto-{self.app.theme}"
        if name not in themes:
            variables = self.app.theme_variables
            surface = Color.parse(variables.get("surface", "#1e1e1e")).rgb
            foreground = Color.parse(variables.get("foreground", "#e0e0e0")).rgb
            themes[name] = _rgbify_theme(surface, surface, foreground, "default", _sequence)
        return name

    def render(self) -> RenderResult:
        width, height = self.size
        if not self.has_data():
            return Text(self.placeholder, style="dim", justify="center")
        if width < self.MIN_WIDTH or height < self.MIN_HEIGHT:
            return Text("")
        legend = self.legend() if height > self.MIN_HEIGHT else []
        plot_height = height - (1 if legend else 0)
        if self._built is not None and not self._dirty and self._drawn_size == (width, height):
            return self._built  # shown again (panel switch): no rebuild
        plot = self.plt
        plot.clear_figure()
        self.draw(plot, width, plot_height)
        plot.plotsize(width, plot_height)
        plot._set_size(width, plot_height)  # as PlotextPlot does (textual-plotext issue #5)
        plot.theme(self._plotext_theme())
        chart = Text.from_ansi(plot.build(), no_wrap=True, end="")
        if legend:
            chart = Text("\n", end="").join([self._legend_line(legend, width), chart])
        self._dirty = False
        self._drawn_size = (width, height)
        self._built = chart
        self.replots += 1
        return chart

"""CapBars: the seven Mag-7 market caps as horizontal bars, largest first, with the total."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from widgets.formatting import Palette, TimeContext, age_days, usd

if TYPE_CHECKING:
    from bubble_core.snapshot import Snapshot

EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int) -> str:
    """A bar `fraction` of `width` cells long, to an eighth of a cell."""
    if width <= 0 or not math.isfinite(fraction) or fraction <= 0:
        return ""
    eighths = int(round(min(fraction, 1.0) * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[part] if part else "")


class CapBars(Widget):
    DEFAULT_CSS = """
    CapBars {
        height: auto;
        min-height: 3;
        width: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.caps: tuple[tuple[str, float], ...] | None = None
        self.total: float | None = None
        self.reference: float | None = None
        self.stale_age: str | None = None

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        indicator = snapshot.indicators.get("mag7_market_cap")
        raw = indicator.extra.get("caps", {}) if indicator else {}
        caps = tuple(sorted(
            ((str(sym), float(cap)) for sym, cap in raw.items()
             if isinstance(cap, (int, float)) and math.isfinite(cap)),
            key=lambda item: -item[1],
        ))
        total = indicator.value if indicator else None
        reference = indicator.reference if indicator else None
        stale_age = (age_days(indicator.as_of, snapshot.as_of)
                     if indicator is not None and indicator.stale else None)
        state = (caps, total, reference, stale_age)
        if state != (self.caps, self.total, self.reference, self.stale_age):
            self.caps, self.total, self.reference, self.stale_age = state
            self.refresh(layout=True)

    def render(self) -> RenderResult:
        if self.caps is None:
            return Text("loading…", style="dim")
        palette = Palette.from_variables(self.app.theme_variables)
        out = Text(no_wrap=True, end="")
        out.append("Mag-7 caps", style="bold")
        if self.total is not None:
            out.append(f" {usd(self.total)}", style=palette.bold)
            if self.reference:
                out.append(f" · article {usd(self.reference)}", style="dim")
        if self.stale_age:
            out.append(f" ~{self.stale_age}", style=palette.warning)
        if not self.caps:
            out.append("\nno market caps stored yet", style="dim")
            return out
        biggest = self.caps[0][1]
        total = sum(cap for _, cap in self.caps)
        label_width = max(len(sym) for sym, _ in self.caps)
        width = self.size.width
        tail = 15  # " 5.03 T$ 22.7%"
        bar_width = max(width - label_width - tail - 2, 4)
        bar_style = palette.stale if self.stale_age else palette.primary
        for index, (sym, cap) in enumerate(self.caps):
            out.append("\n")
            out.append(f"{sym:<{label_width}} ", style="bold" if index == 0 else "")
            drawn = bar(cap / biggest, bar_width)
            out.append(drawn, style=palette.accent if index == 0 else bar_style)
            out.append(" " * (bar_width - len(drawn)))
            out.append(f" {usd(cap):>8}")
            out.append(f" {cap / total * 100:4.1f}%", style="dim")
        return out

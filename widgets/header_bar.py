"""HeaderBar: app name, the mode badge (LIVE, REPLAY + simulated date, OFFLINE, VIEWER), the
mode's detail and the data's as-of date on one line, with the Clock docked on the right.

The bar redraws only when the mode or the date changes; the clock is its own small widget and is
the only part that changes every second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.widget import Widget

from widgets.clock import Clock
from widgets.formatting import theme_style

if TYPE_CHECKING:
    from bubble_core.runtime import ModeInfo

BADGE_COLOURS = {"LIVE": "success", "REPLAY": "accent", "OFFLINE": "warning", "VIEWER": "primary"}
CLOCK_WIDTH = 10


class HeaderBar(Widget):
    DEFAULT_CSS = """
    HeaderBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
    }
    HeaderBar > Clock {
        dock: right;
        background: $panel;
    }
    """

    def __init__(self, clock: Callable[[], dt.datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self.mode: ModeInfo | None = None
        self.as_of: dt.date | None = None

    def compose(self) -> ComposeResult:
        yield Clock(self._clock, id="clock")

    def set_mode(self, mode: ModeInfo) -> None:
        if mode != self.mode:
            self.mode = mode
            self.refresh()

    def set_as_of(self, as_of: dt.date | None) -> None:
        if as_of != self.as_of:
            self.as_of = as_of
            self.refresh()

    def badge_text(self) -> str:
        """The badge as plain text: "LIVE", "REPLAY ⏸ 2002-10-09" (tests read it)."""
        if self.mode is None:
            return "STARTING"
        name = (self.mode.mode or "?").upper()
        if name == "REPLAY":
            name += " ⏸" if self.mode.paused else " ▶"
            if self.mode.simulated_date:
                name += " " + self.mode.simulated_date.isoformat()
        return name

    def render(self) -> RenderResult:
        variables = self.app.theme_variables
        width = max(self.size.width - CLOCK_WIDTH, 0)
        mode_name = (self.mode.mode or "?").upper() if self.mode else ""
        if self.app.no_color:
            badge_style = Style(bold=True, reverse=True)
        else:
            badge_style = theme_style(variables, "background",
                                      BADGE_COLOURS.get(mode_name, "foreground-muted"), bold=True)
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(" bubble-monitor ", theme_style(variables, "text-primary", bold=True))
        line.append(f" {self.badge_text()} ", badge_style)
        detail = ""
        if self.mode is None:
            detail = "loading…"
        else:
            detail = self.mode.detail or ""
            if self.mode.paused and mode_name == "REPLAY":
                detail = f"paused · {detail}" if detail else "paused"
        right = ""
        if self.as_of is not None and not (self.mode and self.mode.simulated_date):
            right = f"data {self.as_of.isoformat()} "
        room = width - line.cell_len - len(right) - 1
        if detail and room > 3:
            shown = detail if len(detail) <= room else detail[: room - 1] + "…"
            line.append(" " + shown, Style(dim=True))
        if right and width - line.cell_len >= len(right):
            line.append(" " * (width - line.cell_len - len(right)))
            line.append(right, Style(dim=True))
        return line

"""PanelTabs: the one-line strip of panel names ("1 Concentration  2 Drawdowns ..."), the active
one highlighted, each with an optional badge ("Alerts (2)"). Clicking a name, or left/right while
it has focus, selects a panel.

One widget rather than a Tabs bar of one widget per tab: it takes one row (not two) on an 80x24
screen and costs almost nothing to start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

from widgets.formatting import theme_style


class PanelTabs(Widget, can_focus=True):
    DEFAULT_CSS = """
    PanelTabs {
        height: 1;
        width: 1fr;
        background: $surface;
        color: $text-muted;
    }
    PanelTabs:focus {
        background: $surface-lighten-1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Previous panel", show=False),
        Binding("right", "move(1)", "Next panel", show=False),
    ]

    @dataclass
    class Selected(Message):
        """The user picked a panel (click or arrow key)."""

        pane: str

    def __init__(self, panels: Sequence[tuple[str, str]], active: str, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.panels = tuple(panels)
        self.active = active
        self.badges: dict[str, str] = {}
        self._spans: list[tuple[int, int, str]] = []

    def set_active(self, pane: str) -> None:
        if pane != self.active:
            self.active = pane
            self.refresh()

    def set_badge(self, pane: str, badge: str) -> None:
        if self.badges.get(pane, "") != badge:
            self.badges[pane] = badge
            self.refresh()

    def label(self, pane: str) -> str:
        """The text shown for one panel, e.g. "4 Alerts (2)" (tests read it)."""
        for index, (key, title) in enumerate(self.panels, start=1):
            if key == pane:
                badge = self.badges.get(pane, "")
                return f"{index} {title}" + (f" {badge}" if badge else "")
        return ""

    def render(self) -> RenderResult:
        variables = self.app.theme_variables
        active_style = theme_style(variables, "foreground", "primary", bold=True)
        if self.app.no_color:
            active_style = Style(bold=True, reverse=True)
        badge_style = theme_style(variables, "warning")
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        spans = []
        for index, (pane, title) in enumerate(self.panels, start=1):
            start = len(text)
            active = pane == self.active
            text.append(" ")
            text.append(str(index), Style(bold=True) if not active else Style())
            text.append(f" {title}")
            badge = self.badges.get(pane, "")
            if badge:
                text.append(f" {badge}", badge_style if not active else Style())
            text.append(" ")
            if active:
                text.stylize(active_style, start, len(text))
            spans.append((start, len(text), pane))
            text.append(" ")
        self._spans = spans
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, pane in self._spans:
            if start <= event.x < end:
                self.post_message(self.Selected(pane))
                return

    def action_move(self, step: int) -> None:
        keys = [pane for pane, _ in self.panels]
        index = keys.index(self.active) if self.active in keys else 0
        self.post_message(self.Selected(keys[(index + step) % len(keys)]))

"""EmptyState: what to do when the store holds nothing (no indicator values, no drawdowns)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

REPLAY_COMMAND = "bubble-monitor --replay dotcom"


class EmptyState(Static):
    DEFAULT_CSS = """
    EmptyState {
        display: none;
        height: auto;
        margin: 0 1;
        padding: 0 1;
        border: round $warning;
        border-title-color: $warning;
        color: $foreground;
    }
    EmptyState.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(self._message(), id=id)
        self.border_title = "No data yet"
        self.shown = False

    @staticmethod
    def _message() -> Text:
        text = Text()
        text.append("Nothing stored yet: no indicator values, no prices. The sources are polled "
                    "in the background; the status bar says what failed and when it retries.\n")
        text.append("Explore offline with the dot-com replay: ")
        text.append(f" {REPLAY_COMMAND} ", style="bold reverse")
        return text

    def set_empty(self, empty: bool) -> None:
        if empty != self.shown:
            self.shown = empty
            self.set_class(empty, "-shown")

"""HelpScreen: the keys, what each panel shows, and how to read staleness."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("1-5", "switch panel: Concentration, Drawdowns, Rates & credit, Alerts, Sources"),
    ("tab / shift+tab", "move focus between widgets"),
    ("r", "refresh now (only if no refresh is running)"),
    ("a", "go to the alerts"),
    ("s", "silence the selected alert (asks duration and comment)"),
    ("o", "sort the watch table (on the Drawdowns panel)"),
    ("ctrl+p", "command palette: every action, and the theme"),
    ("?", "this help"),
    ("q", "quit"),
)
REPLAY_KEYS = (
    ("space", "pause / resume the replay"),
    ("n or .", "step one day"),
    ("+ / -", "replay faster / slower"),
)
NOTES = (
    "A dimmed value followed by ~3d is stale: its source has not updated it for that long.",
    "The status bar shows when data was last refreshed, and for each source its last success, "
    "its last error and when it is retried.",
    "Percentages are of US GDP or of the S&P 500; 1999 is the whole internet sector's market "
    "cap at the end of 1999, 9.67 % of GDP. Article figures are the reference values "
    "(A1...A7) of the article the monitor follows.",
    "No data at all? Start the offline replay: bubble-monitor --replay dotcom",
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 96;
        height: auto;
        max-height: 90%;
        border: round $primary;
        border-title-color: $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen Static { width: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", key_display="esc"),
    ]

    def __init__(self, replay: bool = False) -> None:
        super().__init__()
        self.replay = replay

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, what in KEYS:
            keys.add_row(key, what)
        replay_title = "Replay" + ("" if self.replay else " (in --replay mode only)")
        keys.add_row("", "")
        keys.add_row(Text(replay_title, style="bold underline"), "")
        for key, what in REPLAY_KEYS:
            keys.add_row(key, what)
        notes = Text()
        for note in NOTES:
            notes.append("• " + note + "\n")
        with VerticalScroll() as scroll:
            scroll.border_title = "bubble-monitor help"
            scroll.border_subtitle = "esc to close"
            yield Static(keys)
            yield Static(notes)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)

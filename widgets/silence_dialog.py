"""SilenceDialog: asks how long to silence an alert, and why. Dismisses with
(duration, comment) or None when cancelled."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from bubble_core.durations import format_duration, parse_duration

DEFAULT_DURATION = "4h"
MAX_DURATION = dt.timedelta(days=90)


class SilenceDialog(ModalScreen[tuple[dt.timedelta, str] | None]):
    DEFAULT_CSS = """
    SilenceDialog {
        align: center middle;
    }
    SilenceDialog > Vertical {
        width: 64;
        max-width: 100%;
        height: auto;
        border: round $warning;
        border-title-color: $warning;
        background: $surface;
        padding: 0 1;
    }
    SilenceDialog #summary { color: $text-muted; margin-bottom: 1; }
    SilenceDialog Label { margin-top: 0; }
    SilenceDialog Input { margin-bottom: 0; }
    SilenceDialog #error { color: $error; height: auto; }
    SilenceDialog #buttons { height: auto; align-horizontal: right; margin-top: 1; }
    SilenceDialog Button { margin-left: 1; min-width: 10; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, rule: str, summary: str = "", default: str = DEFAULT_DURATION) -> None:
        super().__init__()
        self.rule = rule
        self.summary = summary
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Silence an alert"
            title = Text()
            title.append("Silence ", style="bold")
            title.append(self.rule, style="bold reverse")
            yield Static(title, id="rule")
            yield Static(Text(self.summary), id="summary")
            yield Label("For how long (e.g. 30m, 4h, 2d, 1w)")
            yield Input(self.default, id="duration", select_on_focus=True)
            yield Label("Comment")
            yield Input(placeholder="why, e.g. known, watching it", id="comment")
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel", variant="default")
                yield Button("Silence", id="confirm", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#duration", Input).focus()

    def _parse(self) -> tuple[dt.timedelta, str] | None:
        error = self.query_one("#error", Static)
        raw = self.query_one("#duration", Input).value
        try:
            duration = parse_duration(raw)
        except ValueError as exc:
            error.update(Text(str(exc)))
            return None
        if duration <= dt.timedelta(0):
            error.update("the duration must be more than zero")
            return None
        if duration > MAX_DURATION:
            error.update(f"at most {format_duration(MAX_DURATION)}")
            return None
        error.update("")
        return duration, self.query_one("#comment", Input).value.strip()

    @on(Input.Submitted, "#duration")
    def _duration_entered(self) -> None:
        if self._parse() is not None:
            self.query_one("#comment", Input).focus()

    @on(Input.Submitted, "#comment")
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        result = self._parse()
        if result is not None:
            self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

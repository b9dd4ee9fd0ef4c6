"""Clock: the header's HH:MM.

It asks the injected clock once a second and refreshes only when the text changed: once a
minute. Seconds would be most of the bytes an idle dashboard sends over SSH (about 2 KB/min).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.reactive import reactive
from textual.widget import Widget


class Clock(Widget):
    DEFAULT_CSS = """
    Clock {
        width: 10;
        height: 1;
        content-align: right middle;
        padding: 0 1;
    }
    """

    time_text: reactive[str] = reactive("", layout=False)

    def __init__(self, clock: Callable[[], dt.datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock

    def on_mount(self) -> None:
        self._update()
        self.set_interval(1.0, self._update, name="clock")

    def _update(self) -> None:
        try:
            now = self._clock()
        except Exception:  # a broken clock must not take the app down
            return
        text = now.strftime("%H:%M")
        if text != self.time_text:
            self.time_text = text

    def render(self) -> str:
        return self.time_text

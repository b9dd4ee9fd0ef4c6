"""StatusBar: the refresh loop's state and each source's health on one line.

"✓ 14:05 next 15:05 │ yahoo ✓ 14:04 │ fred ✗ 09:00 HTTP 503… ↻ 14:20 │ nyfed ✓ 13:05"

It shows what failed and when it retries, in absolute times so the line does not have to be
redrawn every second; it is redrawn only when its data changes, and fits itself to the width
(dropping detail from healthy sources first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from widgets.formatting import Palette, TimeContext, clock_time

if TYPE_CHECKING:
    from bubble_core.snapshot import SourceHealth


@dataclass(frozen=True, slots=True)
class LoopState:
    """The app's refresh loop, as the status bar shows it."""

    busy: bool = False
    last_ok: dt.datetime | None = None  # wall clock, naive UTC
    last_error: str | None = None
    next_at: dt.datetime | None = None  # naive UTC
    replay: bool = False


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[str, tuple[object, ...]] | None = None
        self._loop_state = LoopState()
        self._sources: tuple[SourceHealth, ...] = ()
        self._ctx: TimeContext | None = None
        self.redraws = 0

    def set_state(self, loop: LoopState, sources: Mapping[str, SourceHealth] | None,
                  ctx: TimeContext) -> None:
        new_sources = self._sources if sources is None else tuple(sources.values())
        if loop == self._loop_state and new_sources == self._sources and self._ctx is not None:
            return
        self._loop_state = loop
        self._sources = new_sources
        self._ctx = ctx
        # A tick changes the state (busy, then done) but mostly not the line: repaint only a
        # line that reads differently, since each repaint is ~900 bytes down an SSH link.
        if self.is_mounted and self.size.width:
            line = self._line(self.size.width)
            shown = (line.plain, tuple(line.spans))
            if shown == self._shown:
                return
            self._shown = shown
        self.refresh()

    def plain(self) -> str:
        """The line as plain text, at the current width (tests read it)."""
        return self._line(max(self.size.width, 200)).plain

    def render(self) -> RenderResult:
        self.redraws += 1
        line = self._line(self.size.width)
        self._shown = (line.plain, tuple(line.spans))
        return line

    def _line(self, width: int) -> Text:
        if self._ctx is None:
            return Text("starting…", style="dim")
        palette = Palette.from_variables(self.app.theme_variables)
        for detail in (2, 1, 0):
            line = self._build(palette, detail)
            if cell_len(line.plain) <= width:
                return line
        line.truncate(max(width, 1), overflow="ellipsis")
        return line

    def _build(self, palette: Palette, detail: int) -> Text:
        assert self._ctx is not None
        ctx = self._ctx
        loop = self._loop_state
        sep = Text(" │ ", style="dim")
        line = Text(no_wrap=True, end="")
        if loop.busy:
            line.append("⟳ refreshing…", palette.primary)
        elif loop.last_error:
            line.append("✗ ", palette.error)
            error = loop.last_error if detail else loop.last_error[:24]
            line.append(f"refresh failed: {error}", palette.error)
        elif loop.last_ok is not None:
            line.append("updated " if detail else "✓ ", Style(dim=True))
            # Minutes only: seconds would rewrite this line on every tick, which is most of
            # what an idle dashboard would send over a slow SSH link.
            line.append(clock_time(loop.last_ok, ctx, seconds=False))
        else:
            line.append("waiting for the first snapshot", Style(dim=True))
        if loop.next_at is not None and not loop.busy and not loop.replay:
            word = "retry" if loop.last_error else "next"
            # Within the minute the time would change on every tick (and be repainted down
            # the SSH link); "<1m" says the same and stays put.
            soon = (loop.next_at - ctx.now).total_seconds() < 60
            when = "<1m" if soon else clock_time(loop.next_at, ctx)
            line.append(f" · {word} {when}", Style(dim=True))
        if loop.replay and not self._sources:
            line.append(sep)
            line.append("replay: no live sources polled", Style(dim=True))
        failing = [h for h in self._sources if h.last_error and h.consecutive_failures]
        errors = {h.last_error for h in failing}
        if len(self._sources) > 1 and len(failing) == len(self._sources) and len(errors) == 1:
            # Everything fails the same way (offline): say it once.
            line.append(sep)
            line.append("all sources ✗ ", palette.error)
            limit = 40 if detail >= 2 else 18 if detail else 0
            error = next(iter(errors)) or ""
            if limit:
                line.append((error if len(error) <= limit else error[: limit - 1] + "…") + " ",
                            palette.error)
            retries = [h.next_retry for h in failing if h.next_retry is not None]
            if retries:
                line.append(f"↻{clock_time(min(retries), ctx)}", palette.warning)
            return line
        for health in self._sources:
            line.append(sep)
            line.append_text(self._source(health, palette, ctx, detail))
        return line

    def _source(self, health: SourceHealth, palette: Palette, ctx: TimeContext,
                detail: int) -> Text:
        text = Text(health.name)
        failing = bool(health.last_error) and health.consecutive_failures > 0
        if failing:
            text.append(" ✗", palette.error)
        elif health.stale:
            text.append(" !", palette.warning)
        else:
            text.append(" ✓", palette.success)
        if detail or failing:
            when = clock_time(health.last_success, ctx) if health.last_success else "never"
            if detail or not failing:
                text.append(f" {when}", Style(dim=True))
        if failing:
            if detail:
                error = health.last_error or ""
                limit = 28 if detail >= 2 else 14
                error = error if len(error) <= limit else error[: limit - 1] + "…"
                text.append(f" {error}", palette.error)
            if health.next_retry is not None:
                text.append(f" ↻{clock_time(health.next_retry, ctx)}", palette.warning)
        return text

"""SourcesPanel: each data source's health: last success and its age, consecutive failures,
the last error, and when it is retried."""

from __future__ import annotations

from typing import TYPE_CHECKING

from widgets.formatting import DASH, Palette, TimeContext, age, cell, clock_time, right
from widgets.synced_table import SyncedTable

if TYPE_CHECKING:
    from bubble_core.snapshot import Snapshot, SourceHealth

COLUMNS = ("source", "state", "success", "age", "attempt", "fails", "retry", "error")
LABELS = {"source": "Source", "state": "State", "success": "Last success", "age": "Age",
          "attempt": "Last attempt", "fails": "Fails", "retry": "Next retry", "error": "Error"}


class SourcesPanel(SyncedTable):
    COLUMNS = COLUMNS
    LABELS = LABELS

    DEFAULT_CSS = """
    SourcesPanel {
        height: auto;
        max-height: 1fr;
        width: 1fr;
    }
    """

    @property
    def sources(self) -> tuple[SourceHealth, ...] | None:
        return self.items

    @sources.setter
    def sources(self, value: tuple[SourceHealth, ...] | None) -> None:
        self.items = value

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        sources = tuple(snapshot.sources.values())
        same_minute = self._ctx is not None and (
            self._ctx.now.replace(second=0, microsecond=0)
            == ctx.now.replace(second=0, microsecond=0))
        if sources == self.sources and same_minute:
            return
        self.sources = sources
        self._ctx = ctx
        self._render_rows(sources, ctx)

    def _render_rows(self, sources: tuple[SourceHealth, ...], ctx: TimeContext) -> None:
        palette = Palette.from_variables(self.app.theme_variables)
        rows = []
        for health in sources:
            failing = bool(health.last_error) and health.consecutive_failures > 0
            if failing:
                state = cell("failing", palette.error + palette.bold)
            elif health.stale:
                state = cell("stale", palette.warning)
            else:
                state = cell("ok", palette.success)
            since = (age(ctx.now - ctx.naive_utc(health.last_success))
                     if health.last_success else "never")
            rows.append((health.name, (
                cell(health.name, palette.bold),
                state,
                cell(clock_time(health.last_success, ctx) if health.last_success else "never",
                     None if health.last_success else palette.warning),
                right(since, palette.warning if health.stale else palette.muted),
                cell(clock_time(health.last_attempt, ctx), palette.muted),
                right(str(health.consecutive_failures),
                      palette.error if failing else palette.muted),
                cell(clock_time(health.next_retry, ctx) if health.next_retry else DASH,
                     palette.warning if failing else palette.muted),
                cell(health.last_error or DASH, palette.error if failing else palette.muted),
            )))
        if not rows:
            rows.append(("-", (cell("no sources", palette.muted),) + tuple(
                cell("") for _ in COLUMNS[1:])))
        self._sync.sync(rows, ordered=False)

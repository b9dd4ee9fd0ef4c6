"""SourcesPanel: each data source's health: last success and its age, consecutive failures,
the last error, and when it is retried."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import DataTable

from widgets.formatting import DASH, Palette, TimeContext, age, cell, clock_time, right
from widgets.table_sync import TableSync

if TYPE_CHECKING:
    from bubble_core.snapshot import Snapshot, SourceHealth

COLUMNS = ("source", "state", "success", "age", "attempt", "fails", "retry", "error")
LABELS = {"source": "Source", "state": "State", "success": "Last success", "age": "Age",
          "attempt": "Last attempt", "fails": "Fails", "retry": "Next retry", "error": "Error"}


class SourcesPanel(DataTable[Any]):
    DEFAULT_CSS = """
    SourcesPanel {
        height: auto;
        max-height: 1fr;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sources: tuple[SourceHealth, ...] | None = None
        self._ctx: TimeContext | None = None
        self._sync = TableSync(self, COLUMNS)

    def on_mount(self) -> None:
        for key in COLUMNS:
            self.add_column(LABELS[key], key=key)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        self._sync.reset()
        if self.sources is not None and self._ctx is not None:
            self._render_rows(self.sources, self._ctx)

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

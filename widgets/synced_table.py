"""SyncedTable: the DataTable the alerts, history and sources panels share.

Rows are diffed by key through TableSync (only changed cells are rewritten, which is what a slow
SSH link carries), the columns come from the subclass, and a theme change re-renders the rows
with the new palette.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.widgets import DataTable

from widgets.formatting import TimeContext
from widgets.table_sync import TableSync


class SyncedTable(DataTable[Any]):
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    LABELS: ClassVar[dict[str, str]] = {}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.items: tuple[Any, ...] | None = None
        self._ctx: TimeContext | None = None
        self._sync = TableSync(self, self.COLUMNS)

    def on_mount(self) -> None:
        for key in self.COLUMNS:
            self.add_column(self.LABELS[key], key=key)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        self._sync.reset()
        if self.items is not None and self._ctx is not None:
            self._render_rows(self.items, self._ctx)

    def _render_rows(self, items: tuple[Any, ...], ctx: TimeContext) -> None:
        raise NotImplementedError

"""WatchTable: the watched names (indices, AI basket, circular-financing names, regional banks)
with last, 1-day and 5-day change, drawdown and days since the high. Sortable.

`o` cycles the sort column (watch order, 1d, 5d, drawdown, symbol); clicking a column header
sorts by it, a second click reverses. Rows are keyed by symbol and only changed cells are
rewritten. Highlighting a row posts `WatchTable.SymbolHighlighted` (the price chart follows).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from widgets.formatting import (
    Palette,
    TimeContext,
    age_days,
    cell,
    price,
    right,
    signed_pct,
    signed_style,
    with_age,
)
from widgets.table_sync import TableSync

if TYPE_CHECKING:
    from bubble_core.snapshot import Drawdown, Snapshot

COLUMNS = ("sym", "group", "last", "d1", "d5", "dd", "since")
LABELS = {"sym": "Symbol", "group": "Group", "last": "Last", "d1": "1d", "d5": "5d",
          "dd": "Drawdown", "since": "Since high"}
SORTS = ("watch", "d1", "d5", "dd", "sym")
SORT_NAMES = {"watch": "watch order", "d1": "1-day change", "d5": "5-day change",
              "dd": "drawdown", "sym": "symbol"}


@lru_cache(maxsize=1)
def watch_order() -> tuple[str, ...]:
    """Indices, the AI basket, then the extras (circular-financing names, regional banks)."""
    from bubble_core.config import AI_BASKET, EXTRAS, INDICES  # imported after first paint

    return tuple(dict.fromkeys((*INDICES, *AI_BASKET, *EXTRAS)))


@lru_cache(maxsize=64)
def group_of(symbol: str) -> str:
    from bubble_core.config import AI_BASKET, EXTRAS, INDICES, MAG7

    if symbol in INDICES:
        return "index"
    if symbol in MAG7:
        return "Mag-7"
    if symbol in AI_BASKET:
        return "AI"
    if symbol == "KRE":
        return "banks"
    if symbol in EXTRAS:
        return "circular"
    return ""


class WatchTable(DataTable[Any]):
    DEFAULT_CSS = """
    WatchTable {
        height: 1fr;
        width: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "cycle_sort", "Sort", show=False),
    ]

    @dataclass
    class SymbolHighlighted(Message):
        symbol: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_by = "watch"
        self.reverse = False
        self._drawdowns: dict[str, Drawdown] = {}
        self._as_of = None
        self._sync = TableSync(self, COLUMNS)

    def on_mount(self) -> None:
        for key in COLUMNS:
            self.add_column(LABELS[key], key=key)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        self._sync.reset()
        self._render_rows()

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        if snapshot.drawdowns == self._drawdowns and snapshot.as_of == self._as_of:
            return
        self._drawdowns = dict(snapshot.drawdowns)
        self._as_of = snapshot.as_of
        self._render_rows()

    def _sort_key(self) -> Callable[[str], Any]:
        rank = {sym: i for i, sym in enumerate(watch_order())}

        def number(value: float | None) -> float:
            return value if value is not None and math.isfinite(value) else math.inf

        def key(sym: str) -> Any:
            d = self._drawdowns[sym]
            if self.sort_by == "d1":
                return number(d.change_1d)
            if self.sort_by == "d5":
                return number(d.change_5d)
            if self.sort_by == "dd":
                return number(d.drawdown)
            if self.sort_by == "sym":
                return sym
            return (rank.get(sym, len(rank)), sym)

        return key

    def _render_rows(self) -> None:
        palette = Palette.from_variables(self.app.theme_variables)
        symbols = sorted(self._drawdowns, key=self._sort_key(), reverse=self.reverse)
        rows = []
        for sym in symbols:
            d = self._drawdowns[sym]
            stale_age = age_days(d.last_date, self._as_of) if self._as_of else ""
            dd_style = palette.down if d.drawdown <= -0.10 else None
            rows.append((sym, (
                cell(sym, palette.bold if sym.startswith("^") else None),
                cell(group_of(sym), palette.muted),
                with_age(price(d.last), d.stale, stale_age, None, palette),
                right(signed_pct(d.change_1d), signed_style(d.change_1d, palette)),
                right(signed_pct(d.change_5d), signed_style(d.change_5d, palette)),
                right(signed_pct(d.drawdown, 1), dd_style),
                right(f"{d.days_since_peak}d ago" if d.days_since_peak else "today",
                      palette.muted),
            )))
        self._sync.sync(rows)
        self._update_headers()

    def _update_headers(self) -> None:
        for key in COLUMNS:
            label = LABELS[key]
            if key == self.sort_by:
                label += " ▲" if not self.reverse else " ▼"
            column = self.columns.get(key)  # type: ignore[call-overload]
            if column is not None and column.label.plain != label:
                column.label = Text(label)
                self.refresh()

    @property
    def symbols(self) -> list[str]:
        return self._sync.current_order()

    def sort_by_column(self, key: str) -> None:
        if key == self.sort_by:
            self.reverse = not self.reverse
        else:
            self.sort_by, self.reverse = key, False
        self._render_rows()

    def action_cycle_sort(self) -> None:
        index = SORTS.index(self.sort_by) if self.sort_by in SORTS else 0
        self.sort_by = SORTS[(index + 1) % len(SORTS)]
        self.reverse = False
        self._render_rows()
        self.notify(f"Sorted by {SORT_NAMES[self.sort_by]}", timeout=2)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key.value or "watch"
        self.sort_by_column(key if key in SORTS else "watch")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.SymbolHighlighted(event.row_key.value))

"""Diff a keyed DataTable against new rows: add, remove, and update only the cells that changed.

rich.Text equality ignores a Text's own style, so cells are compared by a signature that
includes it. Used inside `app.batch_update()` by the table widgets.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable


def signature(value: Any) -> Hashable:
    if isinstance(value, Text):
        return (value.plain, str(value.style), tuple(value.spans), value.justify)
    return value if isinstance(value, Hashable) else repr(value)


class TableSync:
    """Remembers what a DataTable shows, by row key, so updates can be minimal."""

    def __init__(self, table: DataTable[Any], columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.rows: dict[str, tuple[Hashable, ...]] = {}
        self.first: dict[str, Any] = {}  # the object in column 0 of each row, for ordering
        self.cell_updates = 0  # cells rewritten since creation (tests read it)

    def reset(self) -> None:
        """Forget the cache (after a theme change) so the next sync rewrites every cell."""
        self.rows = {key: tuple(None for _ in self.columns) for key in self.rows}

    def sync(self, rows: Sequence[tuple[str, Sequence[Any]]], *, ordered: bool = True) -> bool:
        """Make the table show `rows` (key, cells); True if anything changed.

        With `ordered`, rows are then put in the given order; the cursor stays on the row it
        was on (by key), so a re-sort under the user's cursor never changes the selection.
        """
        table = self.table
        selected = self.selected_key()
        changed = False
        wanted = {key for key, _ in rows}
        for key in [k for k in self.rows if k not in wanted]:
            table.remove_row(key)
            del self.rows[key]
            self.first.pop(key, None)
            changed = True
        for key, cells in rows:
            sigs = tuple(signature(c) for c in cells)
            old = self.rows.get(key)
            if old is None:
                table.add_row(*cells, key=key)
                self.first[key] = cells[0]
                self.cell_updates += len(cells)
                changed = True
            elif old != sigs:
                for column, cell, new_sig, old_sig in zip(self.columns, cells, sigs, old,
                                                          strict=True):
                    if new_sig != old_sig:
                        table.update_cell(key, column, cell, update_width=True)
                        if column == self.columns[0]:
                            self.first[key] = cell
                        self.cell_updates += 1
                changed = True
            self.rows[key] = sigs
        if ordered:
            self.apply_order([key for key, _ in rows])
        if selected is not None:
            self.select(selected)
        return changed

    def current_order(self) -> list[str]:
        return [row.key.value for row in self.table.ordered_rows if row.key.value is not None]

    def apply_order(self, order: Sequence[str]) -> None:
        if self.current_order() == list(order):
            return
        rank = {id(self.first[key]): i for i, key in enumerate(order) if key in self.first}
        self.table.sort(self.columns[0], key=lambda first: rank.get(id(first), len(rank)))

    def selected_key(self) -> str | None:
        table = self.table
        if not table.row_count or not table.is_valid_row_index(table.cursor_row):
            return None
        return table.ordered_rows[table.cursor_row].key.value

    def select(self, key: str) -> None:
        table = self.table
        if key not in self.rows:
            return
        index = table.get_row_index(key)
        if index != table.cursor_row:
            table.move_cursor(row=index, animate=False, scroll=False)

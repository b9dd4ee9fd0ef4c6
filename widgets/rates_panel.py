"""RatesPanel: the Fed's rates and the cost of corporate credit beside the article's figures.

Effective fed funds, the target range, its last change (date, size), the 10-year Treasury, and
the BBB, Moody's Baa and high-yield yields with the article's 6.40 / 6.58 / 10.5 % borrowing
rates and the gap to them; the spreads last.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from widgets.formatting import (
    DASH,
    Palette,
    TimeContext,
    age_days,
    iso,
    pct,
    pp,
    with_age,
)

YIELDS = (
    ("fed_funds_effective", "Effective fed funds"),
    ("treasury_10y", "10-year Treasury"),
    ("bbb_yield", "BBB corporate yield"),
    ("baa_yield", "Moody's Baa yield"),
    ("hy_yield", "High-yield yield"),
    ("hy_spread", "High-yield spread (OAS)"),
    ("baa_aaa_spread", "Baa - Aaa spread"),
)

if TYPE_CHECKING:
    from bubble_core.snapshot import IndicatorValue, Snapshot


@dataclass(frozen=True, slots=True)
class RateRow:
    label: str
    value: str
    stale: bool
    age: str
    reference: float | None
    gap: float | None  # percentage points
    as_of: dt.date | None
    emphasis: bool = False


class RatesPanel(Widget):
    DEFAULT_CSS = """
    RatesPanel {
        height: auto;
        width: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[RateRow, ...] | None = None

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        ind = snapshot.indicators

        def row(name: str, label: str) -> RateRow:
            value = ind.get(name)
            if value is None or value.value is None:
                return RateRow(label, DASH, False, "", value.reference if value else None,
                               None, None)
            gap = (value.value - value.reference) * 100 if value.reference is not None else None
            return RateRow(label, pct(value.value), value.stale,
                           age_days(value.as_of, snapshot.as_of), value.reference, gap,
                           value.as_of)

        rows = [row(*YIELDS[0]), self._target(ind, snapshot), self._last_change(ind, snapshot)]
        rows += [row(name, label) for name, label in YIELDS[1:]]
        new = tuple(rows)
        if new != self.rows:
            self.rows = new
            self.refresh(layout=True)

    @staticmethod
    def _target(ind: dict[str, IndicatorValue], snapshot: Snapshot) -> RateRow:
        upper, lower = ind.get("fed_target_upper"), ind.get("fed_target_lower")
        if upper is None or upper.value is None:
            return RateRow("Fed funds target", DASH, False, "", None, None, None)
        if lower is not None and lower.value is not None and lower.value != upper.value:
            text = f"{lower.value * 100:.2f}-{upper.value * 100:.2f}%"
        else:
            text = pct(upper.value)
        return RateRow("Fed funds target", text, upper.stale,
                       age_days(upper.as_of, snapshot.as_of), None, None, upper.as_of,
                       emphasis=True)

    @staticmethod
    def _last_change(ind: dict[str, IndicatorValue], snapshot: Snapshot) -> RateRow:
        change = ind.get("fed_last_change")
        if change is None or change.value is None:
            return RateRow("Last target change", DASH, False, "", None, None, None)
        when = change.extra.get("date") or change.as_of
        date = when if isinstance(when, dt.date) else change.as_of
        return RateRow("Last target change", pp(change.value), change.stale,
                       age_days(change.as_of, snapshot.as_of), None, None, date)

    def render(self) -> RenderResult:
        if self.rows is None:
            return Text("loading…", style="dim")
        palette = Palette.from_variables(self.app.theme_variables)
        table = Table(box=box.SIMPLE_HEAD, expand=True, padding=(0, 1), pad_edge=False,
                      show_edge=False, header_style="bold", collapse_padding=True)
        table.add_column("Rates and credit", no_wrap=True, ratio=3)
        table.add_column("Now", justify="right", no_wrap=True)
        table.add_column("Article", justify="right", no_wrap=True)
        table.add_column("Gap", justify="right", no_wrap=True)
        table.add_column("As of", justify="right", no_wrap=True)
        for row in self.rows:
            style = palette.bold + (palette.primary if row.emphasis else palette.bold)
            value = with_age(row.value, row.stale, row.age, style, palette)
            if row.gap is None:
                gap = Text(DASH, style="dim")
            else:
                gap = Text(f"{row.gap:+.2f} pp",
                           style=palette.warning if row.gap >= 0 else palette.muted)
            table.add_row(
                Text(row.label),
                value,
                Text(pct(row.reference) if row.reference is not None else DASH,
                     style="" if row.reference is not None else "dim"),
                gap,
                Text(iso(row.as_of), style="dim"),
            )
        return table

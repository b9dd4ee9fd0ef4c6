"""DrawdownPanel: the Nasdaq indices against their all-time highs, and the AI basket's week.

One row per index (^NDX, ^IXIC, and ^GSPC if present): last, high and its date, the current
drawdown, days since the high, the worst drawdown, 1-day and 5-day change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group
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
    price,
    signed_pct,
    signed_style,
    signed_usd,
    usd,
    with_age,
)

if TYPE_CHECKING:
    from bubble_core.snapshot import Drawdown, IndicatorValue, Snapshot

INDEX_ORDER = ("^NDX", "^IXIC", "^GSPC")


@dataclass(frozen=True, slots=True)
class IndexRow:
    drawdown: Drawdown
    age: str


class DrawdownPanel(Widget):
    DEFAULT_CSS = """
    DrawdownPanel {
        height: auto;
        min-height: 3;
        width: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[IndexRow, ...] | None = None
        self.basket: tuple[IndicatorValue | None, IndicatorValue | None] = (None, None)
        self.basket_age = ""

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        rows = tuple(
            IndexRow(snapshot.drawdowns[sym], age_days(snapshot.drawdowns[sym].last_date,
                                                       snapshot.as_of))
            for sym in INDEX_ORDER if sym in snapshot.drawdowns
        )
        basket = (snapshot.indicators.get("ai_basket_change_5d"),
                  snapshot.indicators.get("ai_basket_change_5d_usd"))
        change = basket[0]
        basket_age = age_days(change.as_of, snapshot.as_of) if change else ""
        if rows != self.rows or basket != self.basket or basket_age != self.basket_age:
            self.rows, self.basket, self.basket_age = rows, basket, basket_age
            self.refresh(layout=True)

    def render(self) -> RenderResult:
        if self.rows is None:
            return Text("loading…", style="dim")
        palette = Palette.from_variables(self.app.theme_variables)
        wide = self.size.width >= 100
        table = Table(box=box.SIMPLE_HEAD, expand=True, padding=(0, 1), pad_edge=False,
                      show_edge=False, header_style="bold", collapse_padding=True)
        table.add_column("Index", no_wrap=True)
        table.add_column("Last", justify="right", no_wrap=True)
        table.add_column("High", justify="right", no_wrap=True)
        table.add_column("on", no_wrap=True)
        table.add_column("Drawdown", justify="right", no_wrap=True)
        table.add_column("Since", justify="right", no_wrap=True)
        if wide:
            table.add_column("Max DD", justify="right", no_wrap=True)
            table.add_column("1d", justify="right", no_wrap=True)
        table.add_column("5d", justify="right", no_wrap=True)
        for row in self.rows:
            d = row.drawdown
            dd_style = palette.down + palette.bold if d.drawdown <= -0.10 else palette.bold
            cells = [
                Text(d.symbol, style="bold"),
                with_age(price(d.last), d.stale, row.age, None, palette),
                Text(price(d.peak)),
                Text(iso(d.peak_date), style="dim"),
                Text(signed_pct(d.drawdown), style=dd_style),
                Text(f"{d.days_since_peak}d"),
            ]
            if wide:
                cells.append(Text(signed_pct(d.max_drawdown, 1), style="dim"))
                cells.append(Text(signed_pct(d.change_1d),
                                  style=signed_style(d.change_1d, palette)))
            cells.append(Text(signed_pct(d.change_5d), style=signed_style(d.change_5d, palette)))
            table.add_row(*cells)
        if not self.rows:
            table.add_row(Text("no index prices stored yet", style="dim"))
        change, change_usd = self.basket
        line = Text(no_wrap=True, overflow="ellipsis")  # ends with "\n": Textual counts lines
        line.append("AI basket, 5 trading days: ", style="bold")
        if change is None or change.value is None:
            line.append(DASH, style="dim")
        else:
            line.append(signed_pct(change.value), style=signed_style(change.value, palette))
            if change_usd is not None and change_usd.value is not None:
                line.append(f" ({signed_usd(change_usd.value)})",
                            style=signed_style(change_usd.value, palette))
            if change.stale:
                line.append(f" ~{self.basket_age}", style=palette.warning)
            if change.reference is not None:
                ref = f"  article {signed_pct(change.reference, 0)}"
                if change_usd is not None and change_usd.reference is not None:
                    ref += f" ({usd(change_usd.reference)})"
                line.append(ref, style="dim")
        return Group(table, line)

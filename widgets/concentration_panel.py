"""ConcentrationPanel: NVDA / GDP, Mag-7 / GDP and the Mag-7 share of the S&P 500.

Each row: the value (dimmed with its age when stale), the article's figure, the 1999 dot-com
benchmark (the whole internet sector was 9.67 % of GDP), the multiple of it, and the trend
(a sparkline of the last three months and the change over the last month).
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

from bubble_core.indicator_catalog import DOTCOM_SECTOR_TO_GDP
from widgets.formatting import (
    DASH,
    Palette,
    TimeContext,
    age_days,
    change_since,
    iso,
    pct,
    sparkline,
    with_age,
)

RATIOS: tuple[tuple[str, str, bool], ...] = (
    # indicator name, short label, compared with the 1999 sector-to-GDP benchmark
    ("nvda_cap_to_gdp", "NVDA / GDP", True),
    ("mag7_cap_to_gdp", "Mag-7 / GDP", True),
    ("mag7_share_of_sp500", "Mag-7 share of S&P 500", False),
)

if TYPE_CHECKING:
    from bubble_core.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class RatioRow:
    name: str
    label: str
    value: float | None
    reference: float | None
    source: str | None
    as_of: dt.date | None
    stale: bool
    age: str
    reason: str | None
    benchmark: float | None
    spark: str
    change_1m: float | None


class ConcentrationPanel(Widget):
    DEFAULT_CSS = """
    ConcentrationPanel {
        height: auto;
        min-height: 5;
        width: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[RatioRow, ...] | None = None

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        rows = []
        for name, label, compare in RATIOS:
            indicator = snapshot.indicators.get(name)
            series = snapshot.charts.get(f"ratio.{name}")
            spark, change = "", None
            if series and len(series[1]) > 1:
                dates, values = series
                cutoff = dates[-1] - dt.timedelta(days=92)
                recent = [v for d, v in zip(dates, values, strict=False) if d >= cutoff]
                spark = sparkline(recent, 10)
                change = change_since(dates, values, 30)
            rows.append(RatioRow(
                name=name,
                label=label,
                value=indicator.value if indicator else None,
                reference=indicator.reference if indicator else None,
                source=indicator.source if indicator else None,
                as_of=indicator.as_of if indicator else None,
                stale=bool(indicator and indicator.stale),
                age=age_days(indicator.as_of if indicator else None, snapshot.as_of),
                reason=indicator.reason if indicator else "not computed",
                benchmark=DOTCOM_SECTOR_TO_GDP if compare else None,
                spark=spark,
                change_1m=change,
            ))
        new = tuple(rows)
        if new != self.rows:
            self.rows = new
            self.refresh(layout=True)

    def render(self) -> RenderResult:
        if self.rows is None:
            return Text("loading…", style="dim")
        palette = Palette.from_variables(self.app.theme_variables)
        wide = self.size.width >= 100
        table = Table(box=box.SIMPLE_HEAD, expand=True, padding=(0, 1), pad_edge=False,
                      show_edge=False, header_style="bold", collapse_padding=True)
        table.add_column("Concentration", ratio=3, no_wrap=True)
        table.add_column("Now", justify="right", no_wrap=True)
        table.add_column("Article", justify="right", no_wrap=True)
        table.add_column("1999", justify="right", no_wrap=True)
        if wide:
            table.add_column("× 1999", justify="right", no_wrap=True)
        table.add_column("Trend 3m", no_wrap=True)
        table.add_column("1m", justify="right", no_wrap=True)
        if wide:
            table.add_column("As of", justify="right", no_wrap=True)
        reasons = {row.reason for row in self.rows if row.value is None and row.reason}
        for row in self.rows:
            if row.value is None:
                now = Text(DASH, style=palette.muted)
            else:
                over = row.reference is not None and row.value >= row.reference
                now = with_age(pct(row.value), row.stale, row.age,
                               palette.warning + palette.bold if over else palette.bold,
                               palette)
            article = Text(pct(row.reference, 1) if row.reference is not None else DASH)
            if wide and row.source:
                article.append(f" {row.source}", style="dim")
            bench = pct(row.benchmark) if row.benchmark is not None else DASH
            cells: list[Text | str] = [Text(row.label), now, article, Text(bench, style="dim")]
            if wide:
                multiple = (f"×{row.value / row.benchmark:.2f}"
                            if row.benchmark and row.value is not None else DASH)
                cells.append(Text(multiple))
            change = row.change_1m
            if change is None:
                change_text = Text(DASH, style="dim")
            else:
                style = palette.up if change > 0 else palette.down if change < 0 else ""
                change_text = Text(f"{change * 100:+.2f} pp", style=style)
            cells.append(Text(row.spark or DASH, style=palette.primary))
            cells.append(change_text)
            if wide:
                cells.append(Text(iso(row.as_of), style="dim"))
            table.add_row(*cells)
            if row.value is None and row.reason and wide and len(reasons) > 1:
                table.add_row(Text(f"  {row.reason}", style="dim italic"))
        if reasons:
            caption = "; ".join(sorted(reasons))
            table.caption = f"no value: {caption}"
            table.caption_style = "dim italic"
            table.caption_justify = "left"
        return table

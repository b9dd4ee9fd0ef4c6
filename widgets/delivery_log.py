"""DeliveryLog: the alert history, newest first: each notification attempt on each channel,
failed ones included with their error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import DataTable

from widgets.formatting import Palette, TimeContext, cell, clock_time
from widgets.table_sync import TableSync

if TYPE_CHECKING:
    from bubble_core.snapshot import DeliveryRecord, Snapshot

COLUMNS = ("ts", "status", "rule", "result", "channel")
LABELS = {"ts": "Time", "rule": "Rule", "status": "Status", "channel": "Channel",
          "result": "Result"}
MAX_ROWS = 200


def delivery_key(record: DeliveryRecord) -> str:
    return f"{record.ts.isoformat()}|{record.rule}|{record.channel}|{record.status}"


class DeliveryLog(DataTable[Any]):
    DEFAULT_CSS = """
    DeliveryLog {
        height: 1fr;
        width: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.records: tuple[DeliveryRecord, ...] | None = None
        self._ctx: TimeContext | None = None
        self._sync = TableSync(self, COLUMNS)

    def on_mount(self) -> None:
        for key in COLUMNS:
            self.add_column(LABELS[key], key=key)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: object) -> None:
        self._sync.reset()
        if self.records is not None and self._ctx is not None:
            self._render_rows(self.records, self._ctx)

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        same_day = self._ctx is not None and self._ctx.now.date() == ctx.now.date()
        if snapshot.deliveries == self.records and same_day:
            return
        self.records = snapshot.deliveries
        self._ctx = ctx
        self._render_rows(snapshot.deliveries, ctx)

    def failures(self) -> int:
        return sum(1 for r in self.records or () if not r.ok)

    def _render_rows(self, records: tuple[DeliveryRecord, ...], ctx: TimeContext) -> None:
        palette = Palette.from_variables(self.app.theme_variables)
        newest = sorted(records, key=lambda r: r.ts, reverse=True)[:MAX_ROWS]
        rows = []
        seen: set[str] = set()
        for record in newest:
            key = delivery_key(record)
            if key in seen:
                continue
            seen.add(key)
            if record.ok:
                result = cell("✓ sent", palette.success)
            else:
                result = cell(f"✗ {record.error or 'failed'}", palette.error)
            rows.append((key, (
                cell(clock_time(record.ts, ctx), palette.muted),
                cell(record.status, palette.warning if record.status == "firing"
                     else palette.success),
                cell(record.rule),
                result,
                cell(record.channel, palette.muted),
            )))
        self._sync.sync(rows)

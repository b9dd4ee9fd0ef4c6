"""DeliveryLog: the alert history, newest first: each notification attempt on each channel,
failed ones included with their error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from widgets.formatting import Palette, TimeContext, cell, clock_time
from widgets.synced_table import SyncedTable

if TYPE_CHECKING:
    from bubble_core.snapshot import DeliveryRecord, Snapshot

COLUMNS = ("ts", "status", "rule", "result", "channel")
LABELS = {"ts": "Time", "rule": "Rule", "status": "Status", "channel": "Channel",
          "result": "Result"}
MAX_ROWS = 200


def delivery_key(record: DeliveryRecord) -> str:
    return f"{record.ts.isoformat()}|{record.rule}|{record.channel}|{record.status}"


class DeliveryLog(SyncedTable):
    COLUMNS = COLUMNS
    LABELS = LABELS

    DEFAULT_CSS = """
    DeliveryLog {
        height: 1fr;
        width: 1fr;
    }
    """

    @property
    def records(self) -> tuple[DeliveryRecord, ...] | None:
        return self.items

    @records.setter
    def records(self, value: tuple[DeliveryRecord, ...] | None) -> None:
        self.items = value

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

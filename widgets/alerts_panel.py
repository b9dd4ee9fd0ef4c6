"""AlertsPanel: every rule with its state (firing and pending first), since when, the value,
and the silence in force. The selected row is what `s` silences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bubble_core.indicator_catalog import SPECS
from widgets.formatting import (
    DASH,
    Palette,
    TimeContext,
    age,
    cell,
    clock_time,
    pct,
    pp,
    right,
    signed_pct,
    usd,
)
from widgets.synced_table import SyncedTable

if TYPE_CHECKING:
    from bubble_core.snapshot import AlertStatus, Snapshot

COLUMNS = ("state", "sev", "rule", "value", "since", "silenced", "summary")
LABELS = {"state": "State", "sev": "Sev", "rule": "Rule", "value": "Value", "since": "Since",
          "silenced": "Silenced", "summary": "Summary"}
STATE_RANK = {"firing": 0, "pending": 1, "recovering": 2, "inactive": 3}
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
SEVERITY_SHORT = {"critical": "CRIT", "warning": "WARN", "info": "info"}


def format_value(indicator: str, value: float | None) -> str:
    if value is None:
        return DASH
    spec = SPECS.get(indicator)
    if spec is None:
        kind = indicator.partition(".")[0]
        return signed_pct(value) if kind in ("drawdown", "change_1d", "change_5d") else f"{value:g}"
    if spec.unit == "fraction":
        return signed_pct(value) if "change" in spec.name else pct(value)
    if spec.unit == "usd":
        return usd(value)
    if spec.unit == "usd_bn":
        return usd(value * 1e9)
    if spec.unit == "percent_points":
        return pp(value)
    return f"{value:g}"


class AlertsPanel(SyncedTable):
    COLUMNS = COLUMNS
    LABELS = LABELS

    DEFAULT_CSS = """
    AlertsPanel {
        height: 1fr;
        width: 1fr;
    }
    """

    @property
    def alerts(self) -> tuple[AlertStatus, ...] | None:
        return self.items

    @alerts.setter
    def alerts(self, value: tuple[AlertStatus, ...] | None) -> None:
        self.items = value

    @property
    def selected_rule(self) -> str | None:
        return self._sync.selected_key()

    def alert(self, rule: str) -> AlertStatus | None:
        return next((a for a in self.alerts or () if a.rule == rule), None)

    def counts(self) -> dict[str, int]:
        counts = {"firing": 0, "pending": 0, "silenced": 0}
        ctx = self._ctx
        for alert in self.alerts or ():
            if alert.state in counts:
                counts[alert.state] += 1
            until = alert.silenced_until
            if until is not None and (ctx is None or ctx.naive_utc(until) > ctx.now):
                counts["silenced"] += 1
        return counts

    def update_snapshot(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        same_minute = self._ctx is not None and (
            self._ctx.now.replace(second=0, microsecond=0)
            == ctx.now.replace(second=0, microsecond=0))
        if snapshot.alerts == self.alerts and same_minute:
            return
        self.alerts = snapshot.alerts
        self._ctx = ctx
        self._render_rows(snapshot.alerts, ctx)

    def _render_rows(self, alerts: tuple[AlertStatus, ...], ctx: TimeContext) -> None:
        palette = Palette.from_variables(self.app.theme_variables)
        state_styles = {
            "firing": palette.error + palette.bold,
            "pending": palette.warning,
            "recovering": palette.primary,
            "inactive": palette.muted,
        }
        severity_styles = {
            "critical": palette.error + palette.bold,
            "warning": palette.warning,
            "info": palette.muted,
        }
        ordered = sorted(alerts, key=lambda a: (STATE_RANK.get(a.state, 9),
                                                SEVERITY_RANK.get(a.severity, 9), a.rule))
        rows = []
        for alert in ordered:
            inactive = alert.state == "inactive"
            since = DASH
            if alert.since is not None and not inactive:
                since = (f"{clock_time(alert.since, ctx)} "
                         f"({age(ctx.now - ctx.naive_utc(alert.since))})")
            silenced = DASH
            silence_style = palette.muted
            if alert.silenced_until is not None:
                until = ctx.naive_utc(alert.silenced_until)
                if until > ctx.now:
                    silenced = clock_time(alert.silenced_until, ctx)
                    silence_style = palette.primary
            rows.append((alert.rule, (
                cell(alert.state.upper() if not inactive else "ok",
                     state_styles.get(alert.state)),
                cell(SEVERITY_SHORT.get(alert.severity, alert.severity),
                     severity_styles.get(alert.severity)),
                cell(alert.rule, palette.muted if inactive else palette.bold),
                right(format_value(alert.indicator, alert.value),
                      palette.muted if inactive else None),
                cell(since, palette.muted),
                cell(silenced, silence_style),
                cell(alert.summary, palette.muted if inactive else None),
            )))
        self._sync.sync(rows)

    def select_rule(self, rule: str) -> None:
        self._sync.select(rule)

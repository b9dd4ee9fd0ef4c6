"""What the indicators produce and every consumer reads: `status`, the TUI, the alert engine.

A Snapshot is immutable and self-contained; widgets receive one and never query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class IndicatorValue:
    """One figure with its provenance. `value` is None exactly when `reason` says why."""

    name: str
    label: str
    value: float | None
    as_of: dt.date | None
    unit: str  # "fraction" (0.168 = 16.8 %), "usd", "usd_bn", "percent_points"
    reference: float | None = None
    source: str | None = None  # row id of shared/reference/article-figures.md (A1, ...)
    stale: bool = False
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "value": _round(self.value),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "reference": self.reference,
            "source": self.source,
            "stale": self.stale,
            "reason": self.reason,
            "unit": self.unit,
        }
        for key, value in self.extra.items():
            document[key] = _jsonable(value)
        return document


@dataclass(frozen=True, slots=True)
class Drawdown:
    """Drawdown figures of one symbol over its stored daily history, as of a date."""

    symbol: str
    last_date: dt.date
    last: float
    peak_date: dt.date
    peak: float
    drawdown: float  # fraction, <= 0
    days_since_peak: int
    max_drawdown: float
    max_drawdown_peak_date: dt.date | None
    max_drawdown_trough_date: dt.date | None
    recovery_date: dt.date | None
    change_1d: float | None = None
    change_5d: float | None = None
    stale: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "last_date": self.last_date.isoformat(),
            "last": self.last,
            "peak_date": self.peak_date.isoformat(),
            "peak": self.peak,
            "drawdown": _round(self.drawdown),
            "days_since_peak": self.days_since_peak,
            "max_drawdown": _round(self.max_drawdown),
            "max_drawdown_peak_date": _iso(self.max_drawdown_peak_date),
            "max_drawdown_trough_date": _iso(self.max_drawdown_trough_date),
            "recovery_date": _iso(self.recovery_date),
            "change_1d": _round(self.change_1d),
            "change_5d": _round(self.change_5d),
            "stale": self.stale,
        }


@dataclass(frozen=True, slots=True)
class FedTargetChange:
    """A change of the Fed's target (range), an event that alerts notify once."""

    date: dt.date
    lower: float | None  # percent
    upper: float  # percent
    change: float  # percentage points, signed

    @property
    def key(self) -> str:
        return f"fed_target_change:{self.date.isoformat()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "lower": self.lower,
            "upper": self.upper,
            "change": round(self.change, 4),
        }


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    last_success: dt.datetime | None
    last_attempt: dt.datetime | None
    last_error: str | None
    consecutive_failures: int
    stale: bool
    next_retry: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "last_success": _iso_ts(self.last_success),
            "last_attempt": _iso_ts(self.last_attempt),
            "last_error": self.last_error,
            "consecutive_failures": self.consecutive_failures,
            "stale": self.stale,
            "next_retry": _iso_ts(self.next_retry),
        }


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """One rule's current state, as the alerts panel and `status` show it."""

    rule: str
    state: str  # inactive | pending | firing | recovering
    severity: str  # info | warning | critical
    indicator: str
    value: float | None
    since: dt.datetime | None  # when it entered this state
    summary: str
    source: str | None = None  # article row id
    silenced_until: dt.datetime | None = None
    last_notified: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "state": self.state,
            "severity": self.severity,
            "indicator": self.indicator,
            "value": _round(self.value),
            "since": _iso_ts(self.since),
            "summary": self.summary,
            "source": self.source,
            "silenced_until": _iso_ts(self.silenced_until),
            "last_notified": _iso_ts(self.last_notified),
        }


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One notification attempt on one channel (masked URL), for the alerts panel."""

    ts: dt.datetime
    rule: str
    status: str  # firing | resolved
    channel: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """A notification raised by the latest tick, for the in-app channels (toast, bell, OSC)."""

    rule: str
    status: str  # firing | resolved
    severity: str
    summary: str


# A chart series: dates and values, oldest first.
Series = tuple[tuple[dt.date, ...], tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one refresh knows.

    `charts` keys: "close.SYM", "peak.SYM" (running high), "drawdown.SYM", "macro.SERIES"
    (FRED id, EFFR, AAA, BAA, DFEDTAR), "ratio.NAME" (nvda_cap_to_gdp, mag7_cap_to_gdp,
    mag7_share_of_sp500).
    """

    as_of: dt.date
    generated_at: dt.datetime
    indicators: dict[str, IndicatorValue]
    drawdowns: dict[str, Drawdown]
    events: tuple[FedTargetChange, ...] = ()
    sources: dict[str, SourceHealth] = field(default_factory=dict)
    alerts: tuple[AlertStatus, ...] = ()
    deliveries: tuple[DeliveryRecord, ...] = ()
    notices: tuple[AlertNotice, ...] = ()  # raised by the tick that built this snapshot
    charts: dict[str, Series] = field(default_factory=dict)

    def sample(self, name: str) -> tuple[float | None, bool, dt.date | None]:
        """(value, stale, as_of) of a rule indicator: a status key, drawdown.SYM, change_5d.SYM."""
        if name in self.indicators:
            indicator = self.indicators[name]
            return indicator.value, indicator.stale, indicator.as_of
        kind, _, symbol = name.partition(".")
        drawdown = self.drawdowns.get(symbol)
        if drawdown is None:
            return None, True, None
        if kind == "drawdown":
            return drawdown.drawdown, drawdown.stale, drawdown.last_date
        if kind == "change_5d":
            return drawdown.change_5d, drawdown.stale, drawdown.last_date
        if kind == "change_1d":
            return drawdown.change_1d, drawdown.stale, drawdown.last_date
        return None, True, None


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _iso_ts(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _iso_ts(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return _round(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value

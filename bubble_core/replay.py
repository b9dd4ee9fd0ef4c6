"""Replay of the dot-com crash on real bundled history, through the live data path.

The replay writes each simulated day's rows with the same store code as a live poll, computes the
same snapshot and runs the same alert engine, in a temporary store that is never the user's
live file. It is the offline demo and the harness that shows the whole app working without
internet. `backtest` runs the same loop flat out and reports when each alert fired and resolved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bubble_core.config import Config
from bubble_core.replay_data import DotcomReplay
from bubble_core.runtime import ModeInfo
from bubble_core.snapshot import AlertNotice, Snapshot
from bubble_core.snapshots import compute_snapshot, source_health
from bubble_core.store import Store

REPLAY_SOURCE = "replay"
SCENARIOS = ("dotcom",)
# Evaluate a simulated day after the US close, when its bar is final.
EVALUATION_TIME = dt.time(21, 0)
MAX_DAYS_PER_TICK = 20


def simulated_now(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, EVALUATION_TIME)


class ReplayBackend:
    """MonitorBackend + ReplayControls over a temporary store."""

    def __init__(
        self,
        config: Config,
        *,
        speed: float = 5.0,
        start: dt.date | None = None,
        end: dt.date | None = None,
        clock: Callable[[], float] = time.monotonic,
        rules: Sequence[Any] | None = None,
        workdir: Path | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.config = config
        self.speed = speed
        self.replay = DotcomReplay(
            start=start or dt.date(1999, 1, 4), end=end or dt.date(2003, 12, 31)
        )
        if not self.replay.trading_days:
            raise ValueError("no trading day in the replay range")
        # The replay's store lives in memory unless a folder is given (tests inspect the file):
        # it is private, temporary, and never the user's live store.
        self.workdir = workdir
        self.store = Store(
            workdir / "replay.duckdb" if workdir else Path(":memory:"), persistent=True
        )
        self._clock = clock
        self._rules = rules
        self._engine: Any = None
        self._position = 0  # index of the next trading day to emit
        self._credit = 0.0  # fractional days earned by elapsed time
        self._last_clock: float | None = None
        self._paused = False
        self._step_requested = False
        self._started = False
        self.current_day: dt.date | None = None

    # -- set-up ------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        from bubble_core.alerts.engine import AlertEngine
        from bubble_core.alerts.rules import load_rules

        rules = self._rules
        if rules is None:
            rules = load_rules(self.config.rules, str(self.config.path or "config.toml"))
        self._engine = AlertEngine(rules, self.store)
        preload = self.replay.preload()
        first = simulated_now(self.replay.trading_days[0] - dt.timedelta(days=1))
        self.store.write_batch(REPLAY_SOURCE, preload, first, first)

    # -- controls ----------------------------------------------------------------------------

    def toggle_pause(self) -> bool:
        self._paused = not self._paused
        self._credit = 0.0
        return self._paused

    def step_day(self) -> None:
        self._step_requested = True

    def change_speed(self, factor: float) -> float:
        self.speed = min(max(self.speed * factor, 0.25), 365.0)
        return self.speed

    @property
    def finished(self) -> bool:
        return self._position >= len(self.replay.trading_days)

    # -- MonitorBackend ----------------------------------------------------------------------

    def mode(self) -> ModeInfo:
        detail = "finished" if self.finished else f"dotcom x{self.speed:g} days/s"
        return ModeInfo(
            "REPLAY", detail, simulated_date=self.current_day, paused=self._paused
        )

    def _days_due(self) -> int:
        now = self._clock()
        elapsed = 0.0 if self._last_clock is None else now - self._last_clock
        self._last_clock = now
        if self._step_requested:
            self._step_requested = False
            self._credit = 0.0
            return 1
        if self._paused:
            return 0
        if self.current_day is None:
            return 1  # show the first day at once
        self._credit += elapsed * self.speed
        days = int(self._credit)
        self._credit -= days
        return min(days, MAX_DAYS_PER_TICK)

    def advance(self, days: int) -> list[AlertNotice]:
        """Emit `days` trading days, evaluating the alerts after each one."""
        self._start()
        notices: list[AlertNotice] = []
        for _ in range(days):
            if self.finished:
                break
            day = self.replay.trading_days[self._position]
            self._position += 1
            self.current_day = day
            now = simulated_now(day)
            self.store.write_batch(REPLAY_SOURCE, self.replay.batch_for(day), now, now)
            snapshot = self._snapshot(day, with_charts=False)
            for notification in self._engine.evaluate(snapshot, now):
                if notification.reminder:
                    continue  # a simulated day is 24 h: `repeat` would toast every day
                notices.append(
                    AlertNotice(
                        notification.rule,
                        notification.status,
                        notification.severity,
                        notification.summary,
                    )
                )
        return notices

    def _snapshot(self, day: dt.date, with_charts: bool = True) -> Snapshot:
        now = simulated_now(day)
        health = source_health(
            self.store.source_health(), {REPLAY_SOURCE: dt.timedelta(days=1)}, now
        )
        with self.store.reader() as con:
            return compute_snapshot(con, self.config, day, now, health, with_charts)

    def tick(self) -> Snapshot:
        self._start()
        notices = self.advance(self._days_due())
        return self._full_snapshot(tuple(notices))

    def _full_snapshot(self, notices: tuple[AlertNotice, ...] = ()) -> Snapshot:
        day = self.current_day or self.replay.trading_days[0] - dt.timedelta(days=1)
        snapshot = self._snapshot(day)
        from bubble_core.live import alert_log

        return dataclasses.replace(
            snapshot,
            alerts=tuple(self._engine.statuses(simulated_now(day))),
            deliveries=alert_log(self.store),
            notices=notices,
        )

    def snapshot(self) -> Snapshot:
        self._start()
        return self._full_snapshot()

    def seconds_until_next_tick(self) -> float:
        if self.finished:
            return 3600.0
        if self._paused:
            return 0.5  # stay responsive to the step key
        return min(max(1.0 / self.speed, 0.1), 1.0)

    def silence(self, rule: str, duration: dt.timedelta, comment: str) -> None:
        self._start()
        day = self.current_day or self.replay.trading_days[0]
        self._engine.silence(rule, simulated_now(day) + duration, comment, "tui")

    def close(self) -> None:
        self.store.close()


# -- backtest ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    date: dt.date
    rule: str
    status: str  # firing | resolved
    severity: str
    value: float | None
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "rule": self.rule,
            "status": self.status,
            "severity": self.severity,
            "value": None if self.value is None else round(self.value, 6),
            "summary": self.summary,
        }


def run_backtest(
    config: Config,
    scenario: str = "dotcom",
    rules: Sequence[Any] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[TimelineEntry]:
    """Every alert transition of the rules over the whole replay, in date order.

    The history is written through the store exactly as the replay writes it, then every day is
    evaluated on data dated up to that day only (no look-ahead), with an in-memory alert engine.
    """
    from bubble_core.alerts.engine import AlertEngine
    from bubble_core.alerts.rules import load_rules
    from bubble_core.rule_samples import daily_rule_snapshots

    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r} (known: {', '.join(SCENARIOS)})")
    replay = DotcomReplay(start=start or dt.date(1999, 1, 4), end=end or dt.date(2003, 12, 31))
    if rules is None:
        rules = load_rules(config.rules, str(config.path or "config.toml"))
    engine = AlertEngine(rules, None)
    store = Store(Path(":memory:"), persistent=True)
    try:
        # One write for the whole history: the per-day snapshots below still read only rows
        # dated up to their day, so nothing is seen early.
        history = replay.preload()
        for _, batch in replay.batches_between(replay.trading_days[0], replay.trading_days[-1]):
            history.extend(batch)
        last = simulated_now(replay.trading_days[-1])
        store.write_batch(REPLAY_SOURCE, history, last, last)
        with store.reader() as con:
            snapshots = daily_rule_snapshots(con, replay.trading_days, EVALUATION_TIME)
    finally:
        store.close()

    timeline: list[TimelineEntry] = []
    firing: set[str] = set()
    for snapshot in snapshots:
        for notification in engine.evaluate(snapshot, snapshot.generated_at):
            # A repeat of a still-firing alert is not a transition; each event is one.
            if notification.kind != "event":
                if notification.status == "firing":
                    if notification.rule in firing:
                        continue
                    firing.add(notification.rule)
                else:
                    firing.discard(notification.rule)
            timeline.append(
                TimelineEntry(
                    date=snapshot.as_of,
                    rule=notification.rule,
                    status=notification.status,
                    severity=notification.severity,
                    value=notification.value,
                    summary=notification.summary,
                )
            )
    return timeline

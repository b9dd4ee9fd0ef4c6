"""The contract between the domain and any front end (the TUI, `collect`, `status`).

`MonitorBackend` is what the TUI drives from its worker; the live collector, the read-only viewer
and the dot-com replay all implement it, and tests use a fake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bubble_core.snapshot import Snapshot


@dataclass(frozen=True, slots=True)
class ModeInfo:
    """What the header shows: LIVE, VIEWER (another process collects), REPLAY, OFFLINE."""

    mode: str
    detail: str = ""  # e.g. "collector pid 4242" or "dotcom x5 days/s"
    simulated_date: dt.date | None = None
    paused: bool = False


class MonitorBackend(Protocol):
    """Blocking methods: the TUI calls them from a thread worker, never on the event loop."""

    def mode(self) -> ModeInfo: ...

    def tick(self) -> Snapshot:
        """Do whatever is due (poll sources, advance the replay, evaluate alerts, notify) and
        return a fresh snapshot. Never raises for a source failure: failures are in the
        snapshot's `sources`."""
        ...

    def snapshot(self) -> Snapshot:
        """A snapshot of what is stored now, without polling anything."""
        ...

    def seconds_until_next_tick(self) -> float: ...

    def silence(self, rule: str, duration: dt.timedelta, comment: str) -> None: ...

    def close(self) -> None: ...


class ReplayControls(Protocol):
    """Extra keys a replay backend answers: pause, step one day, change speed."""

    def toggle_pause(self) -> bool: ...

    def step_day(self) -> None: ...

    def change_speed(self, factor: float) -> float:
        """Multiply days-per-second by `factor`; return the new speed."""
        ...

"""The contract between the domain and any front end (the TUI, `collect`, `status`).

`MonitorBackend` is what the TUI drives from its worker; the live collector, the read-only viewer
and the dot-com replay all implement it, and tests use a fake.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

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


class DeferredBackend:
    """A backend built on first use, so its imports (DuckDB, httpx, sources) and its set-up run
    in the TUI's worker thread, after the first frame has painted.

    Every call is delegated; until the real backend exists, `mode()` answers with the mode it
    will have. The replay methods are only called by the app when `mode()` says REPLAY.
    """

    def __init__(self, factory: Callable[[], Any], mode: str) -> None:
        self._factory = factory
        self._mode = mode
        self._backend: Any = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> Any:
        with self._lock:
            if self._backend is None:
                self._backend = self._factory()
            return self._backend

    def mode(self) -> ModeInfo:
        if self._backend is None:
            return ModeInfo(self._mode, "starting")
        return self._backend.mode()

    def tick(self) -> Snapshot:
        return self.backend.tick()

    def snapshot(self) -> Snapshot:
        return self.backend.snapshot()

    def seconds_until_next_tick(self) -> float:
        return self.backend.seconds_until_next_tick()

    def silence(self, rule: str, duration: dt.timedelta, comment: str) -> None:
        self.backend.silence(rule, duration, comment)

    def request_refresh(self) -> None:
        # Called from the UI thread: never build the backend here.
        request = getattr(self._backend, "request_refresh", None)
        if request is not None:
            request()

    def toggle_pause(self) -> bool:
        return bool(self.backend.toggle_pause())

    def step_day(self) -> None:
        self.backend.step_day()

    def change_speed(self, factor: float) -> float:
        return float(self.backend.change_speed(factor))

    def close(self) -> None:
        with self._lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

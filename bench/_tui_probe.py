"""Child process of the TUI benchmarks: runs one app under the pseudo-terminal the parent made.

Kinds:
  bare          a minimal Textual app that paints one line (the yardstick)
  replay        `bubble-monitor --replay dotcom`, through monitor.main
  live          `bubble-monitor --db DB --viewer`, through monitor.main (LiveBackend, no polling)
  live-collect  LiveBackend(collect=True) over DB with offline fakes: httpx answers 503 and the
                Yahoo download imports yfinance + pandas (as the real one does), then fails
  idle          BubbleMonitorApp over a backend whose data never changes (a frozen snapshot of
                DB, re-stamped with the current time at every tick, like a live refresh)

The app class is the product's, subclassed only to report events on the fd in $BENCH_MARKER_FD
as JSON lines: {"event": "first_paint", "t": <time.time()>, "modules": [...]}. "first_paint" is
sent from call_after_refresh scheduled in on_mount: after the first screen refresh;
"data_paint" after the refresh that follows the first snapshot (SnapshotReady) handled.
"""

from __future__ import annotations

import json
import os
import sys
import time

HEAVY = ("pandas", "yfinance", "pyarrow", "httpx", "numpy", "plotext", "textual_plotext",
         "duckdb", "curl_cffi", "apprise")


def _report(event: str, **extra: object) -> None:
    fd = int(os.environ.get("BENCH_MARKER_FD", "-1"))
    if fd < 0:
        return
    loaded = sorted(name for name in HEAVY if name in sys.modules)
    message = {"event": event, "t": time.time(), "modules": loaded, **extra}
    os.write(fd, (json.dumps(message) + "\n").encode())


def _painted_once(app: object) -> None:
    if not getattr(app, "_bench_painted", False):
        app._bench_painted = True  # type: ignore[attr-defined]
        _report("first_paint")


def instrument(base: type) -> type:
    class Probe(base):  # type: ignore[misc, valid-type]
        # Textual calls a handler of every class in the MRO: these run before the app's own.
        def on_mount(self) -> None:
            self.call_after_refresh(_painted_once, self)

        def on_snapshot_ready(self, message: object) -> None:
            if not getattr(self, "_bench_data", False):
                self._bench_data = True
                self.call_after_refresh(_report, "data_paint")

    Probe.__name__ = base.__name__
    Probe.__qualname__ = base.__qualname__
    return Probe


def run_bare() -> int:
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Bare(App):
        def compose(self) -> ComposeResult:
            yield Static("bare textual app: one line")

    _report("imported")
    instrument(Bare)().run()
    return 0


def run_cli(argv: list[str]) -> int:
    import tui.app

    tui.app.BubbleMonitorApp = instrument(tui.app.BubbleMonitorApp)
    import monitor

    _report("imported")
    return monitor.main(argv)


def run_live_collect(db: str) -> int:
    """LiveBackend that collects, offline, built the way the CLI builds it (deferred to the
    app's worker when bubble_core.runtime.DeferredBackend exists): what a start with no network
    costs. Its first poll imports yfinance and pandas in the worker, as the real download does."""
    import logging

    import monitor  # noqa: F401  (the CLI's import path: config, store, logging set-up)
    import tui.app

    logging.getLogger("yfinance").setLevel(logging.CRITICAL)

    def http_factory() -> object:
        import httpx

        return httpx.AsyncClient(transport=httpx.MockTransport(
            lambda request: httpx.Response(503, text="offline")))

    def download(**kwargs: object) -> object:
        import pandas  # noqa: F401
        import yfinance  # noqa: F401

        raise ConnectionError("offline benchmark")

    def shares_fetch(symbol: str) -> object:
        raise ConnectionError("offline benchmark")

    def make() -> object:
        from bubble_core.config import Config
        from bubble_core.live import LiveBackend
        from bubble_core.store import Store
        from data_sources.yahoo import YahooSource

        return LiveBackend(Config(path=None), Store(db), http_client_factory=http_factory,
                           yahoo=YahooSource(download=download, shares_fetch=shares_fetch),
                           collect=True)

    try:
        from bubble_core.runtime import DeferredBackend

        backend: object = DeferredBackend(make, mode="LIVE")
    except ImportError:
        backend = make()
    app = instrument(tui.app.BubbleMonitorApp)(backend)
    try:
        app.run()
    finally:
        backend.close()  # type: ignore[attr-defined]
    return 0


class FrozenBackend:
    """Data that never changes: the same snapshot, re-stamped at every tick."""

    def __init__(self, snapshot: object, tick_seconds: float) -> None:
        self._snapshot = snapshot
        self._tick_seconds = tick_seconds
        self.ticks = 0

    def mode(self) -> object:
        from bubble_core.runtime import ModeInfo

        return ModeInfo("VIEWER", "read-only")

    def tick(self) -> object:
        import dataclasses

        from bubble_core.store import utcnow

        self.ticks += 1
        return dataclasses.replace(self._snapshot, generated_at=utcnow())

    def snapshot(self) -> object:
        return self.tick()

    def seconds_until_next_tick(self) -> float:
        return self._tick_seconds

    def silence(self, rule: str, duration: object, comment: str) -> None:
        pass

    def close(self) -> None:
        pass


def run_idle(db: str, tick_seconds: float) -> int:
    import dataclasses
    import datetime as dt

    import tui.app
    from bubble_core.alerts.engine import AlertEngine
    from bubble_core.alerts.rules import load_rules
    from bubble_core.config import Config
    from bubble_core.snapshots import snapshot_from_store
    from bubble_core.store import Store, utcnow

    config = Config(path=None)
    store = Store(db, read_only=True)
    row = store.query("SELECT max(date) FROM daily_bars")[0][0]
    now = dt.datetime.combine(row, dt.time(21, 0))
    snapshot = snapshot_from_store(store, config, row, now)
    rules = load_rules(config.rules, "config.toml")
    snapshot = dataclasses.replace(
        snapshot, alerts=tuple(AlertEngine(rules, store).statuses(utcnow())))
    backend = FrozenBackend(snapshot, tick_seconds)
    app = instrument(tui.app.BubbleMonitorApp)(backend)
    app.run()
    return 0


def main() -> int:
    kind = sys.argv[1]
    rest = sys.argv[2:]
    if kind == "bare":
        return run_bare()
    if kind == "replay":
        return run_cli(["--replay", "dotcom"])
    if kind == "live":
        return run_cli(["--db", rest[0], "--viewer"])
    if kind == "live-collect":
        return run_live_collect(rest[0])
    if kind == "idle":
        return run_idle(rest[0], float(rest[1]) if len(rest) > 1 else 10.0)
    raise SystemExit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    sys.exit(main())

"""SVG snapshots of the dashboard at 80x24 (SSH) and 160x48, with frozen data and a frozen clock.

Regenerate after a deliberate change with:
    pytest tests/test_tui_snapshots.py --snapshot-update
and look at the report (snapshot_report.html) before committing the new SVGs.
"""

from __future__ import annotations

import time

import pytest
from tui_fakes import (
    FakeBackend,
    FakeReplayBackend,
    empty_snapshot,
    frozen_clock,
    live_snapshot,
)

from tui.app import BubbleMonitorApp

NARROW = (80, 24)
WIDE = (160, 48)


def make_runner(*keys: str):
    async def run_before(pilot) -> None:
        app: BubbleMonitorApp = pilot.app
        app.animation_level = "none"
        deadline = time.monotonic() + 10
        while not (app.panels_ready and app.snapshot is not None and not app.busy):
            assert time.monotonic() < deadline, "the app did not settle"
            await pilot.pause(0.01)
        for key in keys:
            await pilot.press(key)
            while app.busy:
                await pilot.pause(0.01)
        await pilot.pause()

    return run_before


def live_app() -> BubbleMonitorApp:
    return BubbleMonitorApp(FakeBackend(live_snapshot()), clock=frozen_clock)


@pytest.mark.parametrize(
    ("key", "size"),
    [
        ("1", NARROW),
        ("2", NARROW),
        ("3", NARROW),
        ("4", NARROW),
        ("5", NARROW),
        ("1", WIDE),
        ("2", WIDE),
        ("3", WIDE),
        ("4", WIDE),
    ],
    ids=[
        "concentration-80x24",
        "drawdowns-80x24",
        "rates-80x24",
        "alerts-80x24",
        "sources-80x24",
        "concentration-160x48",
        "drawdowns-160x48",
        "rates-160x48",
        "alerts-160x48",
    ],
)
def test_live_panels(snap_compare, key, size):
    assert snap_compare(live_app(), terminal_size=size, run_before=make_runner(key))


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "160x48"])
def test_replay(snap_compare, size):
    app = BubbleMonitorApp(FakeReplayBackend(), clock=frozen_clock)
    assert snap_compare(app, terminal_size=size, run_before=make_runner())


def test_empty_store(snap_compare):
    app = BubbleMonitorApp(FakeBackend(empty_snapshot()), clock=frozen_clock)
    assert snap_compare(app, terminal_size=NARROW, run_before=make_runner())


def test_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(live_app(), terminal_size=NARROW, run_before=make_runner("2"))


def test_silence_dialog(snap_compare):
    async def run_before(pilot) -> None:
        await make_runner("a", "down", "down", "s")(pilot)
        duration = pilot.app.screen.query_one("#duration")
        duration.cursor_blink = False
        await pilot.pause()

    assert snap_compare(live_app(), terminal_size=NARROW, run_before=run_before)

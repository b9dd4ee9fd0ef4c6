"""Pilot tests of the dashboard against a fake backend: keys, panels, the silence flow, the
backend loop (no overlap, never blocking keys), staleness, the empty store, notices, NO_COLOR."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
import time
from collections.abc import Callable

import pytest
from tui_fakes import (
    FROZEN_NOW,
    FakeBackend,
    FakeReplayBackend,
    empty_snapshot,
    frozen_clock,
    live_snapshot,
    replay_mode,
    replay_snapshot,
)

from bubble_core.snapshot import AlertNotice
from tui.app import BubbleMonitorApp

SIZE = (80, 24)


async def until(pilot, condition: Callable[[], bool], within: float = 3.0) -> None:
    """Let the app run until `condition` holds (no fixed sleeps)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


async def ready(pilot) -> None:
    """Wait for the panels and the first snapshot (from the first tick when there is one)."""
    app: BubbleMonitorApp = pilot.app
    await until(pilot, lambda: app.panels_ready and app.snapshot is not None)
    await until(pilot, lambda: not app.busy)
    await pilot.pause()


def make_app(backend: FakeBackend, **kwargs) -> BubbleMonitorApp:
    return BubbleMonitorApp(backend, clock=frozen_clock, **kwargs)


# ------------------------------------------------------------------------------ start-up


async def test_first_frame_before_first_tick():
    """The app paints and answers keys while the store read and the tick still run."""
    release = threading.Event()
    backend = FakeBackend(live_snapshot(), hang=release, hang_seconds=5)
    app = make_app(backend)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.panels_ready)
            assert app.query_one("#header").badge_text() in ("STARTING", "LIVE")
            # the store read arrives first, while tick() still hangs
            await until(pilot, lambda: app.snapshot is not None)
            assert app.busy
            assert backend.tick_count == 0
            await pilot.press("3")
            assert app.active_panel == "rates"
    finally:
        release.set()


async def test_first_tick_false_only_reads_the_store():
    backend = FakeBackend(live_snapshot(), next_tick=3600)
    app = make_app(backend, first_tick=False)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "snapshot" in backend.call_names()
        assert backend.tick_count == 0


async def test_panel_keys_and_focus():
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for key, pane, focus in (
            ("2", "drawdowns", "watch"),
            ("3", "rates", "tabs"),
            ("4", "alerts", "alerts-table"),
            ("5", "sources", "sources-table"),
            ("1", "concentration", "tabs"),
        ):
            await pilot.press(key)
            assert app.active_panel == pane
            assert app.focused is not None and app.focused.id == focus
        await pilot.press("a")
        assert app.active_panel == "alerts"
        # the tab strip: right arrow moves to the next panel
        await pilot.press("1", "right")
        await pilot.pause()
        assert app.active_panel == "drawdowns"


async def test_help_screen_opens_and_closes():
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "Screen"


async def test_command_palette_has_the_actions():
    from tui.commands import BubbleCommands

    app = make_app(FakeReplayBackend())
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        provider = BubbleCommands(app.screen)
        names = [name for name, _help, _callback in provider._commands()]
        for expected in ("Refresh now", "Show alerts", "Silence selected alert", "Help",
                         "Panel 2: Drawdowns", "Replay: pause / resume", "Replay: step one day",
                         "Replay: faster", "Replay: slower", "Quit"):
            assert expected in names
        callback = dict((n, c) for n, _h, c in provider._commands())["Panel 3: Rates & credit"]
        callback()
        await pilot.pause()
        assert app.active_panel == "rates"


# ---------------------------------------------------------------------------- the loop


async def test_refresh_key_ticks_now_unless_one_is_running():
    backend = FakeBackend(live_snapshot(), next_tick=3600)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert backend.tick_count == 1
        await pilot.press("r")
        await until(pilot, lambda: backend.tick_count == 2 and not app.busy)
        # while a tick runs, r does not start another
        backend.tick_delay = 0.3
        await pilot.press("r")
        await until(pilot, lambda: app.busy)
        await pilot.press("r", "r")
        await until(pilot, lambda: not app.busy)
        await pilot.pause(0.05)
        assert backend.tick_count == 3


async def test_ticks_never_overlap():
    """Fast re-arming, r presses and replay keys: the backend is never called concurrently."""
    backend = FakeReplayBackend(next_tick=0.01, tick_delay=0.02)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for key in ("r", "space", "n", "r", "plus", "full_stop", "minus", "r", "space"):
            await pilot.press(key)
            await pilot.pause(0.01)
        await until(pilot, lambda: backend.tick_count >= 12, within=5)
        await until(pilot, lambda: not app._jobs and not app.busy, within=5)
    assert backend.max_concurrent == 1
    assert {"toggle_pause", "step_day", "change_speed"} <= set(backend.call_names())


async def test_next_tick_is_armed_from_the_backend_delay():
    backend = FakeBackend(live_snapshot(), next_tick=0.05)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await until(pilot, lambda: backend.tick_count >= 3)
    assert backend.max_concurrent == 1


async def test_hanging_tick_never_delays_keys():
    """tick() blocks for 5 s: keys, panel switches and dialogs still answer at once."""
    release = threading.Event()
    backend = FakeBackend(live_snapshot(), hang=release, hang_seconds=5)
    app = make_app(backend)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.panels_ready and backend.concurrent == 1
                        and "tick" in backend.call_names())
            durations: dict[str, float] = {}

            async def timed(key: str) -> None:
                started = time.monotonic()
                await pilot.press(key)
                durations[key] = time.monotonic() - started

            for key, pane in (("2", "drawdowns"), ("4", "alerts"), ("3", "rates"),
                              ("5", "sources"), ("1", "concentration")):
                await timed(key)
                assert app.active_panel == pane
            await timed("question_mark")
            assert type(app.screen).__name__ == "HelpScreen"
            await timed("escape")
            assert type(app.screen).__name__ == "Screen"
            await timed("r")  # refused politely: a tick is running
            assert backend.concurrent == 1  # still blocked in tick()
            assert backend.tick_count == 0
            slowest = max(durations, key=durations.__getitem__)
            assert durations[slowest] < 0.6, f"{slowest!r} took {durations[slowest]:.2f}s"
            # quitting does not wait for the hung call either
            quit_started = time.monotonic()
            await pilot.press("q")
        assert time.monotonic() - quit_started < 1.0
    finally:
        release.set()


async def test_backend_error_is_shown_and_retried():
    backend = FakeBackend(live_snapshot(), next_tick=3600)
    backend.tick_error = RuntimeError("store is locked")
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loop_state.last_error is not None)
        await until(pilot, lambda: not app.busy)
        status = app.query_one("#status").plain()
        assert "refresh failed" in status and "store is locked" in status
        assert "retry" in status
        # the store's contents are shown anyway
        assert app.snapshot is not None
        backend.tick_error = None
        await pilot.press("r")
        await until(pilot, lambda: app.loop_state.last_error is None)


async def test_sources_unreachable_status_bar_says_what_failed_and_when():
    app = make_app(FakeBackend(empty_snapshot()))
    async with app.run_test(size=(160, 48)) as pilot:
        await ready(pilot)
        status = app.query_one("#status").plain()
        assert "✗" in status and "ConnectError" in status
        assert "↻14:09" in status  # next retry, in the display zone (UTC for a naive clock)
        await pilot.press("5")
        table = app.query_one("#sources-table")
        assert table.row_count == 3
        row = [str(cell) for cell in table.get_row("yahoo")]
        assert "failing" in row and "never" in row and "14:09" in row


# ------------------------------------------------------------------------- what is shown


async def test_empty_store_says_how_to_start_the_replay():
    app = make_app(FakeBackend(empty_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        box = app.query_one("#empty")
        assert box.display and box.shown
        assert "bubble-monitor --replay dotcom" in str(box.render())


async def test_no_empty_message_when_there_is_data():
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert not app.query("#empty")


async def test_stale_value_is_dimmed_and_shows_its_age():
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("3")
        await pilot.pause()
        rates = app.query_one("#rates-table")
        row = next(r for r in rates.rows if r.label == "High-yield yield")
        assert row.stale and row.age == "9d"
        text = rates.render()
        # render the rich table and find the cell: "6.72% ~9d", dimmed
        lines = app.console.render_lines(text, app.console.options.update_width(78))
        line = next(line for line in lines if "High-yield yield" in "".join(s.text for s in line))
        joined = "".join(s.text for s in line)
        assert "6.72% ~9d" in joined
        value_segment = next(s for s in line if "6.72%" in s.text)
        assert value_segment.style is not None and value_segment.style.dim
        # a stale price in the watch table too (9984.T, two days old)
        await pilot.press("2")
        watch = app.query_one("#watch")
        last = watch.get_cell("9984.T", "last")
        assert "~2d" in last.plain
        assert any(span.style.dim for span in last.spans if hasattr(span.style, "dim"))


async def test_replay_header_shows_the_simulated_date_and_opens_on_drawdowns():
    app = make_app(FakeReplayBackend())
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.query_one("#header").badge_text() == "REPLAY ▶ 2002-10-09"
        assert app.active_panel == "drawdowns"
        summary = app.query_one("#dd-summary")
        ixic = next(row for row in summary.rows if row.drawdown.symbol == "^IXIC")
        assert round(ixic.drawdown.drawdown * 100, 1) == -77.9


async def test_replay_keys_call_replay_controls():
    backend = FakeReplayBackend()
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("space")
        await until(pilot, lambda: "toggle_pause" in backend.call_names() and not app.busy)
        await until(pilot, lambda: app.query_one("#header").badge_text().startswith("REPLAY ⏸"))
        await pilot.press("n")
        await until(pilot, lambda: backend.call_names().count("step_day") == 1 and not app.busy)
        await pilot.press("full_stop")
        await until(pilot, lambda: backend.call_names().count("step_day") == 2 and not app.busy)
        await until(pilot, lambda: "2002-10-11" in app.query_one("#header").badge_text())
        await pilot.press("plus")
        await until(pilot, lambda: ("change_speed", 2.0) in backend.calls and not app.busy)
        await pilot.press("minus")
        await until(pilot, lambda: ("change_speed", 0.5) in backend.calls and not app.busy)
        assert backend.speed == 5.0


async def test_replay_keys_do_nothing_in_live_mode():
    backend = FakeBackend(live_snapshot())
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        shown = app.query_one("#footer").plain()
        assert "Pause" not in shown and "Step" not in shown
        assert all(k in shown for k in ("q Quit", "r Refresh", "a Alerts", "s Silence", "? Help",
                                         "1-5 Panels"))
        await pilot.press("space", "n", "plus")
        await pilot.pause(0.05)
    assert not {"toggle_pause", "step_day", "change_speed"} & set(backend.call_names())


# ---------------------------------------------------------------------------- silences


async def test_silence_flow_calls_backend_silence():
    backend = FakeBackend(live_snapshot())
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("a")
        table = app.query_one("#alerts-table")
        # the rows: firing first (warning before info), then pending, then the others
        assert table._sync.current_order()[:3] == [
            "nvda_gdp_above_article", "fed_cut", "ai_basket_5d_drop"]
        await pilot.press("down", "down")  # select the pending AI-basket alert
        assert table.selected_rule == "ai_basket_5d_drop"
        await pilot.press("s")
        assert type(app.screen).__name__ == "SilenceDialog"
        duration = app.screen.query_one("#duration")
        assert duration.value == "4h"
        await pilot.press("end", "backspace", "backspace")
        await pilot.press(*"90m")
        await pilot.press("enter")  # to the comment
        await pilot.press(*"known, watching")
        await pilot.press("enter")  # confirm
        await until(pilot, lambda: backend.silenced and not app.busy)
    assert backend.silenced == [
        ("ai_basket_5d_drop", dt.timedelta(minutes=90), "known, watching")]


async def test_silence_dialog_rejects_a_bad_duration_and_cancels():
    backend = FakeBackend(live_snapshot())
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("a", "s")
        assert type(app.screen).__name__ == "SilenceDialog"
        await pilot.press("end", "backspace", "backspace", *"soon", "enter")
        assert type(app.screen).__name__ == "SilenceDialog"
        assert "bad duration" in str(app.screen.query_one("#error").render())
        await pilot.press("escape")
        assert type(app.screen).__name__ == "Screen"
    assert backend.silenced == []


async def test_s_outside_the_alerts_panel_goes_there_first():
    backend = FakeBackend(live_snapshot())
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2", "s")
        assert app.active_panel == "alerts"
        assert type(app.screen).__name__ == "Screen"


async def test_alert_table_keeps_the_selection_when_rows_reorder():
    first = live_snapshot()
    alerts = list(first.alerts)
    # the pending alert starts firing: it moves up; the selection must follow it
    from dataclasses import replace

    promoted = replace(alerts[2], state="firing", severity="critical")
    second = replace(first, alerts=(alerts[0], alerts[1], promoted, *alerts[3:]))
    backend = FakeBackend([first, second], next_tick=3600)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("a", "down", "down")
        table = app.query_one("#alerts-table")
        assert table.selected_rule == "ai_basket_5d_drop"
        await pilot.press("r")
        await until(pilot, lambda: backend.tick_count == 2 and not app.busy)
        await pilot.pause()
        assert table._sync.current_order()[0] == "ai_basket_5d_drop"
        assert table.selected_rule == "ai_basket_5d_drop"


# ------------------------------------------------------------------- minimal redrawing


async def test_same_snapshot_redraws_nothing():
    snapshot = live_snapshot()
    backend = FakeBackend([snapshot, snapshot, snapshot], next_tick=3600)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        await pilot.pause()
        watch = app.query_one("#watch")
        ratio_chart = app.query_one("#ratio-chart")
        cells = watch._sync.cell_updates
        replots = ratio_chart.replots
        ratios_rows = app.query_one("#ratios").rows
        await pilot.press("r")
        await until(pilot, lambda: backend.tick_count == 2 and not app.busy)
        await pilot.pause()
        assert watch._sync.cell_updates == cells
        assert ratio_chart.replots == replots
        assert app.query_one("#ratios").rows is ratios_rows


async def test_changed_price_updates_only_its_cells():
    from dataclasses import replace

    first = live_snapshot()
    nvda = replace(first.drawdowns["NVDA"], last=210.0, change_1d=0.0143)
    second = replace(first, drawdowns={**first.drawdowns, "NVDA": nvda})
    backend = FakeBackend([first, second], next_tick=3600)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        watch = app.query_one("#watch")
        before = watch._sync.cell_updates
        await pilot.press("r")
        await until(pilot, lambda: backend.tick_count == 2 and not app.busy)
        assert watch._sync.cell_updates - before == 2  # last and 1d of NVDA
        assert watch.get_cell("NVDA", "last").plain == "210.00"


async def test_clock_is_injected_and_refreshes_only_on_change():
    ticks = iter(FROZEN_NOW + dt.timedelta(seconds=s) for s in range(100000))
    app = BubbleMonitorApp(FakeBackend(live_snapshot()), clock=lambda: next(ticks))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        clock = app.query_one("#clock")
        assert re.fullmatch(r"14:0\d", clock.time_text)  # minutes: seconds would cost bytes
    frozen = make_app(FakeBackend(live_snapshot()))
    async with frozen.run_test(size=SIZE) as pilot:
        await ready(pilot)
        clock = frozen.query_one("#clock")
        assert clock.time_text == "14:05"
        refreshes = []
        clock.watch(clock, "time_text", lambda value: refreshes.append(value), init=False)
        clock._update()
        clock._update()
        assert refreshes == []


# ----------------------------------------------------------------------- notices, colour


async def test_notices_toast_escaped_ring_and_notify_the_terminal(monkeypatch):
    notice = AlertNotice("nvda_[bold]gdp", "firing", "critical",
                         "NVDA cap / GDP [red]16.86%[/red] >= 16.8% [A1] $x")
    backend = FakeBackend([live_snapshot(), live_snapshot(notices=[notice])], next_tick=3600)
    app = make_app(backend)
    bells: list[int] = []
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        monkeypatch.setattr(app, "bell", lambda: bells.append(1))
        await ready(pilot)
        assert not app._notifications
        await pilot.press("r")
        await until(pilot, lambda: backend.tick_count == 2 and not app.busy)
        await pilot.pause()
        toasts = list(app._notifications)
        assert len(toasts) == 1
        toast = toasts[0]
        assert toast.severity == "error"
        # shown verbatim: nothing in the rule name or the summary is taken as markup
        assert not toast.markup
        assert "nvda_[bold]gdp" in toast.title
        assert toast.message == notice.summary
        assert app.terminal_notifications == [(toast.title, notice.summary)]
        assert bells == [1]


async def test_terminal_notify_writes_the_sequence_when_the_module_exists(monkeypatch):
    import sys
    import types

    module = types.ModuleType("bubble_core.alerts.terminal")
    seen = []

    def terminal_notification(title, body, env):
        seen.append((title, body, "PATH" in env))
        return "\x1b]9;" + title + "\x07"

    module.terminal_notification = terminal_notification  # type: ignore[attr-defined]
    package = types.ModuleType("bubble_core.alerts")
    package.__path__ = []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bubble_core.alerts", package)
    monkeypatch.setitem(sys.modules, "bubble_core.alerts.terminal", module)
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        written = []
        monkeypatch.setattr(type(app), "is_headless", property(lambda self: False))
        monkeypatch.setattr(app._driver, "write", lambda data: written.append(data))
        app.terminal_notify("FIRING x", "body")
        assert seen == [("FIRING x", "body", True)]
        assert "\x1b]9;FIRING x\x07" in written
        assert "\x07" in written  # the bell


async def test_terminal_notify_survives_a_broken_module(monkeypatch):
    import sys
    import types

    module = types.ModuleType("bubble_core.alerts.terminal")

    def broken(title, body, env):
        raise RuntimeError("boom")

    module.terminal_notification = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bubble_core.alerts.terminal", module)
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        app.terminal_notify("t", "b")  # no exception


# The SVG's window frame (traffic-light buttons, default text), not the app's output.
SVG_CHROME = {"#ff5f57", "#febc2e", "#28c840", "#c5c8c6"}


def _colours(svg: str) -> set[str]:
    found = set(re.findall(r"fill:\s*(#[0-9a-fA-F]{6})", svg)) | set(
        re.findall(r'fill="(#[0-9a-fA-F]{6})"', svg))
    return {c.lower() for c in found} - SVG_CHROME


async def test_no_color_renders_in_greys_only(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.no_color
        svg = app.export_screenshot()
    colours = _colours(svg)
    assert colours
    greys = {c for c in colours if c[1:3].lower() == c[3:5].lower() == c[5:7].lower()}
    assert colours == greys, f"coloured output under NO_COLOR: {sorted(colours - greys)[:5]}"


async def test_colour_without_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        svg = app.export_screenshot()
    colours = _colours(svg)
    assert any(c[1:3] != c[3:5] or c[3:5] != c[5:7] for c in colours)


async def test_theme_change_keeps_working():
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("2")
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("3", "4", "1")
        await pilot.pause()
        assert app.query_one("#watch").row_count == len(live_snapshot().drawdowns)


@pytest.mark.parametrize("size", [(80, 24), (160, 48), (60, 20)])
async def test_every_panel_renders_at_size(size):
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        for key in "12345":
            await pilot.press(key)
            await pilot.pause()
            app.export_screenshot()  # renders every visible widget


async def test_replay_snapshot_for_a_later_day_updates_the_header():
    later = replay_snapshot(dt.date(2002, 10, 10))
    backend = FakeReplayBackend([replay_snapshot(), later], next_tick=3600)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        backend.set_mode(replay_mode(dt.date(2002, 10, 10)))
        await pilot.press("r")
        await until(pilot, lambda: backend.tick_count == 2 and not app.busy)
        await until(pilot, lambda: "2002-10-10" in app.query_one("#header").badge_text())


def test_importing_the_app_stays_light():
    import subprocess
    import sys

    code = ("import sys, tui.app; heavy = [m for m in ('pandas', 'yfinance', 'duckdb', "
            "'numpy', 'httpx', 'plotext') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


async def test_quit_key_exits():
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("q")
        await asyncio.sleep(0)
    assert app.return_code in (0, None)


async def test_command_palette_opens_with_our_commands():
    app = make_app(FakeBackend(live_snapshot()))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press(*"Panel 5")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.active_panel == "sources")

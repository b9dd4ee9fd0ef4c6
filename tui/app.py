"""BubbleMonitorApp: the dashboard. Five panels, a header, a status bar, and one backend loop.

The backend loop (see `_start_cycle`): one thread worker at a time runs a *cycle*, which does
the queued jobs (silences, replay controls), reads the store (the first time) and ticks, posting
typed messages. When the worker ends, the next tick is armed with `set_timer(delay)`, `delay`
being `backend.seconds_until_next_tick()`: polls never overlap, and every backend call is
serialised. The blocking calls run in a daemon thread the worker waits on, so quitting never
waits for a hung network call.

Widgets receive each Snapshot from the message handler (inside `batch_update`) and redraw only
what changed.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widget import MountError
from textual.widgets import ContentSwitcher
from textual.worker import Worker, WorkerState, get_current_worker

from tui.messages import BackendFailed, CycleFinished, JobDone, SnapshotReady
from widgets.concentration_panel import ConcentrationPanel
from widgets.empty_state import EmptyState
from widgets.formatting import TimeContext
from widgets.header_bar import HeaderBar
from widgets.key_bar import KeyBar
from widgets.panel_tabs import PanelTabs
from widgets.status_bar import LoopState, StatusBar

PANELS: tuple[tuple[str, str], ...] = (
    ("concentration", "Concentration"),
    ("drawdowns", "Drawdowns"),
    ("rates", "Rates & credit"),
    ("alerts", "Alerts"),
    ("sources", "Sources"),
)

if TYPE_CHECKING:
    from bubble_core.runtime import ModeInfo, MonitorBackend
    from bubble_core.snapshot import AlertNotice, Snapshot
    from widgets.alerts_panel import AlertsPanel
    from widgets.delivery_log import DeliveryLog
    from widgets.price_chart import PriceChart
    from widgets.sources_panel import SourcesPanel
    from widgets.watch_table import WatchTable

PANEL_FOCUS = {"drawdowns": "#watch", "alerts": "#alerts-table", "sources": "#sources-table"}
REPLAY_METHODS = ("toggle_pause", "step_day", "change_speed")

FALLBACK_DELAY = 30.0  # seconds, when the backend cannot say when to tick next
MIN_DELAY = 0.05
MAX_DELAY = 3600.0
BUSY_HINT_AFTER = 0.6  # show "refreshing…" only for ticks slower than this
MAX_TOASTS = 4  # per tick; the rest are summed up in one more toast
WORKER_NAME = "backend-cycle"
_UNSET: Any = object()


def _commands_provider() -> type:
    """The palette's provider, imported when the palette first opens."""
    from tui.commands import BubbleCommands

    return BubbleCommands


def local_now() -> dt.datetime:
    """The default clock: aware local time."""
    return dt.datetime.now(dt.UTC).astimezone()


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_empty(snapshot: Snapshot) -> bool:
    """Nothing to show: no indicator has a value and there are no drawdowns."""
    return not snapshot.drawdowns and not any(
        value.value is not None for value in snapshot.indicators.values()
    )


@dataclass(frozen=True)
class Job:
    """A backend call queued for the next cycle (the backend is only ever used by one thread)."""

    label: str
    call: Callable[[MonitorBackend], Any]


class BubbleMonitorApp(App[None]):
    TITLE = "bubble-monitor"
    # Absolute, so a subclass defined elsewhere (tests, benchmarks) still finds the stylesheet.
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    COMMANDS = App.COMMANDS | {lambda: _commands_provider()}
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (36, "-tall")]
    PANELS = PANELS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
        Binding("a", "show_alerts", "Alerts"),
        Binding("s", "silence", "Silence"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("1", "panel('concentration')", "Panels", key_display="1-5"),
        Binding("2", "panel('drawdowns')", "Drawdowns", show=False),
        Binding("3", "panel('rates')", "Rates", show=False),
        Binding("4", "panel('alerts')", "Alerts", show=False),
        Binding("5", "panel('sources')", "Sources", show=False),
        Binding("space", "replay_pause", "Pause", key_display="␣"),
        Binding("n,full_stop", "replay_step", "Step", key_display="n"),
        Binding("plus,equals_sign", "replay_speed(2.0)", "Speed", key_display="+/-"),
        Binding("minus", "replay_speed(0.5)", "Slower", show=False),
    ]

    def __init__(
        self,
        backend: MonitorBackend,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        first_tick: bool = True,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.clock = clock or local_now
        self.first_tick = first_tick
        self.mode_info: ModeInfo | None = None
        self.snapshot: Snapshot | None = None
        self.loop_state = LoopState()
        self.cycles = 0  # backend cycles started (tests read it)
        self.terminal_notifications: list[tuple[str, str]] = []
        self._jobs: deque[Job] = deque()
        self._busy = False
        self._read_store_first = True
        self._next_in = FALLBACK_DELAY
        self._timer: Timer | None = None
        self._busy_timer: Timer | None = None
        self._last_error_toast: str | None = None
        self._replay = False
        self._views: list[Any] = []
        self._terminal_fn: Any = _UNSET  # bubble_core.alerts.terminal.terminal_notification
        self.panels_ready = False  # True once every panel is mounted

    # ------------------------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield HeaderBar(self.clock, id="header")
        yield PanelTabs(PANELS, "concentration", id="tabs")
        with ContentSwitcher(initial="concentration", id="panels"):
            with Container(id="concentration", classes="pane"):
                yield ConcentrationPanel(id="ratios")
            # The chart, the bars and the other panels are filled right after the first frame
            # (see _fill_panels), so the first paint costs little more than a bare app's.
            for pane, _title in PANELS[1:]:
                yield Container(id=pane, classes="pane")
        yield StatusBar(id="status")
        yield KeyBar(id="footer")

    def on_mount(self) -> None:
        self._views: list[Any] = [self.query_one("#ratios", ConcentrationPanel)]
        self.query_one(StatusBar).set_state(self.loop_state, None, self._time_context())
        # Paint first; then build the other panels and read the store.
        self.call_after_refresh(self._fill_panels)

    async def _fill_panels(self) -> None:
        """Mount the panels behind the first tab, then start the backend loop."""
        from widgets.alerts_panel import AlertsPanel
        from widgets.cap_bars import CapBars
        from widgets.delivery_log import DeliveryLog
        from widgets.drawdown_panel import DrawdownPanel
        from widgets.price_chart import PriceChart
        from widgets.rate_chart import RateChart
        from widgets.rates_panel import RatesPanel
        from widgets.ratio_chart import RatioChart
        from widgets.sources_panel import SourcesPanel
        from widgets.watch_table import WatchTable
        from widgets.yield_chart import YieldChart

        ratio_chart, caps = RatioChart(id="ratio-chart"), CapBars(id="caps")
        views: list[Any] = [
            caps,
            ratio_chart,
            DrawdownPanel(id="dd-summary"),
            WatchTable(id="watch"),
            RatesPanel(id="rates-table"),
            RateChart(id="rate-chart"),
            YieldChart(id="yield-chart"),
            AlertsPanel(id="alerts-table"),
            DeliveryLog(id="deliveries"),
        ]
        by_id = {view.id: view for view in views}
        by_id["alerts-table"].border_title = "Rules"
        by_id["deliveries"].border_title = "History"
        sources = SourcesPanel(id="sources-table")
        charts = Container(PriceChart("^NDX", id="price-main"),
                           PriceChart("^IXIC", id="price-compare"), id="dd-charts")
        try:
            with self.batch_update():
                await self.query_one("#concentration", Container).mount_all([ratio_chart, caps])
                await self.query_one("#drawdowns", Container).mount_all(
                    [by_id["dd-summary"], by_id["watch"], charts])
                await self.query_one("#rates", Container).mount_all(
                    [by_id["rates-table"], by_id["rate-chart"], by_id["yield-chart"]])
                await self.query_one("#alerts", Container).mount_all(
                    [by_id["alerts-table"], by_id["deliveries"]])
                await self.query_one("#sources", Container).mount(sources)
        except MountError:
            return  # the app quit while starting up
        self._views += views
        self.panels_ready = True
        if self.snapshot is not None:  # (only if a snapshot came first, which it cannot today)
            self._apply(self.snapshot, self._time_context())
        self._start_cycle()

    # --------------------------------------------------------------------------- the loop

    @property
    def busy(self) -> bool:
        """True while a backend cycle (tick, store read, or queued job) is running."""
        return self._busy

    @property
    def is_replay(self) -> bool:
        return self._replay

    def _time_context(self) -> TimeContext:
        """Wall-clock time: for the refresh loop and the sources."""
        try:
            return TimeContext.from_clock(self.clock())
        except Exception:
            return TimeContext.from_clock(local_now())

    def _data_context(self, wall: TimeContext) -> TimeContext:
        """"Now" for the data's ages: the simulated day in a replay, else the wall clock."""
        simulated = self.mode_info.simulated_date if self.mode_info else None
        if simulated is None:
            return wall
        return TimeContext(now=dt.datetime.combine(simulated, dt.time(23, 59, 59)), tz=None)

    def _start_cycle(self, *, tick: bool = True) -> bool:
        """Start one backend cycle unless one is running. Returns True if it started."""
        if self._busy:
            return False
        self._cancel_timer()
        self._busy = True
        self.cycles += 1
        jobs = list(self._jobs)
        self._jobs.clear()
        read_store = self._read_store_first or bool(jobs)
        want_tick = tick and (self.first_tick or not self._read_store_first)
        self._read_store_first = False
        self._next_in = FALLBACK_DELAY
        self._busy_timer = self.set_timer(BUSY_HINT_AFTER, self._show_busy)
        self.run_worker(
            partial(self._cycle, jobs, read_store, want_tick),
            name=WORKER_NAME,
            group="backend",
            description="Refreshing from the backend",
            thread=True,
            exit_on_error=False,
        )
        return True

    def _cycle(self, jobs: list[Job], read_store: bool, want_tick: bool) -> None:
        """Thread worker: run the cycle in a daemon thread and wait for it.

        If the app quits while the backend hangs, the worker returns at once and the daemon
        thread is abandoned, so quitting never waits for a network timeout.
        """
        worker = get_current_worker()
        done = threading.Event()

        def run() -> None:
            try:
                self._cycle_body(jobs, read_store, want_tick, worker)
            finally:
                done.set()

        threading.Thread(target=run, name="bubble-monitor-backend", daemon=True).start()
        while not done.wait(0.05):
            if worker.is_cancelled:
                return

    def _cycle_body(self, jobs: list[Job], read_store: bool, want_tick: bool,
                    worker: Worker[Any]) -> None:
        """The blocking backend calls, in order; results go to the app as messages."""
        backend = self.backend

        def post(message: Any) -> None:
            if not worker.is_cancelled:
                self.post_message(message)

        def mode() -> ModeInfo | None:
            try:
                return backend.mode()
            except Exception:
                return None

        for job in jobs:
            try:
                result = job.call(backend)
            except Exception as exc:
                post(JobDone(job.label, error=describe(exc)))
            else:
                post(JobDone(job.label, result))
        if read_store:
            try:
                post(SnapshotReady(backend.snapshot(), mode(), ticked=False))
            except Exception as exc:
                post(BackendFailed("reading the store", describe(exc)))
        if want_tick:
            try:
                snapshot = backend.tick()
            except Exception as exc:
                post(BackendFailed("refresh", describe(exc)))
            else:
                if snapshot.notices:
                    self._load_terminal_notification()  # off the event loop: it is not light
                post(SnapshotReady(snapshot, mode(), ticked=True))
        try:
            next_in = float(backend.seconds_until_next_tick())
        except Exception:
            next_in = FALLBACK_DELAY
        post(CycleFinished(next_in))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != WORKER_NAME or event.state not in (
            WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED
        ):
            return
        if not self.is_running or not self.query(StatusBar):
            return  # quitting
        self._busy = False
        if self._busy_timer is not None:
            self._busy_timer.stop()
            self._busy_timer = None
        if event.state == WorkerState.CANCELLED:
            return
        if event.state == WorkerState.ERROR:
            self._set_loop(last_error=describe(event.worker.error or RuntimeError("worker")))
        if self._jobs:
            self._start_cycle(tick=False)
        else:
            self._arm_timer(self._next_in)

    def _arm_timer(self, delay: float) -> None:
        self._cancel_timer()
        if not math.isfinite(delay):
            delay = MAX_DELAY
        delay = min(max(delay, MIN_DELAY), MAX_DELAY)
        self._timer = self.set_timer(delay, self._timer_fired, name="next-tick")
        ctx = self._time_context()
        next_at = ctx.now + dt.timedelta(seconds=delay) if delay >= 1 else None
        self._set_loop(busy=False, next_at=next_at)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _timer_fired(self) -> None:
        self._timer = None
        self._start_cycle(tick=True)

    def _show_busy(self) -> None:
        self._busy_timer = None
        if self._busy:
            self._set_loop(busy=True)

    def _set_loop(self, **changes: Any) -> None:
        state = replace(self.loop_state, **changes)
        if state != self.loop_state:
            self.loop_state = state
            for bar in self.query(StatusBar):  # none while quitting
                bar.set_state(state, None, self._time_context())

    def _submit(self, job: Job) -> None:
        self._jobs.append(job)
        self._start_cycle(tick=False)  # if a cycle runs, the job goes in the next one

    # ----------------------------------------------------------------------- message handlers

    def on_cycle_finished(self, message: CycleFinished) -> None:
        self._next_in = message.next_in

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.snapshot = message.snapshot
        if message.mode is not None:
            self.mode_info = message.mode
        replay = bool(
            self.mode_info is not None
            and self.mode_info.mode.upper() == "REPLAY"
            and all(callable(getattr(self.backend, name, None)) for name in REPLAY_METHODS)
        )
        ctx = self._time_context()
        first = self.loop_state.last_ok is None
        if replay != self._replay:
            self._replay = replay
            self.screen.set_class(replay, "-replay")
            self.refresh_bindings()
            if replay and self.active_panel == "concentration":
                # The replay has no market caps: its story is on Drawdowns.
                self.action_panel("drawdowns")
        self._apply(message.snapshot, ctx)
        if message.ticked or first:
            self._set_loop(last_ok=ctx.now, last_error=None, replay=replay)
        if first:
            self._choose_first_panel(message.snapshot)
        if message.ticked and message.snapshot.notices:
            self._announce(message.snapshot.notices)

    def on_backend_failed(self, message: BackendFailed) -> None:
        error = f"{message.what}: {message.error}"
        self._set_loop(last_error=error)
        if error != self._last_error_toast:
            self._last_error_toast = error
            self.notify(error, title="Backend error", severity="error", timeout=8,
                        markup=False)

    def on_job_done(self, message: JobDone) -> None:
        if message.error:
            self.notify(f"{message.label} failed: {message.error}", severity="error",
                        timeout=8, markup=False)
            return
        job_text = {
            "pause": "Replay paused" if message.result else "Replay resumed",
            "speed": (f"Replay speed: {message.result:g} days/s"
                      if isinstance(message.result, (int, float)) else "Replay speed changed"),
        }.get(message.label)
        if message.label.startswith("silence "):
            job_text = message.label.replace("silence ", "Silenced ", 1)
        if job_text:
            self.notify(job_text, timeout=3, markup=False)

    def _choose_first_panel(self, snapshot: Snapshot) -> None:
        """Open on Drawdowns when there is nothing to show on Concentration (the replay)."""
        no_ratios = all(
            snapshot.indicators.get(name) is None or snapshot.indicators[name].value is None
            for name in ("nvda_cap_to_gdp", "mag7_cap_to_gdp", "mag7_share_of_sp500")
        )
        if self.active_panel == "concentration" and no_ratios and snapshot.drawdowns:
            self.action_panel("drawdowns")

    def _apply(self, snapshot: Snapshot, wall: TimeContext) -> None:
        """Hand the snapshot to every widget; each redraws only what changed."""
        ctx = self._data_context(wall)
        with self.batch_update():
            header = self.query_one(HeaderBar)
            if self.mode_info is not None:
                header.set_mode(self.mode_info)
            header.set_as_of(snapshot.as_of)
            self._show_empty_state(is_empty(snapshot))
            for view in self._views:
                view.update_snapshot(snapshot, ctx)  # type: ignore[attr-defined]
            if self.panels_ready:
                self._sources_panel().update_snapshot(snapshot, wall)
                self._update_price_charts(snapshot, ctx)
                self._update_tab_labels()
            self.query_one(StatusBar).set_state(self.loop_state, snapshot.sources, wall)

    def _show_empty_state(self, empty: bool) -> None:
        """The "how to start the replay" box, mounted the first time the store is empty."""
        found = self.query(EmptyState)
        if found:
            found.first().set_empty(empty)
        elif empty:
            box = EmptyState(id="empty")
            self.mount(box, before=self.query_one(PanelTabs))
            box.set_empty(True)

    def _update_price_charts(self, snapshot: Snapshot, ctx: TimeContext) -> None:
        main, compare = self._price_charts()
        if f"close.{main.symbol}" not in snapshot.charts and main.symbol in ("^NDX", "^IXIC"):
            other = "^IXIC" if main.symbol == "^NDX" else "^NDX"
            if f"close.{other}" in snapshot.charts:
                main.show_symbol(other)
        main.update_snapshot(snapshot, ctx)
        compare.show_symbol("^IXIC" if main.symbol != "^IXIC" else "^NDX")
        compare.update_snapshot(snapshot, ctx)
        # An empty second chart (the replay has no ^NDX) gives its rows to the first.
        compare.set_class(f"close.{compare.symbol}" not in snapshot.charts, "-empty")

    def _update_tab_labels(self) -> None:
        alerts = self._alerts_panel()
        deliveries = self._delivery_log()
        counts = alerts.counts()
        failures = deliveries.failures()
        sources = self.snapshot.sources.values() if self.snapshot else ()
        failing = sum(1 for s in sources if s.last_error and s.consecutive_failures)
        tabs = self.query_one(PanelTabs)
        tabs.set_badge("alerts", f"({counts['firing']})" if counts["firing"] else "")
        tabs.set_badge("sources", f"({failing}✗)" if failing else "")
        parts = [f"{counts['firing']} firing", f"{counts['pending']} pending"]
        if counts["silenced"]:
            parts.append(f"{counts['silenced']} silenced")
        title = "Rules · " + " · ".join(parts)
        if alerts.border_title != title:
            alerts.border_title = title
        history = "History" + (f" · {failures} failed" if failures else "")
        if deliveries.border_title != history:
            deliveries.border_title = history

    # --------------------------------------------------------------------------- notices

    def _announce(self, notices: tuple[AlertNotice, ...]) -> None:
        """Toast, bell and terminal notification for the alerts this tick raised."""
        if self._replay:
            # A replay raises alerts many times faster than anyone reads them: show only the
            # latest tick's, briefly, instead of a pile that hides the dashboard.
            self.clear_notifications()
        stale = [n for n in notices if n.rule.startswith("SourceStale:")]
        if len(stale) > 1:
            # One toast for several unreachable sources (no network): the Sources panel and
            # the status bar carry the details.
            firing = [n.rule.split(":", 1)[1] for n in stale if n.status == "firing"]
            fresh = [n.rule.split(":", 1)[1] for n in stale if n.status != "firing"]
            body = "; ".join(
                part for part in (
                    f"stale: {', '.join(firing)}" if firing else "",
                    f"fresh again: {', '.join(fresh)}" if fresh else "",
                ) if part
            )
            title = "FIRING warning: SourceStale" if firing else "RESOLVED: SourceStale"
            self.notify(body + " (see Sources, 5)", title=title,
                        severity="warning" if firing else "information", timeout=12,
                        markup=False)
            self.terminal_notify(title, body)
            notices = tuple(n for n in notices if n not in stale)
        for notice in notices[:MAX_TOASTS]:
            resolved = notice.status == "resolved"
            severity = ("information" if resolved or notice.severity == "info"
                        else "error" if notice.severity == "critical" else "warning")
            title = f"{notice.status.upper()} {notice.severity}: {notice.rule}"
            # Markup off: rule names and summaries are shown verbatim, never parsed.
            timeout = 5 if self._replay else 30 if severity == "error" else 12
            self.notify(notice.summary, title=title, severity=severity, timeout=timeout,
                        markup=False)
            self.terminal_notify(title, notice.summary)
        extra = len(notices) - MAX_TOASTS
        if extra > 0:
            self.notify(f"and {extra} more: see the Alerts panel (a)", severity="warning",
                        timeout=12, markup=False)

    def _load_terminal_notification(self) -> Any:
        """Import bubble_core.alerts.terminal.terminal_notification once (None if missing)."""
        if self._terminal_fn is _UNSET:
            try:
                from bubble_core.alerts.terminal import terminal_notification
            except Exception:
                self._terminal_fn = None
            else:
                self._terminal_fn = terminal_notification
        return self._terminal_fn

    def terminal_notify(self, title: str, body: str) -> None:
        """Ring the bell and, where the terminal supports one, raise a desktop notification."""
        self.terminal_notifications.append((title, body))
        try:
            self.bell()
        except Exception:
            pass
        terminal_notification = self._load_terminal_notification()
        if terminal_notification is None:
            return
        try:
            sequence = terminal_notification(title, body, dict(os.environ))
            driver = self._driver
            if sequence and driver is not None and not self.is_headless:
                driver.write(sequence)
        except Exception:
            pass

    # ---------------------------------------------------------------------------- actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action.startswith("replay_"):
            return self._replay
        if action in ("refresh", "panel", "show_alerts", "silence", "help") and isinstance(
            self.screen, ModalScreen
        ):
            return False
        return True

    def action_refresh(self) -> None:
        if self._busy:
            self.notify("A refresh is already running.", timeout=3)
            return
        # A live backend then polls every source now, not only those already due.
        request = getattr(self.backend, "request_refresh", None)
        if callable(request):
            request()
        self._start_cycle(tick=True)

    @property
    def active_panel(self) -> str:
        return self.query_one(ContentSwitcher).current or PANELS[0][0]

    def action_panel(self, pane: str) -> None:
        if pane not in dict(PANELS):
            return
        switcher = self.query_one(ContentSwitcher)
        if switcher.current != pane:
            switcher.current = pane
            self.query_one(PanelTabs).set_active(pane)
        target = PANEL_FOCUS.get(pane)
        if target and self.panels_ready:
            self.query_one(target).focus()
        else:
            self.query_one(PanelTabs).focus()

    def on_panel_tabs_selected(self, message: PanelTabs.Selected) -> None:
        tabs_had_focus = self.focused is self.query_one(PanelTabs)
        self.action_panel(message.pane)
        if tabs_had_focus:
            self.query_one(PanelTabs).focus()  # arrows keep moving between panels

    def action_show_alerts(self) -> None:
        self.action_panel("alerts")

    def action_silence(self) -> None:
        if not self.panels_ready:
            return
        table = self._alerts_panel()
        if self.active_panel != "alerts":
            self.action_panel("alerts")
            self.notify("Select an alert, then press s to silence it.", timeout=4)
            return
        rule = table.selected_rule
        alert = table.alert(rule) if rule else None
        if alert is None:
            self.notify("There is no alert to silence.", timeout=3)
            return
        from widgets.silence_dialog import SilenceDialog

        self.push_screen(SilenceDialog(alert.rule, alert.summary),
                         callback=partial(self._silence_chosen, alert.rule))

    def _silence_chosen(self, rule: str, result: tuple[dt.timedelta, str] | None) -> None:
        if result is None:
            return
        duration, comment = result
        from bubble_core.durations import format_duration

        self._submit(Job(
            f"silence {rule} for {format_duration(duration)}",
            lambda backend: backend.silence(rule, duration, comment),
        ))

    def action_help(self) -> None:
        from widgets.help_screen import HelpScreen

        self.push_screen(HelpScreen(replay=self._replay))

    def action_replay_pause(self) -> None:
        self._submit(Job("pause", lambda backend: backend.toggle_pause()))  # type: ignore[attr-defined]

    def action_replay_step(self) -> None:
        self._submit(Job("step", lambda backend: backend.step_day()))  # type: ignore[attr-defined]

    def action_replay_speed(self, factor: float) -> None:
        self._submit(Job("speed", lambda backend: backend.change_speed(factor)))  # type: ignore[attr-defined]

    def on_watch_table_symbol_highlighted(self, message: WatchTable.SymbolHighlighted) -> None:
        main, compare = self._price_charts()
        main.show_symbol(message.symbol)
        compare.show_symbol("^IXIC" if message.symbol != "^IXIC" else "^NDX")

    # ------------------------------------------------------------- widgets mounted later

    def _alerts_panel(self) -> AlertsPanel:
        return cast("AlertsPanel", self.query_one("#alerts-table"))

    def _delivery_log(self) -> DeliveryLog:
        return cast("DeliveryLog", self.query_one("#deliveries"))

    def _sources_panel(self) -> SourcesPanel:
        return cast("SourcesPanel", self.query_one("#sources-table"))

    def _price_charts(self) -> tuple[PriceChart, PriceChart]:
        return (cast("PriceChart", self.query_one("#price-main")),
                cast("PriceChart", self.query_one("#price-compare")))

"""The command palette: the same actions as the keys (and the replay ones in replay mode)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import BubbleMonitorApp


class BubbleCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: BubbleMonitorApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Refresh now", "Poll the sources now, unless a refresh is running",
             app.action_refresh),
            ("Show alerts", "Go to the alerts panel", app.action_show_alerts),
            ("Silence selected alert", "Silence the alert selected in the alerts table",
             app.action_silence),
            ("Help", "Keys and how to read the panels", app.action_help),
        ]
        for index, (pane, title) in enumerate(app.PANELS, start=1):
            commands.append((f"Panel {index}: {title}", f"Show the {title} panel",
                             partial(app.action_panel, pane)))
        if app.is_replay:
            commands += [
                ("Replay: pause / resume", "Pause or resume the replay", app.action_replay_pause),
                ("Replay: step one day", "Advance the replay by one day", app.action_replay_step),
                ("Replay: faster", "Double the replay speed",
                 partial(app.action_replay_speed, 2.0)),
                ("Replay: slower", "Halve the replay speed", partial(app.action_replay_speed, 0.5)),
            ]
        commands.append(("Quit", "Quit bubble-monitor", app.action_quit))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

"""KeyBar: the footer line of keys ("q Quit  r Refresh  a Alerts ..."), from the screen's active
bindings, with the command palette key on the right.

Textual's Footer rebuilds one widget per key whenever focus moves, which made every panel switch
re-mount a dozen widgets; this is one widget whose text is recomputed when the bindings change
and redrawn only if it differs. Clicking a key runs its action.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.widget import Widget

from widgets.formatting import theme_style


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: tuple[tuple[str, str, str], ...] = ()  # (display, description, action)
        self.palette_key: str | None = None
        self._binding_nodes: dict[str, object] = {}
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self._bindings_changed, self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: object) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        app = self.app
        keys: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        palette_key = None
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE:
                palette_key = app.get_key_display(binding)
                continue
            if not binding.show or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            self._binding_nodes[binding.action] = _node
            keys.append((app.get_key_display(binding), binding.description, binding.action))
        new = tuple(keys)
        if new != self.keys or palette_key != self.palette_key:
            self.keys = new
            self.palette_key = palette_key
            self.refresh()

    def plain(self) -> str:
        return " ".join(f"{key} {description}" for key, description, _ in self.keys)

    def render(self) -> RenderResult:
        variables = self.app.theme_variables
        key_style = theme_style(variables, "footer-key-foreground", bold=True)
        if self.app.no_color:
            key_style = Style(bold=True, reverse=True)
        width = self.size.width
        palette = Text()
        if self.palette_key:
            palette.append(f" {self.palette_key}", key_style)
            palette.append(" palette ")
        room = width - (palette.cell_len if width >= 100 or not self.app.screen.has_class(
            "-replay") else 0)
        line = Text(no_wrap=True, overflow="crop", end="")
        spans = []
        for key, description, action in self.keys:
            item = Text()
            item.append(f" {key}", key_style)
            item.append(f" {description}")
            if line.cell_len + item.cell_len > room:
                break
            spans.append((line.cell_len, line.cell_len + item.cell_len, action))
            line.append_text(item)
        self._spans = spans
        if palette.cell_len and line.cell_len + palette.cell_len <= width and room != width:
            line.append(" " * (width - line.cell_len - palette.cell_len))
            line.append_text(palette)
            self._spans.append((width - palette.cell_len, width, "command_palette"))
        return line

    async def on_click(self, event: events.Click) -> None:
        for start, end, action in self._spans:
            if start <= event.x < end:
                node = self._binding_nodes.get(action)
                await self.app.run_action(action, node)  # type: ignore[arg-type]
                return

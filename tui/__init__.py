"""The Textual front end of bubble-monitor: `from tui.app import BubbleMonitorApp`."""

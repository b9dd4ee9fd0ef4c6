"""bubble-monitor's domain: store, indicators, alerts, config, scheduler.

Nothing in this package imports Textual, so the headless commands and the TUI share one data path
(enforced by tests/test_layering.py).
"""

__version__ = "0.1.0"

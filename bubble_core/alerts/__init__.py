"""Alerting: rules from the article's thresholds, a persistent state machine, and delivery.

* rules.py: the rule format, the shipped defaults (data/default_rules.toml), validation.
* engine.py: AlertEngine (inactive -> pending -> firing -> recovering -> resolved, hysteresis,
  repeat, silences, events, stale sources), state in DuckDB or in memory; `cmd_silence`.
* notify.py: Notifier (Apprise async API, per-URL minimum severity, recorded and retried
  deliveries), `notify_test_main` for `bubble-monitor notify-test`.
* terminal.py: OSC 9 / 777 / 99 notification sequences, auto-detected and wrapped for tmux.
* ruletest.py: `bubble-monitor rules test FILE.toml` on a fake clock (promtool-like).
* masking.py: notification URLs and tokens never printed or stored in clear.

Nothing here imports Textual. notify.py imports Apprise lazily (only when sending).
"""

from bubble_core.alerts.engine import AlertEngine, Notification, Silence, cmd_silence
from bubble_core.alerts.masking import mask_secrets, mask_url
from bubble_core.alerts.notify import Notifier, notify_test_main, recent_deliveries
from bubble_core.alerts.rules import Rule, load_rules, render_summary
from bubble_core.alerts.ruletest import RuleTestReport, main_rules_test, run_rule_tests
from bubble_core.alerts.terminal import (
    detect_method,
    escape_sequence,
    terminal_notification,
    wrap_for_tmux,
)

__all__ = [
    "AlertEngine",
    "Notification",
    "Notifier",
    "Rule",
    "RuleTestReport",
    "Silence",
    "cmd_silence",
    "detect_method",
    "escape_sequence",
    "load_rules",
    "main_rules_test",
    "mask_secrets",
    "mask_url",
    "notify_test_main",
    "recent_deliveries",
    "render_summary",
    "run_rule_tests",
    "terminal_notification",
    "wrap_for_tmux",
]

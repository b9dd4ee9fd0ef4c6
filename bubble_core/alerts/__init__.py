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

import importlib
from typing import Any

# Submodules load on first use: the TUI imports only `terminal` (in its worker), and the CLI
# only what each command needs.
_EXPORTS = {
    "AlertEngine": "bubble_core.alerts.engine",
    "Notification": "bubble_core.alerts.engine",
    "Notifier": "bubble_core.alerts.notify",
    "Rule": "bubble_core.alerts.rules",
    "RuleTestReport": "bubble_core.alerts.ruletest",
    "Silence": "bubble_core.alerts.engine",
    "cmd_silence": "bubble_core.alerts.engine",
    "detect_method": "bubble_core.alerts.terminal",
    "escape_sequence": "bubble_core.alerts.terminal",
    "load_rules": "bubble_core.alerts.rules",
    "main_rules_test": "bubble_core.alerts.ruletest",
    "mask_secrets": "bubble_core.alerts.masking",
    "mask_url": "bubble_core.alerts.masking",
    "notify_test_main": "bubble_core.alerts.notify",
    "recent_deliveries": "bubble_core.alerts.notify",
    "render_summary": "bubble_core.alerts.rules",
    "run_rule_tests": "bubble_core.alerts.ruletest",
    "terminal_notification": "bubble_core.alerts.terminal",
    "wrap_for_tmux": "bubble_core.alerts.terminal",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bubble_core.alerts' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


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

"""The fault suite: the promises of the README ("What the monitor promises"), each under attack.

* test_source_faults: every source fails in every way, for many cycles, and comes back.
* test_crash_safety: `kill -9` of a writing collector and of an import, many times over.
* test_many_processes: one writer plus status, export, viewers and a second collector.
* test_bad_input_fuzz: malformed config, CSV and arguments; hypothesis on every parser.
* test_secrets: notification URLs never printed, no shell, SQL only with parameters.
* test_long_run: thirty simulated days of polls, faults and alerts on a fake clock.

Everything is offline: HTTP goes through httpx.MockTransport, yfinance through injected fakes,
and subprocesses that run the real CLI go through `fakenet.py`, which swaps the network out.
"""

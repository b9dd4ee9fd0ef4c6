"""Errors that cross layers. Each carries the place it is about, so the CLI prints one line."""

from __future__ import annotations


class BubbleMonitorError(Exception):
    """Base of the errors the CLI turns into a one-line message."""

    exit_code = 1


class InputError(BubbleMonitorError):
    """Bad user input: a config key, a CSV line, a CLI argument. Exit status 2, nothing written."""

    exit_code = 2

    def __init__(self, place: str, message: str) -> None:
        super().__init__(f"{place}: {message}")
        self.place = place
        self.message = message


class ConfigError(InputError):
    """A bad value or an unknown key in the TOML config; `place` is `file:key`."""


class SourceError(BubbleMonitorError):
    """A fetch that failed: never stored as a value, only recorded in the fetch log.

    `retry_after` (seconds) is set when the provider said how long to wait (HTTP 429 Retry-After).
    """

    def __init__(self, source: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.retry_after = retry_after


class StoreBusyError(BubbleMonitorError):
    """The DuckDB file stayed locked by another process past the retry budget."""

"""Durations written the Prometheus way: "90s", "15m", "4h", "2d", "1w", "1h30m"."""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> dt.timedelta:
    """Parse a duration; raises ValueError with the offending text."""
    if not isinstance(text, str):
        raise ValueError(f"expected a duration string like \"15m\", got {text!r}")
    stripped = text.strip()
    if stripped in {"0", ""}:
        if stripped == "":
            raise ValueError("empty duration")
        return dt.timedelta(0)
    position = 0
    seconds = 0.0
    for match in _PART.finditer(stripped):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(stripped) or position == 0:
        raise ValueError(f"bad duration {text!r} (use e.g. 90s, 15m, 4h, 2d, 1w)")
    try:
        return dt.timedelta(seconds=seconds)
    except OverflowError:  # more than timedelta holds (about 2.7 million years), or inf
        raise ValueError(f"duration {text!r} is too long") from None


def format_duration(delta: dt.timedelta) -> str:
    """The shortest readable form: 2d3h, 15m, 45s."""
    total = int(round(delta.total_seconds()))
    if total <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            count, total = divmod(total, size)
            parts.append(f"{count}{unit}")
    return "".join(parts[:2])

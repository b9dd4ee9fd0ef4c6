"""Where the store lives, importable without DuckDB (the CLI resolves it before the first paint)."""

from __future__ import annotations

import os
from pathlib import Path


def default_store_path() -> Path:
    """The data file in the platformdirs user data dir, unless BUBBLE_MONITOR_DB says otherwise."""
    env = os.environ.get("BUBBLE_MONITOR_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("bubble-monitor", appauthor=False) / "bubble-monitor.duckdb"

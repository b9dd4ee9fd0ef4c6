"""The DuckDB history store.

One file holds everything: price bars, shares and caps, macro series, the fetch log and alert state.

Why connections are short-lived: DuckDB lets only one process hold a file read-write, and while it
does, no other process can open it even read-only. A collector that kept the file open would lock
out every `status`, `export` and TUI started from another SSH session. So every operation opens the
file, does its work in one transaction and closes it again; an open that meets another process's
lock is retried with backoff until `lock_timeout`. Viewers (`read_only=True`) never take the write
lock at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from bubble_core.errors import StoreBusyError
from bubble_core.migrations import MIGRATIONS, SCHEMA_VERSION
from bubble_core.models import SourceBatch

# Tables a user's data lives in, in export order. `export` writes one file per table.
DATA_TABLES: tuple[str, ...] = (
    "daily_bars",
    "intraday_bars",
    "shares_outstanding",
    "market_caps",
    "macro_observations",
    "fetch_log",
    "alert_state",
    "alert_history",
    "notifications",
    "silences",
    "events_seen",
)


def utcnow() -> dt.datetime:
    """Naive UTC, the store's timestamp convention."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


class Store:
    """A DuckDB file opened per operation. Thread-safe: each call opens its own connection."""

    def __init__(
        self,
        path: Path | str,
        *,
        read_only: bool = False,
        lock_timeout: float = 15.0,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self._migrated = False

    # -- connections -------------------------------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                if not _is_lock_conflict(exc) or time.monotonic() >= deadline:
                    if _is_lock_conflict(exc):
                        raise StoreBusyError(
                            f"{self.path}: still locked by another process after "
                            f"{self.lock_timeout:.0f}s"
                        ) from exc
                    raise
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.5)

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for queries. Opens read-only in viewer mode."""
        self.ensure_schema()
        con = self._open(self.read_only)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        if self.read_only:
            raise PermissionError(f"{self.path}: opened as a read-only viewer")
        self.ensure_schema()
        con = self._open(False)
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    # -- schema ------------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the file or apply missing migrations, once per Store object."""
        if self._migrated:
            return
        if self.read_only:
            if not self.path.exists():
                raise FileNotFoundError(
                    f"{self.path}: no store here yet (run `collect` or `import`)"
                )
            self._migrated = True
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(False)
        try:
            con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: schema version {version} is newer than this bubble-monitor "
                    f"({SCHEMA_VERSION}); upgrade bubble-monitor"
                )
            for number in range(version, SCHEMA_VERSION):
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(MIGRATIONS[number])
                    con.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        [str(number + 1)],
                    )
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
        finally:
            con.close()
        self._migrated = True

    def schema_version(self) -> int:
        with self.reader() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    # -- writes ------------------------------------------------------------------------------

    def write_batch(
        self,
        source: str,
        batch: SourceBatch,
        started: dt.datetime,
        finished: dt.datetime,
        provenance: str | None = None,
    ) -> int:
        """Store one poll's rows and its fetch-log line in one transaction. Returns rows written."""
        with self.writer() as con:
            rows = upsert_batch(con, batch, provenance or source)
            log_fetch(
                con,
                source,
                started,
                finished,
                ok=True,
                rows=rows,
                error="; ".join(batch.warnings) or None,
            )
        return rows

    def record_failure(
        self,
        source: str,
        started: dt.datetime,
        finished: dt.datetime,
        error: str,
        retry_after: float | None = None,
    ) -> None:
        """A failed fetch: a line in the fetch log, and no value anywhere."""
        with self.writer() as con:
            log_fetch(con, source, started, finished, ok=False, rows=0, error=error,
                      retry_after=retry_after)

    # -- reads -------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.reader() as con:
            return con.execute(sql, list(params)).fetchall()

    def last_daily_dates(self) -> dict[str, dt.date]:
        rows = self.query("SELECT symbol, max(date) FROM daily_bars GROUP BY symbol")
        return {symbol: day for symbol, day in rows}

    def last_macro_dates(self) -> dict[str, dt.date]:
        rows = self.query(
            "SELECT series_id, max(date) FROM macro_observations GROUP BY series_id"
        )
        return {series: day for series, day in rows}

    def last_shares_dates(self) -> dict[str, dt.date]:
        rows = self.query("SELECT symbol, max(date) FROM shares_outstanding GROUP BY symbol")
        return {symbol: day for symbol, day in rows}

    def source_health(self) -> dict[str, dict[str, Any]]:
        """Per source: last success, last attempt, last error, consecutive failures."""
        rows = self.query(
            """
            WITH ordered AS (
                SELECT source, started, finished, ok, error, retry_after,
                       sum(CASE WHEN ok THEN 1 ELSE 0 END)
                           OVER (PARTITION BY source ORDER BY started DESC
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS oks_after
                FROM fetch_log
            )
            SELECT source,
                   max(finished) FILTER (WHERE ok) AS last_success,
                   max(finished) AS last_attempt,
                   arg_max(error, started) FILTER (WHERE NOT ok) AS last_error,
                   max(started) FILTER (WHERE NOT ok) AS last_error_at,
                   count(*) FILTER (WHERE NOT ok AND oks_after = 0) AS consecutive_failures,
                   arg_max(retry_after, started) AS retry_after
            FROM ordered GROUP BY source ORDER BY source
            """
        )
        return {
            source: {
                "last_success": last_success,
                "last_attempt": last_attempt,
                "last_error": last_error,
                "last_error_at": last_error_at,
                "consecutive_failures": int(failures),
                "retry_after": retry_after,
            }
            for (source, last_success, last_attempt, last_error, last_error_at, failures,
                 retry_after) in rows
        }

    def file_size(self) -> int:
        size = self.path.stat().st_size if self.path.exists() else 0
        wal = Path(str(self.path) + ".wal")
        return size + (wal.stat().st_size if wal.exists() else 0)


# -- helpers on an open connection (usable inside a caller's transaction) ------------------------


def _arrow_table(columns: dict[str, list[Any]]) -> Any:
    import pyarrow as pa  # deferred: only writers need it, and it costs start-up time

    return pa.Table.from_pydict(columns)


def upsert_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list[Any]]
) -> int:
    """INSERT OR REPLACE a column batch through Arrow (fast, and no SQL built from values)."""
    count = len(next(iter(columns.values()))) if columns else 0
    if count == 0:
        return 0
    arrow = _arrow_table(columns)
    view = f"_batch_{table}"
    con.register(view, arrow)
    try:
        names = ", ".join(columns)
        # Table and column names come from this module's constants, never from input.
        con.execute(f"INSERT OR REPLACE INTO {table} ({names}) SELECT {names} FROM {view}")
    finally:
        con.unregister(view)
    return count


def upsert_batch(con: duckdb.DuckDBPyConnection, batch: SourceBatch, provenance: str) -> int:
    rows = 0
    if batch.daily_bars:
        bars = _dedupe(batch.daily_bars, lambda b: (b.symbol, b.date))
        rows += upsert_rows(
            con,
            "daily_bars",
            {
                "symbol": [b.symbol for b in bars],
                "date": [b.date for b in bars],
                "open": [b.open for b in bars],
                "high": [b.high for b in bars],
                "low": [b.low for b in bars],
                "close": [b.close for b in bars],
                "adj_close": [b.adj_close for b in bars],
                "volume": [b.volume for b in bars],
                "source": [provenance] * len(bars),
            },
        )
    if batch.intraday_bars:
        ibars = _dedupe(batch.intraday_bars, lambda b: (b.symbol, b.ts))
        rows += upsert_rows(
            con,
            "intraday_bars",
            {
                "symbol": [b.symbol for b in ibars],
                "ts": [b.ts for b in ibars],
                "close": [b.close for b in ibars],
                "volume": [b.volume for b in ibars],
                "source": [provenance] * len(ibars),
            },
        )
    if batch.shares:
        shares = _dedupe(batch.shares, lambda s: (s.symbol, s.date))
        rows += upsert_rows(
            con,
            "shares_outstanding",
            {
                "symbol": [s.symbol for s in shares],
                "date": [s.date for s in shares],
                "shares": [s.shares for s in shares],
                "source": [provenance] * len(shares),
            },
        )
    if batch.market_caps:
        caps = _dedupe(batch.market_caps, lambda c: (c.symbol, c.date))
        rows += upsert_rows(
            con,
            "market_caps",
            {
                "symbol": [c.symbol for c in caps],
                "date": [c.date for c in caps],
                "market_cap": [c.market_cap for c in caps],
                "source": [provenance] * len(caps),
            },
        )
    if batch.macro:
        macro = _dedupe(batch.macro, lambda m: (m.series_id, m.date))
        rows += upsert_rows(
            con,
            "macro_observations",
            {
                "series_id": [m.series_id for m in macro],
                "date": [m.date for m in macro],
                "value": [m.value for m in macro],
                "source": [provenance] * len(macro),
            },
        )
    return rows


def _dedupe(items: list[Any], key: Any) -> list[Any]:
    """Last one wins: a batch may carry the same bar twice (overlapping downloads)."""
    by_key = {key(item): item for item in items}
    return list(by_key.values())


def log_fetch(
    con: duckdb.DuckDBPyConnection,
    source: str,
    started: dt.datetime,
    finished: dt.datetime,
    *,
    ok: bool,
    rows: int,
    error: str | None,
    retry_after: float | None = None,
) -> None:
    con.execute(
        "INSERT OR REPLACE INTO fetch_log VALUES (?, ?, ?, ?, ?, ?, ?)",
        [source, started, finished, ok, error, rows, retry_after],
    )


def default_store_path() -> Path:
    """The data file in the platformdirs user data dir, unless BUBBLE_MONITOR_DB says otherwise."""
    env = os.environ.get("BUBBLE_MONITOR_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("bubble-monitor", appauthor=False) / "bubble-monitor.duckdb"

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
import fcntl
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from bubble_core.errors import BubbleMonitorError, InputError, StoreBusyError
from bubble_core.migrations import MIGRATIONS, SCHEMA_VERSION
from bubble_core.models import SourceBatch
from bubble_core.paths import default_store_path  # noqa: F401  (re-exported)

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


class SchemaTooNewError(BubbleMonitorError, RuntimeError):
    """The file was written by a newer bubble-monitor: refused, as one line from the CLI."""


def _refuse_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{path}: schema version {version} is newer than this bubble-monitor "
            f"({SCHEMA_VERSION}); upgrade bubble-monitor"
        )


# duckdb.connect is not safe to call from two threads at once on a file no connection holds open
# yet: both race to create the database instance, and one of them gets an instance without the
# Python replacement scans ("python_arrow_scan does not exist") or a "Unique file handle
# conflict". The collector's jobs write from worker threads at the same moment, so opens are
# serialised within the process (the open itself is fast; the work after it is not serialised).
_CONNECT_LOCK = threading.Lock()
# Likewise the first use of a store from two threads at once: both would run the migrations, and
# the second fails on a write-write conflict ("Catalog write-write conflict on create").
_SCHEMA_LOCK = threading.Lock()


# How long a read-only open yields to a read-write open that waits for the file.
TURN_YIELD = 1.0


def _open_turn_file(store: Path) -> int | None:
    path = str(store) + ".turn.lock"
    for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
        try:
            return os.open(path, flags, 0o644)
        except OSError:
            continue
    return None


def _try_flock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    # The last one is this process: a read-only and a read-write connection cannot be open on
    # one file at once (a viewer's `silence` while its refresh reads). It passes like a lock.
    return (
        "Could not set lock" in text
        or "Conflicting lock" in text
        or "different configuration than existing connections" in text
    )


class Store:
    """A DuckDB file opened per operation. Thread-safe: each call opens its own connection."""

    def __init__(
        self,
        path: Path | str,
        *,
        read_only: bool = False,
        lock_timeout: float = 15.0,
        persistent: bool = False,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self._migrated = False
        # A private store (the replay's, a backtest's) that no other process reads may stay
        # open: re-opening a DuckDB file checkpoints it on every close, which a replay writing
        # one day at a time cannot afford. Each operation then gets its own cursor.
        self.persistent = persistent
        self._connection: duckdb.DuckDBPyConnection | None = None

    # -- connections -------------------------------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if self.persistent:
            with _CONNECT_LOCK:
                if self._connection is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    # One thread: a private store is small, and each DuckDB worker thread
                    # keeps its own buffers (about 25 MB of a replaying dashboard).
                    self._connection = duckdb.connect(
                        str(self.path), read_only=self.read_only, config={"threads": "1"}
                    )
                return self._connection.cursor()
        deadline = time.monotonic() + self.lock_timeout
        with self._turn(read_only, deadline):
            return self._connect(read_only, deadline)

    @contextlib.contextmanager
    def _turn(self, read_only: bool, deadline: float) -> Iterator[None]:
        """Writers first, across processes and threads.

        DuckDB lets a read-write open in only while no connection at all is open, so viewers
        that read back to back (a TUI refreshing, `status` in a loop) could keep the collector
        out for good. A read-write open therefore holds an exclusive flock on
        `<store>.turn.lock` while it waits for the file; a read-only open first waits (at most
        TURN_YIELD seconds) while such a writer is waiting. Held only around the open, never
        during the work, so it can neither deadlock nor slow anyone beyond one read.
        """
        fd = _open_turn_file(self.path)
        if fd is None:  # a viewer that may not create files next to the store: no turns
            yield
            return
        try:
            if read_only:
                limit = min(deadline, time.monotonic() + TURN_YIELD)
                while not _try_flock(fd, fcntl.LOCK_SH) and time.monotonic() < limit:
                    time.sleep(0.005)
                fcntl.flock(fd, fcntl.LOCK_UN)
            else:
                while not _try_flock(fd, fcntl.LOCK_EX) and time.monotonic() < deadline:
                    time.sleep(0.005)
            yield
        finally:
            os.close(fd)  # releases the flock

    def _connect(self, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        delay = 0.02
        while True:
            try:
                with _CONNECT_LOCK:
                    return duckdb.connect(str(self.path), read_only=read_only)
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                if not _is_lock_conflict(exc) or time.monotonic() >= deadline:
                    if _is_lock_conflict(exc):
                        raise StoreBusyError(
                            f"{self.path}: still locked by another process after "
                            f"{self.lock_timeout:.0f}s"
                        ) from exc
                    if "not a valid DuckDB database file" in str(exc):  # --db names another file
                        raise InputError(str(self.path), "not a bubble-monitor store (not a "
                                         "DuckDB database file)") from None
                    raise
                time.sleep(delay * (0.5 + random.random()))
                # A writer holds the turn: it polls quickly to take the first gap.
                delay = min(delay * 2, 0.5 if read_only else 0.05)

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
        with _SCHEMA_LOCK:
            if not self._migrated:
                self._ensure_schema()

    def _ensure_schema(self) -> None:
        if self.read_only:
            if not self.path.exists():
                raise FileNotFoundError(
                    f"{self.path}: no store here yet (run `collect` or `import`)"
                )
            # A viewer cannot migrate, but it must not read a newer layout as if it knew it.
            con = self._open(True)
            try:
                row = con.execute(
                    "SELECT value FROM meta WHERE key = 'schema_version'"
                ).fetchone()
            except duckdb.CatalogException:
                row = None  # no meta table yet: nothing newer to refuse
            finally:
                con.close()
            _refuse_newer(self.path, int(row[0]) if row else 0)
            self._migrated = True
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(False)
        try:
            con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            _refuse_newer(self.path, version)
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

    def close(self) -> None:
        """Close a persistent store's connection (a no-op for per-operation stores)."""
        with _CONNECT_LOCK:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

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

    def query(
        self,
        sql: str,
        params: Sequence[Any] = (),
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> list[tuple[Any, ...]]:
        """Run a query on `con` if given (one connection per refresh), else on a fresh one."""
        if con is not None:
            return con.execute(sql, list(params)).fetchall()
        with self.reader() as fresh:
            return fresh.execute(sql, list(params)).fetchall()

    def last_daily_dates(self) -> dict[str, dt.date]:
        rows = self.query("SELECT symbol, max(date) FROM daily_bars GROUP BY symbol")
        return {symbol: day for symbol, day in rows}

    def last_intraday_times(self, since: dt.datetime) -> dict[str, dt.datetime]:
        """Newest stored minute bar per symbol, looking back only to `since` (a cheap scan)."""
        rows = self.query(
            "SELECT symbol, max(ts) FROM intraday_bars WHERE ts >= ? GROUP BY symbol", [since]
        )
        return {symbol: ts for symbol, ts in rows}

    def last_macro_dates(self) -> dict[str, dt.date]:
        rows = self.query(
            "SELECT series_id, max(date) FROM macro_observations GROUP BY series_id"
        )
        return {series: day for series, day in rows}

    def last_shares_dates(self) -> dict[str, dt.date]:
        rows = self.query("SELECT symbol, max(date) FROM shares_outstanding GROUP BY symbol")
        return {symbol: day for symbol, day in rows}

    def source_health(
        self, con: duckdb.DuckDBPyConnection | None = None
    ) -> dict[str, dict[str, Any]]:
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
            """,
            con=con,
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


# Up to this many rows a batch goes in as parameterised VALUES; past it, through Arrow. A poll
# is tens of rows, and pyarrow pulls in pandas and numpy (over 100 MB of a dashboard's memory).
ARROW_MIN_ROWS = 5000
VALUES_CHUNK_ROWS = 500


def _insert_values(
    con: duckdb.DuckDBPyConnection, verb: str, table: str, columns: dict[str, list[Any]]
) -> None:
    names = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    placeholders = "(" + ", ".join("?" for _ in names) + ")"
    for start in range(0, len(rows), VALUES_CHUNK_ROWS):
        chunk = rows[start:start + VALUES_CHUNK_ROWS]
        rows_sql = ", ".join(placeholders for _ in chunk)
        # Table and column names come from this module's constants; values are parameters.
        con.execute(
            f"{verb} INTO {table} ({', '.join(names)}) VALUES {rows_sql}",
            [value for row in chunk for value in row],
        )


def upsert_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list[Any]]
) -> int:
    """INSERT OR REPLACE a column batch (values only ever as parameters or Arrow data)."""
    count = len(next(iter(columns.values()))) if columns else 0
    if count == 0:
        return 0
    if count < ARROW_MIN_ROWS:
        _insert_values(con, "INSERT OR REPLACE", table, columns)
        return count
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


# SourceBatch attribute -> (table, key fields, value fields); the row classes name their fields
# after the columns.
_BATCH_TABLES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("daily_bars", "daily_bars", ("symbol", "date"),
     ("open", "high", "low", "close", "adj_close", "volume")),
    ("shares", "shares_outstanding", ("symbol", "date"), ("shares",)),
    ("market_caps", "market_caps", ("symbol", "date"), ("market_cap",)),
    ("macro", "macro_observations", ("series_id", "date"), ("value",)),
)


def upsert_batch(con: duckdb.DuckDBPyConnection, batch: SourceBatch, provenance: str) -> int:
    rows = 0
    for attribute, table, keys, values in _BATCH_TABLES:
        items = _dedupe(
            getattr(batch, attribute), lambda item, keys=keys: tuple(getattr(item, k) for k in keys)
        )
        if not items:
            continue
        columns = {name: [getattr(item, name) for item in items] for name in (*keys, *values)}
        columns["source"] = [provenance] * len(items)
        rows += upsert_rows(con, table, columns)
    if batch.intraday_bars:
        bars = _dedupe(batch.intraday_bars, lambda bar: (bar.symbol, bar.ts))
        rows += replace_intraday(
            con,
            {
                "symbol": [bar.symbol for bar in bars],
                "ts": [bar.ts for bar in bars],
                "close": [bar.close for bar in bars],
                "volume": [bar.volume for bar in bars],
                "source": [provenance] * len(bars),
            },
        )
    return rows


def replace_intraday(con: duckdb.DuckDBPyConnection, columns: dict[str, list[Any]]) -> int:
    """Minute bars replace what was stored for each symbol over the batch's time span.

    The table has no primary key (migration 2), so this delete-then-insert, inside the caller's
    transaction, is what keeps (symbol, ts) unique.
    """
    count = len(columns["symbol"])
    if count == 0:
        return 0
    if count < ARROW_MIN_ROWS:
        spans: dict[str, tuple[Any, Any]] = {}
        for symbol, ts in zip(columns["symbol"], columns["ts"], strict=True):
            first, last = spans.get(symbol, (ts, ts))
            spans[symbol] = (min(first, ts), max(last, ts))
        for symbol, (first, last) in spans.items():
            con.execute(
                "DELETE FROM intraday_bars WHERE symbol = ? AND ts BETWEEN ? AND ?",
                [symbol, first, last],
            )
        _insert_values(con, "INSERT", "intraday_bars", columns)
        return count
    con.register("_batch_intraday", _arrow_table(columns))
    try:
        con.execute(
            """
            DELETE FROM intraday_bars USING (
                SELECT symbol, min(ts) AS first, max(ts) AS last
                FROM _batch_intraday GROUP BY symbol
            ) span
            WHERE intraday_bars.symbol = span.symbol
              AND intraday_bars.ts BETWEEN span.first AND span.last
            """
        )
        con.execute(
            "INSERT INTO intraday_bars (symbol, ts, close, volume, source) "
            "SELECT symbol, ts, close, volume, source FROM _batch_intraday ORDER BY symbol, ts"
        )
    finally:
        con.unregister("_batch_intraday")
    return count


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

"""The DuckDB store: migrations, idempotent upserts, one transaction per poll, fetch log, locks."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import T0, table_dump

from bubble_core.errors import BubbleMonitorError, StoreBusyError
from bubble_core.migrations import SCHEMA_VERSION
from bubble_core.models import DailyBar, IntradayBar, MacroObservation, SourceBatch
from bubble_core.store import DATA_TABLES, Store

D1, D2, D3 = dt.date(2025, 10, 29), dt.date(2025, 10, 30), dt.date(2025, 10, 31)


def _bars(closes: dict[dt.date, float], symbol: str = "NVDA") -> list[DailyBar]:
    return [DailyBar(symbol, day, close) for day, close in closes.items()]


def _closes(store: Store, symbol: str = "NVDA") -> list[tuple[dt.date, float]]:
    return store.query(
        "SELECT date, close FROM daily_bars WHERE symbol = ? ORDER BY date", [symbol]
    )


# -- schema -----------------------------------------------------------------------------------


def test_migration_from_nothing_records_the_schema_version(store: Store) -> None:
    assert not store.path.exists()
    assert store.schema_version() == SCHEMA_VERSION
    assert store.path.exists()
    tables = {row[0] for row in store.query("SELECT table_name FROM duckdb_tables()")}
    assert set(DATA_TABLES) | {"meta"} <= tables


def test_reopening_a_migrated_store_is_a_no_op(store: Store, write) -> None:
    write(daily_bars=_bars({D1: 100.0}))
    before = table_dump(store)
    again = Store(store.path)
    assert again.schema_version() == SCHEMA_VERSION
    assert table_dump(again) == before
    meta = again.query("SELECT key, value FROM meta ORDER BY key")
    assert meta == [("schema_version", str(SCHEMA_VERSION))]


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(Exception, match="newer than this bubble-monitor") as info:
        Store(path).ensure_schema()
    # The CLI turns a BubbleMonitorError into one line; a bare RuntimeError would be a traceback.
    assert isinstance(info.value, BubbleMonitorError)
    # A read-only viewer (status, the TUI on another session) refuses it too.
    with pytest.raises(BubbleMonitorError, match="newer than this bubble-monitor"):
        Store(path, read_only=True).query("SELECT 1")
    con = duckdb.connect(str(path))
    assert con.execute("SELECT value FROM meta").fetchall() == [(str(SCHEMA_VERSION + 1),)]
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert tables == {"meta"}  # nothing migrated "down" or created


# -- upserts ------------------------------------------------------------------------------------


def test_rewriting_the_same_bars_never_duplicates(store: Store, write) -> None:
    bars = _bars({D1: 100.0, D2: 101.0, D3: 102.0})
    assert write(daily_bars=bars) == 3
    assert write(daily_bars=bars) == 3
    assert _closes(store) == [(D1, 100.0), (D2, 101.0), (D3, 102.0)]
    assert store.query("SELECT count(*) FROM daily_bars") == [(3,)]


def test_last_write_wins_across_and_within_batches(store: Store, write) -> None:
    write(daily_bars=_bars({D1: 100.0, D2: 101.0}))
    write(daily_bars=_bars({D2: 111.0}), source="second")
    # The same key twice in one batch (overlapping downloads): the later row wins.
    write(daily_bars=[DailyBar("NVDA", D3, 1.0), DailyBar("NVDA", D3, 3.0)])
    assert _closes(store) == [(D1, 100.0), (D2, 111.0), (D3, 3.0)]
    sources = store.query("SELECT date, source FROM daily_bars ORDER BY date")
    assert sources == [(D1, "test"), (D2, "second"), (D3, "test")]
    write(macro=[MacroObservation("GDP", D1, 29_839.0)])
    write(macro=[MacroObservation("GDP", D1, 30_000.0)])
    assert store.query("SELECT series_id, date, value FROM macro_observations") == [
        ("GDP", D1, 30_000.0)
    ]


def test_write_batch_logs_rows_and_warnings(store: Store) -> None:
    batch = SourceBatch(daily_bars=_bars({D1: 1.0, D2: 2.0}), warnings=["KRE: no data", "x: y"])
    assert store.write_batch("yahoo", batch, T0, T0 + dt.timedelta(seconds=2)) == 2
    assert store.query("SELECT source, started, finished, ok, error, rows FROM fetch_log") == [
        ("yahoo", T0, T0 + dt.timedelta(seconds=2), True, "KRE: no data; x: y", 2)
    ]


def test_an_exception_inside_writer_leaves_nothing_written(store: Store, write) -> None:
    write(daily_bars=_bars({D1: 100.0}))
    before = table_dump(store)
    with pytest.raises(ZeroDivisionError), store.writer() as con:
        con.execute("INSERT INTO daily_bars VALUES ('AMD', ?, 1, 1, 1, 1, 1, 1, 'x')", [D2])
        con.execute("UPDATE daily_bars SET close = 5 WHERE symbol = 'NVDA'")
        con.execute("INSERT INTO fetch_log VALUES ('x', ?, ?, true, NULL, 1, NULL)", [T0, T0])
        raise ZeroDivisionError
    assert table_dump(store) == before


def test_a_failing_row_rolls_back_the_whole_poll(store: Store) -> None:
    # The second bar violates NOT NULL on close: the first bar and the log line go too.
    bad = SourceBatch(daily_bars=[DailyBar("NVDA", D1, 10.0), DailyBar("AMD", D1, None)])  # type: ignore[arg-type]
    store.ensure_schema()
    before = table_dump(store)
    with pytest.raises(duckdb.Error):
        store.write_batch("yahoo", bad, T0, T0)
    assert table_dump(store) == before


# -- the fetch log --------------------------------------------------------------------------------


def test_record_failure_writes_a_log_line_and_no_value(store: Store) -> None:
    store.record_failure("fred", T0, T0 + dt.timedelta(seconds=3), "DGS10: HTTP 500", 120.0)
    dump = table_dump(store)
    assert dump["fetch_log"] == [
        ("fred", T0, T0 + dt.timedelta(seconds=3), False, "DGS10: HTTP 500", 0, 120.0)
    ]
    assert all(rows == [] for table, rows in dump.items() if table != "fetch_log")


def test_source_health_counts_consecutive_failures_and_resets_after_success(store: Store) -> None:
    def at(minutes: int) -> dt.datetime:
        return T0 + dt.timedelta(minutes=minutes)

    store.record_failure("fred", at(0), at(0), "first")
    store.record_failure("fred", at(1), at(1), "second")
    health = store.source_health()["fred"]
    assert health["consecutive_failures"] == 2
    assert health["last_success"] is None
    assert health["last_error"] == "second"
    assert health["last_attempt"] == at(1)

    store.write_batch("fred", SourceBatch(macro=[MacroObservation("DFF", D1, 3.87)]), at(2), at(2))
    health = store.source_health()["fred"]
    assert health["consecutive_failures"] == 0
    assert health["last_success"] == at(2)

    store.record_failure("fred", at(3), at(3), "third", retry_after=60.0)
    store.record_failure("nyfed", at(3), at(3), "other source")
    health = store.source_health()
    assert health["fred"]["consecutive_failures"] == 1
    assert health["fred"]["last_error"] == "third"
    assert health["fred"]["last_error_at"] == at(3)
    assert health["fred"]["retry_after"] == 60.0
    assert health["fred"]["last_success"] == at(2)
    assert health["nyfed"]["consecutive_failures"] == 1


def test_last_dates_per_symbol_and_series(store: Store, write) -> None:
    write(daily_bars=_bars({D1: 1.0, D3: 2.0}) + _bars({D2: 5.0}, "AMD"))
    write(macro=[MacroObservation("GDP", D1, 1.0), MacroObservation("DFF", D2, 2.0)])
    assert store.last_daily_dates() == {"NVDA": D3, "AMD": D2}
    assert store.last_macro_dates() == {"GDP": D1, "DFF": D2}


def test_a_read_only_store_refuses_writes_and_missing_files(tmp_path: Path, store: Store) -> None:
    with pytest.raises(FileNotFoundError):
        Store(tmp_path / "absent.duckdb", read_only=True).query("SELECT 1")
    assert not (tmp_path / "absent.duckdb").exists()
    store.ensure_schema()
    viewer = Store(store.path, read_only=True)
    with pytest.raises(PermissionError), viewer.writer():
        pass
    assert viewer.query("SELECT count(*) FROM daily_bars") == [(0,)]


# -- two processes ------------------------------------------------------------------------------

HOLDER = """
import sys, time
from bubble_core.store import Store
store = Store(sys.argv[1])
with store.writer() as con:
    con.execute("INSERT INTO macro_observations VALUES ('GDP', DATE '2025-07-01', 30000, 'x')")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_writer(path: Path, seconds: float) -> subprocess.Popen[str]:
    Store(path).ensure_schema()
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "locked", child.stderr.read() if child.stderr else ""
    return child


def test_a_reader_waits_for_another_process_writer_then_succeeds(store: Store) -> None:
    child = _hold_writer(store.path, 1.0)
    try:
        started = time.monotonic()
        rows = Store(store.path, read_only=True, lock_timeout=15).query(
            "SELECT series_id, value FROM macro_observations"
        )
        waited = time.monotonic() - started
    finally:
        child.wait(timeout=30)
    assert child.returncode == 0
    assert waited > 0.3  # it did wait for the lock...
    assert rows == [("GDP", 30000.0)]  # ...and then saw the other process's committed write


def test_a_short_lock_timeout_raises_store_busy(store: Store) -> None:
    child = _hold_writer(store.path, 1.5)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="locked by another process"):
            Store(store.path, lock_timeout=0.2).query("SELECT 1")
        elapsed = time.monotonic() - started
    finally:
        child.wait(timeout=30)
    assert 0.15 < elapsed < 1.4
    assert isinstance(StoreBusyError("x"), BubbleMonitorError)


def test_first_use_from_several_threads_at_once(store: Store) -> None:
    # The collector's jobs write from worker threads: the first writes race to migrate.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(store.record_failure, f"source{i}", T0, T0, "down") for i in range(4)
        ]
        for future in futures:
            future.result()
    assert store.query("SELECT count(*) FROM fetch_log") == [(4,)]
    assert store.schema_version() == SCHEMA_VERSION


def test_migration_2_keeps_minute_bars_and_drops_their_index(tmp_path: Path) -> None:
    """A version-1 store (minute bars with a primary key) migrates without losing a row."""
    from bubble_core.migrations import MIGRATIONS

    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute(
        "INSERT INTO intraday_bars VALUES ('NVDA', '2025-10-31 14:30:00', 200.5, 10, 'yahoo'),"
        "('NVDA', '2025-10-31 14:31:00', 201.0, 12, 'yahoo')"
    )
    con.close()
    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS) >= 2
    rows = store.query("SELECT symbol, ts, close FROM intraday_bars ORDER BY ts")
    assert [(r[0], r[2]) for r in rows] == [("NVDA", 200.5), ("NVDA", 201.0)]
    keys = store.query(
        "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'intraday_bars' "
        "AND constraint_type = 'PRIMARY KEY'"
    )
    assert keys[0][0] == 0


def test_minute_bars_stay_unique_when_polls_overlap(tmp_path: Path) -> None:
    """Without a primary key, a poll replaces the span it covers: no duplicates, last wins."""
    store = Store(tmp_path / "s.duckdb")
    start = dt.datetime(2025, 10, 31, 13, 30)

    def poll(minutes: range, price: float) -> SourceBatch:
        return SourceBatch(
            intraday_bars=[
                IntradayBar("NVDA", start + dt.timedelta(minutes=m), price + m) for m in minutes
            ]
        )

    now = dt.datetime(2025, 10, 31, 14)
    store.write_batch("yahoo", poll(range(0, 30), 100.0), now, now)
    store.write_batch("yahoo", poll(range(20, 45), 200.0), now, now + dt.timedelta(seconds=1))
    store.write_batch("yahoo", poll(range(20, 45), 200.0), now, now + dt.timedelta(seconds=2))
    rows = store.query("SELECT ts, close FROM intraday_bars WHERE symbol = 'NVDA' ORDER BY ts")
    assert len(rows) == 45
    assert len({ts for ts, _ in rows}) == 45
    assert rows[19][1] == 119.0  # before the overlap: the first poll's
    assert rows[20][1] == 220.0  # the overlap: the later poll's

"""Figure 7: store size per symbol-year of 1-minute bars, against the raw data's size.

  bulk       S symbols x Y years of 1-minute bars (252 days x 390 bars) inserted into the product's
             intraday_bars table in one statement; file size after CHECKPOINT, less the empty
             store's size, per symbol-year
  raw CSV    the same bars as `Datetime,Close,Volume` CSV, one file per symbol (what Yahoo or an
             export gives), per symbol-year
  collector  the live write pattern: every minute of a session, one `Store.write_batch` of the
             newest minutes for every symbol (the live job re-writes the last 5 of yfinance's
             period="1d" answer and adds the new ones);
             growth of the file per symbol-session (slope over the sessions, after CHECKPOINT),
             scaled to a year
  compacted  the bulk store copied into a fresh file (COPY FROM DATABASE): what a compaction
             would give back
  no index   the same rows in a table without the PRIMARY KEY (symbol, ts)

    python bench/storage.py [--symbols 20] [--years 1] [--collector-days 3] [--full]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from _common import (
    BENCH_DIR,
    DAYS_PER_YEAR,
    MINUTES_PER_DAY,
    SYMBOLS,
    figure,
    fmt_bytes,
    note,
    primary_key,
    remove_store,
)

SESSION_OPEN_UTC = dt.time(13, 30)


def fresh(path: Path) -> Path:
    return remove_store(path)


def size(path: Path) -> int:
    wal = Path(str(path) + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def empty_store_size() -> int:
    from bubble_core.store import Store

    path = fresh(BENCH_DIR / "storage-empty.duckdb")
    Store(path).ensure_schema()
    checkpoint(path)
    out = size(path)
    fresh(path)
    return out


def checkpoint(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute("CHECKPOINT")
    finally:
        con.close()


def bulk_store(symbols: int, years: int) -> Path:
    import duckdb
    from _common import _day_sql, _price_sql

    from bubble_core.store import Store

    path = fresh(BENCH_DIR / f"storage-bulk-{symbols}x{years}.duckdb")
    Store(path).ensure_schema()
    con = duckdb.connect(str(path))
    try:
        days = years * DAYS_PER_YEAR
        con.execute(
            f"""
            INSERT INTO intraday_bars
            SELECT 'S' || k, {_day_sql('d')} + INTERVAL 810 MINUTE + to_minutes(m),
                   {_price_sql('k', 'd', 'm')}, CAST(100 + hash(k, d, m) % 100000 AS DOUBLE),
                   'yahoo'
            FROM range({symbols}) s(k), range({days}) r(d), range({MINUTES_PER_DAY}) q(m)
            """
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


def raw_csv_size(store: Path, symbols: int) -> int:
    import duckdb

    total = 0
    con = duckdb.connect(str(store), read_only=True)
    try:
        for k in range(symbols):
            out = BENCH_DIR / f"storage-raw-S{k}.csv"
            con.execute(
                f"COPY (SELECT strftime(ts, '%Y-%m-%d %H:%M:%S') AS Datetime, close AS Close, "
                f"CAST(volume AS BIGINT) AS Volume FROM intraday_bars WHERE symbol = 'S{k}' "
                f"ORDER BY ts) TO '{out}' (HEADER)"
            )
            total += out.stat().st_size
            out.unlink()
    finally:
        con.close()
    return total


def copy_store(store: Path, *, no_index: bool) -> int:
    import duckdb

    target = fresh(BENCH_DIR / ("storage-noindex.duckdb" if no_index else
                                "storage-compacted.duckdb"))
    con = duckdb.connect(str(target))
    try:
        con.execute(f"ATTACH '{store}' AS src (READ_ONLY)")
        if no_index:
            con.execute("CREATE TABLE intraday_bars AS SELECT * FROM src.intraday_bars "
                        "ORDER BY symbol, ts")
        else:
            name = con.execute("SELECT current_database()").fetchone()[0]
            con.execute(f'COPY FROM DATABASE src TO "{name}"')
        con.execute("DETACH src")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    out = size(target)
    fresh(target)
    return out


REWRITE_MINUTES = 5


def collector_store(symbols: int, days: int) -> tuple[list[int], float, int]:
    """Write `days` sessions the way the live collector does; (bytes after each, seconds, bytes
    once the store is rewritten into a fresh file)."""
    from bubble_core.models import IntradayBar, SourceBatch
    from bubble_core.store import Store

    # On tmpfs when there is one: ~400 commits a session, whose fsyncs change nothing in the
    # file's size but would make the simulation take minutes.
    shm = Path("/dev/shm")
    folder = shm if shm.is_dir() and os.access(shm, os.W_OK) else BENCH_DIR
    path = fresh(folder / "storage-collector.duckdb")
    store = Store(path)
    store.ensure_schema()
    names = [f"S{k}" for k in range(symbols)]
    start = time.perf_counter()
    sizes: list[int] = []
    day = dt.date(2025, 9, 1)
    for index in range(days):
        day = day + dt.timedelta(days=1 if index else 0)
        open_ts = dt.datetime.combine(day, SESSION_OPEN_UTC)
        stamps = [open_ts + dt.timedelta(minutes=m) for m in range(MINUTES_PER_DAY)]
        for minute in range(1, MINUTES_PER_DAY + 1):
            bars = [IntradayBar(symbol, stamps[m], 100.0 + ((k * 7 + m * 13) % 500) / 100,
                                float(100 + (k * 31 + m * 17) % 5000))
                    for k, symbol in enumerate(names)
                    # what bubble_core.live writes: the newest minutes, from INTRADAY_REWRITE
                    # (5 min) before the newest stored bar
                    for m in range(max(0, minute - 1 - REWRITE_MINUTES), minute)]
            now = open_ts + dt.timedelta(minutes=minute)
            store.write_batch("yahoo", SourceBatch(intraday_bars=bars), now, now)
        checkpoint(path)  # sizes compared after CHECKPOINT, as the bulk store's
        sizes.append(size(path))
        note(f"collector session {index + 1}: store {fmt_bytes(sizes[-1])}")
    elapsed = time.perf_counter() - start
    compacted = copy_store(path, no_index=False)
    fresh(path)
    return sizes, elapsed, compacted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=len(SYMBOLS))
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--collector-days", type=int, default=3, help="sessions, at least 3")
    parser.add_argument("--collector-symbols", type=int, default=len(SYMBOLS))
    parser.add_argument("--full", action="store_true", help="10 years")
    args = parser.parse_args()
    if args.full:
        args.years = 10
    BENCH_DIR.mkdir(parents=True, exist_ok=True)

    empty = empty_store_size()
    store = bulk_store(args.symbols, args.years)
    symbol_years = args.symbols * args.years
    rows = symbol_years * DAYS_PER_YEAR * MINUTES_PER_DAY
    bulk = size(store) - empty
    raw = raw_csv_size(store, args.symbols)
    compacted = copy_store(store, no_index=False) - empty
    no_index = copy_store(store, no_index=True)
    key = primary_key(store, "intraday_bars")
    fresh(store)

    per_year = bulk / symbol_years
    raw_year = raw / symbol_years
    figure("storage_per_symbol_year", fmt_bytes(per_year),
           f"{bulk / rows:.1f} B/row over {rows:,} rows ({args.symbols} symbols x {args.years} "
           f"y); raw CSV {fmt_bytes(raw_year)} ({raw / rows:.1f} B/row) = "
           f"{per_year / raw_year:.2f}x raw", "<= raw CSV size", per_year <= raw_year)
    if key:
        figure("storage_without_pk_index", fmt_bytes(no_index / symbol_years),
               f"same rows, no PRIMARY KEY ({', '.join(key)}): {no_index / rows:.1f} B/row = "
               f"{no_index / raw:.2f}x raw; the index is {1 - no_index / bulk:.0%} of the table")
    else:
        note("intraday_bars has no primary key in this schema: the no-index copy is the same")
    figure("storage_compaction_gain", f"{1 - compacted / bulk:.0%}",
           f"bulk store rewritten into a fresh file: {fmt_bytes(compacted)} vs "
           f"{fmt_bytes(bulk)}")

    days = max(3, args.collector_days)
    sizes, seconds, compacted_live = collector_store(args.collector_symbols, days)
    note(f"collector simulation: {days} sessions x {MINUTES_PER_DAY} polls x "
         f"{args.collector_symbols} symbols in {seconds:.1f} s")
    # Growth per session: the least-squares slope of size over sessions (the file grows by
    # 256 KB blocks, so two points alone would be coarse; the first session also pays the
    # tables' initial blocks, which the slope leaves out).
    xs = list(range(days))
    mean_x, mean_y = sum(xs) / days, sum(sizes) / days
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, sizes, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs)
    marginal = slope / args.collector_symbols
    day_bulk = per_year / DAYS_PER_YEAR
    collected_year = marginal * DAYS_PER_YEAR
    figure("storage_collector_per_symbol_year", fmt_bytes(collected_year),
           f"live write pattern (every minute, the newest minutes re-written): "
           f"{fmt_bytes(marginal)} per symbol-session (slope over {days} sessions) = "
           f"{marginal / day_bulk:.2f}x bulk, {collected_year / raw_year:.2f}x raw; "
           f"first session {fmt_bytes((sizes[0] - empty) / args.collector_symbols)} "
           "per symbol", "<= raw CSV size", collected_year <= raw_year)
    live_rows = args.collector_symbols * days * MINUTES_PER_DAY
    live_raw = raw / rows * live_rows
    figure("storage_collector_compacted", f"{(compacted_live - empty) / live_raw:.2f}x raw",
           f"the collector-written store after {days} sessions rewritten into a fresh file: "
           f"{fmt_bytes(sizes[-1])} -> {fmt_bytes(compacted_live)} for {live_rows:,} rows "
           f"({fmt_bytes(live_raw)} as CSV)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

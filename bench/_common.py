"""Shared helpers of the benchmark scripts: synthetic stores, statistics, the one-line format.

Every figure is printed as ONE line:

    <name> <measured> (<detail>) target <target> PASS|FAIL
    <name> <measured> (<detail>) info

Synthetic stores are generated in DuckDB SQL (INSERT ... SELECT from range()) into the product's
own schema (created by `Store.ensure_schema()`), and cached under $BUBBLE_BENCH_DIR
(default /tmp/bubble-bench/) keyed by their parameters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_DIR = Path(os.environ.get("BUBBLE_BENCH_DIR", "/tmp/bubble-bench"))

# 20 symbols: the default watch list (16) plus 4 synthetic names.
SYMBOLS: tuple[str, ...] = (
    "AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA",
    "^NDX", "^IXIC", "^GSPC",
    "KRE", "ORCL", "AMD", "AVGO", "CRWV", "9984.T",
    "SYN1", "SYN2", "SYN3", "SYN4",
)
EQUITIES: tuple[str, ...] = tuple(s for s in SYMBOLS if not s.startswith("^"))
MINUTES_PER_DAY = 390
DAYS_PER_YEAR = 252
HISTORY_DAYS = 10 * DAYS_PER_YEAR  # 2520 trading days: "10 years"
# Trading day d (0-based) is the (d % 5)-th weekday of week d // 5 counted from this Monday, so
# day 2519 is the Friday 2025-08-29.
FIRST_MONDAY = dt.date(2016, 1, 4)
DAILY_MACRO = ("DFF", "DFEDTARU", "DFEDTARL", "DGS10", "BAMLC0A4CBBBEY", "BAMLH0A0HYM2EY",
               "BAMLH0A0HYM2", "EFFR", "EFFR_TARGET_FROM", "EFFR_TARGET_TO")


def trading_day(index: int) -> dt.date:
    return FIRST_MONDAY + dt.timedelta(days=(index // 5) * 7 + index % 5)


LAST_DAY = trading_day(HISTORY_DAYS - 1)


# -- output -----------------------------------------------------------------------------------


def figure(name: str, measured: str, detail: str = "", target: str | None = None,
           ok: bool | None = None) -> str:
    """Print and return one figure line."""
    line = f"{name} {measured}"
    if detail:
        line += f" ({detail})"
    if target is None:
        line += " info"
    else:
        line += f" target {target} {'PASS' if ok else 'FAIL'}"
    print(line, flush=True)
    return line


def note(text: str) -> None:
    """Progress and context: stderr, so stdout stays one line per figure."""
    print(f"  # {text}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fmt_bytes(count: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(count) >= size:
            return f"{count / size:.2f} {unit}"
    return f"{count:.0f} B"


def timed(function: Callable[[], Any], runs: int, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall seconds of `runs` calls after `warmup` calls; and all the samples."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return median(samples), samples


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    box: list[float] = []
    start = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - start)


def python_env() -> dict[str, str]:
    """Environment for child interpreters: the project importable, no user config or store."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    env["BUBBLE_MONITOR_CONFIG"] = str(BENCH_DIR / "no-such-config.toml")
    env.pop("PYTHONSTARTUP", None)
    return env


def bench_config() -> Any:
    """The default config, isolated from the user's (no file: defaults)."""
    from bubble_core.config import Config

    return Config(path=None)


# -- synthetic stores -------------------------------------------------------------------------

# A deterministic price path per symbol k at fractional day x = d + m / 390: a drift, slow
# waves (so there are peaks, drawdowns and recoveries), and hash noise; rounded to the cent.
_PRICE = (
    "round((20 + 15 * {k}) * exp(0.0004 * ({x}) + 0.25 * sin(({x}) / (40 + 3 * {k})) "
    "+ 0.10 * sin(({x}) / (7 + {k})) + 0.002 * ((hash({k}, {d}, {m}) % 1000) / 1000.0 - 0.5)), 2)"
)


def _price_sql(k: str, d: str, m: str) -> str:
    return _PRICE.format(k=k, d=d, m=m, x=f"{d} + {m} / 390.0")


def _day_sql(d: str) -> str:
    return f"(DATE '{FIRST_MONDAY.isoformat()}' + CAST(({d} // 5) * 7 + {d} % 5 AS INTEGER))"


STORE_SIDE_FILES = (".wal", ".turn.lock", ".collector.lock")


def remove_store(path: Path) -> Path:
    """Delete a store file and the files the product keeps beside it; return the path."""
    path.unlink(missing_ok=True)
    for suffix in STORE_SIDE_FILES:
        Path(str(path) + suffix).unlink(missing_ok=True)
    return path


def store_path(tag: str) -> Path:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    return BENCH_DIR / f"store-{tag}.duckdb"


def build_store(
    path: Path,
    *,
    daily_days: int,
    intraday_days: int = 0,
    symbols: Sequence[str] = SYMBOLS,
    force: bool = False,
) -> Path:
    """A populated store: `daily_days` of daily bars (ending LAST_DAY) for every symbol,
    `intraday_days` of 1-minute bars (390 a day, the last days), macro series, shares, and a
    fetch log. Cached: an existing file with the same parameters is reused."""
    import duckdb

    from bubble_core.migrations import SCHEMA_VERSION
    from bubble_core.store import Store

    # The product's schema version is part of the key: a new migration rebuilds the stores.
    key = (f"daily={daily_days} intraday={intraday_days} symbols={','.join(symbols)} v3 "
           f"schema={SCHEMA_VERSION}")
    if path.exists() and not force:
        try:
            con = duckdb.connect(str(path), read_only=True)
            try:
                row = con.execute("SELECT value FROM meta WHERE key = 'bench_key'").fetchone()
            finally:
                con.close()
            if row and row[0] == key:
                return path
        except duckdb.Error:
            pass
    tmp = Path(str(path) + ".tmp")
    remove_store(path)
    remove_store(tmp)
    started = time.perf_counter()
    Store(tmp).ensure_schema()
    con = duckdb.connect(str(tmp))
    try:
        values = ", ".join(f"('{s}', {k})" for k, s in enumerate(symbols))
        con.execute(f"CREATE TEMP TABLE syms AS SELECT * FROM (VALUES {values}) t(symbol, k)")
        first = HISTORY_DAYS - daily_days
        # Daily bars: the close is the path at the day's last minute.
        con.execute(
            f"""
            INSERT INTO daily_bars
            SELECT s.symbol, {_day_sql('d')},
                   {_price_sql('s.k', 'd', '0')}, NULL, NULL,
                   {_price_sql('s.k', 'd', '389')}, NULL,
                   CAST(100000 + hash(s.k, d) % 1000000 AS DOUBLE), 'synthetic'
            FROM syms s, range({first}, {HISTORY_DAYS}) r(d)
            """
        )
        if intraday_days:
            ifirst = HISTORY_DAYS - intraday_days
            # 09:30 New York ~ 13:30 UTC (DST ignored): 810 minutes after midnight.
            con.execute(
                f"""
                INSERT INTO intraday_bars
                SELECT s.symbol, {_day_sql('d')} + INTERVAL 810 MINUTE + to_minutes(m),
                       {_price_sql('s.k', 'd', 'm')},
                       CAST(100 + hash(s.k, d, m) % 100000 AS DOUBLE), 'synthetic'
                FROM syms s, range({ifirst}, {HISTORY_DAYS}) r(d),
                     range(0, {MINUTES_PER_DAY}) q(m)
                """
            )
        # Macro: daily rate series over the daily span, quarterly GDP.
        series = ", ".join(f"('{s}', {i})" for i, s in enumerate(DAILY_MACRO))
        con.execute(
            f"""
            INSERT INTO macro_observations
            SELECT s.id, {_day_sql('d')},
                   round(CASE WHEN s.id LIKE 'DFEDTAR%' OR s.id LIKE 'EFFR_TARGET%'
                              THEN 0.25 * floor(8 + 8 * sin(d / 300.0))
                                   - CASE WHEN s.id IN ('DFEDTARL', 'EFFR_TARGET_FROM')
                                          THEN 0.25 ELSE 0 END
                              ELSE 3 + s.i * 0.5 + 2 * sin(d / (200.0 + s.i * 10)) END, 2),
                   'synthetic'
            FROM (VALUES {series}) s(id, i), range({first}, {HISTORY_DAYS}) r(d)
            """
        )
        con.execute(
            f"""
            INSERT INTO macro_observations
            SELECT 'GDP', {_day_sql('d')}, round(18000 + d * 4.5, 1), 'synthetic'
            FROM range({first}, {HISTORY_DAYS}, 63) r(d)
            """
        )
        equities = ", ".join(f"'{s}'" for s in symbols if not s.startswith("^"))
        con.execute(
            f"""
            INSERT INTO shares_outstanding
            SELECT s.symbol, {_day_sql('d')}, 1e9 * (2 + s.k) * (1 - d / 1e5), 'synthetic'
            FROM syms s, range({first}, {HISTORY_DAYS}, 63) r(d)
            WHERE s.symbol IN ({equities})
            """
        )
        last = dt.datetime.combine(LAST_DAY, dt.time(21, 0))
        for source in ("yahoo", "yahoo_shares", "fred", "nyfed"):
            con.execute(
                "INSERT INTO fetch_log VALUES (?, ?, ?, true, NULL, 100, NULL)",
                [source, last - dt.timedelta(seconds=5), last],
            )
        con.execute("INSERT OR REPLACE INTO meta VALUES ('bench_key', ?)", [key])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, path)
    remove_store(tmp)
    note(f"built {path.name} in {time.perf_counter() - started:.1f} s "
         f"({daily_days} daily days, {intraday_days} intraday days x {len(symbols)} symbols)")
    return path


def primary_key(path: Path, table: str) -> list[str]:
    """The primary-key columns of a table in a store ([] when it has none)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'", [table]).fetchall()
    finally:
        con.close()
    return list(rows[0][0]) if rows else []


def intraday_days_for_rows(rows: int, symbols: int = len(SYMBOLS)) -> int:
    return max(1, min(HISTORY_DAYS, round(rows / (symbols * MINUTES_PER_DAY))))


def table_rows(path: Path, table: str) -> int:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()

"""Figure 3: import throughput on a 5 M-row CSV of 1-minute bars.

The CSV (Datetime,Close,Volume; `YYYY-MM-DD HH:MM:SS`, 390 bars a day) is generated with DuckDB
COPY. Timed: `bubble-monitor --db X import big.csv --symbol SYN` as a process into a fresh store,
and `import_csv` in-process into a fresh store and again over the same rows (every row replaced).
If the rate misses the target, import_csv runs once more on a 1 M-row file with every DuckDB
statement it executes timed (through a stand-in for the duckdb module), the rest being Python.

    python bench/import_rows.py [--rows 5000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, figure, median, note, primary_key, python_env, remove_store

TARGET = 1_000_000  # rows per second


def make_csv(rows: int) -> Path:
    import duckdb

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"import-{rows}.csv"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    con = duckdb.connect()
    try:
        con.execute(
            f"""
            COPY (
                SELECT strftime(TIMESTAMP '1990-01-01 14:30:00' + to_days(CAST(i // 390 AS INTEGER))
                                + to_minutes(CAST(i % 390 AS INTEGER)), '%Y-%m-%d %H:%M:%S')
                           AS Datetime,
                       round(50 * exp(i / 1e7 + 0.2 * sin(i / 50000.0))
                             + (hash(i) % 100) / 100.0, 2) AS Close,
                       100 + hash(i, 1) % 50000 AS Volume
                FROM range({rows}) r(i) ORDER BY i
            ) TO '{tmp}' (HEADER, DELIMITER ',')
            """
        )
    finally:
        con.close()
    tmp.rename(path)
    return path


def fresh(path: Path) -> Path:
    return remove_store(path)


def cli_import(csv: Path, db: Path) -> float:
    fresh(db)
    command = [sys.executable, "-c", "import sys, monitor; sys.exit(monitor.main())",
               "--db", str(db), "import", str(csv), "--symbol", "SYN"]
    start = time.perf_counter()
    done = subprocess.run(command, env=python_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"import failed: {done.stderr.strip()[-400:]}")
    return elapsed


def inprocess_import(csv: Path, db: Path, keep: bool = False) -> tuple[float, Any]:
    from bubble_core.store import Store
    from bubble_core.transfer import import_csv

    if not keep:
        fresh(db)
    store = Store(db)
    store.ensure_schema()
    start = time.perf_counter()
    result = import_csv(store, csv, symbol="SYN")
    return time.perf_counter() - start, result


class _TimedConnection:
    """A DuckDB connection that times each statement it runs (execute, and sql() relations
    when they are materialized); everything else passes through."""

    def __init__(self, con: Any, log: list[tuple[float, str]]) -> None:
        self._con = con
        self._log = log

    def execute(self, query: str, *args: Any, **kwargs: Any) -> _TimedConnection:
        start = time.perf_counter()
        self._con.execute(query, *args, **kwargs)
        self._log.append((time.perf_counter() - start, _label(query)))
        return self

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return _TimedRelation(self._con.sql(query, *args, **kwargs), self._log, _label(query))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


class _TimedRelation:
    def __init__(self, relation: Any, log: list[tuple[float, str]], label: str) -> None:
        self._relation = relation
        self._log = log
        self._label = label

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._relation, name)
        if not callable(attribute):
            return attribute

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            value = attribute(*args, **kwargs)
            self._log.append((time.perf_counter() - start, f"{self._label} .{name}()"))
            return value

        return timed_call


class _DuckdbShim:
    """Stands in for the `duckdb` module inside the product's modules: connect() is timed."""

    def __init__(self, real: Any, log: list[tuple[float, str]]) -> None:
        self._real = real
        self._log = log

    def connect(self, *args: Any, **kwargs: Any) -> _TimedConnection:
        start = time.perf_counter()
        con = self._real.connect(*args, **kwargs)
        self._log.append((time.perf_counter() - start, "duckdb.connect"))
        return _TimedConnection(con, self._log)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _label(query: str) -> str:
    return " ".join(query.split())[:90]


def profile_steps(csv: Path, db: Path) -> tuple[float, list[tuple[float, str]]]:
    """import_csv as it is, with every DuckDB statement it runs timed (whatever they are).
    Returns the total and the statements, slowest first; the rest of the total is Python."""
    import duckdb

    from bubble_core import store as store_module
    from bubble_core import transfer
    from bubble_core.store import Store

    fresh(db)
    store = Store(db)
    store.ensure_schema()
    log: list[tuple[float, str]] = []
    shim = _DuckdbShim(duckdb, log)
    # Only modules that import duckdb at module level can be watched this way.
    watched = [module for module in (transfer, store_module) if hasattr(module, "duckdb")]
    for module in watched:
        module.duckdb = shim  # type: ignore[attr-defined]
    try:
        start = time.perf_counter()
        transfer.import_csv(store, csv, symbol="SYN")
        total = time.perf_counter() - start
    finally:
        for module in watched:
            module.duckdb = duckdb  # type: ignore[attr-defined]
    merged: dict[str, float] = {}
    for seconds, label in log:
        merged[label] = merged.get(label, 0.0) + seconds
    return total, sorted(((seconds, label) for label, seconds in merged.items()), reverse=True)


def plain_insert(csv: Path, db: Path) -> tuple[float, list[str]]:
    """Reference: DuckDB reading the CSV straight into the same table with no checks; and the
    table's primary key, if it has one."""
    import duckdb

    from bubble_core.store import Store

    fresh(db)
    Store(db).ensure_schema()
    con = duckdb.connect(str(db))
    try:
        start = time.perf_counter()
        con.execute(
            f"INSERT INTO intraday_bars SELECT 'SYN', Datetime, Close, Volume, 'x' "
            f"FROM read_csv('{csv}', header = true)"
        )
        con.execute("CHECKPOINT")
        elapsed = time.perf_counter() - start
    finally:
        con.close()
    return elapsed, primary_key(db, "intraday_bars")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="always time each step")
    parser.add_argument("--profile-rows", type=int, default=1_000_000,
                        help="CSV size for the step profile")
    parser.add_argument("--slow-after", type=float, default=60.0,
                        help="skip the repeated runs when one import takes longer (seconds)")
    args = parser.parse_args()

    csv = make_csv(args.rows)
    db = BENCH_DIR / "import-target.duckdb"
    note(f"{csv.name}: {csv.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows")

    cli = median([cli_import(csv, db) for _ in range(args.runs)])
    rate = args.rows / cli
    slow = cli > args.slow_after
    detail = (f"`bubble-monitor import` of {args.rows / 1e6:g} M 1-minute rows as a process, "
              f"{cli:.2f} s")
    again = None
    if not slow:
        runs = [inprocess_import(csv, db) for _ in range(args.runs)]
        inproc = median([seconds for seconds, _ in runs])
        result = runs[-1][1]
        assert result.rows == args.rows, result
        again = median([inprocess_import(csv, db, keep=True)[0]
                        for _ in range(max(1, args.runs - 1))])
        detail += (f"; in-process import_csv {args.rows / inproc / 1e6:.2f} M rows/s "
                   f"({inproc:.2f} s, {result.daily_rolled_up:,} daily bars rolled up)")
    else:
        detail += f"; in-process and re-import runs skipped (over {args.slow_after:g} s)"
    fresh(db)
    figure("import_rows_per_s", f"{rate / 1e6:.3f} M rows/s", detail,
           f">={TARGET / 1e6:.0f} M rows/s", rate >= TARGET)
    if again is not None:
        figure("import_reimport_rows_per_s", f"{args.rows / again / 1e6:.2f} M rows/s",
               f"the same file again over a store holding it: every row replaced, {again:.2f} s")
    plain, key = plain_insert(csv, db)
    fresh(db)
    keyed = f"primary key ({', '.join(key)})" if key else "no primary key"
    figure("import_plain_duckdb_rows_per_s", f"{args.rows / plain / 1e6:.2f} M rows/s",
           f"reference: read_csv straight into intraday_bars ({keyed}), no checks, "
           f"{plain:.2f} s")
    if rate < TARGET or args.profile:
        small = make_csv(min(args.profile_rows, args.rows))
        total, steps = profile_steps(small, db)
        fresh(db)
        in_duckdb = sum(seconds for seconds, _ in steps)
        note(f"import_csv of {small.name}: {total:.2f} s, of which Python outside DuckDB "
             f"{total - in_duckdb:.2f} s ({(total - in_duckdb) / total:.0%}); slowest DuckDB "
             "statements: " + "; ".join(
                 f"[{seconds:.2f} s] {name}" for seconds, name in steps[:6]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

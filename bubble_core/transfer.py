"""`import` and `export`: history CSVs in, every table out. DuckDB does the row work.

An import is validated in full before anything is written, then written in one transaction, so
a bad file leaves the store exactly as it was. Errors name the file and the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from bubble_core.errors import InputError
from bubble_core.store import DATA_TABLES, Store, log_fetch, utcnow

DATE_COLUMNS = ("Date", "date", "observation_date", "Datetime", "datetime", "timestamp")
VALUE_COLUMNS = ("Close", "Adj Close", "close", "value")
MISSING = ("", ".", "null", "NULL", "NaN", "nan", "NA", "N/A")
SYMBOL_PATTERN = re.compile(r"^[A-Za-z0-9^.=\-_]{1,32}$")
EXPORT_FORMATS = ("csv", "json", "parquet")


@dataclass(frozen=True)
class ImportResult:
    table: str
    rows: int
    first: dt.date | None
    last: dt.date | None
    daily_rolled_up: int = 0


DELIMITERS = (",", ";", "\t", "|")


def _record_lines(path: Path) -> list[int]:
    """The file line of each data record, after checking each has as many fields as the header.

    DuckDB's sniffer reads a file with one ragged line as a single column (so the error would be a
    misleading "no date column" at line 1), and skips blank lines when rows are numbered; this pass
    gives both errors their real line.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text") from None
    header_line = next(
        (line for line in text.splitlines() if line.strip() and not line.startswith("#")), None
    )
    if header_line is None:
        raise InputError(str(path), "empty file (no header line)")
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    width: int | None = None
    lines: list[int] = []
    for record in reader:
        if not record or record[0].startswith("#"):
            continue  # blank lines and comments, which DuckDB skips too
        if width is None:
            width = len(record)
            continue
        if len(record) != width:
            raise InputError(
                f"{path}:{reader.line_num}",
                f"expected {width} fields like the header, found {len(record)}",
            )
        lines.append(reader.line_num)
    return lines


# Up to this size the exact line map costs well under a second; past it, it is only built when
# the file has blank or comment lines (otherwise line = row + 2, the header being line 1).
EXACT_LINES_MAX_BYTES = 16 * 1024 * 1024


def _needs_line_map(path: Path) -> bool:
    if path.stat().st_size <= EXACT_LINES_MAX_BYTES:
        return True
    with path.open("rb") as handle:
        data = handle.read()
    return b"\n\n" in data or b"\n\r\n" in data or b"\n#" in data or data.startswith(b"#")


def _csv_relation(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Load the file as text columns into `raw` and its line numbers into `raw_lines` (a map
    from row to file line, or none when rows are consecutive lines); return the header."""
    record_lines = _record_lines(path) if _needs_line_map(path) else None
    try:
        # rowid follows the file's order (insertion order is preserved), so no window function
        # is needed to number the rows: that one costs more than reading the file.
        con.execute(
            """
            CREATE TEMP TABLE raw AS
            SELECT *
            FROM read_csv($path, header = true, all_varchar = true, auto_detect = true,
                          null_padding = false, strict_mode = true)
            """,
            {"path": str(path)},
        )
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        line = re.search(r"[Ll]ine:?\s*(\d+)", str(exc))
        where = f"{path}:{line.group(1)}" if line else str(path)
        raise InputError(where, f"not a readable CSV ({first[:160]})") from None
    count = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    con.execute("CREATE TEMP TABLE raw_lines (line BIGINT)")
    if record_lines is not None and count == len(record_lines) and count:
        con.execute("INSERT INTO raw_lines SELECT unnest($lines::BIGINT[])",
                    {"lines": record_lines})
    return [row[0] for row in con.execute("DESCRIBE raw").fetchall()]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def import_csv(
    store: Store, path: Path, *, symbol: str | None = None, series: str | None = None
) -> ImportResult:
    """Import one history file for one symbol (prices) or one macro series."""
    if (symbol is None) == (series is None):
        raise InputError("import", "give exactly one of --symbol or --series")
    name = symbol if symbol is not None else series
    assert name is not None
    if not SYMBOL_PATTERN.match(name):
        raise InputError("import", f"bad {'symbol' if symbol else 'series id'} {name!r}")
    if not path.is_file():
        raise InputError(str(path), "no such file")

    # Validation runs in a private in-memory database: nothing touches the store until the
    # whole file has been checked.
    scratch = duckdb.connect(":memory:")
    # Timestamps with a UTC offset (a yfinance intraday export: "09:30:00-04:00") become UTC;
    # naive ones are taken as UTC already.
    scratch.execute("SET TimeZone = 'UTC'")
    try:
        columns = _csv_relation(scratch, path)
        date_column = next((c for c in DATE_COLUMNS if c in columns), None)
        if date_column is None:
            raise InputError(
                f"{path}:1", f"no date column (expected one of {', '.join(DATE_COLUMNS[:3])})"
            )
        candidates = (*VALUE_COLUMNS, name) if series else VALUE_COLUMNS
        value_column = next((c for c in candidates if c in columns), None)
        if value_column is None:
            raise InputError(
                f"{path}:1",
                f"no value column (expected one of {', '.join(candidates)})",
            )
        has_shares = "shares" in columns
        has_cap = "market_cap" in columns
        if series and (has_shares or has_cap):
            raise InputError(f"{path}:1", "shares/market_cap columns need --symbol, not --series")
        _typed_view(scratch, date_column, value_column, has_shares, has_cap)
        _validate(scratch, path, symbol is not None, has_shares, has_cap)
        intraday = bool(
            scratch.execute("SELECT bool_or(ts <> CAST(ts AS DATE)) FROM typed").fetchall()[0][0]
        )
        count, first, last = scratch.execute(
            "SELECT count(*), min(CAST(ts AS DATE)), max(CAST(ts AS DATE)) FROM typed "
            "WHERE value IS NOT NULL"
        ).fetchall()[0]
        if count == 0:
            raise InputError(str(path), "no observations (every value is missing)")
        arrow = scratch.sql("SELECT * FROM typed WHERE value IS NOT NULL").to_arrow_table()
        extras = (
            scratch.sql(
                "SELECT CAST(ts AS DATE) AS date, last(shares ORDER BY ts) AS shares, "
                "last(market_cap ORDER BY ts) AS market_cap FROM typed GROUP BY 1"
            ).to_arrow_table()
            if (has_shares or has_cap)
            else None
        )
    finally:
        scratch.close()

    provenance = f"import:{path.name}"
    started = utcnow()
    rolled = 0
    with store.writer() as con:
        con.register("incoming", arrow)
        if series is not None:
            con.execute(
                "INSERT OR REPLACE INTO macro_observations "
                "SELECT $series, CAST(ts AS DATE), value, $src FROM incoming",
                {"series": series, "src": provenance},
            )
            table = "macro_observations"
        elif intraday:
            # Minute bars have no primary key (it would be 87 % of their size, and make the
            # import 7x slower): the file replaces what the store held over its time span.
            con.execute(
                "DELETE FROM intraday_bars WHERE symbol = $symbol "
                "AND ts BETWEEN (SELECT min(ts_utc) FROM incoming) "
                "AND (SELECT max(ts_utc) FROM incoming)",
                {"symbol": symbol},
            )
            con.execute(
                "INSERT INTO intraday_bars "
                "SELECT $symbol, ts_utc, value, volume, $src FROM incoming ORDER BY ts_utc",
                {"symbol": symbol, "src": provenance},
            )
            # The daily history the drawdowns read: one bar per day from the minute bars, by
            # the date as written (the exchange's own day when times carry an offset).
            rolled = con.execute(
                """
                INSERT OR REPLACE INTO daily_bars
                SELECT $symbol, CAST(ts AS DATE), arg_min(value, ts), max(value), min(value),
                       arg_max(value, ts), NULL, sum(volume), $src
                FROM incoming GROUP BY CAST(ts AS DATE)
                """,
                {"symbol": symbol, "src": provenance},
            ).fetchall()[0][0]
            table = "intraday_bars"
        else:
            con.execute(
                "INSERT OR REPLACE INTO daily_bars "
                "SELECT $symbol, CAST(ts AS DATE), open, high, low, value, adj_close, volume, $src "
                "FROM incoming",
                {"symbol": symbol, "src": provenance},
            )
            table = "daily_bars"
        con.unregister("incoming")
        if extras is not None:
            con.register("extras", extras)
            if has_shares:
                con.execute(
                    "INSERT OR REPLACE INTO shares_outstanding SELECT $symbol, date, shares, $src "
                    "FROM extras WHERE shares IS NOT NULL",
                    {"symbol": symbol, "src": provenance},
                )
            if has_cap:
                con.execute(
                    "INSERT OR REPLACE INTO market_caps SELECT $symbol, date, market_cap, $src "
                    "FROM extras WHERE market_cap IS NOT NULL",
                    {"symbol": symbol, "src": provenance},
                )
            con.unregister("extras")
        log_fetch(con, "import", started, utcnow(), ok=True, rows=int(count), error=None)
    return ImportResult(table, int(count), first, last, int(rolled or 0))


def _typed_view(
    con: duckdb.DuckDBPyConnection,
    date_column: str,
    value_column: str,
    has_shares: bool,
    has_cap: bool,
) -> None:
    columns = [row[0] for row in con.execute("DESCRIBE raw").fetchall()]
    mapped = con.execute("SELECT count(*) FROM raw_lines").fetchall()[0][0] > 0
    # raw_lines' rowid k holds the file line of raw's row k.
    line = "l.line" if mapped else "raw.rowid + 2"
    source = "raw POSITIONAL JOIN raw_lines l" if mapped else "raw"

    def number(column: str | None) -> str:
        if column is None or column not in columns:
            return "CAST(NULL AS DOUBLE)"
        quoted = _quote(column)
        return (
            f"CASE WHEN trim(coalesce({quoted}, '')) IN {MISSING!r} THEN NULL "
            f"ELSE TRY_CAST(trim({quoted}) AS DOUBLE) END"
        )

    def bad_number(column: str) -> str:
        quoted = _quote(column)
        return (
            f"(trim(coalesce({quoted}, '')) NOT IN {MISSING!r} "
            f"AND (TRY_CAST(trim({quoted}) AS DOUBLE) IS NULL "
            f"OR NOT isfinite(TRY_CAST(trim({quoted}) AS DOUBLE))))"
        )

    date = _quote(date_column)
    parsed_date = (
        f"coalesce(TRY_CAST(trim({date}) AS TIMESTAMP), "
        f"try_strptime(trim({date}), '%m/%d/%Y'), try_strptime(trim({date}), '%d.%m.%Y'))"
    )
    checks = [bad_number(value_column)]
    if has_shares:
        checks.append(bad_number("shares"))
    if has_cap:
        checks.append(bad_number("market_cap"))
    con.execute(
        f"""
        CREATE TEMP TABLE typed AS
        SELECT {line} AS line,
               {date} AS raw_date,
               {parsed_date} AS ts,
               coalesce(TRY_CAST(trim({date}) AS TIMESTAMPTZ) AT TIME ZONE 'UTC',
                        {parsed_date}) AS ts_utc,
               {number(value_column)} AS value,
               {number("Open" if "Open" in columns else "open")} AS open,
               {number("High" if "High" in columns else "high")} AS high,
               {number("Low" if "Low" in columns else "low")} AS low,
               {number("Adj Close" if value_column != "Adj Close" else None)} AS adj_close,
               {number("Volume" if "Volume" in columns else "volume")} AS volume,
               {number("shares" if has_shares else None)} AS shares,
               {number("market_cap" if has_cap else None)} AS market_cap,
               {" OR ".join(checks)} AS bad_value,
               {_quote(value_column)} AS raw_value
        FROM {source}
        """
    )


def _validate(
    con: duckdb.DuckDBPyConnection, path: Path, prices: bool, has_shares: bool, has_cap: bool
) -> None:
    problems = [
        ("ts IS NULL", "bad date {raw_date!r} (use YYYY-MM-DD)"),
        ("bad_value", "bad value {raw_value!r}"),
    ]
    if prices:
        problems.append(("value <= 0", "price must be positive, got {raw_value!r}"))
    if has_shares:
        problems.append(("shares <= 0", "shares must be positive"))
    if has_cap:
        problems.append(("market_cap <= 0", "market_cap must be positive"))
    for condition, message in problems:
        row = con.execute(
            f"SELECT line, raw_date, raw_value FROM typed WHERE {condition} ORDER BY line LIMIT 1"
        ).fetchall()
        row = row[0] if row else None
        if row:
            line, raw_date, raw_value = row
            raise InputError(
                f"{path}:{line}", message.format(raw_date=raw_date, raw_value=raw_value)
            )
    duplicate = con.execute(
        "SELECT max(line), ts FROM typed GROUP BY ts HAVING count(*) > 1 ORDER BY 1 LIMIT 1"
    ).fetchall()
    if duplicate:
        line, ts = duplicate[0]
        when = ts.date() if ts == dt.datetime.combine(ts.date(), dt.time()) else ts
        raise InputError(f"{path}:{line}", f"duplicate date {when}")


def export_all(store: Store, out_dir: Path, fmt: str = "csv") -> list[Path]:
    """One file per table, written to a scratch folder first and moved into place at the end."""
    if fmt not in EXPORT_FORMATS:
        raise InputError("export --format", f"must be one of {', '.join(EXPORT_FORMATS)}")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("export --out", f"{out_dir} exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=out_dir))
    written: list[Path] = []
    options = {
        "csv": "(FORMAT csv, HEADER true)",
        "json": "(FORMAT json, ARRAY true)",
        "parquet": "(FORMAT parquet)",
    }[fmt]
    try:
        with store.reader() as con:
            for table in DATA_TABLES:
                target = scratch / f"{table}.{fmt}"
                keys = [
                    row[0]
                    for row in con.execute(
                        "SELECT unnest(constraint_column_names) FROM duckdb_constraints() "
                        "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
                        [table],
                    ).fetchall()
                ]
                order = f" ORDER BY {', '.join(_quote(k) for k in keys)}" if keys else ""
                # Table names come from DATA_TABLES and the target path is a literal we quote.
                literal = str(target).replace("'", "''")
                con.execute(f"COPY (SELECT * FROM {table}{order}) TO '{literal}' {options}")
        for produced in sorted(scratch.iterdir()):
            final = out_dir / produced.name
            os.replace(produced, final)
            written.append(final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written

"""`import` and `export` through the CLI: exact rows in and out, and bad files change nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, table_dump

from bubble_core.errors import InputError
from bubble_core.store import DATA_TABLES, Store
from bubble_core.transfer import export_all, import_csv

CSV = FIXTURES / "csv"
NVDA_ROWS = [
    ("2025-10-27", 191.49), ("2025-10-28", 201.03), ("2025-10-29", 207.04),
    ("2025-10-30", 202.89), ("2025-10-31", 202.49),
]


def _export_csv(cli, out: Path) -> dict[str, list[dict[str, str]]]:
    code, stdout, _ = cli("export", "--out", out)
    assert code == 0
    assert sorted(Path(line).name for line in stdout.splitlines()) == sorted(
        f"{t}.csv" for t in DATA_TABLES
    )
    tables = {}
    for table in DATA_TABLES:
        with (out / f"{table}.csv").open(newline="") as handle:
            tables[table] = list(csv.DictReader(handle))
    return tables


# -- import then export ---------------------------------------------------------------------------


def test_import_then_export_holds_exactly_the_imported_rows(cli, tmp_path: Path) -> None:
    code, out, err = cli("import", CSV / "nvda_daily.csv", "--symbol", "NVDA")
    assert code == 0, err
    assert out.strip() == "imported 5 rows of NVDA into daily_bars (2025-10-27 .. 2025-10-31)"
    first = _export_csv(cli, tmp_path / "one")
    bars = [(r["date"], float(r["close"])) for r in first["daily_bars"]]
    assert bars == NVDA_ROWS
    row = first["daily_bars"][1]
    assert (row["symbol"], row["open"], row["high"], row["low"]) == ("NVDA", "193.0", "203.0",
                                                                      "192.0")
    assert (float(row["adj_close"]), float(row["volume"])) == (200.99, 300_000_000.0)
    assert row["source"] == "import:nvda_daily.csv"
    assert [(r["source"], r["ok"], r["rows"]) for r in first["fetch_log"]] == [
        ("import", "true", "5")]

    # The same file again: the same bars, not twice as many.
    assert cli("import", CSV / "nvda_daily.csv", "--symbol", "NVDA")[0] == 0
    second = _export_csv(cli, tmp_path / "two")
    assert second["daily_bars"] == first["daily_bars"]
    assert len(second["fetch_log"]) == 2
    assert all(second[t] == [] for t in DATA_TABLES if t not in ("daily_bars", "fetch_log"))


def test_json_and_parquet_exports_are_readable(cli, tmp_path: Path) -> None:
    assert cli("import", CSV / "nvda_daily.csv", "--symbol", "NVDA")[0] == 0
    assert cli("import", CSV / "fred_dgs10.csv", "--series", "DGS10")[0] == 0
    assert cli("export", "--format", "json", "--out", tmp_path / "j")[0] == 0
    bars = json.loads((tmp_path / "j" / "daily_bars.json").read_text())
    assert [(b["date"], b["close"]) for b in bars] == NVDA_ROWS
    macro = json.loads((tmp_path / "j" / "macro_observations.json").read_text())
    assert [(m["series_id"], m["date"], m["value"]) for m in macro] == [
        ("DGS10", "2025-10-27", 4.0), ("DGS10", "2025-10-29", 4.08), ("DGS10", "2025-10-31", 4.11)]
    assert json.loads((tmp_path / "j" / "silences.json").read_text() or "[]") == []

    code, out, _ = cli("export", "--format", "parquet", "--out", tmp_path / "p")
    assert code == 0 and len(out.splitlines()) == len(DATA_TABLES)
    con = duckdb.connect()
    rows = con.execute(
        "SELECT date, close FROM read_parquet(?) ORDER BY date",
        [str(tmp_path / "p" / "daily_bars.parquet")],
    ).fetchall()
    assert [(d.isoformat(), c) for d, c in rows] == NVDA_ROWS
    assert con.execute(
        "SELECT count(*) FROM read_parquet(?)", [str(tmp_path / "p" / "fetch_log.parquet")]
    ).fetchall() == [(2,)]
    con.close()
    assert not [p for p in (tmp_path / "p").iterdir() if p.name.startswith(".export-")]


def test_export_of_a_missing_store_is_one_line(cli, store: Store, tmp_path: Path) -> None:
    code, out, err = cli("export", "--out", tmp_path / "x")
    assert code == 2
    assert err.splitlines() == [f"bubble-monitor: {store.path}: no store here yet (run `collect` "
                                "or `import`)"]
    assert not store.path.exists()


def test_export_refuses_an_unknown_format(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="must be one of csv, json, parquet"):
        export_all(store, tmp_path / "out", "xlsx")


# -- missing values, intraday, FRED --------------------------------------------------------------


def test_dot_and_empty_are_missing_not_zero(cli, store: Store) -> None:
    code, out, _ = cli("import", CSV / "missing_values.csv", "--symbol", "AMD")
    assert code == 0
    assert "imported 2 rows" in out
    assert store.query("SELECT date, close FROM daily_bars ORDER BY date") == [
        (dt.date(2025, 10, 27), 100.0), (dt.date(2025, 10, 31), 104.5)]


def test_fred_style_header_with_series(cli, store: Store) -> None:
    code, out, _ = cli("import", CSV / "fred_dgs10.csv", "--series", "DGS10")
    assert code == 0
    assert out.strip() == (
        "imported 3 rows of DGS10 into macro_observations (2025-10-27 .. 2025-10-31)")
    assert store.query("SELECT series_id, date, value, source FROM macro_observations "
                       "ORDER BY date") == [
        ("DGS10", dt.date(2025, 10, 27), 4.0, "import:fred_dgs10.csv"),
        ("DGS10", dt.date(2025, 10, 29), 4.08, "import:fred_dgs10.csv"),
        ("DGS10", dt.date(2025, 10, 31), 4.11, "import:fred_dgs10.csv"),
    ]
    assert store.query("SELECT count(*) FROM daily_bars") == [(0,)]


def test_a_series_may_be_zero_or_negative(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "spread.csv"
    path.write_text("observation_date,T10Y2Y\n2023-07-03,-1.06\n2024-09-04,0\n")
    result = import_csv(store, path, series="T10Y2Y")
    assert result.rows == 2
    assert store.query("SELECT value FROM macro_observations ORDER BY date") == [(-1.06,), (0.0,)]


def test_intraday_rows_go_to_intraday_bars_and_roll_up(cli, store: Store) -> None:
    code, out, _ = cli("import", CSV / "intraday_nvda.csv", "--symbol", "NVDA")
    assert code == 0
    assert "into intraday_bars" in out and "2 daily bars rolled up" in out
    assert store.query("SELECT ts, close, volume FROM intraday_bars ORDER BY ts") == [
        (dt.datetime(2025, 10, 30, 13, 30), 200.0, 1000.0),
        (dt.datetime(2025, 10, 30, 16, 0), 205.5, 2000.0),
        (dt.datetime(2025, 10, 30, 19, 59), 203.0, 1500.0),
        (dt.datetime(2025, 10, 31, 13, 30), 204.0, 500.0),
        (dt.datetime(2025, 10, 31, 15, 0), 201.5, 700.0),
    ]
    assert store.query(
        "SELECT date, open, high, low, close, volume FROM daily_bars ORDER BY date") == [
        (dt.date(2025, 10, 30), 200.0, 205.5, 200.0, 203.0, 4500.0),
        (dt.date(2025, 10, 31), 204.0, 204.0, 201.5, 201.5, 1200.0),
    ]


def test_shares_and_market_cap_columns(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "nvda_caps.csv"
    path.write_text("Date,Close,shares,market_cap\n2025-10-30,202.89,24.3e9,\n"
                    "2025-10-31,202.49,.,4.92e12\n")
    import_csv(store, path, symbol="NVDA")
    assert store.query("SELECT date, shares FROM shares_outstanding") == [
        (dt.date(2025, 10, 30), 24.3e9)]
    assert store.query("SELECT date, market_cap FROM market_caps") == [
        (dt.date(2025, 10, 31), 4.92e12)]


# -- bad files ------------------------------------------------------------------------------------

BAD = CSV / "bad"


@pytest.mark.parametrize(
    ("name", "place", "fragment"),
    [
        ("bad_date.csv", "bad_date.csv:4", "bad date '2025-1O-29'"),
        ("bad_number.csv", "bad_number.csv:3", "bad value '1O1'"),
        ("ragged.csv", "ragged.csv:4", "expected 2 fields"),
        ("duplicate_date.csv", "duplicate_date.csv:4", "duplicate date 2025-10-27"),
        ("no_date_column.csv", "no_date_column.csv:1", "no date column"),
        ("zero_price.csv", "zero_price.csv:3", "price must be positive"),
        ("empty.csv", "empty.csv", "empty file"),
        ("blank_line_then_bad_value.csv", "blank_line_then_bad_value.csv:4", "bad value 'abc'"),
    ],
)
def test_a_malformed_csv_is_one_line_exit_2_and_changes_nothing(
    cli, store: Store, tmp_path: Path, name: str, place: str, fragment: str
) -> None:
    assert cli("import", CSV / "nvda_daily.csv", "--symbol", "BAD")[0] == 0
    before = table_dump(store)
    copy = tmp_path / name
    shutil.copy(BAD / name, copy)
    code, out, err = cli("import", copy, "--symbol", "BAD")
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"bubble-monitor: {tmp_path / place}: ")
    assert fragment in lines[0]
    assert table_dump(store) == before


def test_a_bad_file_does_not_even_create_the_store(cli, store: Store) -> None:
    code, _, err = cli("import", BAD / "zero_price.csv", "--symbol", "NVDA")
    assert code == 2 and "zero_price.csv:3" in err
    assert not store.path.exists()


def test_all_missing_values_is_an_error(cli, store: Store, tmp_path: Path) -> None:
    path = tmp_path / "dots.csv"
    path.write_text("Date,Close\n2025-10-27,.\n2025-10-28,\n")
    code, _, err = cli("import", path, "--symbol", "NVDA")
    assert code == 2
    assert err.splitlines() == [f"bubble-monitor: {path}: no observations (every value is missing)"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--symbol", "NVDA", "--series", "DGS10"], "not allowed with argument"),
        ([], "one of the arguments --symbol --series is required"),
    ],
)
def test_symbol_xor_series(cli, store: Store, args: list[str], fragment: str) -> None:
    code, _, err = cli("import", CSV / "nvda_daily.csv", *args)
    assert code == 2
    assert len(err.splitlines()) == 1 and fragment in err
    assert not store.path.exists()


def test_import_csv_checks_its_arguments(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="exactly one of --symbol or --series"):
        import_csv(store, CSV / "nvda_daily.csv", symbol="NVDA", series="DGS10")
    with pytest.raises(InputError, match="bad symbol"):
        import_csv(store, CSV / "nvda_daily.csv", symbol="NV DA; DROP TABLE")
    with pytest.raises(InputError, match="no such file"):
        import_csv(store, tmp_path / "absent.csv", symbol="NVDA")
    with pytest.raises(InputError, match="need --symbol"):
        path = tmp_path / "s.csv"
        path.write_text("Date,Close,shares\n2025-10-27,1,2\n")
        import_csv(store, path, series="X")
    assert not store.path.exists()


def test_intraday_times_with_an_offset_are_stored_in_utc(store: Store, tmp_path: Path) -> None:
    # A yfinance intraday export: New York times with their offset (EDT, then EST after 2 Nov).
    path = tmp_path / "nvda_1m.csv"
    path.write_text(
        "Datetime,Close,Volume\n"
        "2025-10-31 09:30:00-04:00,204.0,10\n"
        "2025-10-31 15:59:00-04:00,202.5,20\n"
        "2025-11-03 09:30:00-05:00,206.0,30\n"
    )
    result = import_csv(store, path, symbol="NVDA")
    assert (result.table, result.rows, result.daily_rolled_up) == ("intraday_bars", 3, 2)
    assert store.query("SELECT ts, close FROM intraday_bars ORDER BY ts") == [
        (dt.datetime(2025, 10, 31, 13, 30), 204.0),
        (dt.datetime(2025, 10, 31, 19, 59), 202.5),
        (dt.datetime(2025, 11, 3, 14, 30), 206.0),
    ]
    assert store.query("SELECT date, open, close FROM daily_bars ORDER BY date") == [
        (dt.date(2025, 10, 31), 204.0, 202.5), (dt.date(2025, 11, 3), 206.0, 206.0)]


def test_daily_dates_with_a_midnight_offset_stay_daily(store: Store, tmp_path: Path) -> None:
    # A yfinance daily export of a tz-aware index: midnight New York time.
    path = tmp_path / "nvda_1d.csv"
    path.write_text("Date,Close\n2025-10-30 00:00:00-04:00,202.89\n"
                    "2025-10-31 00:00:00-04:00,202.49\n")
    result = import_csv(store, path, symbol="NVDA")
    assert result.table == "daily_bars"
    assert store.query("SELECT date, close FROM daily_bars ORDER BY date") == [
        (dt.date(2025, 10, 30), 202.89), (dt.date(2025, 10, 31), 202.49)]
    assert store.query("SELECT count(*) FROM intraday_bars") == [(0,)]

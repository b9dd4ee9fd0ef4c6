"""The headless CLI: `status` (JSON, --as-of, --check) and one-line usage errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from conftest import T0

from bubble_core.migrations import SCHEMA_VERSION
from bubble_core.models import DailyBar, MacroObservation, SharesObservation, SourceBatch
from bubble_core.store import Store, utcnow

AS_OF = dt.date(2025, 10, 31)
NO_SOURCES = "[sources]\nyahoo = false\nfred = false\nnyfed = false\n"
MAG7 = {"AAPL": 4000, "MSFT": 3800, "GOOGL": 3400, "AMZN": 2600, "NVDA": 5000, "META": 1900,
        "TSLA": 1300}


@pytest.fixture
def engine() -> None:
    """`status` reads alert states through bubble_core.alerts (built by another engineer)."""
    pytest.importorskip("bubble_core.alerts.engine")


def _world(store: Store, *, with_dff: bool = True, logged_at: dt.datetime = T0) -> None:
    batch = SourceBatch(
        daily_bars=[DailyBar(s, AS_OF, 200.0 if s == "NVDA" else 100.0) for s in MAG7]
        + [DailyBar("^NDX", dt.date(2025, 10, 29), 26_000.0),
           DailyBar("^NDX", dt.date(2025, 10, 30), 25_000.0),
           DailyBar("^NDX", AS_OF, 25_500.0)],
        shares=[
            SharesObservation(s, dt.date(2025, 9, 30), cap * 1e9 / (200 if s == "NVDA" else 100))
            for s, cap in MAG7.items()
        ],
        macro=[MacroObservation("GDP", dt.date(2025, 4, 1), 29_500.0),
               MacroObservation("GDP", dt.date(2025, 7, 1), 29_839.0),
               MacroObservation("DFEDTARU", dt.date(2025, 10, 28), 4.25),
               MacroObservation("DFEDTARU", dt.date(2025, 10, 29), 4.00),
               MacroObservation("DFEDTARL", dt.date(2025, 10, 28), 4.00),
               MacroObservation("DFEDTARL", dt.date(2025, 10, 29), 3.75)]
        + ([MacroObservation("DFF", dt.date(2025, 10, 30), 3.87)] if with_dff else []),
    )
    store.write_batch("yahoo", batch, logged_at, logged_at)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


# -- status --json -------------------------------------------------------------------------------


def test_status_json_is_one_document(cli, store: Store, engine: None) -> None:
    _world(store)
    code, out, err = cli("status", "--json", "--as-of", "2025-10-31")
    assert (code, err) == (0, "")
    document = json.loads(out)  # the whole of stdout is one JSON document
    assert {"as_of", "indicators", "drawdowns", "alerts", "sources"} <= set(document)
    assert document["as_of"] == "2025-10-31"
    nvda = document["indicators"]["nvda_cap_to_gdp"]
    assert nvda["value"] == round(5_000 / 29_839, 6)
    assert (nvda["as_of"], nvda["reference"], nvda["source"]) == ("2025-10-31", 0.168, "A1")
    assert document["indicators"]["mag7_market_cap"]["value"] == pytest.approx(22_000e9)
    assert document["indicators"]["gdp"]["value"] == 29_839.0
    assert document["indicators"]["fed_funds_effective"]["value"] == 0.0387
    ndx = document["drawdowns"]["^NDX"]
    assert (ndx["last"], ndx["peak"], ndx["peak_date"]) == (25_500.0, 26_000.0, "2025-10-29")
    assert ndx["drawdown"] == round(25_500 / 26_000 - 1, 6)
    assert ndx["max_drawdown_trough_date"] == "2025-10-30"
    assert ndx["recovery_date"] is None
    assert document["events"] == [
        {"date": "2025-10-29", "lower": 3.75, "upper": 4.0, "change": -0.25}]
    assert document["alerts"] == []  # nothing evaluated yet: nothing firing or pending
    assert set(document["sources"]) == {"yahoo", "yahoo_shares", "fred", "nyfed"}
    assert document["sources"]["fred"]["last_success"] is None
    assert document["sources"]["fred"]["stale"] is True
    assert document["sources"]["yahoo"]["last_success"] == T0.isoformat() + "Z"


def test_status_as_of_reads_only_data_up_to_that_date(cli, store: Store, engine: None) -> None:
    _world(store)
    code, out, _ = cli("status", "--json", "--as-of", "2025-06-30")
    assert code == 0
    document = json.loads(out)
    assert document["as_of"] == "2025-06-30"
    assert document["indicators"]["gdp"]["value"] == 29_500.0
    assert document["indicators"]["nvda_cap_to_gdp"]["value"] is None  # no price yet
    assert document["drawdowns"] == {}
    assert document["events"] == []
    later = json.loads(cli("status", "--json", "--as-of", "2025-11-07")[1])
    assert later["events"] == []  # the 29 Oct cut is 9 days old: no longer an event
    assert later["indicators"]["fed_last_change"]["value"] == -0.0025
    assert later["indicators"]["fed_last_change"]["date"] == "2025-10-29"


def test_status_text(cli, store: Store, engine: None) -> None:
    _world(store)
    code, out, _ = cli("status", "--as-of", "2025-10-31")
    assert code == 0
    assert out.startswith("bubble-monitor status as of 2025-10-31\n")
    line = next(line for line in out.splitlines() if line.startswith("nvda_cap_to_gdp"))
    assert "16.76 %" in line and "16.80 %" in line  # the value and the article's reference
    assert "none firing or pending" in out


# -- status --check -------------------------------------------------------------------------------


def test_check_is_0_with_fresh_complete_data(cli, store: Store, tmp_path: Path,
                                            engine: None) -> None:
    _world(store, logged_at=utcnow())
    config = _config(tmp_path, NO_SOURCES)
    code, out, _ = cli("--config", config, "status", "--check", "--as-of", "2025-10-31")
    assert code == 0, out
    # Without --check the exit status is 0 whatever the data says.
    assert cli("status", "--as-of", "2025-10-31")[0] == 0


def test_check_is_3_when_a_key_figure_is_missing(cli, store: Store, tmp_path: Path,
                                                 engine: None) -> None:
    _world(store, with_dff=False, logged_at=utcnow())
    config = _config(tmp_path, NO_SOURCES)
    assert cli("--config", config, "status", "--check", "--as-of", "2025-10-31")[0] == 3


def test_check_is_3_when_a_source_is_stale(cli, store: Store, tmp_path: Path,
                                           engine: None) -> None:
    _world(store, logged_at=utcnow() - dt.timedelta(days=2))  # cadence 30 min: long stale
    config = _config(tmp_path, NO_SOURCES)
    assert cli("--config", config, "status", "--check", "--as-of", "2025-10-31")[0] == 3
    # With the default config every source is expected, and fred/nyfed never succeeded.
    store.write_batch("yahoo", SourceBatch(), utcnow(), utcnow())
    assert cli("status", "--check", "--as-of", "2025-10-31")[0] == 3
    assert cli("--config", config, "status", "--check", "--as-of", "2025-10-31")[0] == 0


@pytest.mark.parametrize(
    ("states", "code"),
    [
        ([("NvdaAboveDotcomSector", "firing")], 1),
        ([("NvdaAboveDotcomSector", "recovering")], 1),
        ([("NvdaAboveDotcomSector", "pending")], 0),
        ([("NvdaAboveDotcomSector", "firing"), ("HighYieldAtXaiRecord", "firing")], 2),
    ],
)
def test_check_follows_firing_alerts(cli, store: Store, tmp_path: Path, engine: None,
                                     states: list[tuple[str, str]], code: int) -> None:
    _world(store, logged_at=utcnow())
    with store.writer() as con:
        for rule, state in states:
            con.execute(
                "INSERT INTO alert_state VALUES (?, ?, ?, ?, NULL, 0.17, ?, NULL, 'test')",
                [rule, state, T0, T0, T0],
            )
    config = _config(tmp_path, NO_SOURCES)
    status, out, _ = cli("--config", config, "status", "--check", "--json",
                         "--as-of", "2025-10-31")
    assert status == code
    assert sorted((a["rule"], a["state"]) for a in json.loads(out)["alerts"]) == sorted(states)


# -- errors -------------------------------------------------------------------------------------


def test_status_without_a_store_is_one_line(cli, store: Store, engine: None) -> None:
    code, out, err = cli("status")
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and "no store here yet" in err
    assert not store.path.exists()


def test_a_store_from_a_newer_version_is_one_line(cli, store: Store, engine: None) -> None:
    store.ensure_schema()
    con = duckdb.connect(str(store.path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    for args in (["status"], ["export", "--out", str(store.path.parent / "x")]):
        code, _, err = cli(*args)
        assert code == 1
        assert len(err.splitlines()) == 1 and "newer than this bubble-monitor" in err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["status", "--as-of", "2025-13-01"], "bad date '2025-13-01'"),
        (["status", "--as-of", "yesterday"], "bad date 'yesterday'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["status", "--bogus"], "unrecognized arguments: --bogus"),
        (["export", "--format", "xlsx"], "invalid choice: 'xlsx'"),
        (["silence", "X", "--for", "soon"], "bad duration 'soon'"),
        (["--speed", "0", "status"], "speed must be in"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(cli, store: Store, args: list[str],
                                           fragment: str) -> None:
    code, out, err = cli(*args)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bubble-monitor")
    assert fragment in lines[0]
    assert not store.path.exists()


def test_fed_last_change_value_and_reference_share_a_scale(cli, store: Store,
                                                            engine: None) -> None:
    _world(store)
    out = cli("status", "--as-of", "2025-10-31")[1]
    line = next(line for line in out.splitlines() if line.startswith("fed_last_change"))
    assert line.split()[1:5] == ["-0.25", "pt", "-0.25", "pt"]

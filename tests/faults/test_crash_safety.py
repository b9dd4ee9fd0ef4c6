"""Promise 2, crash safety: `kill -9` of a collecting writer and of an import, many times over.

Each round starts a collector stand-in (writer.py: the real Collector and Store, one
transaction per poll, recognisable polls) and a real `bubble-monitor import` of a big CSV on
the same store, and kills both with SIGKILL at random moments: before, during or after their
writes. After every round the store must open (read-only first, as a viewer after a crash
would, then read-write) and hold every poll the writer reported as committed, no partial poll,
no partial import, no duplicate key.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bubble_core.store import Store

from .helpers import ROOT, cli_env, duplicate_keys, has_traceback, run_cli

ROUNDS = 10
ROWS = 40  # bars of each kind per poll
IMPORT_ROWS = 80_000
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An intraday history big enough that its import takes a good fraction of a second."""
    path = tmp_path_factory.mktemp("crash") / "big.csv"
    start = dt.datetime(2020, 1, 2, 14, 30)
    lines = ["Datetime,Close,Volume"]
    for i in range(IMPORT_ROWS):
        stamp = (start + dt.timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{stamp},{100 + i % 50 + 0.5},{1000 + i}")
    path.write_text("\n".join(lines) + "\n")
    return path


def spawn(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(args, cwd=ROOT, env=cli_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def holds_open(pid: int, path: Path) -> bool:
    """Does the process have the store file open (so it is inside a store operation)?"""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return str(path) in links


def kill_while_writing(process: subprocess.Popen[str], path: Path, extra: float) -> bool:
    """SIGKILL the process `extra` seconds after it first opens the store; False if it exited
    (or never opened the store within 20 s) instead."""
    deadline = time.monotonic() + 20
    while process.poll() is None and time.monotonic() < deadline:
        if holds_open(process.pid, path):
            time.sleep(extra)
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                return True
            return False
        time.sleep(0.002)
    return False


def check_store(path: Path, reported: set[int], imports: dict[str, bool]) -> dict[str, Any]:
    """Everything the promise says about the store after a crash; returns a few counts."""
    viewer = Store(path, read_only=True)
    polls_seen_by_viewer = viewer.query("SELECT count(*) FROM fetch_log WHERE source = 'writer'")
    store = Store(path)
    store.ensure_schema()  # opens read-write: replays whatever the WAL holds

    logged = {
        int(error.split()[1]): rows
        for error, rows in store.query(
            "SELECT error, rows FROM fetch_log WHERE source = 'writer' AND ok"
        )
    }
    assert all(rows == 2 * ROWS + 1 for rows in logged.values())
    for table in ("daily_bars", "intraday_bars"):
        counts = dict(store.query(
            f"SELECT CAST(volume AS BIGINT), count(*) FROM {table} "
            "WHERE symbol LIKE 'W%' GROUP BY 1"
        ))
        assert set(counts) == set(logged), f"{table}: polls without a fetch-log line or v.v."
        partial = {poll: n for poll, n in counts.items() if n != ROWS}
        assert partial == {}, f"{table}: partial polls {partial}"
    macro = {int(value) for (value,) in store.query(
        "SELECT value FROM macro_observations WHERE series_id = 'POLL'")}
    assert macro == set(logged)
    lost = reported - set(logged)
    assert lost == set(), f"polls reported committed but lost: {sorted(lost)}"
    assert polls_seen_by_viewer[0][0] == len(logged)

    for symbol, finished in imports.items():
        intraday = store.query("SELECT count(*) FROM intraday_bars WHERE symbol = ?", [symbol])
        daily = store.query("SELECT count(*) FROM daily_bars WHERE symbol = ?", [symbol])
        assert intraday[0][0] in (0, IMPORT_ROWS), f"{symbol}: partial import"
        assert (intraday[0][0] == 0) == (daily[0][0] == 0), f"{symbol}: half an import"
        if finished:
            assert intraday[0][0] == IMPORT_ROWS, f"{symbol}: a finished import was lost"
    complete = store.query(
        "SELECT count(DISTINCT symbol) FROM intraday_bars WHERE symbol LIKE 'IMP%'")[0][0]
    import_lines = store.query(
        "SELECT count(*) FROM fetch_log WHERE source = 'import' AND ok AND rows = ?",
        [IMPORT_ROWS])[0][0]
    assert import_lines == complete, "an import's rows and its fetch-log line must go together"
    assert duplicate_keys(store) == []
    return {"polls": len(logged), "imports": complete}


def test_kill_9_of_collector_and_import_many_times(tmp_path: Path, big_csv: Path) -> None:
    store_path = tmp_path / "crash.duckdb"
    Store(store_path).ensure_schema()
    chooser = random.Random(20251117)
    reported: set[int] = set()
    imports: dict[str, bool] = {}
    kills = {"writer": 0, "import while writing": 0, "import before writing": 0}
    # What happens to the import in each round: killed inside its store transaction, killed
    # while it still validates the file, or left to finish.
    plan = ["writing", "writing", "finish", "writing", "early", "writing", "writing", "finish",
            "writing", "early"][:ROUNDS]
    for round_number, fate in enumerate(plan):
        symbol = f"IMP{round_number}"
        writer = spawn([sys.executable, str(HERE / "writer.py"), str(store_path),
                        "--first", str(round_number * 10_000 + 1), "--rows", str(ROWS)])
        importer = spawn([sys.executable, "-m", "monitor", "--db", str(store_path),
                          "import", str(big_csv), "--symbol", symbol])
        if fate == "writing":
            if kill_while_writing(importer, store_path, chooser.uniform(0.0, 0.3)):
                kills["import while writing"] += 1
        elif fate == "early":
            time.sleep(chooser.uniform(0.2, 0.5))
            if importer.poll() is None and not holds_open(importer.pid, store_path):
                os.kill(importer.pid, signal.SIGKILL)
                kills["import before writing"] += 1
        importer.communicate(timeout=60)
        # The writer has been writing all along: kill it inside a poll, at a random moment.
        if kill_while_writing(writer, store_path, chooser.uniform(0.0, 0.08)):
            kills["writer"] += 1
        writer_out, _ = writer.communicate(timeout=30)
        assert importer.returncode in (0, -signal.SIGKILL)
        assert writer.returncode == -signal.SIGKILL
        imports[symbol] = importer.returncode == 0
        polls = [int(line.split()[0]) for line in writer_out.splitlines()
                 if line[:1].isdigit()]
        reported.update(polls)
        counts = check_store(store_path, reported, imports)
        # A poll committed but killed before it could print is fine; one printed is not lost.
        assert counts["polls"] >= len(reported)
    assert kills["writer"] == ROUNDS
    assert kills["import while writing"] >= 3, kills
    assert sum(imports.values()) >= 1, "no import ever finished"
    assert len(reported) >= ROUNDS, "the writer hardly wrote: the rounds are too short"

    # And the CLI opens the survivor: status as a viewer, export of every table.
    status = run_cli("--db", store_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert not has_traceback(status.stderr)
    export = run_cli("--db", store_path, "export", "--out", tmp_path / "export")
    assert export.returncode == 0, export.stderr
    exported = (tmp_path / "export" / "fetch_log.csv").read_text().count("\n")
    assert exported >= len(reported) + 1
    print(f"kill -9: {kills}; polls reported committed {len(reported)}; "
          f"imports finished {sum(imports.values())} of {len(imports)}")

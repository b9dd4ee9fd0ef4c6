"""Shared fixtures: a fresh store in a temp dir, and a quick way to fill it with hand-made rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

import monitor
from bubble_core.models import SourceBatch
from bubble_core.store import DATA_TABLES, Store

T0 = dt.datetime(2025, 11, 3, 15, 0, 0)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _no_user_files(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never read the user's config nor touch the user's store."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("BUBBLE_MONITOR_CONFIG", str(home / "absent-config.toml"))
    monkeypatch.setenv("BUBBLE_MONITOR_DB", str(home / "default-store.duckdb"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A store file that does not exist yet (created on first use)."""
    return Store(tmp_path / "store.duckdb", lock_timeout=5.0)


@pytest.fixture
def write(store: Store) -> Callable[..., int]:
    """write(**batch fields) -> rows: one SourceBatch written through Store.write_batch."""
    calls = iter(range(10**6))

    def _write(source: str = "test", **rows: list) -> int:
        started = T0 + dt.timedelta(seconds=next(calls))
        return store.write_batch(source, SourceBatch(**rows), started, started)

    return _write


@pytest.fixture
def cli(store: Store, capsys: pytest.CaptureFixture[str]):
    """cli(*args) -> (exit status, stdout, stderr) of `bubble-monitor --db STORE args`."""

    def run(*args: str | Path) -> tuple[int, str, str]:
        try:
            code = monitor.main(["--db", str(store.path), *map(str, args)])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def table_dump(store: Store) -> dict[str, list[tuple]]:
    """Every data table's rows in a stable order, to prove a failed operation changed nothing."""
    with store.reader() as con:
        return {
            table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in DATA_TABLES
        }

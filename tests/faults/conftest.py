"""Fixtures of the fault suite."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: a fault test of a minute or so (the 30-day run); CI runs it"
    )


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A scratch directory in RAM (/dev/shm) when there is one, else tmp_path.

    For the tests that are about behaviour over many polls, not about durability: every commit
    fsyncs DuckDB's WAL, which on a slow CI disk is most of a poll's cost. The crash tests keep
    using the real disk.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    path = Path(tempfile.mkdtemp(prefix="bubble-faults-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)

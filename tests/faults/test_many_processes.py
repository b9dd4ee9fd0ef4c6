"""Promise 3, many processes on one store: one writer, and everyone else from other sessions.

While a collector (writer.py: the real Collector and Store, a poll every ~100 ms, holding the
collector lock like `collect`) writes, other processes run `status --json`, `export`, a
read-only reader, a viewer backend, `serve`, the dashboard, an `import` and a second `collect`
on the same file. None
may crash on DuckDB's file lock or print a traceback; the readers must see every poll committed
before they started (no older than one poll); the import waits its turn; the second collector is
refused with one line and exit status 1.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bubble_core.collector import Collector, Job
from bubble_core.errors import StoreBusyError
from bubble_core.models import MacroObservation, SourceBatch
from bubble_core.store import Store

from .helpers import ROOT, FakeClock, cli_command, cli_env, has_traceback, run_cli

HERE = Path(__file__).resolve().parent
WINDOW = 6.0  # seconds of concurrent activity


class Writer:
    """writer.py in the background; `committed_before(t)` is the last poll it had committed
    (and reported) before the unix time t."""

    def __init__(self, store: Path, *, interval: float = 0.1, seconds: float = 30) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "writer.py"), str(store), "--lock", "--rows", "20",
             "--interval", str(interval), "--seconds", str(seconds)],
            cwd=ROOT, env=cli_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.polls: list[tuple[int, float]] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("ready"):
                continue
            poll, stamp = line.split()
            self.polls.append((int(poll), float(stamp)))
            self.ready.set()

    def committed_before(self, moment: float) -> int:
        return max((poll for poll, stamp in list(self.polls) if stamp < moment), default=0)

    def stop(self) -> str:
        self.process.terminate()
        _, err = self.process.communicate(timeout=30)
        self._reader.join(timeout=5)
        return err


def repeat(seconds: float, action: Callable[[int], None], errors: list[str]) -> threading.Thread:
    def loop() -> None:
        deadline = time.monotonic() + seconds
        index = 0
        while time.monotonic() < deadline:
            try:
                action(index)
            except BaseException as exc:  # reported by the test, not lost in a thread
                errors.append(f"{action.__name__}: {type(exc).__name__}: {exc}")
                return
            index += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def start_serve(store: Path) -> tuple[subprocess.Popen[str], int]:
    """`bubble-monitor serve` on a free local port, answering HTTP."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(cli_command("--db", store, "serve", "--port", str(port)),
                              cwd=ROOT, env=cli_env(), text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while http_status(port) != 200:
        assert server.poll() is None, server.communicate()[1]
        assert time.monotonic() < deadline, "serve never answered"
        time.sleep(0.2)
    return server, port


def http_status(port: int) -> int | None:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return int(response.status)
    except OSError:
        return None


def test_writer_plus_status_export_readers_import_and_a_second_collector(
    tmp_path: Path,
) -> None:
    pytest.importorskip("bubble_core.alerts.engine")
    store_path = tmp_path / "shared.duckdb"
    Store(store_path).ensure_schema()
    writer = Writer(store_path)
    assert writer.ready.wait(30), "the writer never committed a poll"
    errors: list[str] = []
    results: dict[str, list[Any]] = {"status": [], "reader": [], "export": [], "viewer": []}

    def status(index: int) -> None:
        started = time.time()
        done = run_cli("--db", store_path, "status", "--json")
        assert done.returncode == 0 and not has_traceback(done.stderr), done.stderr
        document = json.loads(done.stdout)
        results["status"].append((started, document["sources"]["writer"]))

    def export(index: int) -> None:
        started = time.time()
        out = tmp_path / f"export{index}"
        done = run_cli("--db", store_path, "export", "--format", "csv", "--out", out)
        assert done.returncode == 0 and not has_traceback(done.stderr), done.stderr
        lines = (out / "macro_observations.csv").read_text().splitlines()[1:]
        polls = [float(line.split(",")[2]) for line in lines if line.startswith("POLL,")]
        results["export"].append((started, int(max(polls, default=0))))

    reader_script = (
        "import sys, time\n"
        "from bubble_core.store import Store\n"
        "store = Store(sys.argv[1], read_only=True)\n"
        "end = time.monotonic() + float(sys.argv[2])\n"
        "while time.monotonic() < end:\n"
        "    started = time.time()\n"
        "    rows = store.query(\"SELECT max(value) FROM macro_observations "
        "WHERE series_id = 'POLL'\")\n"
        "    print(started, int(rows[0][0] or 0), flush=True)\n"
        "    time.sleep(0.02)\n"
    )

    def reader(index: int) -> None:
        done = subprocess.run(
            [sys.executable, "-c", reader_script, str(store_path), str(WINDOW)],
            capture_output=True, text=True, timeout=60, cwd=ROOT, env=cli_env(),
        )
        assert done.returncode == 0 and not has_traceback(done.stderr), done.stderr
        for line in done.stdout.splitlines():
            started, seen = line.split()
            results["reader"].append((float(started), int(seen)))

    def viewer(index: int) -> None:
        from bubble_core.config import Config
        from bubble_core.live import LiveBackend

        backend = LiveBackend(Config(), Store(store_path), collect=False)
        try:
            for _ in range(5):
                started = time.time()
                snapshot = backend.tick()
                results["viewer"].append((started, snapshot.sources["writer"]))
            assert backend.mode().mode == "VIEWER"
            assert not backend.collecting
        finally:
            backend.close()

    threads = [repeat(WINDOW, action, errors) for action in (status, export, reader, viewer)]
    server, port = start_serve(store_path)

    # From yet another session, meanwhile: an import waits its turn and succeeds, and a second
    # collector is refused with one line.
    csv = tmp_path / "other.csv"
    csv.write_text("Date,Close\n2026-11-20,101.5\n2026-11-23,102.5\n")
    imported = run_cli("--db", store_path, "import", csv, "--symbol", "OTHER")
    assert imported.returncode == 0, imported.stderr
    for args in (["collect", "--once"], ["collect"]):
        second = run_cli("--db", store_path, *args, "--log-file", tmp_path / "second.log",
                         timeout=30)
        assert second.returncode == 1, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert "another collector" in lines[0] and str(writer.process.pid) in lines[0]

    for thread in threads:
        thread.join(timeout=120)
    assert http_status(port) == 200, "serve stopped answering"
    server.terminate()
    _, server_err = server.communicate(timeout=30)
    assert not has_traceback(server_err), server_err
    err = writer.stop()
    assert errors == []
    assert not has_traceback(err), err
    assert len(writer.polls) >= 10

    # Freshness: whatever a reader started after a poll was committed shows that poll.
    for started, seen in results["reader"]:
        assert seen >= writer.committed_before(started), "a reader saw data older than a poll"
    for started, seen in results["export"]:
        assert seen >= writer.committed_before(started)
    store = Store(store_path, read_only=True)
    finished = dict(
        (int(error.split()[1]), when)
        for error, when in store.query(
            "SELECT error, finished FROM fetch_log WHERE source = 'writer' AND ok")
    )
    for started, health in results["viewer"]:
        last = writer.committed_before(started)
        if last:
            assert health.last_success >= finished[last]
    for started, source in results["status"]:
        last = writer.committed_before(started)
        if last:  # the document's timestamps are to the second
            assert source["last_success"] >= finished[last].isoformat(timespec="seconds")
    assert len(results["reader"]) >= 5 and results["status"] and results["export"]
    assert results["viewer"]
    assert store.query("SELECT count(*) FROM daily_bars WHERE symbol = 'OTHER'")[0][0] == 2


HOG = (
    "import sys, time\n"
    "from bubble_core.store import Store\n"
    "store = Store(sys.argv[1], read_only=True)\n"
    "print('reading', flush=True)\n"
    "end = time.monotonic() + float(sys.argv[2])\n"
    "while time.monotonic() < end:\n"
    "    with store.reader() as con:\n"
    "        con.execute('SELECT count(*) FROM fetch_log').fetchall()\n"
    "        time.sleep(0.15)\n"
)


def test_back_to_back_viewers_do_not_starve_the_collector(tmp_path: Path) -> None:
    """Two viewers that keep the file open nearly all the time, reopening at once (a TUI
    refreshing in a loop): DuckDB alone would let the collector in only by luck. Writers go
    first, so the polls keep coming."""
    store_path = tmp_path / "hogged.duckdb"
    Store(store_path).ensure_schema()
    writer = Writer(store_path)
    assert writer.ready.wait(30)
    hogs = []
    for _ in range(2):
        hogs.append(subprocess.Popen([sys.executable, "-c", HOG, str(store_path), "4"],
                                     cwd=ROOT, env=cli_env(), text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        assert hogs[-1].stdout is not None and hogs[-1].stdout.readline() == "reading\n"
        time.sleep(0.07)
    start = time.time()
    for hog in hogs:
        _, err = hog.communicate(timeout=60)
        assert hog.returncode == 0 and not has_traceback(err), err
    end = time.time()
    writer.stop()
    during = [poll for poll, stamp in writer.polls if start <= stamp <= end]
    assert len(during) >= 5, f"the collector committed {len(during)} polls in {end - start:.1f}s"


def test_collector_survives_a_store_held_past_its_retry_budget(tmp_path: Path) -> None:
    """Another process keeps the file longer than the lock timeout: the poll fails (nothing
    half-written), the collector keeps running, and the next poll after the release succeeds."""
    path = tmp_path / "held.duckdb"
    Store(path).ensure_schema()
    store = Store(path, lock_timeout=0.3)
    clock = FakeClock()
    served = {"n": 0}

    async def poll(now: Any) -> SourceBatch:
        served["n"] += 1
        return SourceBatch(macro=[MacroObservation("HELD", clock().date(), float(served["n"]))])

    import datetime as dt

    job = Job("held", poll, lambda now: dt.timedelta(minutes=1))
    collector = Collector(store, [job], clock=clock, jitter=lambda: 1.0)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time\n"
         "con = duckdb.connect(sys.argv[1])\n"
         "print('holding', flush=True)\n"
         "time.sleep(float(sys.argv[2]))\n",
         str(path), "2.0"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    outcomes = asyncio.run(collector.run_due(force=True))
    assert not outcomes[0].ok
    assert "not stored" in (outcomes[0].error or "")
    holder.wait(timeout=30)
    clock.advance(collector.seconds_until_next())
    outcomes = asyncio.run(collector.run_due())
    assert outcomes and outcomes[0].ok
    rows = Store(path).query("SELECT value FROM macro_observations WHERE series_id = 'HELD'")
    assert rows == [(2.0,)], "only the poll that was stored is there"


def test_collector_jobs_writing_at_the_same_moment(tmp_path: Path) -> None:
    """The collector's jobs write from worker threads, often at the same instant, each on its
    own short-lived connection. On a file no connection holds open, concurrent opens raced in
    DuckDB ("python_arrow_scan does not exist", "Unique file handle conflict") and a poll was
    lost with a traceback."""
    import datetime as dt

    from bubble_core.models import DailyBar

    store = Store(tmp_path / "threads.duckdb")
    store.ensure_schema()
    errors: list[str] = []
    for trial in range(40):
        barrier = threading.Barrier(3)

        def write(worker: int, trial: int = trial, barrier: Any = barrier) -> None:
            now = dt.datetime(2026, 11, 23, 15, 0) + dt.timedelta(minutes=trial, seconds=worker)
            batch = SourceBatch(daily_bars=[
                DailyBar(f"T{worker}", dt.date(2000, 1, 1) + dt.timedelta(days=trial), 1.0)])
            barrier.wait()
            try:
                store.write_batch(f"job{worker}", batch, now, now)
            except Exception as exc:  # reported below
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=write, args=(worker,)) for worker in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert store.query("SELECT count(*) FROM daily_bars")[0][0] == 120


def test_a_viewer_and_a_writer_in_one_process_wait_for_each_other(tmp_path: Path) -> None:
    """DuckDB refuses a read-write open while a read-only connection to the same file is open
    in the same process (a TUI viewer's `silence` during its refresh). That must wait, like a
    lock held by another process, not fail."""
    path = tmp_path / "same.duckdb"
    Store(path).ensure_schema()
    viewer = Store(path, read_only=True)
    holding = threading.Event()

    def read_slowly() -> None:
        with viewer.reader() as con:
            con.execute("SELECT count(*) FROM fetch_log").fetchall()
            holding.set()
            time.sleep(0.5)

    thread = threading.Thread(target=read_slowly)
    thread.start()
    assert holding.wait(10)
    import datetime as dt

    now = dt.datetime(2026, 11, 23, 15, 0)
    Store(path, lock_timeout=10).record_failure("same", now, now, "test")
    thread.join()
    assert Store(path).query("SELECT count(*) FROM fetch_log")[0][0] == 1


def test_a_store_held_past_the_budget_is_a_store_busy_error(tmp_path: Path) -> None:
    """Past the retry budget: StoreBusyError, which the CLI prints as one line (exit 1)."""
    path = tmp_path / "busy.duckdb"
    Store(path).ensure_schema()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time\n"
         "con = duckdb.connect(sys.argv[1])\n"
         "print('holding', flush=True)\n"
         "time.sleep(30)\n",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreBusyError):
            Store(path, lock_timeout=0.2).query("SELECT 1")
    finally:
        holder.kill()
        holder.wait()


def test_tui_viewer_alongside_a_writer(tmp_path: Path) -> None:
    pytest.importorskip("tui.app")

    from bubble_core.config import Config
    from bubble_core.live import LiveBackend
    from tui.app import BubbleMonitorApp

    store_path = tmp_path / "tui.duckdb"
    Store(store_path).ensure_schema()
    writer = Writer(store_path, seconds=20)
    try:
        assert writer.ready.wait(30)
        backend = LiveBackend(Config(), Store(store_path), collect=False)
        app = BubbleMonitorApp(backend)

        async def run() -> None:
            async with app.run_test() as pilot:
                await pilot.pause(3.0)
                assert backend.mode().mode == "VIEWER"

        try:
            asyncio.run(run())
        finally:
            backend.close()
    finally:
        err = writer.stop()
    assert not has_traceback(err), err
    assert len(writer.polls) >= 5


def test_collector_lock_never_outlives_its_collector(tmp_path: Path) -> None:
    """The lock is an flock: a collector killed with -9 leaves no stale lock, and one that exits
    normally releases it; the next `collect` is not refused either way."""
    store = tmp_path / "lock.duckdb"
    writer = Writer(store)
    assert writer.ready.wait(30)
    writer.process.kill()
    writer.process.wait(timeout=30)
    for _ in range(2):
        done = run_cli("--db", store, "collect", "--once", "--log-file", tmp_path / "c.log")
        assert done.returncode == 0, done.stderr
        assert not has_traceback(done.stderr)

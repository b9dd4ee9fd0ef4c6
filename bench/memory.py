"""Figure 6: peak RSS of the TUI after its first paint, against a bare Textual app.

Each app runs under a pseudo-terminal; VmHWM (peak resident set) is read from /proc at the first
paint and again once the first snapshot is on screen and --settle seconds have passed (the replay
keeps advancing meanwhile). Median of --runs runs, interleaved. A breakdown of where the memory
goes (RSS after importing each layer) is printed to stderr.

    python bench/memory.py [--runs 3] [--settle 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import (
    HISTORY_DAYS,
    build_store,
    figure,
    intraday_days_for_rows,
    median,
    note,
    python_env,
    store_path,
)
from _tui import TuiProcess, tui_available

TARGET = 2.0

SNAPSHOT = ("import datetime as d; from bubble_core.config import Config; "
            "from bubble_core.store import Store; "
            "from bubble_core.snapshots import snapshot_from_store; "
            "snapshot_from_store(Store('{store}', read_only=True), Config(), "
            "d.date(2025, 8, 29), d.datetime(2025, 8, 29, 21))")
LAYERS = {
    "python": "pass",
    "textual": "import textual.app, textual.widgets",
    "monitor+tui.app": "import monitor, tui.app",
    "+import duckdb": "import monitor, tui.app, duckdb",
    "+connect": "import monitor, tui.app, duckdb; duckdb.connect('{store}', read_only=True)",
    "+refresh (snapshot with charts)": "import monitor, tui.app; " + SNAPSHOT,
    "+pyarrow (writers)": "import monitor, tui.app, pyarrow; " + SNAPSHOT,
}


def layer_rss(store: str) -> dict[str, int]:
    """Peak RSS (MB) of a fresh interpreter after each import layer."""
    out = {}
    for name, code in LAYERS.items():
        # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork + exec.
        program = (code.format(store=store) + "\nprint([l.split()[1] for l in "
                   "open('/proc/self/status') if l.startswith('VmHWM')][0])")
        done = subprocess.run([sys.executable, "-c", program], env=python_env(),
                              capture_output=True, text=True)
        out[name] = int(done.stdout.strip().split()[-1]) // 1024 if done.returncode == 0 else -1
    return out


def one_run(kind: str, args: tuple[str, ...], settle: float) -> tuple[int, int]:
    with TuiProcess(kind, *args) as process:
        process.wait_for("first_paint", 60)
        at_paint = process.peak_rss_kb()
        if kind != "bare":
            process.wait_for("data_paint", 60)
        process.pump(settle)
        return at_paint, process.peak_rss_kb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0)
    args = parser.parse_args()
    if not tui_available():
        figure("memory_ratio_live", "n/a", "tui/app.py does not exist yet", f"<={TARGET}x",
               False)
        return 1

    days = intraday_days_for_rows(1_000_000)
    store = build_store(store_path(f"d{HISTORY_DAYS}-i{days}"), daily_days=HISTORY_DAYS,
                        intraday_days=days)
    kinds: list[tuple[str, tuple[str, ...]]] = [
        ("bare", ()), ("live", (str(store),)), ("replay", ()),
    ]
    paint: dict[str, list[int]] = {kind: [] for kind, _ in kinds}
    settled: dict[str, list[int]] = {kind: [] for kind, _ in kinds}
    for _ in range(args.runs):
        for kind, kind_args in kinds:
            at_paint, after = one_run(kind, kind_args, args.settle)
            paint[kind].append(at_paint)
            settled[kind].append(after)
    bare = median(settled["bare"])
    for kind, _ in kinds[1:]:
        peak = median(settled[kind])
        first = median(paint[kind])
        ratio = peak / bare
        figure(f"memory_ratio_{kind}", f"{ratio:.2f}x",
               f"peak RSS {peak / 1024:.0f} MB once filled (+{args.settle:g} s) vs bare "
               f"{bare / 1024:.0f} MB; at first paint {first / 1024:.0f} MB = "
               f"{first / median(paint['bare']):.2f}x", f"<={TARGET:g}x", ratio <= TARGET)
    layers = layer_rss(str(store))
    note("peak RSS of a fresh interpreter after each layer (MB): "
         + ", ".join(f"{k} {v}" for k, v in layers.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

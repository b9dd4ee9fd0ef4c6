"""Figure 5: idle cost of the TUI, when no data changes.

The dashboard runs under a pseudo-terminal (120x40). Once the first snapshot is on screen and a
settle period has passed, for a window of W seconds: CPU seconds of the process (utime + stime of
all its threads, /proc/PID/stat) and bytes written to the terminal (read from the pty master: what
an SSH link would carry). Scaled to one minute.

  idle-frozen  BubbleMonitorApp over a backend whose snapshot never changes (a real snapshot of a
               populated store, re-stamped with the current time at each tick), ticking every
               --tick seconds (default 10 s: more often than the live backend, conservative)
  idle-viewer  `bubble-monitor --db STORE --viewer`: the real LiveBackend re-reading an unchanging
               store every 30 s (DuckDB queries included)

    python bench/idle.py [--window 60] [--settle 5] [--tick 10]
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time

from _common import (
    HISTORY_DAYS,
    build_store,
    figure,
    fmt_bytes,
    intraday_days_for_rows,
    note,
    store_path,
)
from _tui import TuiProcess, tui_available

TARGET_CPU = 1.0  # percent of one core
TARGET_BYTES = 2000  # per minute


def measure(kind: str, args: tuple[str, ...], window: float,
            settle: float) -> tuple[float, float, bytes, list[tuple[float, int, bool, str]]]:
    """(cpu percent of a core, bytes per minute, what was written, the frames) over the
    window."""
    with TuiProcess(kind, *args) as process:
        process.wait_for("first_paint", 60)
        process.wait_for("data_paint", 60)
        process.pump(settle)
        cpu0, t0 = process.cpu_seconds(), time.time()
        process.pump(window)
        cpu1, t1 = process.cpu_seconds(), time.time()
        assert process.alive(), "the app exited during the idle window"
        run = process.run
        assert run is not None
        written = run.data_between(t0, t1)
        frames = [frame for frame in run.frames if t0 <= frame[0] < t1]
    elapsed = t1 - t0
    return (cpu1 - cpu0) / elapsed * 100, len(written) * 60 / elapsed, written, frames


CLOCK = re.compile(r"^\d\d:\d\d(:\d\d)?$")


def describe_frames(frames: list[tuple[float, int, bool, str]], window: float) -> str:
    """Which updates the idle bytes went to: the header clock, and everything else."""
    clock = [size for _, size, _, text in frames if CLOCK.match(text)]
    other = [(size, text) for _, size, _, text in frames if not CLOCK.match(text)]
    scale = 60 / window
    texts = collections.Counter(text[:60] for _, text in other)
    return (f"{len(frames)} frames: {len(clock)} clock-only ({sum(clock)} B, "
            f"{sum(clock) * scale:.0f} B/min, {sum(clock) / max(len(clock), 1):.0f} B each), "
            f"{len(other)} other ({sum(size for size, _ in other) * scale:.0f} B/min: "
            + "; ".join(f"{count}x {text!r}" for text, count in texts.most_common(3)) + ")")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--tick", type=float, default=10.0, help="frozen backend tick, seconds")
    parser.add_argument("--only", choices=["idle-frozen", "idle-viewer"])
    args = parser.parse_args()
    if not tui_available():
        figure("idle_cpu", "n/a", "tui/app.py does not exist yet", f"<{TARGET_CPU:g}% of a core",
               False)
        return 1

    days = intraday_days_for_rows(1_000_000)
    store = build_store(store_path(f"d{HISTORY_DAYS}-i{days}"), daily_days=HISTORY_DAYS,
                        intraday_days=days)
    kinds = {
        "idle-frozen": ("idle", (str(store), str(args.tick))),
        "idle-viewer": ("live", (str(store),)),
    }
    for name, (kind, kind_args) in kinds.items():
        if args.only and name != args.only:
            continue
        cpu, per_minute, written, frames = measure(kind, kind_args, args.window, args.settle)
        label = name.replace("-", "_")
        what = (f"frozen snapshot, tick every {args.tick:g} s" if kind == "idle"
                else "live viewer, store re-read every 30 s")
        note(f"{name}: {describe_frames(frames, args.window)}")
        figure(f"{label}_cpu", f"{cpu:.2f}% of a core",
               f"{cpu * 0.6:.2f} CPU s/min over {args.window:g} s; {what}",
               f"<{TARGET_CPU:g}%", cpu < TARGET_CPU)
        figure(f"{label}_bytes_per_min", f"{fmt_bytes(per_minute)}/min",
               f"{len(written)} bytes to the terminal in {args.window:g} s",
               f"<={fmt_bytes(TARGET_BYTES)}/min", per_minute <= TARGET_BYTES)
    return 0


if __name__ == "__main__":
    sys.exit(main())

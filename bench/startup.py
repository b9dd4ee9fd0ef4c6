"""Figure 1: start-up, from process start to the first painted dashboard, against a bare app.

Each run spawns a fresh interpreter under a pseudo-terminal (120x40) and times from just before
the fork until the first full-screen frame has completely arrived on the terminal (the harness
answers Textual's synchronized-output query as modern terminals do, so each frame arrives
between BSU/ESU markers; see _tui.py). Also reported: the in-app event, after the first screen
refresh (see _tui_probe.py). For:

  bare     a minimal Textual app that paints one line
  replay   bubble-monitor --replay dotcom          (monitor.main, ReplayBackend)
  live     bubble-monitor --db STORE --viewer      (monitor.main, LiveBackend over a store with
                                                    10 years of daily bars, 1 M minute bars)
  live-collect  LiveBackend collecting, offline fakes (its worker imports yfinance + pandas
           while the first frame is painted)

Runs are interleaved (bare, replay, live, ... bare, replay, live) and the median is reported;
the ratio is app / bare. Also reported: the time until the first snapshot is on screen, and the
heavy modules loaded at first paint.

    python bench/startup.py [--runs 7] [--no-collect]
"""

from __future__ import annotations

import argparse
import sys

from _common import (
    HISTORY_DAYS,
    build_store,
    figure,
    intraday_days_for_rows,
    median,
    note,
    remove_store,
    store_path,
)
from _tui import TuiProcess, tui_available

TARGET = 1.3
HEAVY_OFF_PATH = ("pandas", "yfinance", "pyarrow")


def one_run(kind: str, args: tuple[str, ...]
            ) -> tuple[float, float | None, list[str], float, float]:
    """(seconds to the first full frame on the terminal, to first data on screen, modules at
    first paint, seconds to the end of the module-level imports, seconds to the in-app
    first-refresh event)."""
    with TuiProcess(kind, *args) as process:
        event = process.wait_for("first_paint", 60)
        marker = process.run.seconds_to("first_paint")
        imported = process.run.seconds_to("imported")
        first = process.run.first_frame()
        if first is None:  # no synchronized output: fall back on the in-app event
            first = marker
        data = None
        if kind != "bare":
            try:
                process.wait_for("data_paint", 30)
                data = process.run.seconds_to("data_paint")
            except RuntimeError:
                data = None
        assert first is not None and marker is not None
        return (first, data, list(event["modules"]), imported if imported is not None else -1.0,
                marker)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-collect", action="store_true", help="skip live-collect")
    args = parser.parse_args()
    if not tui_available():
        figure("startup_ratio_replay", "n/a", "tui/app.py does not exist yet", f"<={TARGET}x",
               False)
        return 1

    days = intraday_days_for_rows(1_000_000)
    store = build_store(store_path(f"d{HISTORY_DAYS}-i{days}"), daily_days=HISTORY_DAYS,
                        intraday_days=days)
    collect_store = store_path("startup-collect")
    kinds: list[tuple[str, tuple[str, ...]]] = [
        ("bare", ()), ("replay", ()), ("live", (str(store),)),
    ]
    if not args.no_collect:
        kinds.append(("live-collect", (str(collect_store),)))

    first: dict[str, list[float]] = {kind: [] for kind, _ in kinds}
    data: dict[str, list[float]] = {kind: [] for kind, _ in kinds}
    modules: dict[str, set[str]] = {kind: set() for kind, _ in kinds}
    imports: dict[str, list[float]] = {kind: [] for kind, _ in kinds}
    markers: dict[str, list[float]] = {kind: [] for kind, _ in kinds}
    one_run("bare", ())  # warm the page cache: every kind then starts equally warm
    for run in range(args.runs):
        for kind, kind_args in kinds:
            if kind == "live-collect":  # a private copy: the collector writes failures into it
                remove_store(collect_store)
                collect_store.write_bytes(store.read_bytes())
            seconds, filled, loaded, imported, marker = one_run(kind, kind_args)
            first[kind].append(seconds)
            markers[kind].append(marker)
            if imported >= 0:
                imports[kind].append(imported)
            if filled is not None:
                data[kind].append(filled)
            modules[kind].update(loaded)
        note(f"run {run + 1}/{args.runs}: " + ", ".join(
            f"{kind} {first[kind][-1]:.3f} s" for kind, _ in kinds))
    remove_store(collect_store)

    bare = median(first["bare"])
    for kind, _ in kinds[1:]:
        app = median(first[kind])
        ratio = app / bare
        name = "startup_ratio_" + kind.replace("-", "_")
        heavy = sorted(modules[kind] & set(HEAVY_OFF_PATH))
        detail = (f"app {app:.3f} s, bare {bare:.3f} s, median of {args.runs} interleaved; "
                  "heavy modules loaded at first paint: "
                  f"{', '.join(sorted(modules[kind])) or 'none'}")
        if imports[kind] and imports["bare"]:
            app_imports, bare_imports = median(imports[kind]), median(imports["bare"])
            detail += (f"; imports done at {app_imports:.3f} s vs {bare_imports:.3f} s, "
                       f"so imports {app_imports - bare_imports:+.3f} s and the first frame "
                       f"{(app - app_imports) - (bare - bare_imports):+.3f} s of the gap; "
                       f"in-app first-refresh event {median(markers[kind]):.3f} s vs "
                       f"{median(markers['bare']):.3f} s = "
                       f"{median(markers[kind]) / median(markers['bare']):.2f}x")
        if kind == "live-collect":
            figure(name, f"{ratio:.2f}x", detail + "; offline collector importing yfinance "
                   "in its worker meanwhile")
        else:
            figure(name, f"{ratio:.2f}x", detail, f"<={TARGET}x", ratio <= TARGET)
        if data[kind]:
            filled = median(data[kind])
            figure(f"startup_data_{kind.replace('-', '_')}", f"{filled:.3f} s",
                   f"first snapshot on screen, {filled / bare:.2f}x the bare app's first paint")
        if heavy:
            note(f"{kind}: heavy modules on the path to the first paint: {heavy}")
    heavy_any = sorted(set().union(*(modules[k] for k, _ in kinds[1:])) & set(HEAVY_OFF_PATH))
    figure("startup_heavy_imports_at_first_paint", ", ".join(heavy_any) or "none",
           "pandas, yfinance, pyarrow in sys.modules when the first frame is painted",
           "none", not heavy_any)
    return 0


if __name__ == "__main__":
    sys.exit(main())

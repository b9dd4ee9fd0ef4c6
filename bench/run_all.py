"""Run every benchmark and print one line per figure, then a summary (and a Markdown table).

    python bench/run_all.py            # every figure at the issue's sizes (19.7 M rows, 5 M-row
                                       # CSV, 60 s idle windows); builds ~2 GB of cached stores once
    python bench/run_all.py --quick    # 2 M rows, 1 M-row CSV, 30 s windows
    python bench/run_all.py --full     # more runs, 10 years in the storage figure
    python bench/run_all.py --only startup,idle --markdown results.md

Each script runs in its own interpreter (this one: sys.executable), one after the other, so
they do not compete for the two cores. Figure lines go to stdout; progress notes to stderr.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

# script: (quick args, default args, full args)
PLAN: dict[str, tuple[list[str], list[str], list[str]]] = {
    "startup": (["--runs", "5"], ["--runs", "7"], ["--runs", "11"]),
    "refresh": (["--quick", "--runs", "5"], ["--runs", "7"], ["--runs", "11"]),
    "import_rows": (["--rows", "1000000", "--runs", "1"], ["--runs", "1"], ["--runs", "3"]),
    "requests_per_poll": ([], [], []),
    "idle": (["--window", "30", "--settle", "4"], ["--window", "60"], ["--window", "60"]),
    "memory": (["--runs", "2", "--settle", "3"], ["--runs", "3"], ["--runs", "5"]),
    "storage": (["--collector-symbols", "5", "--collector-days", "3"], ["--collector-days", "5"],
                ["--full", "--collector-days", "10"]),
}

LINE = re.compile(r"^(?P<name>[A-Za-z0-9_.]+) (?P<rest>.*)$")


def parse(line: str) -> dict[str, str] | None:
    match = LINE.match(line.strip())
    if not match:
        return None
    rest = match["rest"]
    if rest.endswith(" info"):
        body, target, verdict = rest[: -len(" info")], "", "info"
    elif " target " in rest and rest.split()[-1] in ("PASS", "FAIL"):
        body, tail = rest.rsplit(" target ", 1)
        target, verdict = tail.rsplit(" ", 1)
    else:
        return None
    measured, _, detail = body.partition(" (")
    return {"name": match["name"], "measured": measured, "detail": detail.removesuffix(")"),
            "target": target, "verdict": verdict}


def markdown(rows: list[dict[str, str]]) -> str:
    out = ["| figure | measured | target | result | note |", "|---|---|---|---|---|"]
    for row in rows:
        cells = [row["name"], row["measured"], row["target"] or "-", row["verdict"],
                 row["detail"].replace("|", "/")]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true")
    size.add_argument("--full", action="store_true")
    parser.add_argument("--only", help="comma-separated script names: " + ", ".join(PLAN))
    parser.add_argument("--markdown", type=Path, help="also write the results table here")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(PLAN)
    unknown = set(chosen) - set(PLAN)
    if unknown:
        parser.error(f"unknown script(s): {', '.join(sorted(unknown))}")

    rows: list[dict[str, str]] = []
    failures: list[str] = []
    started = time.perf_counter()
    for name in chosen:
        quick, default, full = PLAN[name]
        extra = quick if args.quick else full if args.full else default
        command = [sys.executable, str(BENCH / f"{name}.py"), *extra]
        print(f"## {name} {' '.join(extra)}", file=sys.stderr, flush=True)
        begun = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=BENCH.parent)
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            parsed = parse(line)
            if parsed:
                rows.append(parsed)
        code = process.wait()
        print(f"## {name}: {time.perf_counter() - begun:.0f} s"
              + (f", exit status {code}" if code else ""), file=sys.stderr, flush=True)
        if code:
            failures.append(name)

    passed = sum(1 for row in rows if row["verdict"] == "PASS")
    failed = [row["name"] for row in rows if row["verdict"] == "FAIL"]
    print(f"\n{len(rows)} figures in {time.perf_counter() - started:.0f} s: {passed} targets met, "
          f"{len(failed)} missed{': ' + ', '.join(failed) if failed else ''}"
          + (f"; scripts that failed: {', '.join(failures)}" if failures else ""))
    if args.markdown:
        args.markdown.write_text(markdown(rows) + "\n", encoding="utf-8")
        print(f"table written to {args.markdown}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

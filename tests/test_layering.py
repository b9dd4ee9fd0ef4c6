"""The domain and the sources never import Textual: headless commands must not need a terminal."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEADLESS_PACKAGES = ("bubble_core", "data_sources")
FORBIDDEN = ("textual", "textual_plotext", "textual_serve", "tui", "widgets")


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_headless_packages_do_not_import_textual() -> None:
    offenders = []
    for package in HEADLESS_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            bad = _imports(path) & set(FORBIDDEN)
            if bad:
                offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert offenders == []


def test_status_path_loads_without_textual() -> None:
    code = (
        "import sys, bubble_core.headless, bubble_core.live, bubble_core.replay, "
        "bubble_core.transfer, data_sources.fred, data_sources.nyfed, data_sources.yahoo\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'tui', 'widgets', 'yfinance', 'pandas')]\n"
        "print(bad)\nassert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr

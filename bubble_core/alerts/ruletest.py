"""`bubble-monitor rules test FILE.toml`: unit tests of alert rules on a fake clock (promtool-like).

    rules = "my-rules.toml"          # relative to this file; omitted: the built-in rules
    # defaults = true                # also load the built-in rules, merged as config.toml's are
    interval = "1h"                  # evaluation interval and sample spacing (default 1h)
    # start = 2025-11-03T00:00:00    # the fake clock's time 0 (default: this value)

    [[tests]]
    name = "fires after for, holds inside the clear band, resolves"
    # interval = "30m"               # per-test override
    [tests.series]                   # one sample per interval, the first at time 0
    "mag7_share_of_sp500" = "0.30 0.38x3 0.36x3 0.34x2"
    [tests.sources]                  # optional: source staleness, 1 = stale, 0 = fresh
    "yahoo" = "0x2 1x3 0"
    [[tests.events]]                 # optional: a Fed target change visible from `at` on
    at = "2h"
    change = -0.25
    upper = 4.00
    lower = 3.75                     # optional; `date` defaults to the clock's date at `at`
    [[tests.silences]]               # optional
    alert = "Mag7*"                  # a rule name or a glob
    from = "0s"
    until = "5h"
    [[tests.expect]]
    at = "2h"
    alert = "ConcentrationHigh"
    state = "pending"                # inactive | pending | firing | recovering
    # summary = "..."                # optional: the alert's rendered summary
    [[tests.notifications]]          # the exact list of notifications up to the last `at`
    at = "3h"
    alert = "ConcentrationHigh"
    status = "firing"                # firing | resolved

Series notation (promtool's): `a+bxn` is the n+1 samples a, a+b, ..., a+n*b; `a-bxn` counts
down; `axn` repeats a n+1 times; `_` (or `stale`) is a missing sample, `_xn` n+1 of them; a plain
number is one sample. Series names are rule indicators: status keys, drawdown.SYM, change_5d.SYM.

The runner evaluates every `interval` from 0 to the largest `at`, with an in-memory AlertEngine.
An expectation at `at` is checked against the state after the last evaluation at or before it.
With `rules`, only that file's [[rules]] are loaded (as promtool tests only its rule files);
`defaults = true` merges them with the built-in rules exactly as the app merges config.toml's,
so that a test of a partial override (`name` + `threshold`) tests what the app would run. The
rules file may be a whole config.toml: only its [[rules]] are read.

Exit status of `main_rules_test`: 0 when every test passes, 1 when one fails (a wrong
expectation, an unknown alert, bad series notation: reported with the test's name), 2 when the
file itself cannot be used (unreadable, not TOML, no [[tests]], a bad rules file).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from bubble_core.alerts.engine import STATES, AlertEngine, Notification
from bubble_core.alerts.rules import STALE_PREFIX, Rule, load_rules
from bubble_core.durations import parse_duration
from bubble_core.errors import ConfigError, InputError
from bubble_core.indicator_catalog import is_known_indicator
from bubble_core.snapshot import FedTargetChange, IndicatorValue, Snapshot, SourceHealth

DEFAULT_START = dt.datetime(2025, 11, 3, 0, 0)  # a Monday, the week of the article's A5 drop
DEFAULT_INTERVAL = dt.timedelta(hours=1)
MAX_STEPS = 100_000

_FILE_KEYS = frozenset({"rules", "defaults", "interval", "start", "tests"})
_TEST_KEYS = frozenset(
    {"name", "interval", "series", "sources", "events", "silences", "expect", "notifications"}
)
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_EXPANDING = re.compile(
    rf"^(?P<a>[-+]?{_NUMBER})(?:(?P<sign>[-+])(?P<b>{_NUMBER}))?x(?P<n>\d+)$"
)
_SINGLE = re.compile(rf"^[-+]?{_NUMBER}$")
_MISSING = re.compile(r"^(?:_|stale)(?:x(?P<n>\d+))?$")


class RuleTestInputError(InputError):
    """The test file itself is unusable (exit status 2)."""


class _TestError(Exception):
    """A problem inside one test: reported as that test's failure."""


# -- notation ------------------------------------------------------------------------------------


def expand_series(text: str) -> list[float | None]:
    """Expand promtool notation into samples; ValueError naming the bad token."""
    if not isinstance(text, str):
        raise ValueError(f"must be a string of samples like \"1 2x3 _\", got {text!r}")
    samples: list[float | None] = []
    tokens = text.split()
    if not tokens:
        raise ValueError("is empty")
    for token in tokens:
        missing = _MISSING.match(token)
        if missing:
            samples.extend([None] * (int(missing.group("n") or 0) + 1))
            continue
        expanding = _EXPANDING.match(token)
        if expanding:
            start = float(expanding.group("a"))
            step = float(expanding.group("b") or 0.0)
            if expanding.group("sign") == "-":
                step = -step
            count = int(expanding.group("n"))
            if count > MAX_STEPS:
                raise ValueError(f"{token!r} repeats more than {MAX_STEPS} times")
            samples.extend(_clean(start + i * step) for i in range(count + 1))
            continue
        if _SINGLE.match(token):
            samples.append(_clean(float(token)))
            continue
        raise ValueError(
            f"bad sample {token!r} (use a number, a+bxn, a-bxn, axn, _ or _xn)"
        )
    return samples


def _clean(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"sample {value!r} is not finite")
    return round(value, 12)


def format_offset(delta: dt.timedelta) -> str:
    """An exact duration in the test file's notation: 0s, 90s -> 1m30s, 26h -> 1d2h."""
    total = delta.total_seconds()
    if total <= 0:
        return "0s"
    whole = int(total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            count, whole = divmod(whole, size)
            parts.append(f"{count}{unit}")
    millis = round((total - int(total)) * 1000)
    if millis:
        parts.append(f"{millis}ms")
    return "".join(parts)


# -- the report ----------------------------------------------------------------------------------


@dataclass(slots=True)
class RuleTestResult:
    file: Path
    name: str
    ok: bool
    lines: list[str] = field(default_factory=list)  # the readable diff / error when not ok

    def format(self) -> str:
        head = f"{'PASS' if self.ok else 'FAIL'}  {self.file.name}: {self.name}"
        return "\n".join([head, *("    " + line for line in self.lines)])


@dataclass(slots=True)
class RuleTestReport:
    path: Path
    results: list[RuleTestResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(result.ok for result in self.results)

    @property
    def failures(self) -> list[str]:
        """One readable block per failed test: its name, then expected vs got."""
        return [result.format() for result in self.results if not result.ok]

    def format(self) -> str:
        lines = [result.format() for result in self.results]
        failed = sum(1 for result in self.results if not result.ok)
        total = len(self.results)
        lines.append(
            f"{self.path}: {total - failed} passed, {failed} failed"
            if total
            else f"{self.path}: no tests"
        )
        return "\n".join(lines)


# -- loading a test file -------------------------------------------------------------------------


def builtin_tests_dir() -> Path:
    """The shipped tests of the default rules (bubble_core/data/rules_tests)."""
    return Path(str(resources.files("bubble_core").joinpath("data/rules_tests")))


def run_rule_tests(path: Path | str) -> RuleTestReport:
    """Run one test file, or every test file (a TOML with [[tests]]) of a directory.

    Raises RuleTestInputError when a file cannot be used at all.
    """
    target = Path(path)
    if target.is_dir():
        report = RuleTestReport(target)
        files = sorted(target.glob("*.toml"))
        for file in files:
            document = _read_toml(file)
            if "tests" not in document:
                continue  # a rules file next to its tests
            report.results.extend(_run_file(file, document).results)
        if not report.results:
            raise RuleTestInputError(str(target), "no test file (a TOML with [[tests]]) here")
        return report
    return _run_file(target, _read_toml(target))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleTestInputError(str(path), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = f"cannot read ({exc.__class__.__name__}: {exc})"
        raise RuleTestInputError(str(path), reason) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleTestInputError(str(path), f"not valid TOML ({exc})") from None


def _run_file(path: Path, document: Mapping[str, Any]) -> RuleTestReport:
    unknown = sorted(set(document) - _FILE_KEYS)
    if unknown:
        raise RuleTestInputError(
            f"{path}:{unknown[0]}", f"unknown key (keys: {', '.join(sorted(_FILE_KEYS))})"
        )
    defaults = document.get("defaults", "rules" not in document)
    if not isinstance(defaults, bool):
        raise RuleTestInputError(f"{path}:defaults", "must be true or false")
    rules = _load_test_rules(path, document.get("rules"), defaults)
    interval = _file_duration(path, "interval", document.get("interval"), DEFAULT_INTERVAL)
    start = document.get("start", DEFAULT_START)
    if isinstance(start, dt.date) and not isinstance(start, dt.datetime):
        start = dt.datetime.combine(start, dt.time())
    if not isinstance(start, dt.datetime):
        raise RuleTestInputError(
            f"{path}:start", "must be a TOML date-time like 2025-11-03T00:00:00"
        )
    if start.tzinfo is not None:
        start = start.astimezone(dt.UTC).replace(tzinfo=None)
    tests = document.get("tests")
    if not isinstance(tests, list) or not tests or not all(isinstance(t, dict) for t in tests):
        raise RuleTestInputError(f"{path}:tests", "needs at least one [[tests]] table")
    report = RuleTestReport(path)
    for index, test in enumerate(tests):
        name = test.get("name") if isinstance(test.get("name"), str) else f"tests[{index}]"
        try:
            lines = _run_test(test, rules, interval, start)
        except _TestError as exc:
            lines = [f"error: {exc}"]
        report.results.append(RuleTestResult(path, name, not lines, lines))
    return report


def _file_duration(path: Path, key: str, value: Any, default: dt.timedelta) -> dt.timedelta:
    if value is None:
        return default
    try:
        parsed = parse_duration(value)
    except ValueError as exc:
        raise RuleTestInputError(f"{path}:{key}", str(exc)) from None
    if parsed <= dt.timedelta(0):
        raise RuleTestInputError(f"{path}:{key}", "must be a positive duration")
    return parsed


def _load_test_rules(path: Path, rules_ref: Any, defaults: bool) -> list[Rule]:
    if rules_ref is None:
        if not defaults:
            raise RuleTestInputError(f"{path}:defaults", "false, and no `rules` file: no rules")
        return load_rules([], where=str(path))
    if not isinstance(rules_ref, str) or not rules_ref.strip():
        raise RuleTestInputError(f"{path}:rules", "must be a file name, relative to this file")
    rules_path = path.parent / rules_ref
    try:
        document = _read_toml(rules_path)
    except RuleTestInputError as exc:
        raise RuleTestInputError(f"{path}:rules", f"rules file {exc}") from None
    tables = document.get("rules", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise RuleTestInputError(
            f"{path}:rules", f"{rules_path}: `rules` must be an array of tables ([[rules]])"
        )
    try:
        return load_rules(tables, where=str(rules_path), include_defaults=defaults)
    except ConfigError as exc:
        raise RuleTestInputError(f"{path}:rules", f"bad rules file: {exc}") from None


# -- running one test ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Expect:
    at: dt.timedelta
    alert: str
    state: str
    summary: str | None


def _offset(where: str, value: Any) -> dt.timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _TestError(f"{where}: {exc}") from None


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _TestError(f"{where}: must be a number, got {value!r}")
    return float(value)


def _table_list(test: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = test.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _TestError(f"{key}: must be an array of tables ([[tests.{key}]])")
    return value


def _check_keys(
    where: str, table: Mapping[str, Any], allowed: set[str], required: set[str]
) -> None:
    for key in sorted(set(table) - allowed):
        raise _TestError(f"{where}: unknown key {key!r} (keys: {', '.join(sorted(allowed))})")
    for key in sorted(required - set(table)):
        raise _TestError(f"{where}: missing key {key!r}")


def _run_test(
    test: Mapping[str, Any], rules: Sequence[Rule], interval: dt.timedelta, start: dt.datetime
) -> list[str]:
    for key in sorted(set(test) - _TEST_KEYS):
        raise _TestError(f"unknown key {key!r} (keys: {', '.join(sorted(_TEST_KEYS))})")
    if "interval" in test:
        interval = _offset("interval", test["interval"])
        if interval <= dt.timedelta(0):
            raise _TestError("interval: must be a positive duration")
    rule_names = {rule.name for rule in rules}

    series_table = test.get("series", {})
    if not isinstance(series_table, dict):
        raise _TestError("series: must be a table of \"indicator\" = \"samples\"")
    series: dict[str, list[float | None]] = {}
    for name, text in series_table.items():
        if not is_known_indicator(name) or name.startswith("event."):
            raise _TestError(
                f"series {name!r}: not a rule indicator (a status key, drawdown.SYM, "
                f"change_1d.SYM or change_5d.SYM)"
            )
        try:
            series[name] = expand_series(text)
        except ValueError as exc:
            raise _TestError(f"series {name!r}: {exc}") from None

    sources_table = test.get("sources", {})
    if not isinstance(sources_table, dict):
        raise _TestError("sources: must be a table of \"source\" = \"0 1x3 0\"")
    sources: dict[str, list[float | None]] = {}
    for name, text in sources_table.items():
        try:
            sources[str(name)] = expand_series(text)
        except ValueError as exc:
            raise _TestError(f"sources {name!r}: {exc}") from None

    events: list[tuple[dt.timedelta, FedTargetChange]] = []
    for i, table in enumerate(_table_list(test, "events")):
        where = f"events[{i}]"
        _check_keys(
            where, table, {"at", "change", "upper", "lower", "date"}, {"at", "change", "upper"}
        )
        at = _offset(f"{where}.at", table["at"])
        date = table.get("date", (start + at).date())
        if isinstance(date, dt.datetime):
            date = date.date()
        if not isinstance(date, dt.date):
            raise _TestError(f"{where}.date: must be a TOML date like 2025-10-29")
        lower = _number(f"{where}.lower", table["lower"]) if "lower" in table else None
        events.append(
            (
                at,
                FedTargetChange(
                    date=date,
                    lower=lower,
                    upper=_number(f"{where}.upper", table["upper"]),
                    change=_number(f"{where}.change", table["change"]),
                ),
            )
        )

    silences: list[tuple[str, dt.timedelta, dt.timedelta]] = []
    for i, table in enumerate(_table_list(test, "silences")):
        where = f"silences[{i}]"
        _check_keys(where, table, {"alert", "from", "until"}, {"alert", "until"})
        if not isinstance(table["alert"], str) or not table["alert"]:
            raise _TestError(f"{where}.alert: must be a rule name or glob")
        silences.append(
            (
                table["alert"],
                _offset(f"{where}.from", table.get("from", "0s")),
                _offset(f"{where}.until", table["until"]),
            )
        )

    expects: list[_Expect] = []
    for i, table in enumerate(_table_list(test, "expect")):
        where = f"expect[{i}]"
        _check_keys(where, table, {"at", "alert", "state", "summary"}, {"at", "alert", "state"})
        alert = table["alert"]
        if alert not in rule_names and not str(alert).startswith(STALE_PREFIX):
            raise _TestError(f"{where}.alert: no rule named {alert!r}")
        if table["state"] not in STATES:
            raise _TestError(f"{where}.state: must be one of {', '.join(STATES)}")
        summary = table.get("summary")
        if summary is not None and not isinstance(summary, str):
            raise _TestError(f"{where}.summary: must be a string")
        expects.append(_Expect(_offset(f"{where}.at", table["at"]), alert, table["state"], summary))

    expected_notes: list[tuple[dt.timedelta, str, str, str | None]] | None = None
    if "notifications" in test:
        expected_notes = []
        for i, table in enumerate(_table_list(test, "notifications")):
            where = f"notifications[{i}]"
            _check_keys(where, table, {"at", "alert", "status", "summary"},
                        {"at", "alert", "status"})
            if table["status"] not in ("firing", "resolved"):
                raise _TestError(f"{where}.status: must be firing or resolved")
            alert = table["alert"]
            if alert not in rule_names and not str(alert).startswith(STALE_PREFIX):
                raise _TestError(f"{where}.alert: no rule named {alert!r}")
            expected_notes.append(
                (_offset(f"{where}.at", table["at"]), alert, table["status"], table.get("summary"))
            )

    stops = [e.at for e in expects] + [n[0] for n in expected_notes or []]
    if not stops:
        raise _TestError("nothing to check: add [[tests.expect]] or [[tests.notifications]]")
    end = max(stops)
    steps = int(end / interval)
    if steps > MAX_STEPS:
        raise _TestError(
            f"{steps} evaluations to reach {format_offset(end)}: use a longer interval"
        )

    engine = AlertEngine(rules, None)
    for matcher, begin, until in silences:
        engine.silence(matcher, start + until, "rule test", "rules test", starts=start + begin)

    got_notes: list[tuple[dt.timedelta, Notification]] = []
    got_states: dict[int, dict[str, tuple[str, str]]] = {}
    pending = sorted(range(len(expects)), key=lambda i: expects[i].at)
    lines: list[str] = []
    for step in range(steps + 1):
        offset = step * interval
        now = start + offset
        snapshot = _snapshot(step, now, series, sources, [e for at, e in events if at <= offset])
        for note in engine.evaluate(snapshot, now):
            got_notes.append((offset, note))
        due = [i for i in pending if offset <= expects[i].at < offset + interval]
        if due:
            current = {s.rule: (s.state, s.summary) for s in engine.statuses(now)}
            for i in due:
                got_states[i] = current
        pending = [i for i in pending if i not in due]

    for i, expect in enumerate(expects):
        state, summary = got_states.get(i, {}).get(expect.alert, ("inactive", ""))
        problems = []
        if state != expect.state:
            problems.append((f"state: {expect.state}", f"state: {state}"))
        if expect.summary is not None and summary != expect.summary:
            problems.append((f"summary: {expect.summary}", f"summary: {summary}"))
        if problems:
            lines.append(f"expect at {format_offset(expect.at)}, alert {expect.alert}:")
            for want, got in problems:
                lines.append(f"  - expected {want}")
                lines.append(f"  + got      {got}")

    if expected_notes is not None:
        want_lines = [_note_line(at, alert, status, summary)
                      for at, alert, status, summary in expected_notes]
        kept = [(at, note) for at, note in got_notes if at <= end]
        got_lines = []
        for j, (at, note) in enumerate(kept):
            # A summary is compared where the expected notification at that position gives one.
            wants_summary = j < len(expected_notes) and expected_notes[j][3] is not None
            got_lines.append(
                _note_line(at, note.rule, note.status, note.summary if wants_summary else None)
            )
        if want_lines != got_lines:
            lines.append(f"notifications up to {format_offset(end)} (- expected, + got):")
            context = len(want_lines) + len(got_lines)
            diff = difflib.unified_diff(want_lines, got_lines, lineterm="", n=context)
            lines.extend("  " + line for line in list(diff)[3:])
            if not want_lines:
                lines.append("  (expected none)")
            if not got_lines:
                lines.append("  (got none)")
    return lines


def _note_line(at: dt.timedelta, alert: str, status: str, summary: str | None) -> str:
    text = f"at {format_offset(at)}: {alert} {status}"
    return text + (f' "{summary}"' if summary is not None else "")


def _snapshot(
    step: int,
    now: dt.datetime,
    series: Mapping[str, list[float | None]],
    sources: Mapping[str, list[float | None]],
    events: Sequence[FedTargetChange],
) -> Snapshot:
    """A minimal Snapshot: each series, whatever its kind, as an IndicatorValue under its name
    (Snapshot.sample looks names up in `indicators` first), missing samples as stale None."""
    indicators: dict[str, IndicatorValue] = {}
    for name, values in series.items():
        value = values[step] if step < len(values) else None
        indicators[name] = IndicatorValue(
            name=name,
            label=name,
            value=value,
            as_of=now.date() if value is not None else None,
            unit="fraction",
            stale=value is None,
            reason=None if value is not None else "no sample in the test series",
        )
    health: dict[str, SourceHealth] = {}
    for name, values in sources.items():
        value = values[step] if step < len(values) else None
        if value is None:
            continue  # a missing sample: the source is not in this snapshot
        stale = bool(value)
        health[name] = SourceHealth(
            name=name,
            last_success=None if stale else now,
            last_attempt=now,
            last_error="stale in the rule test" if stale else None,
            consecutive_failures=1 if stale else 0,
            stale=stale,
        )
    return Snapshot(
        as_of=now.date(),
        generated_at=now,
        indicators=indicators,
        drawdowns={},
        events=tuple(events),
        sources=health,
    )


# -- the command ---------------------------------------------------------------------------------


def main_rules_test(
    path: Path | str, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """`bubble-monitor rules test PATH`: 0 all pass, 1 a test failed, 2 the file is unusable."""
    stdout = out if out is not None else sys.stdout
    stderr = err if err is not None else sys.stderr
    try:
        report = run_rule_tests(Path(path))
    except InputError as exc:
        print(f"rules test: {exc}", file=stderr)
        return 2
    print(report.format(), file=stdout)
    return 0 if report.passed else 1

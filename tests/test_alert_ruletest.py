"""`bubble-monitor rules test`: notation, the shipped tests of every default rule, failing files."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest

from bubble_core.alerts.rules import load_rules
from bubble_core.alerts.ruletest import (
    builtin_tests_dir,
    expand_series,
    format_offset,
    main_rules_test,
    run_rule_tests,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rules"


@pytest.mark.parametrize(
    ("text", "samples"),
    [
        ("1+1x3", [1, 2, 3, 4]),
        ("5-1x2", [5, 4, 3]),
        ("0.3x2", [0.3, 0.3, 0.3]),
        ("0.38x0", [0.38]),
        ("_", [None]),
        ("_x2", [None, None, None]),
        ("stale 1", [None, 1]),
        ("1 _ 2", [1, None, 2]),
        ("-0.05+0.01x2", [-0.05, -0.04, -0.03]),
        ("-0.1-0.05x2", [-0.1, -0.15, -0.2]),
        ("1e-3 .5 +2", [0.001, 0.5, 2]),
        ("0.30 0.38x3 0.36x3 0.34x2", [0.30] + [0.38] * 4 + [0.36] * 4 + [0.34] * 3),
    ],
)
def test_expand_series(text: str, samples: list[float | None]) -> None:
    assert expand_series(text) == samples


@pytest.mark.parametrize("text", ["0.38x", "abc", "1+x2", "", "1 2 x3", "1x-2", "nan", "1,2"])
def test_bad_notation(text: str) -> None:
    with pytest.raises(ValueError):
        expand_series(text)


def test_format_offset() -> None:
    import datetime as dt

    assert format_offset(dt.timedelta(0)) == "0s"
    assert format_offset(dt.timedelta(hours=26, minutes=30)) == "1d2h30m"
    assert format_offset(dt.timedelta(seconds=90.5)) == "1m30s500ms"


def test_the_shipped_tests_of_the_default_rules_pass() -> None:
    report = run_rule_tests(builtin_tests_dir())
    assert report.passed, report.format()
    assert len(report.results) >= 10


def test_every_default_rule_has_a_shipped_test_that_fires_it() -> None:
    fired: set[str] = set()
    for file in builtin_tests_dir().glob("*.toml"):
        document = tomllib.loads(file.read_text("utf-8"))
        for test in document["tests"]:
            for note in test.get("notifications", []):
                if note["status"] == "firing":
                    fired.add(note["alert"])
    defaults = {rule.name for rule in load_rules([])}
    assert defaults - fired == set()


def test_the_issue_example_and_an_override_pass() -> None:
    for name in ("example_test.toml", "override_test.toml"):
        out = io.StringIO()
        assert main_rules_test(FIXTURES / name, out=out) == 0, out.getvalue()
        assert "0 failed" in out.getvalue()


def test_a_wrong_state_is_reported_with_a_diff() -> None:
    report = run_rule_tests(FIXTURES / "failing_state_test.toml")
    assert not report.passed
    assert [r.ok for r in report.results] == [False, True]
    (failure,) = report.failures
    assert failure.splitlines() == [
        "FAIL  failing_state_test.toml: wrong state: ConcentrationHigh is still pending at 2h",
        "    expect at 2h, alert ConcentrationHigh:",
        "      - expected state: firing",
        "      + got      state: pending",
    ]
    out = io.StringIO()
    assert main_rules_test(FIXTURES / "failing_state_test.toml", out=out) == 1
    assert "1 passed, 1 failed" in out.getvalue()


def test_a_wrong_notification_list_is_reported_with_a_diff() -> None:
    report = run_rule_tests(FIXTURES / "failing_notifications_test.toml")
    assert not report.passed
    first, second = report.failures
    assert "notifications up to 10h (- expected, + got):" in first
    assert "-at 1h: ConcentrationHigh firing" in first
    assert "+at 3h: ConcentrationHigh firing" in first
    assert "-at 10h: ConcentrationHigh resolved" in first
    assert "+at 9h: ConcentrationHigh resolved" in first
    # Crossing inside the clear band: one firing, never the resolution the file expects.
    assert "+at 2h: ConcentrationHigh firing" in second
    assert "-at 5h: ConcentrationHigh resolved" in second


def test_bad_series_and_unknown_alerts_fail_their_test_not_the_runner() -> None:
    out = io.StringIO()
    assert main_rules_test(FIXTURES / "bad_series_test.toml", out=out) == 1
    text = out.getvalue()
    assert "FAIL  bad_series_test.toml: bad notation" in text
    assert "series 'mag7_share_of_sp500': bad sample '0.38x'" in text
    assert "FAIL  bad_series_test.toml: unknown indicator" in text
    assert "series 'not_an_indicator': not a rule indicator" in text
    assert "expect[0].alert: no rule named 'NoSuchRule'" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("bad_rules_test.toml", "bad-rules.toml:rules[0](Broken).clear: must be >= threshold"),
        ("missing_rules_test.toml", "no-such-file.toml: no such file"),
        ("not_toml_test.toml", "not valid TOML"),
        ("does_not_exist_test.toml", "no such file"),
    ],
)
def test_an_unusable_file_exits_2_with_one_line(name: str, fragment: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main_rules_test(FIXTURES / name, out=out, err=err) == 2
    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    assert name in lines[0] and fragment in lines[0]
    assert out.getvalue() == ""


def test_file_level_mistakes(tmp_path: Path) -> None:
    cases = {
        'interval = "soon"\n[[tests]]\nname = "x"\n': "interval",
        'colour = "red"\n[[tests]]\nname = "x"\n': "colour: unknown key",
        'interval = "1h"\n': "needs at least one [[tests]]",
    }
    for index, (text, fragment) in enumerate(cases.items()):
        path = tmp_path / f"t{index}.toml"
        path.write_text(text)
        err = io.StringIO()
        assert main_rules_test(path, out=io.StringIO(), err=err) == 2
        assert fragment in err.getvalue()


def test_test_level_mistakes_are_reported_per_test(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        """
[[tests]]
name = "nothing to check"
[tests.series]
"bbb_yield" = "0.05"

[[tests]]
name = "bad state"
[[tests.expect]]
at = "0s"
alert = "BbbYieldAboveOracleDeal"
state = "burning"

[[tests]]
name = "bad at"
[[tests.expect]]
at = "tomorrow"
alert = "BbbYieldAboveOracleDeal"
state = "firing"

[[tests]]
name = "typo"
[[tests.expects]]
at = "0s"
"""
    )
    report = run_rule_tests(path)
    messages = [r.lines[0] for r in report.results]
    assert "nothing to check" in messages[0]
    assert "state: must be one of inactive, pending, firing, recovering" in messages[1]
    assert "expect[0].at: bad duration 'tomorrow'" in messages[2]
    assert "unknown key 'expects'" in messages[3]


def test_empty_notification_list_asserts_none(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        """
interval = "1d"
[[tests]]
name = "a bear market is not quiet"
notifications = []
[tests.series]
"drawdown.^NDX" = "-0.3"
[[tests.expect]]
at = "0s"
alert = "NasdaqBearMarket"
state = "firing"
"""
    )
    (failure,) = run_rule_tests(path).failures
    assert "+at 0s: NasdaqBearMarket firing" in failure
    assert "(expected none)" in failure

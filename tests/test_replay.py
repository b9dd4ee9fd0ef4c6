"""The dot-com replay and the backtest, on the real bundled history."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import monitor
from bubble_core.alerts.rules import load_rules
from bubble_core.config import Config
from bubble_core.replay import ReplayBackend, run_backtest
from bubble_core.replay_data import load_nasdaq
from bubble_core.rule_samples import daily_rule_snapshots
from bubble_core.snapshots import compute_snapshot


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_replay_reaches_the_march_2000_high() -> None:
    backend = ReplayBackend(Config(), start=dt.date(2000, 3, 1), end=dt.date(2000, 3, 31))
    try:
        backend.advance(8)  # 2000-03-01 .. 2000-03-10
        assert backend.current_day == dt.date(2000, 3, 10)
        drawdown = backend.snapshot().drawdowns["^IXIC"]
        assert drawdown.peak == pytest.approx(5048.62)
        assert drawdown.peak_date == dt.date(2000, 3, 10)
        assert drawdown.drawdown == 0.0
    finally:
        backend.close()


def test_replay_reaches_the_october_2002_trough_with_the_right_drawdown() -> None:
    backend = ReplayBackend(Config(), start=dt.date(2002, 10, 1), end=dt.date(2002, 10, 31))
    try:
        while backend.current_day != dt.date(2002, 10, 9):
            backend.advance(1)
        snapshot = backend.snapshot()
        drawdown = snapshot.drawdowns["^IXIC"]
        assert drawdown.last == pytest.approx(1114.11)
        assert drawdown.peak_date == dt.date(2000, 3, 10)
        assert drawdown.drawdown == pytest.approx(drawdown.last / drawdown.peak - 1, abs=1e-12)
        assert drawdown.drawdown == pytest.approx(1114.11 / 5048.62 - 1, abs=1e-6)
        assert round(drawdown.drawdown, 4) == -0.7793
        assert drawdown.max_drawdown_trough_date == dt.date(2002, 10, 9)
        assert drawdown.recovery_date is None
        # The rates panel is fed too: the Fed's target in October 2002 was 1.75 %.
        assert snapshot.indicators["fed_target_upper"].value == pytest.approx(0.0175)
        assert snapshot.indicators["baa_yield"].value is not None
        # And what the replay cannot fill says why, rather than showing a number.
        assert snapshot.indicators["nvda_cap_to_gdp"].value is None
        assert snapshot.indicators["nvda_cap_to_gdp"].reason
    finally:
        backend.close()


def test_replay_controls_pause_step_and_speed() -> None:
    clock = FakeClock()
    backend = ReplayBackend(Config(), speed=2.0, clock=clock)
    try:
        backend.tick()
        first = backend.current_day
        assert first == dt.date(1999, 1, 4)
        clock.now += 1.5  # 3 days of credit at 2 days/s
        backend.tick()
        assert backend.replay.trading_days.index(backend.current_day) == 3
        assert backend.toggle_pause() is True
        clock.now += 10
        before = backend.current_day
        backend.tick()
        assert backend.current_day == before
        assert backend.mode().paused
        backend.step_day()
        backend.tick()
        assert backend.replay.trading_days.index(backend.current_day) == 4
        assert backend.change_speed(2) == 4.0
        assert backend.mode().mode == "REPLAY"
        assert backend.mode().simulated_date == backend.current_day
    finally:
        backend.close()


def test_replay_never_touches_the_live_store(tmp_path: Path, monkeypatch) -> None:
    live = tmp_path / "live.duckdb"
    monkeypatch.setenv("BUBBLE_MONITOR_DB", str(live))
    backend = ReplayBackend(Config(), start=dt.date(2001, 1, 2), end=dt.date(2001, 1, 31))
    try:
        backend.advance(5)
        backend.snapshot()
    finally:
        backend.close()
    assert not live.exists()
    assert list(tmp_path.iterdir()) == []


def _expected_transitions(
    closes: list[tuple[dt.date, float]], threshold: float, clear: float
) -> list[tuple[dt.date, str]]:
    """Brute force: fire at drawdown <= threshold, resolve only above clear."""
    peak = 0.0
    firing = False
    out: list[tuple[dt.date, str]] = []
    for day, close in closes:
        peak = max(peak, close)
        drawdown = close / peak - 1
        if not firing and drawdown <= threshold:
            firing = True
            out.append((day, "firing"))
        elif firing and drawdown > clear:
            firing = False
            out.append((day, "resolved"))
    return out


def test_default_drawdown_rules_fire_on_the_dates_the_data_implies() -> None:
    rules = {rule.name: rule for rule in load_rules([])}
    timeline = run_backtest(Config())
    closes = [
        (bar.date, bar.close)
        for bar in load_nasdaq()
        if dt.date(1999, 1, 4) <= bar.date <= dt.date(2003, 12, 31)
    ]
    for name in ("CompositeCorrection", "CompositeBearMarket", "CompositeDotcomScale"):
        rule = rules[name]
        assert rule.indicator == "drawdown.^IXIC"
        assert rule.for_ == dt.timedelta(0), "the brute force below assumes no pending period"
        expected = _expected_transitions(closes, rule.threshold, rule.clear)
        got = [(entry.date, entry.status) for entry in timeline if entry.rule == name]
        assert got == expected, name
    # The landmarks of the crash, as the data implies them.
    fired = {(e.rule, e.status): e.date for e in timeline}
    assert fired[("CompositeBearMarket", "firing")] == dt.date(2000, 4, 12)
    assert fired[("CompositeDotcomScale", "firing")] == dt.date(2002, 7, 23)
    cuts_2001 = [
        e for e in timeline
        if e.rule == "FedTargetChange" and e.date.year == 2001 and (e.value or 0) < 0
    ]
    assert len(cuts_2001) == 11


def test_backtest_json_is_stable_from_run_to_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert monitor.main(["backtest", "dotcom", "--json"]) == 0
    first = capsys.readouterr().out
    assert monitor.main(["backtest", "dotcom", "--json"]) == 0
    second = capsys.readouterr().out
    assert first == second
    document = json.loads(first)
    assert document["scenario"] == "dotcom"
    dates = [entry["date"] for entry in document["timeline"]]
    assert dates == sorted(dates)
    assert {"date", "rule", "status", "severity", "value", "summary"} <= set(
        document["timeline"][0]
    )


def test_backtest_with_a_rules_file_adds_and_overrides(tmp_path: Path, capsys) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rules]]\nname = "HalfGone"\nindicator = "drawdown.^IXIC"\nop = "<="\n'
        'threshold = -0.5\nclear = -0.4\nseverity = "critical"\n'
        'summary = "half gone: {value:.1%}"\n'
    )
    assert monitor.main(["backtest", "dotcom", "--rules", str(rules)]) == 0
    out = capsys.readouterr().out
    assert "HalfGone" in out
    line = next(line for line in out.splitlines() if "HalfGone" in line and "FIRING" in line)
    closes = [(bar.date, bar.close) for bar in load_nasdaq() if bar.date.year >= 1999]
    first_half_gone = _expected_transitions(closes, -0.5, -0.4)[0]
    assert first_half_gone[1] == "firing"
    assert line.startswith(first_half_gone[0].isoformat())


def test_backtest_refuses_a_bad_rules_file(tmp_path: Path, capsys) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "X"\nindicator = "drawdown.^IXIC"\nop = "=<"\n')
    assert monitor.main(["backtest", "dotcom", "--rules", str(rules)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rules" in err[0]


def test_fast_rule_samples_agree_with_full_snapshots() -> None:
    """The backtest's one-pass samples equal what a snapshot computes on each day."""
    backend = ReplayBackend(Config(), start=dt.date(2001, 1, 2), end=dt.date(2001, 2, 28))
    try:
        backend.advance(len(backend.replay.trading_days))
        days = backend.replay.trading_days
        with backend.store.reader() as con:
            light = daily_rule_snapshots(con, days)
            for day, fast in zip(days, light, strict=True):
                full = compute_snapshot(con, Config(), day, fast.generated_at, {}, False)
                for name in (
                    "drawdown.^IXIC", "change_1d.^IXIC", "change_5d.^IXIC",
                    "fed_target_upper", "fed_target_lower", "baa_yield", "baa_aaa_spread",
                ):
                    fast_value, fast_stale, _ = fast.sample(name)
                    full_value, full_stale, _ = full.sample(name)
                    assert fast_value == pytest.approx(full_value, abs=1e-12), (day, name)
                    assert fast_stale == full_stale, (day, name)
                assert [e.key for e in fast.events] == [e.key for e in full.events], day
    finally:
        backend.close()


def test_replay_alert_history_lists_firings_newest_first() -> None:
    backend = ReplayBackend(Config(), start=dt.date(2000, 3, 1), end=dt.date(2000, 6, 30))
    try:
        backend.advance(len(backend.replay.trading_days))
        history = backend.snapshot().deliveries
        fired = [(r.ts.date(), r.rule) for r in history if r.status == "firing"]
        assert (dt.date(2000, 4, 12), "CompositeBearMarket") in fired
        assert (dt.date(2000, 3, 30), "CompositeCorrection") in fired
        assert [r.ts for r in history] == sorted((r.ts for r in history), reverse=True)
        assert all(r.channel == "in-app" and r.ok for r in history)
    finally:
        backend.close()

"""The alert state machine: table tests, hysteresis, restarts, stale data, events, silences."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bubble_core.alerts.engine import AlertEngine, Notification, cmd_silence
from bubble_core.alerts.rules import Rule, load_rules
from bubble_core.errors import InputError
from bubble_core.snapshot import (
    Drawdown,
    FedTargetChange,
    IndicatorValue,
    Snapshot,
    SourceHealth,
)
from bubble_core.store import Store

T0 = dt.datetime(2025, 11, 3, 14, 30)
HOUR = dt.timedelta(hours=1)
MISSING = object()


def rule(**changes: Any) -> Rule:
    table: dict[str, Any] = {
        "name": "ConcentrationHigh",
        "indicator": "mag7_share_of_sp500",
        "op": ">=",
        "threshold": 0.37,
        "repeat": "24h",
        "summary": "share {value:.2f}",
    }
    table.update(changes)
    table = {key: value for key, value in table.items() if value is not None}
    (built,) = load_rules([table], include_defaults=False)
    return built


def snap(
    values: dict[str, Any] | None = None,
    *,
    at: dt.datetime = T0,
    sources: dict[str, bool] | None = None,
    events: tuple[FedTargetChange, ...] = (),
    drawdowns: dict[str, float] | None = None,
) -> Snapshot:
    indicators = {}
    for name, value in (values or {}).items():
        stale = value is None or value is MISSING
        indicators[name] = IndicatorValue(
            name=name,
            label=name,
            value=None if value is MISSING else value,
            as_of=at.date(),
            unit="fraction",
            stale=stale,
            reason="missing" if stale else None,
        )
    dds = {
        symbol: Drawdown(
            symbol=symbol, last_date=at.date(), last=100 * (1 + depth),
            peak_date=dt.date(2025, 10, 29), peak=100.0, drawdown=depth, days_since_peak=5,
            max_drawdown=depth,
            max_drawdown_peak_date=None, max_drawdown_trough_date=None, recovery_date=None,
        )
        for symbol, depth in (drawdowns or {}).items()
    }
    health = {
        name: SourceHealth(
            name=name, last_success=None if stale else at, last_attempt=at,
            last_error="HTTP 503 from https://api.example.com/x?api_key=SEKRET" if stale else None,
            consecutive_failures=3 if stale else 0, stale=stale,
        )
        for name, stale in (sources or {}).items()
    }
    return Snapshot(
        as_of=at.date(), generated_at=at, indicators=indicators, drawdowns=dds, events=events,
        sources=health,
    )


def run(engine: AlertEngine, indicator: str, series: list[Any], step: dt.timedelta = HOUR,
        start: dt.datetime = T0) -> tuple[list[str], list[tuple[int, str]]]:
    states: list[str] = []
    notes: list[tuple[int, str]] = []
    for index, value in enumerate(series):
        now = start + index * step
        for note in engine.evaluate(snap({indicator: value}, at=now), now):
            notes.append((index, note.status))
        (status,) = [s for s in engine.statuses(now) if s.rule == engine.rules[0].name]
        states.append(status.state)
    return states, notes


F, P, OFF, R = "firing", "pending", "inactive", "recovering"

TABLE = [
    pytest.param(
        {"for": "2h"}, [0.40, 0.30, 0.30], [P, OFF, OFF], [],
        id="pending-returns-to-inactive-silently",
    ),
    pytest.param(
        {"for": "2h"}, [0.40, 0.40, 0.40, 0.40], [P, P, F, F], [(2, F)], id="for-then-fires"
    ),
    pytest.param({}, [0.40], [F], [(0, F)], id="no-for-fires-at-once"),
    pytest.param(
        {"for": "2h"}, [0.40, None, 0.40], [P, P, F], [(2, F)], id="missing-sample-keeps-pending"
    ),
    pytest.param(
        {"clear": 0.35}, [0.40, 0.36, 0.38, 0.36, 0.34], [F, F, F, F, OFF],
        [(0, F), (4, "resolved")],
        id="hysteresis-clear-band",
    ),
    pytest.param(
        {}, [0.40, 0.36, 0.40], [F, OFF, F], [(0, F), (1, "resolved"), (2, F)],
        id="default-clear-is-threshold",
    ),
    pytest.param(
        {"keep_firing_for": "2h"}, [0.40, 0.30, 0.40, 0.30, 0.30, 0.30], [F, R, F, R, R, OFF],
        [(0, F), (5, "resolved")], id="keep-firing-for-recovering",
    ),
    pytest.param(
        {"repeat": "3h"}, [0.40] * 7, [F] * 7, [(0, F), (3, F), (6, F)], id="repeat"
    ),
    pytest.param(
        {"clear": 0.35}, [0.40, None, MISSING, 0.30], [F, F, F, OFF], [(0, F), (3, "resolved")],
        id="no-data-keeps-firing",
    ),
    pytest.param(
        {"op": ">"}, [0.37, 0.371, 0.37], [OFF, F, OFF], [(1, F), (2, "resolved")], id="strict-op"
    ),
    pytest.param(
        {"indicator": "ai_basket_change_5d", "op": "<=", "threshold": -0.03, "clear": -0.02},
        [-0.01, -0.03, -0.025, -0.019], [OFF, F, F, OFF], [(1, F), (3, "resolved")],
        id="below-threshold-clear-above",
    ),
    pytest.param(
        {"for": "1h", "keep_firing_for": "1h", "clear": 0.35},
        [0.40, 0.40, 0.36, 0.34, 0.36, 0.30, 0.30], [P, F, F, R, F, R, OFF],
        [(1, F), (6, "resolved")], id="for-clear-and-keep-firing-together",
    ),
]


@pytest.mark.parametrize(("changes", "series", "states", "notes"), TABLE)
def test_state_machine_table(
    changes: dict[str, Any], series: list[Any], states: list[str], notes: list[tuple[int, str]]
) -> None:
    built = rule(**changes)
    engine = AlertEngine([built], None)
    got_states, got_notes = run(engine, built.indicator, series)
    assert got_states == states
    assert got_notes == notes


def test_a_hundred_crossings_inside_the_clear_band_notify_once() -> None:
    engine = AlertEngine([rule(clear=0.35)], None)
    series = [0.38, 0.36] * 100  # crosses the 0.37 threshold 199 times, never past 0.35
    _, notes = run(engine, "mag7_share_of_sp500", series, step=dt.timedelta(minutes=1))
    assert notes == [(0, "firing")]
    # Without a clear band every crossing would notify: the band is what stops the storm.
    flappy = AlertEngine([rule()], None)
    _, storm = run(flappy, "mag7_share_of_sp500", series, step=dt.timedelta(minutes=1))
    assert len(storm) == 200


def test_drawdown_rules_read_the_snapshot_drawdowns() -> None:
    rules = load_rules([])
    engine = AlertEngine(rules, None)
    notes = engine.evaluate(snap(drawdowns={"^NDX": -0.21, "KRE": -0.05}), T0)
    assert [(n.rule, n.status, n.severity) for n in notes] == [
        ("NasdaqCorrection", "firing", "warning"),
        ("NasdaqBearMarket", "firing", "critical"),
    ]
    bear = next(n for n in notes if n.rule == "NasdaqBearMarket")
    assert bear.summary == "NASDAQ-100 is -21.0% below its high: a bear market"
    assert bear.source == "A10" and bear.value == -0.21 and bear.at == T0
    assert bear.title == "[CRITICAL] NasdaqBearMarket"
    assert bear.body.endswith("(article A10)")


def test_restart_in_the_middle_of_for(tmp_path) -> None:
    store = Store(tmp_path / "bm.duckdb")
    built = rule(**{"for": "2h"})
    first = AlertEngine([built], store)
    assert first.evaluate(snap({built.indicator: 0.40}), T0) == []
    assert first.evaluate(snap({built.indicator: 0.40}), T0 + HOUR) == []
    del first  # the app stops an hour into the two-hour `for`

    second = AlertEngine([built], store)
    (status,) = second.statuses(T0 + HOUR)
    assert status.state == "pending" and status.since == T0
    notes = second.evaluate(snap({built.indicator: 0.40}, at=T0 + 2 * HOUR), T0 + 2 * HOUR)
    assert [(n.rule, n.status) for n in notes] == [("ConcentrationHigh", "firing")]


def test_restart_while_firing_does_not_notify_again(tmp_path) -> None:
    store = Store(tmp_path / "bm.duckdb")
    built = rule(repeat="6h")
    assert len(AlertEngine([built], store).evaluate(snap({built.indicator: 0.4}), T0)) == 1
    again = AlertEngine([built], store)
    for hours in range(1, 6):
        now = T0 + hours * HOUR
        assert again.evaluate(snap({built.indicator: 0.4}, at=now), now) == []
    reminder = AlertEngine([built], store).evaluate(snap({built.indicator: 0.4}), T0 + 6 * HOUR)
    assert [n.status for n in reminder] == ["firing"]
    history = store.query("SELECT from_state, to_state FROM alert_history ORDER BY ts")
    assert history == [("inactive", "firing")]


def test_a_viewer_reads_the_state_from_the_store(tmp_path) -> None:
    path = tmp_path / "bm.duckdb"
    built = rule()
    AlertEngine([built], Store(path)).evaluate(snap({built.indicator: 0.4}), T0)
    viewer = AlertEngine([built], Store(path, read_only=True))
    (status,) = viewer.statuses(T0 + HOUR)
    assert (status.state, status.value, status.summary) == ("firing", 0.4, "share 0.40")
    assert status.last_notified == T0 and status.since == T0


def test_one_writer_transaction_per_evaluation(tmp_path, monkeypatch) -> None:
    store = Store(tmp_path / "bm.duckdb")
    engine = AlertEngine(load_rules([]), store)
    opened = []
    original = store.writer

    def counting_writer():
        opened.append(1)
        return original()

    monkeypatch.setattr(store, "writer", counting_writer)
    engine.evaluate(
        snap({"mag7_share_of_sp500": 0.4}, drawdowns={"^NDX": -0.3}, sources={"yahoo": True},
             events=(FedTargetChange(T0.date(), 3.75, 4.0, -0.25),)),
        T0,
    )
    assert opened == [1]


def test_stale_sample_keeps_state_and_one_alert_per_source() -> None:
    rules = [
        rule(name="A", clear=0.35),
        rule(name="B", indicator="mag7_cap_to_gdp", threshold=0.74),
        rule(name="C", indicator="nvda_cap_to_gdp", threshold=0.1),
    ]
    engine = AlertEngine(rules, None)
    first = engine.evaluate(
        snap({"mag7_share_of_sp500": 0.40, "mag7_cap_to_gdp": 0.80, "nvda_cap_to_gdp": 0.05}), T0
    )
    assert [n.rule for n in first] == ["A", "B"]
    # The market data source breaks: every rule loses its data, one alert says why.
    later = T0 + HOUR
    broken = snap({"mag7_share_of_sp500": None, "mag7_cap_to_gdp": MISSING,
                   "nvda_cap_to_gdp": None}, at=later, sources={"yahoo": True, "fred": False})
    notes = engine.evaluate(broken, later)
    assert [(n.rule, n.status, n.kind) for n in notes] == [("SourceStale:yahoo", "firing", "stale")]
    assert "SEKRET" not in notes[0].summary and "api.example.com/****" in notes[0].summary
    states = {s.rule: s.state for s in engine.statuses(later)}
    assert states == {"A": "firing", "B": "firing", "C": "inactive", "SourceStale:yahoo": "firing"}
    assert engine.evaluate(broken, later + HOUR) == []
    fixed = snap({"mag7_share_of_sp500": 0.36, "mag7_cap_to_gdp": 0.80, "nvda_cap_to_gdp": 0.05},
                 at=later + 2 * HOUR, sources={"yahoo": False})
    assert [(n.rule, n.status) for n in engine.evaluate(fixed, later + 2 * HOUR)] == [
        ("SourceStale:yahoo", "resolved"),
    ]


def test_an_event_notifies_once_also_across_a_restart(tmp_path) -> None:
    store = Store(tmp_path / "bm.duckdb")
    rules = load_rules([])
    cut = FedTargetChange(dt.date(2025, 11, 3), 3.75, 4.00, -0.25)
    old = FedTargetChange(dt.date(2024, 12, 18), 4.25, 4.50, -0.25)
    engine = AlertEngine(rules, store)
    notes = engine.evaluate(snap(events=(old, cut)), T0)
    assert [(n.rule, n.status, n.kind, n.severity) for n in notes] == [
        ("FedTargetChange", "firing", "event", "info"),
    ]
    assert notes[0].summary == "The Fed moved its target by -0.25 pt to 3.75-4.00 % on 2025-11-03"
    assert notes[0].value == -0.25
    assert engine.evaluate(snap(events=(old, cut)), T0 + HOUR) == []
    restarted = AlertEngine(rules, store)
    assert restarted.evaluate(snap(events=(old, cut)), T0 + 2 * HOUR) == []
    hike = FedTargetChange(dt.date(2025, 12, 10), None, 4.25, 0.25)
    later = dt.datetime(2025, 12, 10, 20)
    (note,) = restarted.evaluate(snap(events=(old, cut, hike), at=later), later)
    assert note.summary == "The Fed moved its target by +0.25 pt to 4.25 % on 2025-12-10"
    assert store.query("SELECT count(*) FROM events_seen")[0][0] == 3


def test_silences_mute_notifications_keep_state_and_expire() -> None:
    built = rule(repeat="24h")
    engine = AlertEngine([built], None)
    silence = engine.silence("Concentration*", T0 + 2 * HOUR, "FOMC week", "me", starts=T0)
    assert silence.id == 1
    assert engine.evaluate(snap({built.indicator: 0.4}), T0) == []
    (status,) = engine.statuses(T0)
    assert status.state == "firing" and status.silenced_until == T0 + 2 * HOUR
    assert [s.matcher for s in engine.active_silences(T0 + HOUR)] == ["Concentration*"]
    assert engine.evaluate(snap({built.indicator: 0.4}), T0 + HOUR) == []
    # The silence ends by itself; the still-firing alert is notified then.
    assert engine.active_silences(T0 + 2 * HOUR) == []
    notes = engine.evaluate(snap({built.indicator: 0.4}), T0 + 2 * HOUR)
    assert [n.status for n in notes] == ["firing"]
    (status,) = engine.statuses(T0 + 2 * HOUR)
    assert status.silenced_until is None and status.last_notified == T0 + 2 * HOUR


def test_a_silenced_resolution_is_not_notified_and_unsilence() -> None:
    built = rule()
    engine = AlertEngine([built], None)
    assert len(engine.evaluate(snap({built.indicator: 0.4}), T0)) == 1
    engine.silence(built.name, T0 + 10 * HOUR, "", "me", starts=T0)
    assert engine.evaluate(snap({built.indicator: 0.3}), T0 + HOUR) == []
    assert engine.unsilence(built.name, T0 + 2 * HOUR) == 1
    assert engine.active_silences(T0 + 2 * HOUR) == []
    # A new episode after the silence ended notifies normally.
    assert [n.status for n in engine.evaluate(snap({built.indicator: 0.4}), T0 + 3 * HOUR)] == [
        "firing"
    ]


def test_cmd_silence_persists_and_the_engine_honours_it(tmp_path) -> None:
    store = Store(tmp_path / "bm.duckdb")
    built = rule()
    line = cmd_silence(store, "ConcentrationHigh", "4h", "earnings week", created_by="ann",
                       now=T0, known=[built.name])
    assert line == "Silenced ConcentrationHigh until 2025-11-03 18:30 UTC (4h): earnings week"
    engine = AlertEngine([built], store)
    (active,) = engine.active_silences(T0 + HOUR)
    assert (active.comment, active.created_by, active.ends) == ("earnings week", "ann",
                                                                T0 + 4 * HOUR)
    assert engine.evaluate(snap({built.indicator: 0.4}), T0 + HOUR) == []
    assert [n.status for n in engine.evaluate(snap({built.indicator: 0.4}), T0 + 4 * HOUR)] == [
        "firing"
    ]
    with pytest.raises(InputError, match="no alert rule matches"):
        cmd_silence(store, "Nope", "1h", "", known=[built.name])
    with pytest.raises(InputError, match="bad duration"):
        cmd_silence(store, "ConcentrationHigh", "soon", "")
    with pytest.raises(InputError, match="positive"):
        cmd_silence(store, "ConcentrationHigh", dt.timedelta(0), "")
    assert cmd_silence(store, "SourceStale:*", "1h", "", known=[built.name], now=T0).startswith(
        "Silenced SourceStale:* until"
    )


def test_template_errors_render_inline() -> None:
    built = rule(summary="{value:.1%} over {threshold:d}")
    (note,) = AlertEngine([built], None).evaluate(snap({built.indicator: 0.4}), T0)
    assert note.summary.startswith("<template error: ") and "'d'" in note.summary
    fed = load_rules(
        [{"name": "Fed", "indicator": "event.fed_target_change", "summary": "{lower:.2f}"}],
        include_defaults=False,
    )
    (event_note,) = AlertEngine(fed, None).evaluate(
        snap(events=(FedTargetChange(T0.date(), None, 4.0, 0.25),)), T0
    )
    assert event_note.summary.startswith("<template error: ")


def test_markup_looking_names_and_values_are_kept_literal() -> None:
    built = rule(name="[bold red]Boom[/]", summary="[link=http://x]{value}[/link] {indicator}")
    engine = AlertEngine([built], None)
    (note,) = engine.evaluate(snap({built.indicator: 0.4}), T0)
    assert note.rule == "[bold red]Boom[/]"
    assert note.summary == "[link=http://x]0.4[/link] mag7_share_of_sp500"
    assert note.title == "[WARNING] [bold red]Boom[/]"
    # A silence on a name with glob characters matches it literally.
    engine.silence("[bold red]Boom[/]", T0 + 48 * HOUR, "", "me", starts=T0)
    (status,) = engine.statuses(T0 + HOUR)
    assert status.silenced_until == T0 + 48 * HOUR


def test_statuses_list_every_rule_sorted_with_firing_first() -> None:
    engine = AlertEngine(load_rules([]), None)
    engine.evaluate(snap({"hy_yield": 0.11, "bbb_yield": 0.065}, drawdowns={"^NDX": -0.12}), T0)
    statuses = engine.statuses(T0)
    assert len(statuses) == 19
    assert [s.rule for s in statuses[:3]] == [
        "HighYieldAtXaiRecord", "BbbYieldAboveOracleDeal", "NasdaqCorrection",
    ]
    assert [s.state for s in statuses[:3]] == ["firing"] * 3
    assert all(s.state == "inactive" for s in statuses[3:])
    assert statuses[0].to_json()["since"] == "2025-11-03T14:30:00Z"


def test_aware_now_is_taken_as_utc() -> None:
    built = rule()
    engine = AlertEngine([built], None)
    aware = dt.datetime(2025, 11, 3, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    (note,) = engine.evaluate(snap({built.indicator: 0.4}), aware)
    assert note.at == T0


def test_notification_is_a_plain_record() -> None:
    note = Notification("R", "resolved", "critical", "ok now", 1.0, T0)
    assert note.title == "[RESOLVED] R" and note.body == "ok now" and note.kind == "rule"

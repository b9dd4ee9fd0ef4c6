"""Alert rules: the shipped defaults, user overrides, and validation errors that name the key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bubble_core.alerts.rules import (
    Rule,
    default_rule_tables,
    load_rules,
    render_summary,
    template_fields,
)
from bubble_core.errors import ConfigError

DEFAULT_NAMES = {
    "NvdaAboveDotcomSector",
    "NvdaCapToGdpArticle",
    "Mag7CapToGdp",
    "Mag7ShareOfSp500",
    "AiBasketWeeklyDrop",
    "FedTargetChange",
    "BbbYieldAboveOracleDeal",
    "HighYieldAtXaiRecord",
    "NasdaqCorrection",
    "NasdaqBearMarket",
    "CompositeCorrection",
    "CompositeBearMarket",
    "CompositeDotcomScale",
    "RegionalBanksDrawdown",
    "SoftBankDrawdown",
    "OracleDrawdown",
    "CoreWeaveDrawdown",
    "AmdDrawdown",
    "BroadcomDrawdown",
}


def by_name(rules: list[Rule]) -> dict[str, Rule]:
    return {rule.name: rule for rule in rules}


def test_defaults_are_the_article_threshold_ideas() -> None:
    rules = by_name(load_rules([]))
    assert set(rules) == DEFAULT_NAMES
    for rule in rules.values():
        assert rule.source and rule.source.startswith("A"), rule.name
        assert rule.description.startswith(rule.source + ":"), rule.name
        assert rule.origin == "default"
    expected = {
        "NvdaAboveDotcomSector": ("nvda_cap_to_gdp", ">=", 0.0967, "A4", "warning"),
        "NvdaCapToGdpArticle": ("nvda_cap_to_gdp", ">=", 0.168, "A1", "warning"),
        "Mag7CapToGdp": ("mag7_cap_to_gdp", ">=", 0.74, "A2", "warning"),
        "Mag7ShareOfSp500": ("mag7_share_of_sp500", ">=", 0.37, "A3", "warning"),
        "AiBasketWeeklyDrop": ("ai_basket_change_5d", "<=", -0.03, "A5", "warning"),
        "BbbYieldAboveOracleDeal": ("bbb_yield", ">=", 0.064, "A7", "warning"),
        "HighYieldAtXaiRecord": ("hy_yield", ">=", 0.105, "A7", "critical"),
        "NasdaqCorrection": ("drawdown.^NDX", "<=", -0.10, "A10", "warning"),
        "NasdaqBearMarket": ("drawdown.^NDX", "<=", -0.20, "A10", "critical"),
        "CompositeCorrection": ("drawdown.^IXIC", "<=", -0.10, "A10", "warning"),
        "CompositeBearMarket": ("drawdown.^IXIC", "<=", -0.20, "A10", "critical"),
        "CompositeDotcomScale": ("drawdown.^IXIC", "<=", -0.75, "A10", "critical"),
        "RegionalBanksDrawdown": ("drawdown.KRE", "<=", -0.20, "A8", "warning"),
        "SoftBankDrawdown": ("drawdown.9984.T", "<=", -0.20, "A9", "warning"),
        "OracleDrawdown": ("drawdown.ORCL", "<=", -0.20, "A9", "warning"),
        "CoreWeaveDrawdown": ("drawdown.CRWV", "<=", -0.20, "A9", "warning"),
        "AmdDrawdown": ("drawdown.AMD", "<=", -0.20, "A9", "warning"),
        "BroadcomDrawdown": ("drawdown.AVGO", "<=", -0.20, "A9", "warning"),
    }
    for name, (indicator, op, threshold, source, severity) in expected.items():
        rule = rules[name]
        assert (rule.indicator, rule.op, rule.threshold, rule.source, rule.severity) == (
            indicator, op, threshold, source, severity,
        ), name
    assert rules["NasdaqBearMarket"].clear == -0.15
    assert rules["CompositeDotcomScale"].clear == -0.70
    fed = rules["FedTargetChange"]
    assert fed.is_event and fed.op is None and fed.severity == "info" and fed.source == "A6"


def test_user_rules_override_key_by_key_add_and_disable() -> None:
    rules = by_name(
        load_rules(
            [
                {"name": "NasdaqBearMarket", "threshold": -0.25, "repeat": "12h"},
                {"name": "NasdaqCorrection", "enabled": False},
                {
                    "name": "TenYearHigh",
                    "indicator": "treasury_10y",
                    "op": ">",
                    "threshold": 0.05,
                    "summary": "10y at {value:.2%}",
                },
            ],
            where="my.toml",
        )
    )
    bear = rules["NasdaqBearMarket"]
    assert bear.threshold == -0.25 and bear.clear == -0.15 and bear.severity == "critical"
    assert bear.repeat == dt.timedelta(hours=12) and bear.origin == "my.toml"
    assert "NasdaqCorrection" not in rules
    added = rules["TenYearHigh"]
    assert added.clear == 0.05 and added.for_ == dt.timedelta(0) and added.severity == "warning"
    assert added.repeat == dt.timedelta(hours=24)


def test_without_defaults_only_user_rules() -> None:
    rules = load_rules(
        [{"name": "X", "indicator": "drawdown.NVDA", "op": "<", "threshold": -0.3}],
        include_defaults=False,
    )
    assert [rule.name for rule in rules] == ["X"]


def test_default_tables_validate_with_their_own_place() -> None:
    tables = default_rule_tables()
    assert len(tables) == len(DEFAULT_NAMES)
    assert all("source" in table and "description" in table for table in tables)


GOOD: dict[str, Any] = {
    "name": "R",
    "indicator": "mag7_share_of_sp500",
    "op": ">=",
    "threshold": 0.37,
}


@pytest.mark.parametrize(
    ("changes", "place", "fragment"),
    [
        ({"colour": "red"}, "config.toml:rules[0](R).colour", "unknown key"),
        ({"name": None}, "config.toml:rules[0].name", "missing"),
        ({"indicator": None}, "config.toml:rules[0](R).indicator", "missing"),
        ({"indicator": "nvda_cap_to_gpd"}, "config.toml:rules[0](R).indicator",
         "unknown indicator"),
        ({"op": None}, "config.toml:rules[0](R).op", "missing"),
        ({"op": "=>"}, "config.toml:rules[0](R).op", "one of"),
        ({"threshold": None}, "config.toml:rules[0](R).threshold", "missing"),
        ({"threshold": "high"}, "config.toml:rules[0](R).threshold", "number"),
        ({"threshold": True}, "config.toml:rules[0](R).threshold", "number"),
        ({"clear": 0.40}, "config.toml:rules[0](R).clear", "<= threshold"),
        ({"op": "<=", "threshold": -0.2, "clear": -0.3}, "config.toml:rules[0](R).clear",
         ">= threshold"),
        ({"clear": "low"}, "config.toml:rules[0](R).clear", "number"),
        ({"for": "2 days"}, "config.toml:rules[0](R).for", "bad duration"),
        ({"keep_firing_for": 5}, "config.toml:rules[0](R).keep_firing_for", "duration"),
        ({"repeat": "1x"}, "config.toml:rules[0](R).repeat", "bad duration"),
        ({"repeat": "10s"}, "config.toml:rules[0](R).repeat", "at least"),
        ({"severity": "fatal"}, "config.toml:rules[0](R).severity", "info, warning, critical"),
        ({"summary": "{value:.1%} vs {limit}"}, "config.toml:rules[0](R).summary",
         "unknown field {limit}"),
        ({"summary": "{value"}, "config.toml:rules[0](R).summary", "bad template"),
        ({"summary": "{} positional"}, "config.toml:rules[0](R).summary", "unknown field"),
        ({"enabled": "no"}, "config.toml:rules[0](R).enabled", "true or false"),
        ({"source": 10}, "config.toml:rules[0](R).source", "string"),
        ({"name": "SourceStale:x"}, "config.toml:rules[0](SourceStale:x).name", "reserved"),
    ],
)
def test_validation_errors_name_the_key(changes: dict[str, Any], place: str, fragment: str) -> None:
    table = {**GOOD, **changes}
    table = {key: value for key, value in table.items() if value is not None}
    with pytest.raises(ConfigError) as caught:
        load_rules([table], include_defaults=False)
    assert caught.value.place == place
    assert fragment in caught.value.message


def test_error_place_names_the_index_and_the_rule() -> None:
    rules = [dict(GOOD, name="A"), dict(GOOD, name="B"), {"name": "NasdaqBearMarket",
                                                         "threshold": "deep"}]
    with pytest.raises(ConfigError) as caught:
        load_rules(rules, where="config.toml")
    assert caught.value.place == "config.toml:rules[2](NasdaqBearMarket).threshold"
    assert str(caught.value).startswith("config.toml:rules[2](NasdaqBearMarket).threshold: ")


def test_override_that_breaks_the_clear_band_is_reported_on_the_user_rule() -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules([{"name": "NasdaqBearMarket", "threshold": -0.10}])
    assert caught.value.place == "config.toml:rules[0](NasdaqBearMarket).clear"


def test_duplicate_user_rule_names() -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules([dict(GOOD), dict(GOOD)], include_defaults=False)
    assert caught.value.place == "config.toml:rules[1](R).name"
    assert "duplicate" in caught.value.message


def test_event_rules_take_no_threshold() -> None:
    (rule,) = load_rules(
        [{"name": "Fed", "indicator": "event.fed_target_change", "summary": "{change:+.2f}"}],
        include_defaults=False,
    )
    assert rule.is_event and rule.threshold is None
    with pytest.raises(ConfigError) as caught:
        load_rules(
            [{"name": "Fed", "indicator": "event.fed_target_change", "threshold": 0.25}],
            include_defaults=False,
        )
    assert caught.value.place == "config.toml:rules[0](Fed).threshold"
    with pytest.raises(ConfigError) as caught:
        load_rules(
            [{"name": "Fed", "indicator": "event.fed_target_change", "summary": "{threshold}"}],
            include_defaults=False,
        )
    assert caught.value.place == "config.toml:rules[0](Fed).summary"


def test_symbol_indicators_are_accepted() -> None:
    for indicator in ("drawdown.9984.T", "change_5d.NVDA", "change_1d.KRE"):
        (rule,) = load_rules(
            [dict(GOOD, indicator=indicator, op="<", threshold=-0.1)], include_defaults=False
        )
        assert rule.indicator == indicator


def test_hysteresis_predicates() -> None:
    (low,) = load_rules(
        [{"name": "L", "indicator": "drawdown.X", "op": "<=", "threshold": -0.2, "clear": -0.15}],
        include_defaults=False,
    )
    assert low.breached(-0.2) and not low.breached(-0.19)
    assert low.holds(-0.15) and low.holds(-0.19) and not low.holds(-0.149)
    (high,) = load_rules([dict(GOOD, op=">", clear=0.35)], include_defaults=False)
    assert high.breached(0.371) and not high.breached(0.37)
    assert high.holds(0.36) and not high.holds(0.35)


def test_render_summary_errors_inline() -> None:
    assert render_summary("{value:.1%}", {"value": 0.1234}) == "12.3%"
    rendered = render_summary("{value:.1%}", {"value": None})
    assert rendered.startswith("<template error: ") and rendered.endswith(">")
    assert render_summary("{nope}", {"value": 1}) == "<template error: unknown field 'nope'>"
    assert render_summary("[b]{value}[/b]", {"value": 1}) == "[b]1[/b]"


def test_template_fields() -> None:
    assert template_fields("{value:.1%} {threshold} {indicator!r} {value:{width}}") == [
        "value", "threshold", "indicator", "value", "width",
    ]

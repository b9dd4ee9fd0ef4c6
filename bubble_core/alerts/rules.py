"""Alert rules: the shipped defaults, the user's [[rules]], and their validation.

A rule compares one indicator with a threshold:

    [[rules]]
    name = "NasdaqBearMarket"
    indicator = "drawdown.^NDX"   # a status key, drawdown.SYM, change_1d.SYM, change_5d.SYM
    op = "<="                     # < <= > >=
    threshold = -0.20
    clear = -0.15                 # hysteresis: a firing alert resolves only past this value
    for = "2d"                    # pending this long before firing (default 0s)
    keep_firing_for = "0s"        # stays firing ("recovering") this long once past `clear`
    severity = "critical"         # info | warning | critical
    repeat = "24h"                # re-notify a still-firing alert no sooner than this
    summary = "NASDAQ-100 is {value:.1%} below its high"
    source = "A10"                # row of shared/reference/article-figures.md
    description = "..."
    enabled = true                # false switches a default rule off

or, for an event (notified once per event), `indicator = "event.fed_target_change"` with no
op/threshold/clear.

The defaults ship in bubble_core/data/default_rules.toml. A user rule whose name is a default's
overrides it key by key (so `threshold = -0.25` alone moves only the threshold); any other name
adds a rule.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
import string
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bubble_core.durations import parse_duration
from bubble_core.errors import ConfigError
from bubble_core.indicator_catalog import EVENT_NAMES, INDICATOR_NAMES, is_known_indicator

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
# Synthetic alerts the engine raises itself, one per stale data source.
STALE_PREFIX = "SourceStale:"

ALLOWED_KEYS: frozenset[str] = frozenset(
    {
        "name",
        "indicator",
        "op",
        "threshold",
        "clear",
        "for",
        "keep_firing_for",
        "severity",
        "repeat",
        "summary",
        "source",
        "description",
        "enabled",
    }
)
THRESHOLD_FIELDS: frozenset[str] = frozenset(
    {"value", "threshold", "clear", "indicator", "op", "name", "source"}
)
EVENT_FIELDS: frozenset[str] = frozenset(
    {"value", "indicator", "name", "source", "change", "lower", "upper", "range", "date"}
)
DEFAULT_REPEAT = dt.timedelta(hours=24)
DEFAULT_THRESHOLD_SUMMARY = "{indicator} is {value:.4g} ({op} {threshold:.4g})"
DEFAULT_EVENT_SUMMARY = "Fed target changed by {change:+.2f} pt to {range} on {date}"
MIN_REPEAT = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    indicator: str
    op: str | None  # None for an event rule
    threshold: float | None
    clear: float | None  # defaults to threshold
    for_: dt.timedelta
    keep_firing_for: dt.timedelta
    severity: str
    repeat: dt.timedelta
    summary: str
    source: str | None = None
    description: str = ""
    origin: str = "default"  # "default", or the config file it came from

    @property
    def is_event(self) -> bool:
        return self.indicator.startswith("event.")

    def breached(self, value: float) -> bool:
        """The firing condition: `value op threshold` (judged while inactive or pending)."""
        if self.op is None or self.threshold is None:
            return False
        return OPS[self.op](value, self.threshold)

    def holds(self, value: float) -> bool:
        """The staying condition while firing: `value op clear`; false means past `clear`.

        For `<=`, a firing alert resolves once value > clear; for `>=`, once value < clear.
        """
        if self.op is None:
            return False
        level = self.clear if self.clear is not None else self.threshold
        if level is None:
            return False
        return OPS[self.op](value, level)

    def fields(self, value: float | None) -> dict[str, Any]:
        """The names a summary template may use, for a threshold rule."""
        return {
            "value": value,
            "threshold": self.threshold,
            "clear": self.clear,
            "indicator": self.indicator,
            "op": self.op or "",
            "name": self.name,
            "source": self.source or "",
        }


def render_summary(template: str, fields: Mapping[str, Any]) -> str:
    """`template.format_map(fields)`; an error comes back inline, never raised."""
    try:
        return template.format_map(_StrictFields(fields))
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, KeyError):
            detail = f"unknown field {exc}"
        return f"<template error: {detail}>"


class _StrictFields(dict):
    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


# -- loading -----------------------------------------------------------------------------------


def default_rule_tables() -> list[dict[str, Any]]:
    """The raw [[rules]] tables of bubble_core/data/default_rules.toml."""
    text = resources.files("bubble_core").joinpath("data/default_rules.toml").read_text("utf-8")
    document = tomllib.loads(text)
    tables = document.get("rules", [])
    return [dict(table) for table in tables]


def load_rules(
    user_rules: Sequence[Mapping[str, Any]],
    where: str = "config.toml",
    include_defaults: bool = True,
) -> list[Rule]:
    """Validated rules: the defaults (unless excluded) overridden or extended by `user_rules`.

    Every problem raises ConfigError naming the place, e.g.
    `config.toml:rules[2](NasdaqBearMarket).threshold`. Disabled rules are left out.
    """
    merged: dict[str, tuple[dict[str, Any], str]] = {}
    if include_defaults:
        for index, table in enumerate(default_rule_tables()):
            name = table.get("name")
            place = f"default_rules.toml:rules[{index}]" + (f"({name})" if name else "")
            merged[str(name)] = (table, place)
    user_names: set[str] = set()
    if not isinstance(user_rules, Sequence) or isinstance(user_rules, (str, bytes)):
        raise ConfigError(f"{where}:rules", "must be an array of tables ([[rules]])")
    for index, table in enumerate(user_rules):
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}:rules[{index}]", "must be a table")
        name = table.get("name")
        label = f"({name})" if isinstance(name, str) and name else ""
        place = f"{where}:rules[{index}]{label}"
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{place}.name", "missing key (every rule needs a name)")
        if name in user_names:
            raise ConfigError(f"{place}.name", f"duplicate rule name {name!r}")
        user_names.add(name)
        unknown = sorted(set(table) - ALLOWED_KEYS)
        if unknown:
            raise ConfigError(
                f"{place}.{unknown[0]}",
                f"unknown key (rule keys: {', '.join(sorted(ALLOWED_KEYS))})",
            )
        if name in merged:
            base, _ = merged[name]
            combined = {**base, **dict(table)}
            if "indicator" in table and _is_event(table["indicator"]) != _is_event(
                base.get("indicator")
            ):
                # An override that changes the kind of rule drops the keys of the other kind.
                combined = dict(table)
            merged[name] = (combined, place)
        else:
            merged[name] = (dict(table), place)
    rules: list[Rule] = []
    for table, place in merged.values():
        rule = _build(table, place)
        if rule is not None:
            rules.append(rule)
    return rules


def _is_event(indicator: Any) -> bool:
    return isinstance(indicator, str) and indicator.startswith("event.")


def _number(place: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{place}.{key}", f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{place}.{key}", "must be a finite number")
    return float(value)


def _duration(
    place: str, key: str, table: Mapping[str, Any], default: dt.timedelta
) -> dt.timedelta:
    if key not in table:
        return default
    try:
        return parse_duration(table[key])
    except ValueError as exc:
        raise ConfigError(f"{place}.{key}", str(exc)) from None


def _text(place: str, key: str, table: Mapping[str, Any], default: str) -> str:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, str):
        raise ConfigError(f"{place}.{key}", f"must be a string, got {value!r}")
    return value


def _check_name(place: str, name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{place}.name", "missing key (every rule needs a name)")
    if len(name) > 100:
        raise ConfigError(f"{place}.name", "must be at most 100 characters")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in name):
        raise ConfigError(f"{place}.name", "must not contain control characters")
    if name.startswith(STALE_PREFIX):
        raise ConfigError(f"{place}.name", f"names starting with {STALE_PREFIX!r} are reserved")
    return name


def template_fields(template: str) -> list[str]:
    """The top-level field names a format template uses; ValueError when it does not parse."""
    names: list[str] = []
    for _, field_name, format_spec, _ in string.Formatter().parse(template):
        if field_name is None:
            continue
        root = re.split(r"[.\[]", field_name, maxsplit=1)[0]
        names.append(root)
        if format_spec and "{" in format_spec:
            names.extend(template_fields(format_spec))
    return names


def _check_template(place: str, template: str, allowed: frozenset[str]) -> None:
    try:
        used = template_fields(template)
    except ValueError as exc:
        raise ConfigError(f"{place}.summary", f"bad template ({exc})") from None
    for name in used:
        if name not in allowed:
            shown = name if name else "(positional {})"
            raise ConfigError(
                f"{place}.summary",
                f"unknown field {{{shown}}} (fields: {', '.join(sorted(allowed))})",
            )


def _build(table: Mapping[str, Any], place: str) -> Rule | None:
    unknown = sorted(set(table) - ALLOWED_KEYS)
    if unknown:
        raise ConfigError(
            f"{place}.{unknown[0]}", f"unknown key (rule keys: {', '.join(sorted(ALLOWED_KEYS))})"
        )
    name = _check_name(place, table.get("name"))
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{place}.enabled", f"must be true or false, got {enabled!r}")
    if "indicator" not in table:
        raise ConfigError(f"{place}.indicator", "missing key")
    indicator = table["indicator"]
    if not isinstance(indicator, str) or not is_known_indicator(indicator):
        raise ConfigError(
            f"{place}.indicator",
            f"unknown indicator {indicator!r} (use a status key such as "
            f"{', '.join(sorted(INDICATOR_NAMES)[:4])}, ..., drawdown.SYM, change_1d.SYM, "
            f"change_5d.SYM, or {', '.join(sorted(EVENT_NAMES))})",
        )
    severity = table.get("severity", "warning")
    if severity not in SEVERITIES:
        raise ConfigError(
            f"{place}.severity", f"must be one of {', '.join(SEVERITIES)}, got {severity!r}"
        )
    source = table.get("source")
    if source is not None and not isinstance(source, str):
        raise ConfigError(f"{place}.source", f"must be a string, got {source!r}")
    description = _text(place, "description", table, "")
    for_ = _duration(place, "for", table, dt.timedelta(0))
    keep = _duration(place, "keep_firing_for", table, dt.timedelta(0))
    repeat = _duration(place, "repeat", table, DEFAULT_REPEAT)
    if repeat < MIN_REPEAT:
        raise ConfigError(f"{place}.repeat", "must be at least 1m (a shorter one is a storm)")

    if _is_event(indicator):
        for key in ("op", "threshold", "clear", "for", "keep_firing_for"):
            if key in table:
                raise ConfigError(f"{place}.{key}", "not used by an event rule (events fire once)")
        summary = _text(place, "summary", table, DEFAULT_EVENT_SUMMARY)
        _check_template(place, summary, EVENT_FIELDS)
        op = threshold = clear = None
    else:
        if "op" not in table:
            raise ConfigError(f"{place}.op", "missing key (one of < <= > >=)")
        op = table["op"]
        if op not in OPS:
            raise ConfigError(f"{place}.op", f"must be one of < <= > >=, got {op!r}")
        if "threshold" not in table:
            raise ConfigError(f"{place}.threshold", "missing key")
        threshold = _number(place, "threshold", table["threshold"])
        clear = _number(place, "clear", table["clear"]) if "clear" in table else threshold
        if op in ("<", "<=") and clear < threshold:
            raise ConfigError(
                f"{place}.clear",
                f"must be >= threshold ({threshold:g}) for op {op}: the alert resolves only "
                f"once the value is back above `clear`",
            )
        if op in (">", ">=") and clear > threshold:
            raise ConfigError(
                f"{place}.clear",
                f"must be <= threshold ({threshold:g}) for op {op}: the alert resolves only "
                f"once the value is back below `clear`",
            )
        summary = _text(place, "summary", table, DEFAULT_THRESHOLD_SUMMARY)
        _check_template(place, summary, THRESHOLD_FIELDS)
    if not enabled:
        return None
    origin = "default" if place.startswith("default_rules.toml") else place.split(":rules[")[0]
    return Rule(
        name=name,
        indicator=indicator,
        op=op,
        threshold=threshold,
        clear=clear,
        for_=for_,
        keep_firing_for=keep,
        severity=str(severity),
        repeat=repeat,
        summary=summary,
        source=source,
        description=description,
        origin=origin,
    )

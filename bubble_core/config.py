"""The TOML config: where it lives, what it may hold, and one-line errors that name the key.

Discovery is one function (`config_path`), the seam tests patch: `--config`, then
`$BUBBLE_MONITOR_CONFIG`, then the platformdirs user config dir. A missing file means defaults.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bubble_core.durations import parse_duration
from bubble_core.errors import ConfigError

MAG7: tuple[str, ...] = ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA")
INDICES: tuple[str, ...] = ("^NDX", "^IXIC", "^GSPC")
EXTRAS: tuple[str, ...] = ("KRE", "ORCL", "AMD", "AVGO", "CRWV", "9984.T")
# US AI stocks for A5: the Mag-7 plus the chip and cloud names the article cites.
AI_BASKET: tuple[str, ...] = MAG7 + ("AMD", "AVGO", "ORCL", "CRWV")
FRED_SERIES: tuple[str, ...] = (
    "DFF",
    "DFEDTARU",
    "DFEDTARL",
    "GDP",
    "DGS10",
    "BAMLC0A4CBBBEY",
    "BAMLH0A0HYM2EY",
    "BAMLH0A0HYM2",
)
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
TERMINAL_METHODS: tuple[str, ...] = ("auto", "osc9", "osc777", "osc99", "bell", "off")


@dataclass(frozen=True)
class WatchConfig:
    mag7: tuple[str, ...] = MAG7
    indices: tuple[str, ...] = INDICES
    extras: tuple[str, ...] = EXTRAS
    ai_basket: tuple[str, ...] = AI_BASKET
    intraday: bool = True

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol polled, in a stable order, each once."""
        seen: dict[str, None] = {}
        for symbol in (*self.mag7, *self.indices, *self.extras, *self.ai_basket):
            seen.setdefault(symbol, None)
        return tuple(seen)

    @property
    def equities(self) -> tuple[str, ...]:
        """Symbols that have shares outstanding (indices do not)."""
        return tuple(s for s in self.symbols if not s.startswith("^"))


@dataclass(frozen=True)
class CadenceConfig:
    prices_open: dt.timedelta = dt.timedelta(minutes=1)
    prices_closed: dt.timedelta = dt.timedelta(minutes=30)
    fred: dt.timedelta = dt.timedelta(hours=1)
    nyfed: dt.timedelta = dt.timedelta(hours=1)
    shares: dt.timedelta = dt.timedelta(days=1)


@dataclass(frozen=True)
class SourcesConfig:
    timeout: dt.timedelta = dt.timedelta(seconds=20)
    max_backoff: dt.timedelta = dt.timedelta(minutes=30)
    fred_series: tuple[str, ...] = FRED_SERIES
    yahoo: bool = True
    fred: bool = True
    nyfed: bool = True


@dataclass(frozen=True)
class IndicatorConfig:
    # S&P 500 total market cap per index point (the index divisor), USD. See README, "Method".
    sp500_cap_per_point: float = 8.69e9


@dataclass(frozen=True)
class NotifyConfig:
    urls: tuple[str, ...] = ()
    min_severity: str = "warning"
    # Per-URL minimum severity, keyed by the URL as written in `urls`.
    url_min_severity: dict[str, str] = field(default_factory=dict)
    terminal: str = "auto"
    bell: bool = True
    timeout: dt.timedelta = dt.timedelta(seconds=15)


@dataclass(frozen=True)
class Config:
    watch: WatchConfig = WatchConfig()
    cadence: CadenceConfig = CadenceConfig()
    sources: SourcesConfig = SourcesConfig()
    indicators: IndicatorConfig = IndicatorConfig()
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    # Raw [[rules]] tables; bubble_core.alerts validates them against the indicator names.
    rules: tuple[dict[str, Any], ...] = ()
    path: Path | None = None
    warnings: tuple[str, ...] = ()


def config_path(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("BUBBLE_MONITOR_CONFIG")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path("bubble-monitor", appauthor=False) / "config.toml"


class _Reader:
    """Takes keys out of one TOML table, so what is left over is an unknown key."""

    def __init__(self, where: str, table: Any, section: str) -> None:
        self.where = where
        self.section = section
        if not isinstance(table, dict):
            raise ConfigError(f"{where}:{section}", "must be a table")
        self.table = dict(table)

    def place(self, key: str) -> str:
        return f"{self.where}:{self.section}.{key}" if self.section else f"{self.where}:{key}"

    def done(self) -> None:
        for key in self.table:
            raise ConfigError(self.place(key), "unknown key")

    def symbols(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        if key not in self.table:
            return default
        value = self.table.pop(key)
        if not isinstance(value, list) or not all(
            isinstance(v, str) and v.strip() and len(v) <= 32 and v == v.strip() for v in value
        ):
            raise ConfigError(self.place(key), "must be a list of symbols (non-empty strings)")
        return tuple(value)

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self.table:
            return default
        value = self.table.pop(key)
        if not isinstance(value, bool):
            raise ConfigError(self.place(key), f"must be true or false, got {value!r}")
        return value

    def duration(self, key: str, default: dt.timedelta, minimum: float = 0.0) -> dt.timedelta:
        if key not in self.table:
            return default
        value = self.table.pop(key)
        try:
            parsed = parse_duration(value)
        except ValueError as exc:
            raise ConfigError(self.place(key), str(exc)) from None
        if parsed.total_seconds() < minimum:
            raise ConfigError(self.place(key), f"must be at least {minimum:g}s")
        return parsed

    def number(self, key: str, default: float, positive: bool = True) -> float:
        if key not in self.table:
            return default
        value = self.table.pop(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(self.place(key), f"must be a number, got {value!r}")
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise ConfigError(self.place(key), "must be a finite number") from None
        if not math.isfinite(number):
            raise ConfigError(self.place(key), "must be a finite number")
        if positive and number <= 0:
            raise ConfigError(self.place(key), "must be a positive number")
        return number

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        if key not in self.table:
            return default
        value = self.table.pop(key)
        if value not in choices:
            raise ConfigError(
                self.place(key), f"must be one of {', '.join(choices)}, got {value!r}"
            )
        return str(value)


def _validate_url(place: str, url: Any) -> str:
    if not isinstance(url, str) or "://" not in url or url.startswith("://"):
        raise ConfigError(place, "must be a notification URL like ntfy://topic")
    scheme = url.split("://", 1)[0]
    if not scheme.replace("+", "").replace("-", "").isalnum():
        raise ConfigError(place, f"bad URL scheme {scheme!r}")
    if any(ch.isspace() for ch in url):
        raise ConfigError(place, "URL contains white space")
    return url


def parse_config(text: str, where: str = "config.toml") -> Config:
    """Validate a config document. Every error is a ConfigError naming `where:key`."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, f"not valid TOML ({exc})") from None
    top = _Reader(where, document, "")

    watch_reader = _Reader(where, top.table.pop("watch", {}), "watch")
    mag7 = watch_reader.symbols("mag7", MAG7)
    watch = WatchConfig(
        mag7=mag7,
        indices=watch_reader.symbols("indices", INDICES),
        extras=watch_reader.symbols("extras", EXTRAS),
        ai_basket=watch_reader.symbols("ai_basket", AI_BASKET),
        intraday=watch_reader.boolean("intraday", True),
    )
    watch_reader.done()

    cadence_reader = _Reader(where, top.table.pop("cadence", {}), "cadence")
    defaults = CadenceConfig()
    cadence = CadenceConfig(
        prices_open=cadence_reader.duration("prices_open", defaults.prices_open, minimum=15),
        prices_closed=cadence_reader.duration("prices_closed", defaults.prices_closed, minimum=60),
        fred=cadence_reader.duration("fred", defaults.fred, minimum=300),
        nyfed=cadence_reader.duration("nyfed", defaults.nyfed, minimum=300),
        shares=cadence_reader.duration("shares", defaults.shares, minimum=3600),
    )
    cadence_reader.done()

    sources_reader = _Reader(where, top.table.pop("sources", {}), "sources")
    source_defaults = SourcesConfig()
    sources = SourcesConfig(
        timeout=sources_reader.duration("timeout", source_defaults.timeout, minimum=1),
        max_backoff=sources_reader.duration("max_backoff", source_defaults.max_backoff, minimum=60),
        fred_series=sources_reader.symbols("fred_series", FRED_SERIES),
        yahoo=sources_reader.boolean("yahoo", True),
        fred=sources_reader.boolean("fred", True),
        nyfed=sources_reader.boolean("nyfed", True),
    )
    sources_reader.done()

    indicator_reader = _Reader(where, top.table.pop("indicators", {}), "indicators")
    indicators = IndicatorConfig(
        sp500_cap_per_point=indicator_reader.number(
            "sp500_cap_per_point", IndicatorConfig().sp500_cap_per_point
        )
    )
    indicator_reader.done()

    notify_reader = _Reader(where, top.table.pop("notify", {}), "notify")
    urls_value = notify_reader.table.pop("urls", [])
    if not isinstance(urls_value, list):
        raise ConfigError(notify_reader.place("urls"), "must be a list of URLs")
    urls = tuple(
        _validate_url(f"{notify_reader.place('urls')}[{index}]", url)
        for index, url in enumerate(urls_value)
    )
    per_url_value = notify_reader.table.pop("url_min_severity", {})
    if not isinstance(per_url_value, dict):
        raise ConfigError(notify_reader.place("url_min_severity"), "must be a table")
    per_url: dict[str, str] = {}
    for url, severity in per_url_value.items():
        if url not in urls:
            raise ConfigError(
                notify_reader.place("url_min_severity"), "names a URL that is not in notify.urls"
            )
        if severity not in SEVERITIES:
            raise ConfigError(
                notify_reader.place("url_min_severity"),
                f"severity must be one of {', '.join(SEVERITIES)}",
            )
        per_url[url] = severity
    notify = NotifyConfig(
        urls=urls,
        min_severity=notify_reader.choice("min_severity", "warning", SEVERITIES),
        url_min_severity=per_url,
        terminal=notify_reader.choice("terminal", "auto", TERMINAL_METHODS),
        bell=notify_reader.boolean("bell", True),
        timeout=notify_reader.duration("timeout", dt.timedelta(seconds=15), minimum=1),
    )
    notify_reader.done()

    rules_value = top.table.pop("rules", [])
    if not isinstance(rules_value, list) or not all(isinstance(r, dict) for r in rules_value):
        raise ConfigError(f"{where}:rules", "must be an array of tables ([[rules]])")
    top.done()
    return Config(
        watch=watch,
        cadence=cadence,
        sources=sources,
        indicators=indicators,
        notify=notify,
        rules=tuple(rules_value),
    )


def load_config(explicit: str | Path | None = None) -> Config:
    """Read the config file (defaults if it does not exist), warning on loose permissions."""
    path = config_path(explicit)
    if not path.exists():
        if explicit:
            raise ConfigError(str(path), "config file not found")
        return Config(path=None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read ({exc})") from None
    config = parse_config(text, str(path))
    warnings: list[str] = []
    if config.notify.urls:
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            warnings.append(
                f"{path}: holds notification URLs (secrets) but other users can read it; "
                f"run: chmod 600 {path}"
            )
    return Config(
        watch=config.watch,
        cadence=config.cadence,
        sources=config.sources,
        indicators=config.indicators,
        notify=config.notify,
        rules=config.rules,
        path=path,
        warnings=tuple(warnings),
    )

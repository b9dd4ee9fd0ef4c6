"""The TOML config: defaults, one-line errors naming `file:section.key`, the permission warning."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bubble_core.config import (
    AI_BASKET,
    MAG7,
    Config,
    ConfigError,
    IndicatorConfig,
    load_config,
    parse_config,
)
from bubble_core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str, name: str = "config.toml", mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def _error(text: str, where: str = "c.toml") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, where)
    return info.value


# -- defaults and discovery ---------------------------------------------------------------------


def test_missing_default_file_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUBBLE_MONITOR_CONFIG", str(tmp_path / "nowhere" / "config.toml"))
    config = load_config()
    assert config.path is None
    assert config.warnings == ()
    assert config.watch.mag7 == ("AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA")
    assert config.cadence.fred == dt.timedelta(hours=1)
    assert config.sources.timeout == dt.timedelta(seconds=20)
    assert config.indicators.sp500_cap_per_point == IndicatorConfig().sp500_cap_per_point
    assert config.notify.urls == ()
    assert config.rules == ()
    assert parse_config("") == Config()


def test_env_variable_points_at_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, '[cadence]\nfred = "2h"\n')
    monkeypatch.setenv("BUBBLE_MONITOR_CONFIG", str(path))
    config = load_config()
    assert config.path == path
    assert config.cadence.fred == dt.timedelta(hours=2)


def test_an_explicit_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as info:
        load_config(missing)
    assert info.value.place == str(missing)
    assert "not found" in info.value.message
    assert info.value.exit_code == 2


def test_a_full_valid_config(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        [watch]
        mag7 = ["AAPL", "MSFT"]
        extras = []
        intraday = false
        [cadence]
        prices_open = "30s"
        prices_closed = "1h"
        fred = "90m"
        shares = "2d"
        [sources]
        timeout = "5s"
        max_backoff = "10m"
        fred_series = ["GDP", "DFF"]
        nyfed = false
        [indicators]
        sp500_cap_per_point = 9000000000
        [notify]
        urls = ["ntfy://bubble-topic", "mailto://me@example.org"]
        min_severity = "critical"
        url_min_severity = { "ntfy://bubble-topic" = "info" }
        terminal = "bell"
        bell = false
        timeout = "30s"
        [[rules]]
        name = "Mine"
        indicator = "hy_yield"
        """,
    )
    config = load_config(path)
    assert config.watch.mag7 == ("AAPL", "MSFT")
    assert config.watch.extras == ()
    assert config.watch.ai_basket == AI_BASKET
    assert config.watch.intraday is False
    assert config.cadence.prices_open == dt.timedelta(seconds=30)
    assert config.cadence.prices_closed == dt.timedelta(hours=1)
    assert config.cadence.fred == dt.timedelta(minutes=90)
    assert config.cadence.nyfed == dt.timedelta(hours=1)
    assert config.cadence.shares == dt.timedelta(days=2)
    assert config.sources.timeout == dt.timedelta(seconds=5)
    assert config.sources.max_backoff == dt.timedelta(minutes=10)
    assert config.sources.fred_series == ("GDP", "DFF")
    assert (config.sources.yahoo, config.sources.fred, config.sources.nyfed) == (True, True, False)
    assert config.indicators.sp500_cap_per_point == 9e9
    assert isinstance(config.indicators.sp500_cap_per_point, float)
    assert config.notify.urls == ("ntfy://bubble-topic", "mailto://me@example.org")
    assert config.notify.min_severity == "critical"
    assert config.notify.url_min_severity == {"ntfy://bubble-topic": "info"}
    assert (config.notify.terminal, config.notify.bell) == ("bell", False)
    assert config.notify.timeout == dt.timedelta(seconds=30)
    assert config.rules == ({"name": "Mine", "indicator": "hy_yield"},)
    assert config.warnings == ()  # 0600


def test_watch_symbols_are_unique_and_ordered() -> None:
    config = parse_config('[watch]\nmag7 = ["NVDA", "AAPL"]\nindices = ["^NDX"]\n'
                          'extras = ["KRE", "NVDA"]\nai_basket = ["AMD", "NVDA"]\n')
    assert config.watch.symbols == ("NVDA", "AAPL", "^NDX", "KRE", "AMD")
    assert config.watch.equities == ("NVDA", "AAPL", "KRE", "AMD")
    assert MAG7[4] == "NVDA"


# -- unknown keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("colour = 1\n", "c.toml:colour"),
        ("[watch]\nmag8 = []\n", "c.toml:watch.mag8"),
        ("[cadence]\nyahoo = \"1m\"\n", "c.toml:cadence.yahoo"),
        ("[sources]\nretries = 3\n", "c.toml:sources.retries"),
        ("[indicators]\nsp500_divisor = 1.0\n", "c.toml:indicators.sp500_divisor"),
        ("[notify]\nurl = \"ntfy://x\"\n", "c.toml:notify.url"),
        ("[alerts]\nx = 1\n", "c.toml:alerts"),
    ],
)
def test_unknown_keys_are_named(text: str, place: str) -> None:
    error = _error(text)
    assert error.place == place
    assert error.message == "unknown key"
    assert str(error) == f"{place}: unknown key"


# -- wrong values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "place", "fragment"),
    [
        ("watch = 5\n", "c.toml:watch", "must be a table"),
        ("[watch]\nmag7 = \"AAPL\"\n", "c.toml:watch.mag7", "list of symbols"),
        ("[watch]\nmag7 = [\"AAPL\", 3]\n", "c.toml:watch.mag7", "list of symbols"),
        ("[watch]\nextras = [\" KRE\"]\n", "c.toml:watch.extras", "list of symbols"),
        ("[watch]\nextras = [\"\"]\n", "c.toml:watch.extras", "list of symbols"),
        ("[watch]\nintraday = \"yes\"\n", "c.toml:watch.intraday", "true or false"),
        ("[watch]\nintraday = 1\n", "c.toml:watch.intraday", "true or false"),
        ("[cadence]\nfred = \"5x\"\n", "c.toml:cadence.fred", "bad duration '5x'"),
        ("[cadence]\nfred = 3600\n", "c.toml:cadence.fred", "expected a duration string"),
        ("[cadence]\nfred = \"\"\n", "c.toml:cadence.fred", "empty duration"),
        ("[cadence]\nprices_open = \"5s\"\n", "c.toml:cadence.prices_open", "at least 15s"),
        ("[cadence]\nshares = \"99999999999w\"\n", "c.toml:cadence.shares", "too long"),
        ("[sources]\ntimeout = \"0s\"\n", "c.toml:sources.timeout", "at least 1s"),
        ("[sources]\nmax_backoff = \"30s\"\n", "c.toml:sources.max_backoff", "at least 60s"),
        ("[sources]\nfred = \"no\"\n", "c.toml:sources.fred", "true or false"),
        ("[indicators]\nsp500_cap_per_point = \"8e9\"\n",
         "c.toml:indicators.sp500_cap_per_point", "must be a number"),
        ("[indicators]\nsp500_cap_per_point = true\n",
         "c.toml:indicators.sp500_cap_per_point", "must be a number"),
        ("[indicators]\nsp500_cap_per_point = -1\n",
         "c.toml:indicators.sp500_cap_per_point", "positive"),
        ("[indicators]\nsp500_cap_per_point = nan\n",
         "c.toml:indicators.sp500_cap_per_point", "finite"),
        ("[indicators]\nsp500_cap_per_point = inf\n",
         "c.toml:indicators.sp500_cap_per_point", "finite"),
        ("[indicators]\nsp500_cap_per_point = 0\n",
         "c.toml:indicators.sp500_cap_per_point", "positive"),
        ("[notify]\nurls = \"ntfy://x\"\n", "c.toml:notify.urls", "list of URLs"),
        ("[notify]\nurls = [\"not a url\"]\n", "c.toml:notify.urls[0]", "notification URL"),
        ("[notify]\nurls = [\"ntfy://ok\", \"://x\"]\n", "c.toml:notify.urls[1]",
         "notification URL"),
        ("[notify]\nurls = [\"ht&p://x\"]\n", "c.toml:notify.urls[0]", "bad URL scheme"),
        ("[notify]\nurls = [\"ntfy://my topic\"]\n", "c.toml:notify.urls[0]", "white space"),
        ("[notify]\nurls = [42]\n", "c.toml:notify.urls[0]", "notification URL"),
        ("[notify]\nmin_severity = \"loud\"\n", "c.toml:notify.min_severity", "one of info"),
        ("[notify]\nterminal = \"osc8\"\n", "c.toml:notify.terminal", "one of auto"),
        ("[notify]\nurl_min_severity = { \"ntfy://x\" = \"info\" }\n",
         "c.toml:notify.url_min_severity", "not in notify.urls"),
        ("[notify]\nurls = [\"ntfy://x\"]\nurl_min_severity = { \"ntfy://x\" = \"loud\" }\n",
         "c.toml:notify.url_min_severity", "severity must be one of"),
        ("[notify]\ntimeout = \"1ms\"\n", "c.toml:notify.timeout", "at least 1s"),
        ("rules = 5\n", "c.toml:rules", "array of tables"),
        ("rules = [1, 2]\n", "c.toml:rules", "array of tables"),
    ],
)
def test_bad_values_name_the_key(text: str, place: str, fragment: str) -> None:
    error = _error(text)
    assert error.place == place
    assert fragment in error.message
    assert "\n" not in str(error)


@pytest.mark.parametrize("text", ["this is not toml", "[watch\nmag7 = []", "a = 1\na = 2\n",
                                  "x = \"unterminated\n"])
def test_not_toml_at_all(text: str) -> None:
    error = _error(text)
    assert error.place == "c.toml"
    assert error.message.startswith("not valid TOML")
    assert isinstance(error, InputError)


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"# caf\xe9\n")
    with pytest.raises(ConfigError, match="cannot read") as info:
        load_config(path)
    assert info.value.place == str(path)


# -- permissions --------------------------------------------------------------------------------

WITH_URLS = '[notify]\nurls = ["ntfy://secret-topic"]\n'


@pytest.mark.parametrize(
    ("mode", "text", "warned"),
    [
        (0o644, WITH_URLS, True),
        (0o640, WITH_URLS, True),
        (0o604, WITH_URLS, True),
        (0o600, WITH_URLS, False),
        (0o400, WITH_URLS, False),
        (0o644, "[watch]\nintraday = false\n", False),
    ],
)
def test_permission_warning_for_readable_notify_urls(
    tmp_path: Path, mode: int, text: str, warned: bool
) -> None:
    path = _write(tmp_path, text, mode=mode)
    config = load_config(path)
    if warned:
        assert len(config.warnings) == 1
        assert str(path) in config.warnings[0]
        assert f"chmod 600 {path}" in config.warnings[0]
    else:
        assert config.warnings == ()


# -- through the CLI ------------------------------------------------------------------------------


def test_cli_bad_config_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = _write(tmp_path, '[cadence]\nfred = "1h"\nfrde = "2h"\n', name="bad.toml")
    db = tmp_path / "data" / "store.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(bad), "--db", str(db), "status"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "BUBBLE_MONITOR_DB": str(db)},
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines == [f"bubble-monitor: {bad}:cadence.frde: unknown key"]
    assert result.stdout == ""
    assert not db.exists()
    assert not db.parent.exists()


def test_cli_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import monitor

    db = tmp_path / "store.duckdb"
    code = monitor.main(["--config", str(tmp_path / "nope.toml"), "--db", str(db), "status"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [f"bubble-monitor: {tmp_path / 'nope.toml'}: config file not found"]
    assert not db.exists()


def test_cli_prints_the_permission_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import monitor

    config = _write(tmp_path, WITH_URLS, mode=0o644)
    assert monitor.main(["--config", str(config), "--db", str(tmp_path / "s.duckdb"), "paths"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("bubble-monitor: warning: ")
    assert "chmod 600" in err[0]

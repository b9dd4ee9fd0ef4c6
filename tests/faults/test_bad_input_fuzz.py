"""Promise 4, bad input: one line on stderr naming the place, exit status 2, nothing written.

The CLI cases run the real command line in subprocesses (all at once, to keep the suite fast):
each malformed config kind, each malformed CSV kind, and bad arguments. Then hypothesis throws
arbitrary text at every parser of untrusted input (config, durations, FRED CSV, New York Fed
JSON, CSV import, alert rules): each may only refuse with its own error type, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bubble_core.config import ConfigError, parse_config
from bubble_core.durations import parse_duration
from bubble_core.errors import InputError, SourceError
from bubble_core.models import MacroObservation
from bubble_core.store import Store
from bubble_core.transfer import import_csv
from data_sources.fred import parse_fredgraph_csv
from data_sources.nyfed import parse_effr_json

from .helpers import cli_command, cli_env, has_traceback

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

GOOD_CSV = "Date,Close\n2026-11-20,101.5\n2026-11-23,102.5\n"

# -- the CLI, in subprocesses --------------------------------------------------------------------

# (name, config text, the key the one-line error must name)
BAD_CONFIGS: list[tuple[str, str | bytes, str]] = [
    ("wrong type", "[watch]\nintraday = \"yes\"\n", "watch.intraday"),
    ("wrong type list", "[watch]\nmag7 = \"NVDA\"\n", "watch.mag7"),
    ("unknown key", "[cadence]\nfredd = \"1h\"\n", "cadence.fredd"),
    ("unknown table", "[sourcez]\ntimeout = \"5s\"\n", "sourcez"),
    ("bad duration", "[cadence]\nfred = \"1 hour\"\n", "cadence.fred"),
    ("too short", "[cadence]\nprices_open = \"1s\"\n", "cadence.prices_open"),
    ("huge duration", "[sources]\ntimeout = \"99999999999999999999d\"\n", "sources.timeout"),
    ("bad threshold", "[[rules]]\nname = \"NasdaqBearMarket\"\nthreshold = \"deep\"\n",
     "threshold"),
    ("bad severity", "[[rules]]\nname = \"Mine\"\nindicator = \"drawdown.^NDX\"\nop = \"<=\"\n"
     "threshold = -0.2\nseverity = \"urgent\"\n", "severity"),
    ("bad indicator", "[[rules]]\nname = \"Mine\"\nindicator = \"nope\"\nop = \"<=\"\n"
     "threshold = -0.2\n", "indicator"),
    ("infinite number", "[indicators]\nsp500_cap_per_point = inf\n",
     "indicators.sp500_cap_per_point"),
    ("number too big", "[indicators]\nsp500_cap_per_point = " + "9" * 400 + "\n",
     "indicators.sp500_cap_per_point"),
    ("bad url", "[notify]\nurls = [\"not a url\"]\n", "notify.urls[0]"),
    ("bad url type", "[notify]\nurls = \"ntfy://topic\"\n", "notify.urls"),
    ("not toml", "this is = not [toml\n", "not valid TOML"),
    ("binary", b"\xff\xfe\x00\x01garbage", "cannot read"),
]

# (name, CSV text or bytes, the line the error must name, or None for the file alone)
BAD_CSVS: list[tuple[str, str | bytes, int | None]] = [
    ("bad date", "Date,Close\n2026-11-20,101.5\nnot-a-date,102\n", 3),
    ("bad value", "Date,Close\n2026-11-20,ten\n", 2),
    ("zero price", "Date,Close\n2026-11-20,101.5\n2026-11-23,0\n", 3),
    ("negative price", "Date,Close\n2026-11-20,-4\n", 2),
    ("infinite price", "Date,Close\n2026-11-20,inf\n", 2),
    ("duplicate date", "Date,Close\n2026-11-20,101.5\n2026-11-20,102\n", 3),
    ("no date column", "When,Close\n2026-11-20,101.5\n", 1),
    ("no value column", "Date,Price\n2026-11-20,101.5\n", 1),
    ("ragged line", "Date,Close\n2026-11-20,101.5\n2026-11-23,102,7\n", 3),
    ("all missing", "Date,Close\n2026-11-20,\n2026-11-23,.\n", None),
    ("empty file", "", None),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xff", None),
]

# (name, arguments after --db STORE, a fragment of the one-line error)
BAD_ARGS: list[tuple[str, list[str], str]] = [
    ("unknown command", ["frobnicate"], "invalid choice"),
    ("bad date", ["status", "--as-of", "2026-13-01"], "--as-of"),
    ("missing file", ["import"], "required"),
    ("no target", ["import", "x.csv"], "--symbol"),
    ("two targets", ["import", "x.csv", "--symbol", "A", "--series", "B"], "not allowed"),
    ("bad symbol", ["import", "x.csv", "--symbol", "X'; DROP TABLE daily_bars; --"],
     "bad symbol"),
    ("bad duration", ["silence", "NasdaqBearMarket", "--for", "1 hour"], "--for"),
    ("bad format", ["export", "--format", "xml"], "--format"),
    ("bad scenario", ["--replay", "nasdaq"], "--replay"),
    ("bad speed", ["--replay", "dotcom", "--speed", "0"], "--speed"),
    ("bad port", ["serve", "--port", "70000"], "--port"),
    ("port not a number", ["serve", "--port", "http"], "--port"),
    ("missing subcommand", ["rules"], "required"),
    ("missing rules file", ["rules", "test", "nope.toml"], "nope.toml"),
    ("unknown option", ["status", "--jsn"], "unrecognized"),
]


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def run_main(args: list[Any], capsys: pytest.CaptureFixture[str]) -> Completed:
    """monitor.main in this process (fast); the subprocess test below covers the real entry."""
    import monitor

    capsys.readouterr()
    try:
        code = monitor.main([str(a) for a in args])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return Completed([str(a) for a in args], code, out, err)


Completed = subprocess.CompletedProcess


def run_all(commands: list[list[str]], cwd: Path) -> list[Completed[str]]:
    """Real `bubble-monitor` processes, side by side (each is mostly interpreter start-up)."""
    running = [
        subprocess.Popen(cli_command(*args), cwd=cwd, env=cli_env(), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for args in commands
    ]
    done = []
    for process, args in zip(running, commands, strict=True):
        out, err = process.communicate(timeout=120)
        done.append(Completed(args, process.returncode, out, err))
    return done


def assert_one_line(done: Completed[str], *fragments: str) -> str:
    assert done.returncode == 2, (done.args, done.returncode, done.stderr)
    assert not has_traceback(done.stderr), done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, (done.args, done.stderr)
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def write_file(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(("name", "text", "key"), BAD_CONFIGS, ids=[c[0] for c in BAD_CONFIGS])
def test_malformed_config_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str | bytes, key: str,
) -> None:
    config = write_file(tmp_path / "bad.toml", text)
    config.chmod(0o600)
    csv = write_file(tmp_path / "good.csv", GOOD_CSV)
    store = tmp_path / "store.duckdb"
    for command in (["import", csv, "--symbol", "GOOD"], ["status"], ["export", "--out",
                                                                      tmp_path / "out"]):
        done = run_main(["--config", config, "--db", store, *command], capsys)
        line = assert_one_line(done, f"{config}")
        assert key in line, (name, line)
        assert not store.exists(), f"{name}: {command[0]} wrote a store"
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "text", "line"), BAD_CSVS, ids=[c[0] for c in BAD_CSVS])
def test_malformed_csv_import_is_one_line_exit_2_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str | bytes,
    line: int | None,
) -> None:
    store = tmp_path / "store.duckdb"
    good = write_file(tmp_path / "good.csv", GOOD_CSV)
    assert run_main(["--db", store, "import", good, "--symbol", "GOOD"], capsys).returncode == 0
    before = digest(store)
    bad = write_file(tmp_path / "bad.csv", text)
    # A macro series may be zero or negative (a rate): the sign cases are about prices only.
    targets = [["--symbol", "BAD"]] + ([] if "price" in name else [["--series", "BAD"]])
    for target in targets:
        done = run_main(["--db", store, "import", bad, *target], capsys)
        message = assert_one_line(done, f"{bad}" + (f":{line}:" if line is not None else ""))
        assert name and message
        assert digest(store) == before, f"{name}: a refused import changed the store"


def test_missing_or_unreadable_csv_is_one_line(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for path in (tmp_path / "missing.csv", tmp_path):
        done = run_main(["--db", tmp_path / "s.duckdb", "import", path, "--symbol", "X"], capsys)
        assert_one_line(done, str(path))
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.parametrize(("name", "args", "fragment"), BAD_ARGS, ids=[a[0] for a in BAD_ARGS])
def test_bad_arguments_are_one_line_exit_2_and_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, args: list[str],
    fragment: str,
) -> None:
    write_file(tmp_path / "x.csv", GOOD_CSV)
    store = tmp_path / "s.duckdb"
    done = run_main(["--db", store, *[a.replace("x.csv", str(tmp_path / "x.csv"))
                                      for a in args]], capsys)
    assert_one_line(done, fragment)
    assert not store.exists(), name


def test_db_that_is_not_a_store_and_out_that_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    notadb = write_file(tmp_path / "notadb.duckdb", "this is not a DuckDB file\n")
    csv = write_file(tmp_path / "x.csv", GOOD_CSV)
    for command in (["status"], ["import", csv, "--symbol", "X"], ["export"]):
        assert_one_line(run_main(["--db", notadb, *command], capsys), str(notadb))
    assert notadb.read_text() == "this is not a DuckDB file\n"
    afile = write_file(tmp_path / "afile", "in the way\n")
    store = tmp_path / "real.duckdb"
    Store(store).ensure_schema()
    assert_one_line(run_main(["--db", store, "export", "--out", afile], capsys), "--out")
    assert afile.read_text() == "in the way\n"


def test_the_real_command_line_in_subprocesses(tmp_path: Path) -> None:
    """The same promise through the installed entry point: exit status, one line, no trace,
    and a collector with a bad rule stops before its first poll (which would write)."""
    rule = write_file(tmp_path / "rule.toml", BAD_CONFIGS[7][1])
    not_toml = write_file(tmp_path / "nottoml.toml", "this is = not [toml\n")
    bad_csv = write_file(tmp_path / "bad.csv", BAD_CSVS[0][1])
    store = tmp_path / "s.duckdb"
    commands = [
        ["--config", rule, "--db", store, "collect", "--once", "--log-file", tmp_path / "l"],
        ["--config", not_toml, "--db", store, "status"],
        ["--db", store, "import", bad_csv, "--symbol", "X"],
        ["--db", store, "serve", "--port", "70000"],
    ]
    results = run_all([[str(a) for a in command] for command in commands], tmp_path)
    assert_one_line(results[0], "rule.toml", "threshold")
    assert_one_line(results[1], "nottoml.toml", "not valid TOML")
    assert_one_line(results[2], "bad.csv:3:")
    assert_one_line(results[3], "--port")
    assert not store.exists(), "bad input created or wrote the store"


# -- hypothesis: the parsers of untrusted input --------------------------------------------------

SECTIONS = {
    "watch": ["mag7", "indices", "extras", "ai_basket", "intraday", "bogus"],
    "cadence": ["prices_open", "prices_closed", "fred", "nyfed", "shares", "bogus"],
    "sources": ["timeout", "max_backoff", "fred_series", "yahoo", "fred", "nyfed", "bogus"],
    "indicators": ["sp500_cap_per_point", "bogus"],
    "notify": ["urls", "min_severity", "url_min_severity", "terminal", "bell", "timeout",
               "bogus"],
}

durations = st.sampled_from(["1m", "90s", "1h30m", "0", "", "-5m", "1 hour", "5", "1e3s",
                             "99999999999999999999d", "2d", "0.5s", "15m"])
toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    durations,
    st.text(max_size=20),
    st.sampled_from(["ntfy://topic", "json://127.0.0.1:8/x", "tgram://1:TOKEN/2", "://x",
                     "warning", "critical", "auto", "osc9", "AAPL", "^NDX"]),
)
toml_values = st.one_of(toml_scalars, st.lists(toml_scalars, max_size=4))


def toml_literal(value: Any) -> str:
    """A TOML literal for a scalar or a list (tomli_w is not a dependency)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_literal(v)}"
                               for k, v in value.items()) + "}"
    raise TypeError(value)


@st.composite
def config_documents(draw: Any) -> str:
    lines: list[str] = []
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)), unique=True, max_size=5)):
        lines.append(f"[{section}]")
        for key in draw(st.lists(st.sampled_from(SECTIONS[section]), unique=True, max_size=4)):
            if key == "url_min_severity":
                value: Any = draw(st.dictionaries(st.sampled_from(["ntfy://topic", "x"]),
                                                  toml_scalars, max_size=2))
            else:
                value = draw(toml_values)
            lines.append(f"{key} = {toml_literal(value)}")
    for _ in range(draw(st.integers(0, 2))):
        lines.append("[[rules]]")
        keys = ["name", "indicator", "op", "threshold", "clear", "for", "severity", "repeat",
                "summary", "enabled", "bogus"]
        for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=6)):
            lines.append(f"{key} = {toml_literal(draw(toml_scalars))}")
    return "\n".join(lines) + "\n"


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_config_arbitrary_text(text: str) -> None:
    try:
        parse_config(text)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(config_documents())
def test_fuzz_config_toml_documents(text: str) -> None:
    try:
        config = parse_config(text)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("config.toml")
        return
    assert all(math.isfinite(v) for v in (config.indicators.sp500_cap_per_point,))
    rules = pytest.importorskip("bubble_core.alerts.rules")
    try:
        rules.load_rules(config.rules, "config.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(st.one_of(st.text(max_size=40), durations,
                 st.from_regex(r"\A[0-9]{1,30}(\.[0-9]{1,5})?(ms|s|m|h|d|w)\Z")))
def test_fuzz_durations(text: str) -> None:
    try:
        parsed = parse_duration(text)
    except ValueError:
        return
    assert parsed >= dt.timedelta(0)


def fred_like() -> st.SearchStrategy[str]:
    line = st.one_of(
        st.builds(lambda d, v: f"{d},{v}",
                  st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
                  st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                            st.sampled_from(["", ".", "NaN", "1e400", "-0", "4.1.2"]),
                            st.text(max_size=8))),
        st.text(max_size=30),
    )
    header = st.sampled_from(["observation_date,DFF", "DATE,DFF", "date,dff", "DFF",
                              "observation_date,GDP", "<!DOCTYPE html>", ""])
    return st.builds(lambda h, ls: "\n".join([h, *ls]), header, st.lists(line, max_size=8))


@FUZZ
@given(st.one_of(st.text(max_size=300), fred_like()))
def test_fuzz_fred_csv_parser(text: str) -> None:
    try:
        rows = parse_fredgraph_csv("DFF", text)
    except SourceError:
        return
    assert all(isinstance(r, MacroObservation) and math.isfinite(r.value) for r in rows)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**400), max_value=10**400),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
              st.sampled_from(["EFFR", "2026-11-20", "2026-02-30", "3.87"])),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(
                                   ["refRates", "type", "effectiveDate", "percentRate",
                                    "targetRateFrom", "targetRateTo", "x"]), children,
                                   max_size=5)),
    max_leaves=12,
)


@FUZZ
@given(st.one_of(st.text(max_size=300), json_values.map(json.dumps),
                 st.integers(1, 5000).map(lambda n: "[" * n + "]" * n),
                 st.integers(1, 200).map(lambda n: '{"refRates": ' + "[" * n)))
def test_fuzz_nyfed_json_parser(text: str) -> None:
    try:
        rows = parse_effr_json(text)
    except SourceError:
        return
    assert rows and all(math.isfinite(r.value) for r in rows)


def test_nyfed_parser_survives_deep_nesting_and_huge_numbers() -> None:
    for text in ("[" * 100_000 + "]" * 100_000,
                 json.dumps({"refRates": [{"type": "EFFR", "effectiveDate": "2026-11-20",
                                           "percentRate": 10**400}]})):
        with pytest.raises(SourceError):
            parse_effr_json(text)


csv_cells = st.one_of(
    st.sampled_from(["2026-11-20", "2026-11-20 15:30:00", "11/20/2026", "20.11.2026", "",
                     ".", "NaN", "inf", "0", "-1", "1e400", "101.5", "nan", "null", "x",
                     "2026-02-30", "9999-12-31", "0001-01-01"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
)
csv_headers = st.lists(
    st.sampled_from(["Date", "date", "observation_date", "Datetime", "Close", "Adj Close",
                     "value", "Open", "High", "Low", "Volume", "shares", "market_cap",
                     "GDP", "x", "", '"q"']), min_size=1, max_size=5)


@st.composite
def csv_files(draw: Any) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=200))
    header = draw(csv_headers)
    rows = draw(st.lists(st.lists(csv_cells, min_size=len(header) - 1,
                                  max_size=len(header) + 1), max_size=6))
    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    return ("\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))).encode("utf-8")


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb"
    store = Store(path)
    store.ensure_schema()
    return store


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=csv_files(), as_series=st.booleans())
def test_fuzz_csv_import(fuzz_store: Store, tmp_path_factory: pytest.TempPathFactory,
                         data: bytes, as_series: bool) -> None:
    path = tmp_path_factory.mktemp("csv") / "fuzz.csv"
    path.write_bytes(data)
    before = fuzz_store.query("SELECT count(*) FROM fetch_log")[0][0]
    before_bars = fuzz_store.query(
        "SELECT (SELECT count(*) FROM daily_bars) + (SELECT count(*) FROM intraday_bars) + "
        "(SELECT count(*) FROM macro_observations) + (SELECT count(*) FROM shares_outstanding)"
        " + (SELECT count(*) FROM market_caps)")[0][0]
    try:
        result = import_csv(fuzz_store, path, **({"series": "GDP"} if as_series
                                                  else {"symbol": "FUZZ"}))
    except InputError as exc:
        assert "\n" not in str(exc), str(exc)
        assert fuzz_store.query("SELECT count(*) FROM fetch_log")[0][0] == before
        after_bars = fuzz_store.query(
            "SELECT (SELECT count(*) FROM daily_bars) + (SELECT count(*) FROM intraday_bars) + "
            "(SELECT count(*) FROM macro_observations) + "
            "(SELECT count(*) FROM shares_outstanding) + (SELECT count(*) FROM market_caps)"
        )[0][0]
        assert after_bars == before_bars, "a refused import wrote rows"
        return
    assert result.rows > 0
    bad = fuzz_store.query(
        "SELECT count(*) FROM daily_bars WHERE symbol = 'FUZZ' "
        "AND (NOT isfinite(close) OR close <= 0)")[0][0]
    assert bad == 0


rule_values = st.one_of(toml_scalars, st.lists(toml_scalars, max_size=2),
                        st.sampled_from(["drawdown.^NDX", "nvda_cap_to_gdp", "<=", ">=",
                                         "event.fed_target_change", "{value:.1%}", "{nope}",
                                         "{value:%%}", "1h", "0s", "30s"]))
rule_tables = st.dictionaries(
    st.sampled_from(["name", "indicator", "op", "threshold", "clear", "for",
                     "keep_firing_for", "severity", "repeat", "summary", "source",
                     "description", "enabled", "bogus"]),
    rule_values, max_size=9,
)


@FUZZ
@given(st.lists(st.one_of(rule_tables, toml_scalars), max_size=3))
def test_fuzz_alert_rules(tables: list[Any]) -> None:
    rules = pytest.importorskip("bubble_core.alerts.rules")
    try:
        loaded = rules.load_rules(tables, "config.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return
    for rule in loaded:
        if rule.threshold is not None:
            assert math.isfinite(rule.threshold)

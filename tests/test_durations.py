"""Prometheus-style durations: parsing, formatting, round trips, and only ValueError on bad text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bubble_core.durations import format_duration, parse_duration

S = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("4h", 14_400),
        ("2d", 172_800),
        ("1w", 604_800),
        ("1h30m", 5_400),
        ("1d2h3m4s", 93_784),
        ("1.5h", 5_400),
        ("500ms", 0.5),
        ("0", 0),
        ("  15m  ", 900),
        ("0s", 0),
        ("2m2m", 240),  # parts add up, as in Prometheus' loose reading
    ],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "15", "m", "15x", "-5m", "1h 30m", "h1", "1.h", "+5m", "5M", "1e3s", "15m!", "inf",
     "nan"],
)
def test_bad_durations_raise_value_error_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    if text.strip():
        assert repr(text) in str(info.value)


@pytest.mark.parametrize("value", [None, 15, 1.5, ["15m"], b"15m"])
def test_non_strings_raise_value_error(value: object) -> None:
    with pytest.raises(ValueError, match="expected a duration string"):
        parse_duration(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-30, "0s"),
        (0.4, "0s"),
        (45, "45s"),
        (90, "1m30s"),
        (900, "15m"),
        (3_600, "1h"),
        (5_400, "1h30m"),
        (86_400, "1d"),
        (604_800, "7d"),
        (93_784, "1d2h"),  # the two largest units only: shortest readable form
        (86_401, "1d1s"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(dt.timedelta(seconds=seconds)) == text


@pytest.mark.parametrize("text", ["90s", "15m", "4h", "2d", "1h30m", "2d3h", "1m1s", "45s"])
def test_parse_format_round_trip(text: str) -> None:
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


# (size, largest count that does not carry into the next unit) for d, h, m, s
UNITS = [(86_400, 9_999), (3_600, 23), (60, 59), (1, 59)]


@st.composite
def two_unit_durations(draw: st.DrawFn) -> dt.timedelta:
    positions = draw(st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True))
    seconds = 0
    for position in positions:
        size, limit = UNITS[position]
        seconds += draw(st.integers(1, limit)) * size
    return dt.timedelta(seconds=seconds)


@settings(max_examples=150, deadline=None)
@given(two_unit_durations())
def test_format_then_parse_is_exact_for_two_unit_durations(delta: dt.timedelta) -> None:
    text = format_duration(delta)
    assert parse_duration(text) == delta
    assert 1 <= sum(c.isalpha() for c in text) <= 2


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("0123456789.smhdw -+eé٣𝟏\n"), max_size=30)
    | st.from_regex(r"\A(\d{1,25}(\.\d{1,3})?(ms|s|m|h|d|w)){1,3}\Z")
    | st.text()
)
def test_parse_never_raises_anything_but_value_error(text: str) -> None:
    try:
        result = parse_duration(text)
    except ValueError:
        return
    assert isinstance(result, dt.timedelta)
    assert result >= dt.timedelta(0)


@pytest.mark.parametrize(
    "text", ["9" * 400 + "s", "99999999999w", "1" * 30 + "d"], ids=["inf", "weeks", "days"]
)
def test_absurdly_long_durations_are_a_value_error(text: str) -> None:
    # timedelta overflows: a config with such a value must be a ConfigError, not a traceback.
    with pytest.raises(ValueError, match="too long"):
        parse_duration(text)

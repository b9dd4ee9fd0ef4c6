"""Terminal notification sequences: detection, exact bytes, sanitising, tmux passthrough."""

from __future__ import annotations

import pytest

from bubble_core.alerts.terminal import (
    detect_method,
    escape_sequence,
    sanitize,
    terminal_notification,
    wrap_for_tmux,
)


@pytest.mark.parametrize(
    ("env", "method"),
    [
        ({"KITTY_WINDOW_ID": "1", "TERM": "xterm-kitty"}, "osc99"),
        ({"TERM_PROGRAM": "iTerm.app"}, "osc9"),
        ({"WEZTERM_PANE": "0", "TERM": "xterm-256color"}, "osc777"),
        ({"TERM": "foot"}, "osc777"),
        ({"TERM": "foot-extra"}, "osc777"),
        ({"VTE_VERSION": "7600", "TERM": "xterm-256color"}, "osc777"),
        ({"WT_SESSION": "abc", "TERM": "xterm-256color"}, "bell"),
        ({"TERM": "xterm-256color"}, "bell"),
        ({}, "bell"),
        ({"KITTY_WINDOW_ID": "1", "TMUX": "/tmp/tmux-0/default,1,0"}, "osc99"),
    ],
)
def test_detect_method(env: dict[str, str], method: str) -> None:
    assert detect_method(env) == method


def test_osc9_exact_bytes() -> None:
    seq = escape_sequence("osc9", "NasdaqBearMarket", "NDX -21.0%")
    assert seq.encode() == b"\x1b]9;NasdaqBearMarket: NDX -21.0%\x1b\\"


def test_osc9_never_starts_like_a_progress_report() -> None:
    assert escape_sequence("osc9", "4;3", "").encode() == b"\x1b]9; 4;3\x1b\\"


def test_osc777_exact_bytes() -> None:
    seq = escape_sequence("osc777", "Nasdaq; bear", "NDX -21.0%; since peak")
    assert seq.encode() == b"\x1b]777;notify;Nasdaq, bear;NDX -21.0%; since peak\x1b\\"


def test_osc99_exact_bytes() -> None:
    seq = escape_sequence("osc99", "Title", "Body", urgency=2)
    ident = seq.split("i=", 1)[1].split(":", 1)[0]
    assert ident.startswith("bm-") and len(ident) == 13
    assert seq.encode() == (
        b"\x1b]99;i=" + ident.encode() + b":d=0:u=2:p=title;Title\x1b\\"
        b"\x1b]99;i=" + ident.encode() + b":d=1:p=body;Body\x1b\\"
    )
    assert escape_sequence("osc99", "Title", "Body") == escape_sequence("osc99", "Title", "Body")


def test_bell_and_off() -> None:
    assert escape_sequence("bell", "t", "b") == "\a"
    assert escape_sequence("off", "t", "b") == ""
    with pytest.raises(ValueError):
        escape_sequence("osc1337", "t", "b")


def test_control_characters_are_sanitised_out() -> None:
    hostile = "evil\x1b]0;pwned\x07\x1b\\ name\nsecond\tline\x9b31m\x7f"
    seq = escape_sequence("osc777", hostile, hostile)
    payload = seq[len("\x1b]777;") : -2]
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in payload)
    assert payload == "notify;evil]0,pwned\\ name second line31m;evil]0;pwned\\ name second line31m"
    assert sanitize("x" * 300, 10) == "x" * 9 + "\u2026"


def test_wrap_for_tmux_exact_bytes() -> None:
    assert wrap_for_tmux("\x1b]9;hi\x1b\\").encode() == b"\x1bPtmux;\x1b\x1b]9;hi\x1b\x1b\\\x1b\\"
    assert wrap_for_tmux("\a") == "\a"


def test_terminal_notification_detects_and_wraps_in_tmux() -> None:
    plain = terminal_notification("T", "B", {"TERM": "foot"})
    assert plain == "\x1b]777;notify;T;B\x1b\\"
    in_tmux = {"TERM": "foot", "TMUX": "/tmp/tmux-1000/default,9,0"}
    wrapped = terminal_notification("T", "B", in_tmux)
    assert wrapped.encode() == b"\x1bPtmux;\x1b\x1b]777;notify;T;B\x1b\x1b\\\x1b\\"
    assert terminal_notification("T", "B", {"TMUX": "x"}) == "\a"
    forced = terminal_notification("T", "B", {"TERM": "foot"}, method="osc9")
    assert forced == "\x1b]9;T: B\x1b\\"
    assert terminal_notification("T", "B", {}, method="off") == ""

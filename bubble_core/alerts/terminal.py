"""Terminal-native notifications: escape sequences that reach the user's desktop through SSH.

The terminal emulator, not the remote host, shows the notification, so these work where desktop
notification libraries cannot. Support is as each terminal documents it (see
shared/reference/alerting.md, section 3):

    OSC 9    ESC ] 9 ; message ST                      iTerm2, WezTerm, kitty (legacy)
    OSC 777  ESC ] 777 ; notify ; title ; body ST      WezTerm, foot, urxvt, VTE (patched)
    OSC 99   ESC ] 99 ; metadata ; payload ST          kitty (full protocol), foot 1.18+
    BEL      \\a                                       everywhere

ST is `ESC \\`. Inside tmux the sequence is wrapped in a DCS passthrough (`ESC Ptmux; ... ESC \\`
with every inner ESC doubled), which needs `set -g allow-passthrough on` (tmux 3.3+). The string
returned here is written by the TUI through its output driver, never with a raw print.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

ESC = "\x1b"
ST = ESC + "\\"
BEL = "\a"
METHODS: tuple[str, ...] = ("osc9", "osc777", "osc99", "bell", "off")

_MAX_TITLE = 200
_MAX_BODY = 1000


def detect_method(env: Mapping[str, str]) -> str:
    """The best notification sequence for the terminal described by `env`.

    kitty -> osc99; iTerm2 -> osc9; WezTerm, foot or a VTE terminal -> osc777; Windows Terminal
    (`WT_SESSION`: it reads OSC 9;4 as a progress bar, and OSC 777 is only in its canary builds)
    and anything unknown -> bell.
    """
    if env.get("KITTY_WINDOW_ID"):
        return "osc99"
    if env.get("TERM_PROGRAM") == "iTerm.app":
        return "osc9"
    if (
        any(key.startswith("WEZTERM_") for key in env)
        or env.get("TERM_PROGRAM") == "WezTerm"
        or env.get("TERM", "").startswith("foot")
        or env.get("VTE_VERSION")
    ):
        return "osc777"
    return "bell"


def sanitize(text: str, limit: int = _MAX_BODY) -> str:
    """Text safe inside an OSC string: no C0/C1 control characters (ESC, BEL, newlines...)."""
    cleaned = []
    for char in str(text):
        code = ord(char)
        if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
            cleaned.append(" " if char in "\t\r\n" else "")
        else:
            cleaned.append(char)
    result = " ".join("".join(cleaned).split())
    if len(result) > limit:
        result = result[: limit - 1] + "\u2026"
    return result


def _kitty_id(title: str, body: str) -> str:
    digest = hashlib.sha1(f"{title}\n{body}".encode()).hexdigest()[:10]
    return f"bm-{digest}"


def escape_sequence(method: str, title: str, body: str, *, urgency: int | None = None) -> str:
    """The raw escape sequence for one notification (not wrapped for tmux).

    `urgency` (0 low, 1 normal, 2 critical) is used by OSC 99 only.
    """
    safe_title = sanitize(title, _MAX_TITLE)
    safe_body = sanitize(body, _MAX_BODY)
    if method == "osc9":
        message = f"{safe_title}: {safe_body}" if safe_body else safe_title
        # "OSC 9 ; 4 ; ..." is ConEmu's progress bar: never start with digits and a semicolon.
        if message[:1].isdigit():
            message = " " + message
        return f"{ESC}]9;{message}{ST}"
    if method == "osc777":
        # Fields are separated by ';': the title must not contain one (the body is the rest).
        return f"{ESC}]777;notify;{safe_title.replace(';', ',')};{safe_body}{ST}"
    if method == "osc99":
        ident = _kitty_id(safe_title, safe_body)
        extra = f":u={urgency}" if urgency is not None and urgency in (0, 1, 2) else ""
        # A title chunk (d=0: more to come), then the body chunk that completes it.
        return (
            f"{ESC}]99;i={ident}:d=0{extra}:p=title;{safe_title}{ST}"
            f"{ESC}]99;i={ident}:d=1:p=body;{safe_body}{ST}"
        )
    if method == "bell":
        return BEL
    if method == "off":
        return ""
    raise ValueError(f"unknown terminal notification method {method!r}")


def wrap_for_tmux(seq: str) -> str:
    """A DCS passthrough for tmux: ESC Ptmux; <seq with every ESC doubled> ESC \\."""
    if not seq or seq == BEL:
        return seq  # tmux handles the bell itself (bell-action)
    return f"{ESC}Ptmux;{seq.replace(ESC, ESC + ESC)}{ST}"


def terminal_notification(
    title: str,
    body: str,
    env: Mapping[str, str],
    *,
    method: str = "auto",
    urgency: int | None = None,
) -> str:
    """Detection (unless `method` is given), the sequence, and the tmux wrapping when in tmux."""
    chosen = detect_method(env) if method == "auto" else method
    sequence = escape_sequence(chosen, title, body, urgency=urgency)
    if env.get("TMUX"):
        return wrap_for_tmux(sequence)
    return sequence

"""Number, date and age formats shared by the widgets, and the theme-derived cell styles.

Ratios are fractions in the snapshot (0.168 = 16.8 %); yields too. Every function returns plain
strings or rich Text, never markup, so tickers and error messages cannot inject styles.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.color import Color

DASH = "–"
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class TimeContext:
    """What "now" is for ages, and the zone timestamps are shown in.

    `now` is naive UTC, like the snapshot's timestamps; `tz` is None to show UTC.
    """

    now: dt.datetime
    tz: dt.tzinfo | None = None

    @classmethod
    def from_clock(cls, value: dt.datetime) -> TimeContext:
        if value.tzinfo is None:
            return cls(now=value, tz=None)
        utc = value.astimezone(dt.UTC).replace(tzinfo=None)
        return cls(now=utc, tz=value.tzinfo)

    def local(self, ts: dt.datetime) -> dt.datetime:
        """A snapshot timestamp (naive UTC, or aware) in the display zone."""
        if self.tz is None:
            return ts if ts.tzinfo is None else ts.astimezone(dt.UTC).replace(tzinfo=None)
        aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=dt.UTC)
        return aware.astimezone(self.tz)

    def naive_utc(self, ts: dt.datetime) -> dt.datetime:
        return ts if ts.tzinfo is None else ts.astimezone(dt.UTC).replace(tzinfo=None)


# -------------------------------------------------------------------------------------- numbers


def pct(value: float | None, decimals: int = 2) -> str:
    """0.16857 -> "16.86%"."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value * 100:.{decimals}f}%"


def signed_pct(value: float | None, decimals: int = 2) -> str:
    """0.0299 -> "+2.99%", -0.779 -> "-77.90%"."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value * 100:+.{decimals}f}%"


def pp(value: float | None, decimals: int = 2) -> str:
    """Percentage points from a fraction, signed: -0.0025 -> "-0.25 pp"."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value * 100:+.{decimals}f} pp"


def usd(value: float | None) -> str:
    """5.03e12 -> "5.03 T$", 950e9 -> "950 B$", -1.1e12 -> "-1.10 T$"."""
    if value is None or not math.isfinite(value):
        return DASH
    sign = "-" if value < 0 else ""
    size = abs(value)
    for scale, unit in ((1e12, "T$"), (1e9, "B$"), (1e6, "M$")):
        if size >= scale:
            scaled = size / scale
            digits = 2 if scaled < 10 else (1 if scaled < 100 else 0)
            return f"{sign}{scaled:.{digits}f} {unit}"
    return f"{sign}{size:,.0f} $"


def signed_usd(value: float | None) -> str:
    text = usd(value)
    return text if value is None or value < 0 or text == DASH else "+" + text


def price(value: float | None) -> str:
    """Prices and index levels: 26,012 / 1,114.1 / 207.04."""
    if value is None or not math.isfinite(value):
        return DASH
    size = abs(value)
    if size >= 10_000:
        return f"{value:,.0f}"
    if size >= 1_000:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def compact_number(value: float) -> str:
    """Axis labels: 26000 -> "26k", 1.5e6 -> "1.5M", 4.25 -> "4.25"."""
    size = abs(value)
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if size >= scale:
            scaled = value / scale
            return f"{scaled:.0f}{unit}" if abs(scaled) >= 10 else f"{scaled:.1f}{unit}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


# ---------------------------------------------------------------------------------- dates, ages


def iso(value: dt.date | None) -> str:
    return value.isoformat() if value else DASH


def age(delta: dt.timedelta | None) -> str:
    """The coarsest useful unit: "45s", "12m", "2h", "3d", "5w", "14mo", "3y"."""
    if delta is None:
        return DASH
    seconds = delta.total_seconds()
    if seconds < 0:
        return "0s"
    if seconds < 90:
        return f"{int(seconds)}s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)}m"
    if seconds < 36 * 3600:
        return f"{int(seconds // 3600)}h"
    days = int(seconds // 86400)
    if days < 60:
        return f"{days}d"
    if days < 730:
        return f"{days // 30}mo"
    return f"{days // 365}y"


def age_days(as_of: dt.date | None, today: dt.date) -> str:
    if as_of is None:
        return DASH
    return age(dt.timedelta(days=max((today - as_of).days, 0)))


def clock_time(ts: dt.datetime | None, ctx: TimeContext, *, seconds: bool = False) -> str:
    """A timestamp as HH:MM today, else MM-DD HH:MM, else the ISO date."""
    if ts is None:
        return DASH
    local = ctx.local(ts)
    today = ctx.local(ctx.now).date()
    hhmm = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if local.date() == today:
        return hhmm
    if abs((local.date() - today).days) < 300:
        return local.strftime("%m-%d ") + hhmm
    return local.date().isoformat()


# --------------------------------------------------------------------------------------- sparks


def sparkline(values: Sequence[float], width: int = 8) -> str:
    """The last values squeezed into `width` block characters (bucket means)."""
    clean = [v for v in values if v is not None and math.isfinite(v)]
    if not clean or width <= 0:
        return ""
    if len(clean) > width:
        step = len(clean) / width
        clean = [
            sum(chunk) / len(chunk)
            for chunk in (clean[int(i * step): max(int((i + 1) * step), int(i * step) + 1)]
                          for i in range(width))
        ]
    low, high = min(clean), max(clean)
    span = high - low
    if span <= 0:
        return SPARKS[3] * len(clean)
    return "".join(SPARKS[min(int((v - low) / span * (len(SPARKS) - 1) + 0.5), 7)] for v in clean)


def change_since(dates: Sequence[dt.date], values: Sequence[float],
                 days: int) -> float | None:
    """Last value minus the value `days` calendar days before the last date (or the first)."""
    if len(values) < 2:
        return None
    cutoff = dates[-1] - dt.timedelta(days=days)
    base = values[0]
    for day, value in zip(dates, values, strict=False):
        if day > cutoff:
            break
        base = value
    return values[-1] - base


# --------------------------------------------------------------------------------------- styles


@dataclass(frozen=True, slots=True)
class Palette:
    """Rich styles for table cells, derived from the app theme ($success, $error, ...)."""

    up: Style
    down: Style
    warning: Style
    error: Style
    success: Style
    primary: Style
    accent: Style
    muted: Style
    stale: Style
    bold: Style

    @classmethod
    def from_variables(cls, variables: dict[str, str]) -> Palette:
        def color(name: str, fallback: str) -> Style:
            try:
                return Style(color=Color.parse(variables.get(name, fallback)).rich_color)
            except Exception:  # a theme without the variable, or "auto" values
                return Style(color=Color.parse(fallback).rich_color)

        success = color("success", "#4EBF71")
        error = color("error", "#B93C5B")
        return cls(
            up=success,
            down=error,
            warning=color("warning", "#FEA62B"),
            error=error,
            success=success,
            primary=color("primary", "#0178D4"),
            accent=color("accent", "#FEA62B"),
            muted=Style(dim=True),
            stale=Style(dim=True, italic=True),
            bold=Style(bold=True),
        )


def signed_style(value: float | None, palette: Palette, flat: float = 0.0) -> Style:
    if value is None or not math.isfinite(value) or abs(value) <= flat:
        return Style()
    return palette.up if value > 0 else palette.down


def cell(text: str, style: Style | str | None = None, *, justify: str = "left") -> Text:
    """A table cell: plain text (never markup), optionally styled."""
    return Text(text, style=style or "", justify=justify, no_wrap=True, end="")  # type: ignore[arg-type]


def right(text: str, style: Style | str | None = None) -> Text:
    return cell(text, style, justify="right")


def with_age(text: str, stale: bool, age_text: str, style: Style | None, palette: Palette,
             *, justify: str = "right") -> Text:
    """A value cell; a stale value is dimmed and followed by its age ("6.72% ~9d")."""
    if not stale:
        return cell(text, style, justify=justify)
    out = Text(justify=justify, no_wrap=True, end="")  # type: ignore[arg-type]
    out.append(text, palette.stale)
    out.append(f" ~{age_text}", palette.warning + Style(dim=True))
    return out


def theme_colour(variables: dict[str, str], name: str, fallback: str = "#808080") -> Color:
    """A theme variable ($primary, $panel...) as a Textual Color, alpha flattened."""
    try:
        return Color.parse(variables.get(name, fallback))
    except Exception:
        return Color.parse(fallback)


def theme_style(variables: dict[str, str], color: str | None = None, bgcolor: str | None = None,
                *, bold: bool = False) -> Style:
    """A rich Style from theme variable names, e.g. theme_style(v, "background", "success")."""
    background = theme_colour(variables, "background", "#000000")
    fg = theme_colour(variables, color) if color else None
    bg = theme_colour(variables, bgcolor) if bgcolor else None
    if bg is not None and bg.a < 1:
        bg = background.blend(bg, bg.a)
    if fg is not None and fg.a < 1:
        fg = (bg or background).blend(fg, fg.a)
    return Style(color=fg.rich_color if fg else None, bgcolor=bg.rich_color if bg else None,
                 bold=bold or None)

"""What every source shares: the error vocabulary and HTTP failure classification.

A source's only I/O is a small injectable piece (an httpx.AsyncClient, a yfinance download
callable), so tests swap it for a fake; everything else is pure parsing into typed rows.
"""

from __future__ import annotations

import email.utils
import math
import time

import httpx

from bubble_core.errors import SourceError

USER_AGENT = "bubble-monitor/0.1 (+https://pypi.org/project/bubble-monitor)"


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP date), or None."""
    header = response.headers.get("retry-after")
    if not header:
        return None
    header = header.strip()
    try:
        seconds = float(header)
    except ValueError:
        pass
    else:  # "inf", "nan" and "1e400" parse as floats but are no delay
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def check_http(source: str, response: httpx.Response) -> None:
    """Raise a SourceError for any non-2xx answer, keeping 429's Retry-After."""
    if response.status_code == 429:
        raise SourceError(
            source, "HTTP 429 Too Many Requests (rate limited)", retry_after_seconds(response)
        )
    if response.status_code >= 400:
        raise SourceError(source, f"HTTP {response.status_code} {response.reason_phrase}".strip())


def describe_transport_error(exc: httpx.HTTPError) -> str:
    """A short reason for a transport failure: timeout, DNS, refused."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout ({type(exc).__name__})"
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "name or service not known" in lowered or "nodename nor servname" in lowered or (
        "temporary failure in name resolution" in lowered
    ) or "getaddrinfo" in lowered:
        return f"DNS failure ({text})"
    if "connection refused" in lowered:
        return f"connection refused ({text})"
    return f"{type(exc).__name__}: {text}"


def finite_positive(value: object) -> float | None:
    """A price or level as float, or None when it is missing, NaN, infinite, zero or negative.

    Yahoo and friends signal "no data" with NaN and sometimes with 0; neither is a price.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: a 400-digit JSON integer
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    return number


def finite(value: object) -> float | None:
    """A finite float (rates may be zero or negative), or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: a 400-digit JSON integer
        return None
    return number if math.isfinite(number) else None


def short_reason(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters: reasons end up in a one-line fetch-log column."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"

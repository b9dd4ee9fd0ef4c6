"""Keep notification secrets out of everything bubble-monitor prints or stores.

A notification URL is a credential: `ntfy://topic` lets anyone who knows the topic read the alerts,
`discord://id/token` lets anyone post. So a URL is shown as its scheme and network host only, with
everything else replaced by `****`:

    ntfy://mytopic                       -> ntfy://****
    json://127.0.0.1:8099/hook/t0ken     -> json://127.0.0.1:8099/****
    mailtos://me:pw@smtp.example.com     -> mailtos://****@smtp.example.com
    discord://1234/abcd                  -> discord://****

The "host" of many Apprise schemes is a token (`ntfy://TOPIC`, `tgram://BOT_TOKEN/...`), so the
host is kept only when it plainly is a network host: an IP address, `localhost`, a name with an
explicit port, or a dotted DNS name whose labels look like DNS labels.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

MASK = "****"

_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s'\"<>()\[\]{},]+")
_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_SECRET_QUERY = re.compile(
    r"(?i)\b(api[_-]?key|apikey|token|access[_-]?token|password|passwd|pass|secret|key)"
    r"=([^&\s'\"]+)"
)
# Fragments shorter than this are not scrubbed out of free text (they would hit ordinary words).
_MIN_FRAGMENT = 4


def _split(url: str) -> tuple[str, str, str, str, str]:
    """(scheme, userinfo, host, port, rest), by hand: Apprise URLs are not all RFC 3986 URLs."""
    scheme, sep, remainder = url.partition("://")
    if not sep:
        return "", "", "", "", url
    end = len(remainder)
    for char in "/?#":
        index = remainder.find(char)
        if index != -1:
            end = min(end, index)
    netloc, rest = remainder[:end], remainder[end:]
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        userinfo, hostport = "", netloc
    host, port = hostport, ""
    if hostport.startswith("["):
        close = hostport.find("]")
        if close != -1:
            host, tail = hostport[: close + 1], hostport[close + 1 :]
            if tail.startswith(":") and tail[1:].isdigit():
                port = tail[1:]
    else:
        name, colon, maybe_port = hostport.rpartition(":")
        if colon and maybe_port.isdigit() and name:
            host, port = name, maybe_port
    return scheme, userinfo, host, port, rest


def _is_network_host(host: str, port: str) -> bool:
    if not host:
        return False
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return True
    except ValueError:
        pass
    if bare.lower() == "localhost":
        return True
    labels = bare.split(".")
    if not all(_DNS_LABEL.match(label) for label in labels):
        return False
    if port:
        return True
    # A dotted name whose last label is alphabetic, like a top-level domain.
    return len(labels) >= 2 and labels[-1].isalpha() and 2 <= len(labels[-1]) <= 24


def mask_url(url: str) -> str:
    """The URL with everything but its scheme and network host replaced by `****`."""
    text = str(url).strip()
    scheme, userinfo, host, port, rest = _split(text)
    if not scheme:
        return MASK
    if not _is_network_host(host, port):
        return f"{scheme}://{MASK}"
    shown = (MASK + "@" if userinfo else "") + host + (f":{port}" if port else "")
    if rest.strip("/"):
        shown += "/" + MASK
    return f"{scheme}://{shown}"


def _fragments(url: str) -> set[str]:
    """The secret parts of one URL: userinfo, token-like host, path segments, query values."""
    scheme, userinfo, host, port, rest = _split(url)
    parts: set[str] = set()
    if userinfo:
        parts.add(userinfo)
        parts.update(userinfo.split(":"))
    if host and not _is_network_host(host, port):
        parts.add(host)
        if port:
            parts.add(f"{host}:{port}")
    path, _, query = rest.partition("?")
    query = query.partition("#")[0]
    for segment in path.split("/"):
        if segment:
            parts.add(segment)
    for pair in query.split("&"):
        _, eq, value = pair.partition("=")
        if eq and value:
            parts.add(value)
    if rest.strip("/?#"):
        parts.add(rest)
    expanded: set[str] = set()
    for part in parts:
        for variant in (part, unquote(part), quote(part, safe="")):
            if len(variant) >= _MIN_FRAGMENT:
                expanded.add(variant)
    return expanded


def mask_secrets(text: str | None, urls: Iterable[str] = ()) -> str:
    """Scrub notification URLs and their secret parts out of free text (an error message).

    Every configured URL is replaced by its masked form, every secret fragment of it (token,
    password, topic, path segment) by `****`, any other URL in the text by its masked form, and
    `key=`/`token=`/`password=` query values by `****`.
    """
    if not text:
        return ""
    result = str(text)
    url_list = sorted({str(u) for u in urls if u}, key=len, reverse=True)
    # Whole URLs first, parked behind placeholders so that scrubbing fragments cannot mangle
    # their masked forms.
    parked: list[str] = []
    for url in url_list:
        if url in result:
            parked.append(mask_url(url))
            result = result.replace(url, f"\x00{len(parked) - 1}\x00")
    fragments: set[str] = set()
    for url in url_list:
        fragments |= _fragments(url)
    for fragment in sorted(fragments, key=len, reverse=True):
        result = result.replace(fragment, MASK)
    result = _URL_IN_TEXT.sub(lambda match: mask_url(match.group(0)), result)
    result = _SECRET_QUERY.sub(lambda match: f"{match.group(1)}={MASK}", result)
    for index, masked in enumerate(parked):
        result = result.replace(f"\x00{index}\x00", masked)
    return result

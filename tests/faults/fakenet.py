"""Run the real `bubble-monitor` CLI with the network swapped out: `python fakenet.py ARGS...`.

The subprocess tests use this instead of the console script so that `collect` never reaches the
real Yahoo, FRED or New York Fed, and a notification never leaves the machine:

* DNS resolves only local names: any other host fails as "Name or service not known", so an
  Apprise URL to a public service fails fast and deterministically, with or without a network;
* httpx clients get a MockTransport (FakeHttp of helpers.py), yfinance's calls are FakeYahoo's;
* $FAKENET picks the sources' behaviour: "ok" (plausible data, the default) or "fail" (every
  source fails: DNS errors and rate limits).

Everything else (argument parsing, config, store, logging, exit status) is the product's own.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _local_only_dns() -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in ("localhost", "127.0.0.1", "::1") or name.startswith("127."):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def main() -> int:
    _local_only_dns()
    import httpx
    from helpers import FakeHttp, FakeYahoo

    import data_sources.yahoo as yahoo
    from bubble_core.store import utcnow

    mode = os.environ.get("FAKENET", "ok")
    http = FakeHttp(utcnow)
    fake_yahoo = FakeYahoo(utcnow)
    if mode == "fail":
        http.modes = {"fred": "dns", "nyfed": "dns"}
        fake_yahoo.mode = fake_yahoo.shares_mode = "ratelimit"
    original_init = httpx.AsyncClient.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("transport", httpx.MockTransport(http.handler))
        original_init(self, *args, **kwargs)

    httpx.AsyncClient.__init__ = init  # type: ignore[method-assign]
    yahoo._default_download = fake_yahoo.download
    yahoo._default_shares_fetch = fake_yahoo.shares_fetch

    import monitor

    return monitor.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())

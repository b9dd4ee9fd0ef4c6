"""Effective fed funds rate (EFFR) and its target range from the New York Fed Markets API.

Keyless JSON. The rate for a business day is published the next morning (around 08:00-09:00
ET), so a poll an hour apart is plenty.
"""

from __future__ import annotations

import datetime as dt
import json

import httpx

from bubble_core.errors import SourceError
from bubble_core.models import MacroObservation, SourceBatch
from data_sources.base import USER_AGENT, check_http, describe_transport_error, finite

DEFAULT_BASE_URL = "https://markets.newyorkfed.org/api/rates/unsecured/effr"

# The start of the published EFFR history the API serves (OpenBB uses the same default).
HISTORY_START = dt.date(2016, 3, 1)
# `/last/10.json` covers two calendar weeks of business days, including a revised day or two.
LAST_N = 10
RECENT = dt.timedelta(days=7)

SERIES_RATE = "EFFR"
SERIES_TARGET_FROM = "EFFR_TARGET_FROM"
SERIES_TARGET_TO = "EFFR_TARGET_TO"


def parse_effr_json(text: str) -> list[MacroObservation]:
    """EFFR and target-range observations from a refRates payload, oldest first.

    Entries of another type or without a usable rate are skipped; a payload that is not JSON,
    has the wrong shape, or holds no usable rate raises SourceError("nyfed", ...).
    """
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise SourceError("nyfed", f"malformed JSON: {exc}") from None
    except RecursionError:  # thousands of nested brackets
        raise SourceError("nyfed", "malformed JSON: nested too deeply") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("refRates"), list):
        raise SourceError("nyfed", "malformed JSON: expected an object with a refRates list")
    entries = payload["refRates"]
    if not entries:
        raise SourceError("nyfed", "no rates in response")

    # The API lists newest first; keep the first occurrence of a (series, date) so a repeated
    # day cannot reach the store twice in one upsert, and sort at the end.
    values: dict[tuple[str, dt.date], float] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise SourceError("nyfed", "malformed JSON: refRates entry is not an object")
        if entry.get("type") != "EFFR":
            continue
        rate = finite(entry.get("percentRate"))
        if rate is None:
            continue
        raw_date = entry.get("effectiveDate")
        try:
            day = dt.date.fromisoformat(str(raw_date))
        except ValueError:
            raise SourceError("nyfed", f"malformed JSON: bad effectiveDate {raw_date!r}") from None
        # Rates can legitimately be 0 (the 2020 target range was 0-0.25), so `finite`, not
        # `finite_positive`.
        for series_id, value in (
            (SERIES_RATE, rate),
            (SERIES_TARGET_FROM, finite(entry.get("targetRateFrom"))),
            (SERIES_TARGET_TO, finite(entry.get("targetRateTo"))),
        ):
            if value is not None:
                values.setdefault((series_id, day), value)

    if not values:
        raise SourceError("nyfed", "no rates in response")
    ordered = sorted(values.items(), key=lambda item: (item[0][1], item[0][0]))
    return [
        MacroObservation(series_id=series_id, date=day, value=value)
        for (series_id, day), value in ordered
    ]


class NyFedSource:
    """Polls the EFFR: a short `last/N` request when up to date, a date search to backfill."""

    name = "nyfed"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 20.0,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def request_for(
        self, since: dt.date | None, today: dt.date | None = None
    ) -> tuple[str, dict[str, str]]:
        """The URL and query parameters one poll asks for."""
        today = today or dt.date.today()
        if since is not None and today - since <= RECENT:
            return f"{self._base_url}/last/{LAST_N}.json", {}
        start = since if since is not None else HISTORY_START
        return (
            f"{self._base_url}/search.json",
            {"startDate": start.isoformat(), "endDate": today.isoformat()},
        )

    async def fetch(self, since: dt.date | None) -> SourceBatch:
        url, params = self.request_for(since)
        try:
            response = await self._client.get(
                url, params=params, headers={"User-Agent": USER_AGENT}, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise SourceError("nyfed", describe_transport_error(exc)) from exc
        check_http("nyfed", response)
        return SourceBatch(macro=parse_effr_json(response.text))

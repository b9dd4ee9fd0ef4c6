"""FRED macro series through the keyless `fredgraph.csv` endpoint, one series per request.

One id per request because several ids of mixed frequencies come back as a ZIP of CSVs, and
because one bad id would otherwise sink the whole poll.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Mapping, Sequence

import httpx

from bubble_core.errors import SourceError
from bubble_core.models import MacroObservation, SourceBatch
from data_sources.base import USER_AGENT, check_http, describe_transport_error, short_reason

DEFAULT_BASE_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"

# Re-read this far before the last stored date: FRED revises recent observations in place.
REVISION_WINDOW = dt.timedelta(days=14)

# FRED has no published limit (~120/min is reported); a handful at once stays far below it.
MAX_CONCURRENT_REQUESTS = 4

# The header's date column was renamed around Dec 2024; both spellings are still in the wild.
_DATE_HEADERS = frozenset({"observation_date", "date"})
# FRED writes "." for a missing observation historically, and an empty field in newer files.
_MISSING = frozenset({"", "."})
_HTML_MARKERS = ("<!doctype", "<html", "<title>error")


def parse_fredgraph_csv(series_id: str, text: str) -> list[MacroObservation]:
    """Observations of one series from a fredgraph CSV body, oldest first, missing values skipped.

    Raises SourceError("fred", "SERIES: ...") for an HTML page, a ZIP, a header naming another
    series, or a bad date or value (with its line number).
    """
    head = text[:2048].lstrip("\ufeff \t\r\n").lower()
    if any(marker in head for marker in _HTML_MARKERS):
        raise SourceError("fred", f"{series_id}: HTML error page instead of CSV")
    if text.startswith("PK\x03\x04"):
        raise SourceError("fred", f"{series_id}: ZIP archive instead of CSV")

    lines = text.lstrip("\ufeff").splitlines()
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        return []
    header = [cell.strip().strip('"') for cell in lines[header_index].split(",")]
    if len(header) < 2 or header[0].lower() not in _DATE_HEADERS:
        raise SourceError(
            "fred", f"{series_id}: unexpected CSV header {short_reason(lines[header_index], 80)!r}"
        )
    if header[1].upper() != series_id.upper():
        raise SourceError("fred", f"{series_id}: CSV header names series {header[1]!r} instead")

    # Keyed by date so a repeated date cannot reach the store twice in one upsert.
    by_date: dict[dt.date, float] = {}
    for number, line in enumerate(lines[header_index + 1 :], start=header_index + 2):
        if not line.strip():
            continue
        cells = [cell.strip().strip('"') for cell in line.split(",")]
        try:
            day = dt.date.fromisoformat(cells[0])
        except ValueError:
            raise SourceError(
                "fred", f"{series_id}: line {number}: bad date {cells[0]!r}"
            ) from None
        raw = cells[1] if len(cells) > 1 else ""
        if raw in _MISSING:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise SourceError("fred", f"{series_id}: line {number}: bad value {raw!r}")
        by_date[day] = value
    return [
        MacroObservation(series_id=series_id, date=day, value=value)
        for day, value in sorted(by_date.items())
    ]


class FredSource:
    """Polls FRED series; a failing series is a warning unless every series fails."""

    name = "fred"

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 20.0,
    ) -> None:
        self._client = client
        self._base_url = base_url
        self._timeout = timeout

    async def fetch(
        self, series_ids: Sequence[str], since: Mapping[str, dt.date | None]
    ) -> SourceBatch:
        ids = list(dict.fromkeys(series_ids))
        batch = SourceBatch()
        if not ids:
            return batch
        gate = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)

        async def one(series_id: str) -> list[MacroObservation] | SourceError:
            async with gate:
                try:
                    return await self._fetch_series(series_id, since.get(series_id))
                except SourceError as exc:
                    return exc

        results = await asyncio.gather(*(one(series_id) for series_id in ids))

        failures: list[SourceError] = []
        reasons: list[str] = []
        for series_id, result in zip(ids, results, strict=True):
            if isinstance(result, SourceError):
                failures.append(result)
                reason = result.reason
                if not reason.startswith(f"{series_id}: "):
                    reason = f"{series_id}: {reason}"
                reasons.append(reason)
            elif not result:
                reasons.append(f"{series_id}: no observations")
            else:
                batch.macro.extend(result)

        if not batch.macro:
            retry_after = max(
                (f.retry_after for f in failures if f.retry_after is not None), default=None
            )
            bare = {f.reason.split(": ", 1)[1] if ": " in f.reason else f.reason for f in failures}
            if len(failures) == len(ids) > 1 and len(bare) == 1:
                # One cause for all (no network, a 429): say it once, not once per series.
                raise SourceError("fred", f"all {len(ids)} series: {bare.pop()}", retry_after)
            raise SourceError("fred", "; ".join(reasons), retry_after)
        batch.warnings.extend(reasons)
        return batch

    async def _fetch_series(self, series_id: str, last: dt.date | None) -> list[MacroObservation]:
        params = {"id": series_id}
        if last is not None:
            params["cosd"] = (last - REVISION_WINDOW).isoformat()
        try:
            response = await self._client.get(
                self._base_url,
                params=params,
                headers={"User-Agent": USER_AGENT},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise SourceError("fred", f"{series_id}: {describe_transport_error(exc)}") from exc
        try:
            check_http("fred", response)
        except SourceError as exc:
            raise SourceError("fred", f"{series_id}: {exc.reason}", exc.retry_after) from None
        return parse_fredgraph_csv(series_id, response.text)

"""New York Fed EFFR source: payload parsing, request choice, HTTP errors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from bubble_core.errors import SourceError
from bubble_core.models import MacroObservation
from data_sources.nyfed import NyFedSource, parse_effr_json

BASE = "https://markets.newyorkfed.org/api/rates/unsecured/effr"

# The sample payload of data-sources.md §4.
SAMPLE = (
    '{"refRates":[{"effectiveDate":"2026-09-14","type":"EFFR","percentRate":3.63,'
    '"percentPercentile1":3.60,"percentPercentile25":3.62,"percentPercentile75":3.64,'
    '"percentPercentile99":3.70,"volumeInBillions":91,"targetRateFrom":3.50,'
    '"targetRateTo":3.75,"revisionIndicator":""}]}'
)


def _entry(day: str, rate: float | None, **extra: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "effectiveDate": day,
        "type": "EFFR",
        "percentRate": rate,
        "targetRateFrom": 3.50,
        "targetRateTo": 3.75,
        "revisionIndicator": "",
    }
    entry.update(extra)
    return entry


NEWEST_FIRST = json.dumps(
    {
        "refRates": [
            _entry("2026-09-16", 3.64),
            _entry("2026-09-15", 3.62, revisionIndicator="R"),
            _entry("2026-09-14", 3.63),
            _entry("2026-09-11", 3.61),
        ]
    }
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


# -- parse_effr_json ---------------------------------------------------------------------------


def test_parse_sample_payload() -> None:
    day = dt.date(2026, 9, 14)
    assert parse_effr_json(SAMPLE) == [
        MacroObservation("EFFR", day, 3.63),
        MacroObservation("EFFR_TARGET_FROM", day, 3.50),
        MacroObservation("EFFR_TARGET_TO", day, 3.75),
    ]


def test_parse_newest_first_comes_out_oldest_first() -> None:
    rows = parse_effr_json(NEWEST_FIRST)
    effr = [(o.date.isoformat(), o.value) for o in rows if o.series_id == "EFFR"]
    assert effr == [
        ("2026-09-11", 3.61),
        ("2026-09-14", 3.63),
        ("2026-09-15", 3.62),
        ("2026-09-16", 3.64),
    ]
    assert [o.date for o in rows] == sorted(o.date for o in rows)


def test_parse_zero_target_is_kept() -> None:
    text = json.dumps(
        {"refRates": [_entry("2020-04-01", 0.05, targetRateFrom=0.0, targetRateTo=0.25)]}
    )
    values = {o.series_id: o.value for o in parse_effr_json(text)}
    assert values == {"EFFR": 0.05, "EFFR_TARGET_FROM": 0.0, "EFFR_TARGET_TO": 0.25}


def test_parse_skips_other_types_and_missing_rates() -> None:
    text = json.dumps(
        {
            "refRates": [
                _entry("2026-09-16", 3.64),
                _entry("2026-09-15", 3.9, type="OBFR"),
                _entry("2026-09-14", None),
                {"effectiveDate": "2026-09-13", "type": "EFFR", "targetRateFrom": 3.5},
                _entry("2026-09-12", 3.6, targetRateFrom=None),
            ]
        }
    )
    # NaN is not valid JSON but Python's json reads it: it must be skipped, not stored.
    text = text.replace(
        '"refRates": [',
        '"refRates": [{"effectiveDate": "2026-09-17", "type": "EFFR", "percentRate": NaN}, ',
    )
    rows = parse_effr_json(text)
    assert {(o.series_id, o.date.isoformat()) for o in rows} == {
        ("EFFR", "2026-09-12"),
        ("EFFR_TARGET_TO", "2026-09-12"),
        ("EFFR", "2026-09-16"),
        ("EFFR_TARGET_FROM", "2026-09-16"),
        ("EFFR_TARGET_TO", "2026-09-16"),
    }


def test_parse_duplicate_day_keeps_newest_listed() -> None:
    text = json.dumps(
        {
            "refRates": [
                _entry("2026-09-15", 3.62, revisionIndicator="R"),
                _entry("2026-09-15", 3.61),
            ]
        }
    )
    effr = [o.value for o in parse_effr_json(text) if o.series_id == "EFFR"]
    assert effr == [3.62]


def test_parse_truncated_json() -> None:
    with pytest.raises(SourceError) as info:
        parse_effr_json(SAMPLE[:60])
    assert info.value.source == "nyfed"
    assert info.value.reason.startswith("malformed JSON: ")


@pytest.mark.parametrize("text", ["[]", '{"rates": []}', '{"refRates": {}}', '{"refRates": [1]}'])
def test_parse_wrong_shape(text: str) -> None:
    with pytest.raises(SourceError, match="^nyfed: malformed JSON: "):
        parse_effr_json(text)


def test_parse_bad_date() -> None:
    with pytest.raises(SourceError, match="malformed JSON: bad effectiveDate '09/14/2026'"):
        parse_effr_json(json.dumps({"refRates": [_entry("09/14/2026", 3.6)]}))


def test_parse_empty_ref_rates() -> None:
    with pytest.raises(SourceError) as info:
        parse_effr_json('{"refRates":[]}')
    assert info.value.reason == "no rates in response"


def test_parse_only_unusable_entries() -> None:
    with pytest.raises(SourceError, match="no rates in response"):
        parse_effr_json(json.dumps({"refRates": [_entry("2026-09-14", None)]}))


# -- request choice ----------------------------------------------------------------------------


def test_request_recent_uses_last_n(client: httpx.AsyncClient) -> None:
    url, params = NyFedSource(client).request_for(dt.date(2026, 9, 14), dt.date(2026, 9, 16))
    assert (url, params) == (f"{BASE}/last/10.json", {})


def test_request_old_since_searches_from_since(client: httpx.AsyncClient) -> None:
    url, params = NyFedSource(client).request_for(dt.date(2026, 6, 1), dt.date(2026, 9, 16))
    assert url == f"{BASE}/search.json"
    assert params == {"startDate": "2026-06-01", "endDate": "2026-09-16"}


def test_request_no_since_backfills_from_2016(client: httpx.AsyncClient) -> None:
    url, params = NyFedSource(client).request_for(None, dt.date(2026, 9, 16))
    assert url == f"{BASE}/search.json"
    assert params == {"startDate": "2016-03-01", "endDate": "2026-09-16"}


# -- NyFedSource.fetch -------------------------------------------------------------------------


async def test_fetch_recent(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/last/10.json").respond(200, text=NEWEST_FIRST)
    batch = await NyFedSource(client).fetch(dt.date.today() - dt.timedelta(days=2))
    assert route.call_count == 1
    assert len(batch.macro) == 12
    assert batch.macro[-1] == MacroObservation("EFFR_TARGET_TO", dt.date(2026, 9, 16), 3.75)
    assert batch.warnings == []


async def test_fetch_backfill(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    route = router.get(f"{BASE}/search.json").respond(200, text=SAMPLE)
    batch = await NyFedSource(client).fetch(None)
    params = route.calls.last.request.url.params
    assert params["startDate"] == "2016-03-01"
    assert params["endDate"] == dt.date.today().isoformat()
    assert [o.series_id for o in batch.macro] == ["EFFR", "EFFR_TARGET_FROM", "EFFR_TARGET_TO"]


async def test_fetch_503(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/search.json").respond(503)
    with pytest.raises(SourceError) as info:
        await NyFedSource(client).fetch(None)
    assert info.value.source == "nyfed"
    assert info.value.reason == "HTTP 503 Service Unavailable"


async def test_fetch_429_keeps_retry_after(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/search.json").respond(429, headers={"Retry-After": "60"})
    with pytest.raises(SourceError) as info:
        await NyFedSource(client).fetch(None)
    assert info.value.retry_after == 60.0


async def test_fetch_truncated_body(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/search.json").respond(200, text=SAMPLE[:-5])
    with pytest.raises(SourceError, match="malformed JSON"):
        await NyFedSource(client).fetch(None)


async def test_fetch_timeout(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/search.json").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(SourceError) as info:
        await NyFedSource(client).fetch(None)
    assert info.value.reason == "timeout (ConnectTimeout)"


async def test_fetch_dns_failure(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    router.get(f"{BASE}/search.json").mock(
        side_effect=httpx.ConnectError("[Errno -3] Temporary failure in name resolution")
    )
    with pytest.raises(SourceError, match="DNS failure"):
        await NyFedSource(client).fetch(None)

"""FRED fredgraph.csv source: parsing, per-series failures, HTTP and transport errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from bubble_core.errors import SourceError
from bubble_core.models import MacroObservation
from data_sources.fred import FredSource, parse_fredgraph_csv

URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"

NEW_HEADER = "observation_date,DGS10\n2026-10-09,4.12\n2026-10-12,\n2026-10-13,4.15\n"
OLD_HEADER = "DATE,DFF\r\n2026-10-10,3.58\r\n2026-10-11,.\r\n2026-10-12,3.57\r\n"
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Error - St. Louis Fed</title></head>"
    "<body>Series not found</body></html>"
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        yield mock


# -- parse_fredgraph_csv -----------------------------------------------------------------------


def test_parse_new_header_skips_empty_value() -> None:
    assert parse_fredgraph_csv("DGS10", NEW_HEADER) == [
        MacroObservation("DGS10", dt.date(2026, 10, 9), 4.12),
        MacroObservation("DGS10", dt.date(2026, 10, 13), 4.15),
    ]


def test_parse_old_header_skips_dot_value() -> None:
    assert parse_fredgraph_csv("DFF", OLD_HEADER) == [
        MacroObservation("DFF", dt.date(2026, 10, 10), 3.58),
        MacroObservation("DFF", dt.date(2026, 10, 12), 3.57),
    ]


def test_parse_missing_is_never_zero() -> None:
    rows = parse_fredgraph_csv("DGS10", "observation_date,DGS10\n2026-01-02,.\n2026-01-03,\n")
    assert rows == []


def test_parse_zero_is_a_real_value() -> None:
    # A rate of exactly 0 is data (2020's target floor), unlike "." which is missing.
    rows = parse_fredgraph_csv("DFEDTARL", "observation_date,DFEDTARL\n2020-03-16,0.00\n")
    assert rows == [MacroObservation("DFEDTARL", dt.date(2020, 3, 16), 0.0)]


def test_parse_bom_and_repeated_date_keeps_last() -> None:
    text = "\ufeffobservation_date,GDP\n2026-04-01,31000.0\n2026-04-01,31200.5\n"
    assert parse_fredgraph_csv("GDP", text) == [
        MacroObservation("GDP", dt.date(2026, 4, 1), 31200.5)
    ]


@pytest.mark.parametrize(
    "page",
    [HTML_PAGE, "<html><body>oops</body></html>", "  <title>Error - St. Louis Fed</title>"],
)
def test_parse_refuses_html(page: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_fredgraph_csv("WILL5000IND", page)
    assert info.value.source == "fred"
    assert info.value.reason == "WILL5000IND: HTML error page instead of CSV"


def test_parse_refuses_other_series_header() -> None:
    with pytest.raises(SourceError) as info:
        parse_fredgraph_csv("DGS10", "observation_date,DFF\n2026-10-09,3.58\n")
    assert info.value.reason.startswith("DGS10: ")
    assert "'DFF'" in info.value.reason


def test_parse_refuses_unexpected_header() -> None:
    with pytest.raises(SourceError, match="DGS10: unexpected CSV header"):
        parse_fredgraph_csv("DGS10", "when,DGS10\n2026-10-09,4.1\n")


def test_parse_bad_date_names_line() -> None:
    with pytest.raises(SourceError) as info:
        parse_fredgraph_csv("DGS10", "observation_date,DGS10\n2026-10-09,4.1\n10/12/2026,4.2\n")
    assert info.value.reason == "DGS10: line 3: bad date '10/12/2026'"


@pytest.mark.parametrize("raw", ["abc", "nan", "inf"])
def test_parse_bad_value_names_line(raw: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_fredgraph_csv("DGS10", f"observation_date,DGS10\n2026-10-09,{raw}\n")
    assert info.value.reason == f"DGS10: line 2: bad value {raw!r}"


def test_parse_empty_body_is_no_rows() -> None:
    assert parse_fredgraph_csv("DGS10", "") == []


# -- FredSource.fetch --------------------------------------------------------------------------


async def test_fetch_two_series_one_request_each(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    dgs10 = router.get(URL, params={"id": "DGS10"}).respond(200, text=NEW_HEADER)
    dff = router.get(URL, params={"id": "DFF"}).respond(200, text=OLD_HEADER)
    batch = await FredSource(client).fetch(["DGS10", "DFF"], {})
    assert dgs10.call_count == 1 and dff.call_count == 1
    assert batch.warnings == []
    assert [(o.series_id, o.date.isoformat(), o.value) for o in batch.macro] == [
        ("DGS10", "2026-10-09", 4.12),
        ("DGS10", "2026-10-13", 4.15),
        ("DFF", "2026-10-10", 3.58),
        ("DFF", "2026-10-12", 3.57),
    ]


async def test_fetch_sends_cosd_fourteen_days_back(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.get(URL).respond(200, text=NEW_HEADER)
    await FredSource(client).fetch(["DGS10"], {"DGS10": dt.date(2026, 10, 13)})
    params = route.calls.last.request.url.params
    assert params["id"] == "DGS10"
    assert params["cosd"] == "2026-09-29"


async def test_fetch_without_since_has_no_cosd(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.get(URL).respond(200, text=NEW_HEADER)
    await FredSource(client).fetch(["DGS10"], {"DGS10": None})
    assert "cosd" not in route.calls.last.request.url.params


async def test_fetch_partial_failure_becomes_warning(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.get(URL, params={"id": "DGS10"}).respond(200, text=NEW_HEADER)
    router.get(URL, params={"id": "WILL5000IND"}).respond(200, text=HTML_PAGE)
    router.get(URL, params={"id": "DFF"}).respond(500)
    batch = await FredSource(client).fetch(["DGS10", "WILL5000IND", "DFF"], {})
    assert {o.series_id for o in batch.macro} == {"DGS10"}
    assert batch.warnings == [
        "WILL5000IND: HTML error page instead of CSV",
        "DFF: HTTP 500 Internal Server Error",
    ]


async def test_fetch_zero_observations_is_warning_not_row(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.get(URL, params={"id": "DGS10"}).respond(200, text=NEW_HEADER)
    router.get(URL, params={"id": "GDP"}).respond(200, text="observation_date,GDP\n2026-07-01,.\n")
    batch = await FredSource(client).fetch(["DGS10", "GDP"], {})
    assert all(o.series_id == "DGS10" for o in batch.macro)
    assert batch.warnings == ["GDP: no observations"]


async def test_fetch_total_failure_raises_with_all_reasons(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.get(URL, params={"id": "DGS10"}).respond(503)
    router.get(URL, params={"id": "DFF"}).respond(200, text=HTML_PAGE)
    with pytest.raises(SourceError) as info:
        await FredSource(client).fetch(["DGS10", "DFF"], {})
    assert info.value.source == "fred"
    assert info.value.reason == (
        "DGS10: HTTP 503 Service Unavailable; DFF: HTML error page instead of CSV"
    )


async def test_fetch_429_keeps_retry_after(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    router.get(URL).respond(429, headers={"Retry-After": "120"})
    with pytest.raises(SourceError) as info:
        await FredSource(client).fetch(["DGS10"], {})
    assert "DGS10: HTTP 429" in info.value.reason
    assert "rate limited" in info.value.reason
    assert info.value.retry_after == 120.0


async def test_fetch_500(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    router.get(URL).respond(500)
    with pytest.raises(SourceError) as info:
        await FredSource(client).fetch(["DGS10"], {})
    assert info.value.reason == "DGS10: HTTP 500 Internal Server Error"
    assert info.value.retry_after is None


async def test_fetch_timeout(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    router.get(URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(SourceError) as info:
        await FredSource(client).fetch(["DGS10"], {})
    assert info.value.reason == "DGS10: timeout (ReadTimeout)"


async def test_fetch_dns_failure(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    router.get(URL).mock(side_effect=httpx.ConnectError("[Errno -2] Name or service not known"))
    with pytest.raises(SourceError) as info:
        await FredSource(client).fetch(["DGS10"], {})
    assert info.value.reason.startswith("DGS10: DNS failure (")
    assert "Name or service not known" in info.value.reason


async def test_fetch_timeout_is_passed_per_request(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.get(URL).respond(200, text=NEW_HEADER)
    await FredSource(client, timeout=3.5).fetch(["DGS10"], {})
    assert route.calls.last.request.extensions["timeout"]["read"] == 3.5


async def test_fetch_custom_base_url(client: httpx.AsyncClient, router: respx.MockRouter) -> None:
    route = router.get("http://fred.test/csv").respond(200, text=NEW_HEADER)
    batch = await FredSource(client, base_url="http://fred.test/csv").fetch(["DGS10"], {})
    assert route.call_count == 1
    assert len(batch.macro) == 2


async def test_fetch_no_series_makes_no_request(
    client: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = router.get(URL).respond(200, text=NEW_HEADER)
    batch = await FredSource(client).fetch([], {})
    assert route.call_count == 0
    assert batch.row_count() == 0 and batch.warnings == []

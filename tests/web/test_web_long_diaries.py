"""Long diaries (issue 15): the report defaults to the last 12 months, any range up to the
whole diary can be asked for (summarized by month past two years, and it says so); the FHIR
export pages (``_count``, a date range, next links) and the download streams the same entries.
On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from conftest import sign_up, web_settings
from dosewise.store.database import build_engine
from dosewise.web.app import create_app
from long_diary import fill_diary

NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


@contextmanager
def patient_with_diary(database_url: str, first: date, days: int) -> Iterator[tuple[TestClient, int]]:
    """The app at 07:00 UTC on 1 December 2026, a patient (zone UTC) signed in, whose diary
    holds ``days`` days from ``first``."""
    app = create_app(web_settings(database_url), clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, "long@example.org", zone="UTC")
        patient = web.get("/api/patients").json()[0]["id"]
        engine = build_engine(database_url)
        try:
            fill_diary(engine, patient, first, days)
        finally:
            engine.dispose()
        yield web, patient


def test_the_report_of_a_three_year_diary_shows_the_last_12_months(database_url: str) -> None:
    with patient_with_diary(database_url, date(2023, 12, 1), 3 * 365 + 1) as (web, patient):
        page = web.get(f"/patients/{patient}/report")
        assert page.status_code == 200, page.text
        assert 'value="2025-12-02"' in page.text and 'value="2026-12-01"' in page.text
        assert "2 Dec 2025 to 1 Dec 2026" in page.text
        # it says what the diary holds and how to ask for all of it
        assert "1 Dec 2023" in page.text and "first=2023-12-01&amp;last=2026-12-01" in page.text
        view = web.get(f"/patients/{patient}/report/view")
        assert view.status_code == 200
        assert "2025-12-02 to 2026-12-01" in view.text
        assert "summarized" not in view.text


def test_the_whole_of_a_long_diary_is_summarized_by_month_and_says_so(database_url: str) -> None:
    with patient_with_diary(database_url, date(2023, 12, 1), 3 * 365 + 1) as (web, patient):
        query = "first=2023-12-01&last=2026-12-01"
        page = web.get(f"/patients/{patient}/report?{query}")
        assert page.status_code == 200, page.text
        assert "summarized" in page.text
        view = web.get(f"/patients/{patient}/report/view?{query}")
        assert view.status_code == 200, view.text
        text = view.text
        assert "2023-12-01 to 2026-12-01" in text
        assert "summarized by month" in text
        # the earlier months are rows of their own, the last 12 months are in detail
        assert "Dec 2023" in text and "Nov 2024" in text
        assert "The last 12 months in detail" in text
        pdf = web.get(f"/patients/{patient}/report.pdf?{query}")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def _entries(bundle: dict[str, Any], mode: str | None = None) -> list[dict[str, Any]]:
    return [e for e in bundle.get("entry", []) if mode is None or e.get("search", {}).get("mode") == mode]


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((link["url"] for link in bundle.get("link", []) if link["relation"] == relation), None)


def test_the_fhir_export_pages_join_to_the_whole_download(database_url: str) -> None:
    with patient_with_diary(database_url, date(2026, 10, 1), 20) as (web, patient):
        download = web.get(f"/patients/{patient}/export/fhir.json")
        assert download.status_code == 200
        whole = json.loads(download.content)
        Bundle.model_validate(whole)
        wanted = [e["fullUrl"] for e in whole["entry"] if e["resource"]["resourceType"] != "Patient"]
        assert len(wanted) > 150
        url: str | None = f"/api/patients/{patient}/fhir?_count=40"
        seen: list[str] = []
        pages = 0
        while url is not None:
            response = web.get(url)
            assert response.status_code == 200, response.text
            page = response.json()
            Bundle.model_validate(page)
            assert page["type"] == "searchset"
            matches = _entries(page, "match")
            assert len(matches) <= 40
            assert [e["resource"]["resourceType"] for e in _entries(page, "include")] == ["Patient"]
            seen += [e["fullUrl"] for e in matches]
            url = _link(page, "next")
            if url is not None:
                assert url.startswith("http://testserver/api/patients/")
                url = url.removeprefix("http://testserver")
            pages += 1
        assert pages == -(-len(wanted) // 40)
        assert seen == wanted  # no overlap, nothing left out, in the download's order
        # the resources themselves are the same; a page links back to the one before
        by_url = {e["fullUrl"]: e["resource"] for e in whole["entry"]}
        first = web.get(f"/api/patients/{patient}/fhir?_count=40").json()
        assert _link(first, "previous") is None
        second = web.get(str(_link(first, "next")).removeprefix("http://testserver")).json()
        for entry in _entries(first, "match") + _entries(second, "match"):
            assert entry["resource"] == by_url[entry["fullUrl"]]
        back = web.get(str(_link(second, "previous")).removeprefix("http://testserver")).json()
        assert _entries(back, "match") == _entries(first, "match")
        third = web.get(str(_link(second, "next")).removeprefix("http://testserver")).json()
        back = web.get(str(_link(third, "previous")).removeprefix("http://testserver")).json()
        assert _entries(back, "match") == _entries(second, "match")


def test_the_fhir_export_takes_a_date_range(database_url: str) -> None:
    with patient_with_diary(database_url, date(2026, 10, 1), 20) as (web, patient):
        response = web.get(f"/api/patients/{patient}/fhir?date=ge2026-10-05&date=lt2026-10-07&_count=1000")
        assert response.status_code == 200, response.text
        page = response.json()
        days = set()
        for entry in _entries(page, "match"):
            resource = entry["resource"]
            if resource["resourceType"] == "Observation":
                days.add(resource["effectiveDateTime"][:10])
        assert days == {"2026-10-05", "2026-10-06"}
        doses = [
            e for e in _entries(page, "match") if e["resource"]["resourceType"] == "MedicationAdministration"
        ]
        assert 0 < len(doses) <= 8
        assert _link(page, "next") is None
        # the same as start/end ($everything's names)
        same = web.get(f"/api/patients/{patient}/fhir?start=2026-10-05&end=2026-10-06&_count=1000").json()
        assert [e["fullUrl"] for e in _entries(same, "match")] == [
            e["fullUrl"] for e in _entries(page, "match")
        ]


@pytest.mark.parametrize(
    "query",
    ["_count=0", "_count=-3", "_count=5001", "_count=ten", "date=2026-13-01", "date=xx2026-10-01",
     "date=ge2026-10-09&date=lt2026-10-01", "_page=bogus"],
)  # fmt: skip
def test_bad_fhir_paging_parameters_are_refused_with_a_message(query: str, tmp_path: Any) -> None:
    app = create_app(web_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}"), clock=lambda: NOW)
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, "bad@example.org", zone="UTC")
        patient = web.get("/api/patients").json()[0]["id"]
        response = web.get(f"/api/patients/{patient}/fhir?{query}")
        assert response.status_code == 400, response.text
        name = query.split("=", maxsplit=1)[0]
        assert response.json()["field"] == f"/{name}"
        assert response.json()["detail"].startswith(f"{name}: ")


def test_the_zip_of_everything_streams_the_same_fhir_entries(database_url: str) -> None:
    with patient_with_diary(database_url, date(2026, 11, 1), 10) as (web, patient):
        whole = json.loads(web.get(f"/patients/{patient}/export/fhir.json").content)
        response = web.get("/account/export.zip")
        assert response.status_code == 200, response.text
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert archive.testzip() is None
            bundle = json.loads(archive.read("fhir-bundle.json"))
            assert any(name.startswith("csv/") for name in archive.namelist())
        assert [e["fullUrl"] for e in bundle["entry"]] == [e["fullUrl"] for e in whole["entry"]]

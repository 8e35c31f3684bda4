"""The medicines page says how each name was read: a typo as assumed, a class as a class, a
product by its ingredients, and the report says it too."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient

from conftest import page_token, sign_up


def _page_text(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", response.text)).split())


def test_the_medicines_page_and_report_say_how_names_were_read(web: TestClient) -> None:
    sign_up(web, "mo@example.org")
    patient = web.get("/").headers["location"].split("/")[2]
    token = page_token(web)
    for name in ("oxycodon", "opioids", "NyQuil", "aspirin 81", "OxyContin", "Lioresal"):
        response = web.post(f"/patients/{patient}/medicines", data={"csrf_token": token, "name": name})
        assert response.status_code == 303, response.text
    page = _page_text(web, f"/patients/{patient}/medicines")
    for expected in (
        "oxycodon (read as oxycodone (from 'oxycodon'): check the spelling)",
        "Read as oxycodone (from 'oxycodon'): check the spelling.",
        "opioids (a class): major",
        "NyQuil (alcohol, in some forms): moderate",
        "NyQuil (doxylamine + dextromethorphan + paracetamol; in some forms alcohol",
        "aspirin 81 (read as aspirin 81 mg a day (low-dose aspirin))",
        "not graded as an NSAID",
        "Listed twice: oxycodon and OxyContin are both oxycodone",
        "Lioresal is baclofen itself",
    ):
        assert expected in page, expected
    report = _page_text(web, f"/patients/{patient}/report/view")
    for expected in (
        "oxycodon (read as oxycodone (from 'oxycodon'): check the spelling)",
        "opioids (a class)",
        "alcohol in some forms",
        "Listed twice: oxycodon and OxyContin are both oxycodone",
    ):
        assert expected in report, expected


def test_the_api_medicines_list_carries_the_new_fields(web: TestClient) -> None:
    sign_up(web, "mi@example.org")
    patient = web.get("/").headers["location"].split("/")[2]
    token = page_token(web)
    headers: dict[str, Any] = {"X-CSRF-Token": token}
    response = web.post(f"/api/patients/{patient}/medicines", json={"name": "benzos"}, headers=headers)
    assert response.status_code in (200, 201), response.text
    interactions = response.json()["interactions"]
    [finding] = interactions["findings"]
    assert (finding["read_as"], finding["matched"], finding["severity"]) == (
        "class",
        "benzos (a class)",
        "major",
    )
    assert interactions["names"][0]["status"] == "recognised"

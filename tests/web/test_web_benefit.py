"""The benefit review in the API: GET /api/patients/{id}/benefit (baclofen.md section 10).

The diary, by hand (UTC): baseline entries 1-4 Dec 2026 (Penn 3, 3, 3, 3; stiffness 7, 7, 6, 6:
means 3.0 and 6.5); a labelled titration to 60 mg/day from 15 Dec [US-TAB] (60 from 24 Dec);
entries 28-31 Jan 2027 (Penn 3, 3, 2, 2; stiffness 6: means 2.5 and 6.0). On 3 Feb 2027 the dose
has been stable for 42 days (24 Dec + 41): 6 weeks; the baseline is 1-14 Dec; neither score fell
enough (-0.5 and -0.5; 1 and 2 are needed, product defaults): the flag.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from conftest import page_token, sign_up, web_settings_for_months
from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.monographs import load_monograph
from dosewise.services import plans, symptoms
from dosewise.web.app import create_app

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))


@pytest.fixture
def api(tmp_path: Any, clock: Clock) -> Any:
    app = create_app(web_settings_for_months(f"sqlite:///{tmp_path / 'api.sqlite3'}"), clock=clock)
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, "benefit@example.org", zone="UTC")
        web.cookies.clear()
        assert (
            web.post("/api/session", json={"email": "benefit@example.org", "password": PASSWORD}).status_code
            == 200
        )
        yield web, web.get("/api/patients").json()[0]["id"]


def record(engine: Any, patient: int, day: date, penn: int, nrs: int) -> None:
    moment = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    symptoms.record_symptoms(engine, patient_id=patient, now=moment, penn_frequency=penn, penn_severity=2,
                             spasticity_nrs=nrs, actor="test")  # fmt: skip


def make_diary(engine: Any, patient: int) -> None:
    """The module's diary: baseline, titration to 60 mg/day from 15 Dec, entries 28-31 Jan."""
    for number, (penn, nrs) in enumerate([(3, 7), (3, 7), (3, 6), (3, 6)]):
        record(engine, patient, date(2026, 12, 1) + timedelta(days=number), penn, nrs)
    monograph = load_monograph("baclofen")
    plan = build_titration(monograph, target_daily_mg=60, products=parse_product_specs([], monograph),
                           start=date(2026, 12, 15))  # fmt: skip
    plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3),
                     zone=ZoneInfo("UTC"), now=datetime(2026, 12, 14, 18, tzinfo=UTC),
                     actor="test")  # fmt: skip
    for number, (penn, nrs) in enumerate([(3, 6), (3, 6), (2, 6), (2, 6)]):
        record(engine, patient, date(2027, 1, 28) + timedelta(days=number), penn, nrs)


def test_the_api_flags_no_clear_benefit_with_the_numbers(api: Any, clock: Clock) -> None:
    client, patient = api
    make_diary(client.app.state.context.engine, patient)
    clock.moment = datetime(2027, 2, 2, 12, tzinfo=UTC)  # 41 days at 60 mg/day
    early = client.get(f"/api/patients/{patient}/benefit")
    assert early.status_code == 200
    assert (early.json()["status"], early.json()["flag"]) == ("too_early", False)
    assert early.json()["message"] == "too early: 5 weeks at 60 mg/day; review from 2027-02-03"

    clock.moment = datetime(2027, 2, 3, 12, tzinfo=UTC)
    body = client.get(f"/api/patients/{patient}/benefit").json()
    assert body["flag"] is True
    assert body["status"] == "no_clear_benefit"
    assert body["message"].startswith(
        "no clear benefit after 6 weeks at 60 mg/day: consider a slow withdrawal"
    )
    assert (body["stable_daily_mg"], body["stable_since"], body["weeks_at_stable_dose"]) == (
        60,
        "2026-12-24",
        6,
    )
    assert body["titration_start"] == "2026-12-15"
    assert body["baseline"] == {"first_day": "2026-12-01", "last_day": "2026-12-14", "entries": 4,
                                "penn_frequency": 3.0, "stiffness_nrs": 6.5}  # fmt: skip
    assert body["current"] == {"first_day": "2027-01-21", "last_day": "2027-02-03", "entries": 4,
                               "penn_frequency": 2.5, "stiffness_nrs": 6.0}  # fmt: skip
    assert body["change"] == {"penn_frequency": -0.5, "stiffness_nrs": -0.5}
    assert {"US-TAB", "UK", "DOSEWISE", "PSFS"} <= set(body["sources"])
    assert body["changes_plan"] is False
    assert any("product default" in setting for setting in body["settings"])
    assert [d["daily_mg"] for d in body["doses"]] == [15, 30, 45, 60]


def test_someone_else_cannot_read_the_review(api: Any) -> None:
    client, patient = api
    client.cookies.clear()
    sign_up(client, "other@example.org", zone="UTC")
    assert client.get(f"/api/patients/{patient}/benefit").status_code == 404


def test_the_clinicians_list_shows_the_flag(tmp_path: Any, clock: Clock) -> None:
    app = create_app(web_settings_for_months(f"sqlite:///{tmp_path / 'list.sqlite3'}"), clock=clock)
    with TestClient(app, follow_redirects=False) as sam, TestClient(app, follow_redirects=False) as doc:
        sign_up(sam, "sam@example.org", zone="UTC", name="Sam Rowe")
        sign_up(doc, "doc@example.org", role="clinician", name="Dr Haddad", zone="UTC")
        patient = sam.get("/api/patients").json()[0]["id"]
        token = page_token(sam, f"/patients/{patient}/access")
        page = sam.post(f"/patients/{patient}/invitations", data={"csrf_token": token, "role": "clinician"})
        code = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)
        assert code, page.text
        assert (
            doc.post("/join", data={"csrf_token": page_token(doc, "/join"), "code": code[1]}).status_code
            == 303
        )
        make_diary(app.state.context.engine, patient)
        clock.moment = datetime(2027, 1, 20, 12, tzinfo=UTC)  # 4 weeks at 60 mg/day: too early, not shown
        assert "Benefit review: no clear benefit" not in doc.get("/clinic").text
        clock.moment = datetime(2027, 2, 3, 12, tzinfo=UTC)
        listed = doc.get("/clinic").text
        assert (
            "Benefit review: no clear benefit after 6 weeks at 60 mg/day: consider a slow withdrawal"
            in listed
        )
        assert f'href="/patients/{patient}/report"' in listed


def test_the_clinicians_list_says_no_added_benefit_never_withdrawal(tmp_path: Any, clock: Clock) -> None:
    app = create_app(web_settings_for_months(f"sqlite:///{tmp_path / 'list.sqlite3'}"), clock=clock)
    with TestClient(app, follow_redirects=False) as sam, TestClient(app, follow_redirects=False) as doc:
        sign_up(sam, "sam@example.org", zone="UTC", name="Sam Rowe")
        sign_up(doc, "doc@example.org", role="clinician", name="Dr Haddad", zone="UTC")
        patient = sam.get("/api/patients").json()[0]["id"]
        token = page_token(sam, f"/patients/{patient}/access")
        page = sam.post(f"/patients/{patient}/invitations", data={"csrf_token": token, "role": "clinician"})
        code = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)
        assert code, page.text
        doc.post("/join", data={"csrf_token": page_token(doc, "/join"), "code": code[1]})
        make_rise_diary(app.state.context.engine, patient)
        clock.moment = datetime(2027, 2, 3, 12, tzinfo=UTC)
        listed = doc.get("/clinic").text
        flags = re.findall(r'<span class="benefit-flag">([^<]*)</span>', listed)
        assert flags == [
            "Benefit review: no added benefit after 6 weeks at 60 mg/day over 30 mg/day: "
            "consider returning to the lower dose"
        ]


def make_rise_diary(engine: Any, patient: int) -> None:
    """A responder to 30 mg/day (a maintenance plan from 1 Nov 2026), raised to 60 mg/day on
    24 Dec with no further change: entries 10-13 Dec at 30 mg/day (Penn 1, stiffness 3, the
    baseline window 10-23 Dec) and 28-31 Jan at 60 mg/day (the same). 6 weeks at 60 on 3 Feb."""
    monograph = load_monograph("baclofen")
    products = parse_product_specs([], monograph)
    for daily_mg, start in ((30, date(2026, 11, 1)), (60, date(2026, 12, 24))):
        plan = build_maintenance(monograph, daily_mg=daily_mg, products=products, start=start, days=28)
        saved = datetime.combine(start - timedelta(days=1), time(18), tzinfo=UTC)
        plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3),
                         zone=ZoneInfo("UTC"), now=saved, actor="test",
                         confirm_rise="checked with the prescriber")  # fmt: skip
    for first in (date(2026, 12, 10), date(2027, 1, 28)):
        for number in range(4):
            record(engine, patient, first + timedelta(days=number), 1, 3)


def test_a_rise_from_a_dose_already_taken_is_no_added_benefit_in_the_api(api: Any, clock: Clock) -> None:
    client, patient = api
    make_rise_diary(client.app.state.context.engine, patient)
    clock.moment = datetime(2027, 2, 3, 12, tzinfo=UTC)
    body = client.get(f"/api/patients/{patient}/benefit").json()
    assert (body["status"], body["flag"]) == ("no_added_benefit", True)
    assert body["message"].startswith(
        "no added benefit after 6 weeks at 60 mg/day over 30 mg/day: consider returning to the lower dose"
    )
    assert (body["baseline_daily_mg"], body["baseline_on_baclofen"]) == ([30], True)
    assert body["titration_start"] == "2026-12-24"
    assert body["sources"] == ["PSFS", "DOSEWISE"]  # Dosewise's reading: no label rule cited
    assert "baclofen.md gives no rule" in body["rule"]
    assert "withdraw" not in " ".join([body["message"], *body["reasons"], body["rule"]])

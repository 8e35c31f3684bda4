"""Supply on the pages and the API (issue 14, point 5), with a controlled clock: the supply page
with its forms (a mistake shows the form again with the message, nothing stored), Today's line
and warning box, the JSON API, and who may record (patient, caregiver) or only read (clinician)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import page_token, sign_up, web_settings
from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.monographs import load_monograph
from dosewise.services import plans
from dosewise.store.models import PatientRow, StockEventRow
from dosewise.web.app import create_app

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 12, 1)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 7, 30, tzinfo=LONDON))


@pytest.fixture
def app(tmp_path: Any, clock: Clock) -> Any:
    return create_app(web_settings(f"sqlite:///{tmp_path / 'supply.sqlite3'}"), clock=clock)


@pytest.fixture
def patient(app: Any) -> Any:
    """A signed-in patient on a titration to 60 mg/day from 10 mg tablets that halve, saved at
    07:00 on 1 Dec."""
    with TestClient(app, follow_redirects=False) as client:
        user = sign_up(client, "pat@example.org", name="Pat", zone="Europe/London")
        engine = app.state.context.engine
        with engine.connect() as connection:
            patient_id = connection.scalar(select(PatientRow.id).where(PatientRow.user_id == user))
        monograph = load_monograph("baclofen")
        plan = build_titration(
            monograph,
            target_daily_mg=60,
            start=DAY,
            products=parse_product_specs(["tablet:10mg:halves"], monograph),
        )
        plans.start_plan(
            engine,
            patient_id=patient_id,
            plan=plan,
            times=parse_clock_times(None, 3),
            zone=LONDON,
            now=datetime(2026, 12, 1, 7, tzinfo=LONDON),
            actor="test",
        )
        yield {"client": client, "id": patient_id, "engine": engine}


def events(engine: Any) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(StockEventRow)))


def post(client: TestClient, patient_id: int, **form: str) -> Any:
    path = f"/patients/{patient_id}/supply"
    return client.post(f"{path}/events", data={"csrf_token": page_token(client, path), **form})


def test_count_on_the_supply_page_and_see_the_days_left_on_today(patient: Any) -> None:
    client, patient_id = patient["client"], patient["id"]
    today = client.get(f"/patients/{patient_id}/today").text
    assert "count your tablets" in today and f'href="/patients/{patient_id}/supply"' in today
    page = client.get(f"/patients/{patient_id}/supply")
    assert page.status_code == 200 and "not counted yet" in page.text
    assert "seizures" in page.text and "[US-TAB, OZO, LYV]" in page.text and "product defaults" in page.text
    saved = post(client, patient_id, kind="counted", product="tablet:10mg:halves", quantity="20")
    assert saved.status_code == 303 and saved.headers["location"].endswith("/supply?done=counted")
    page = client.get(saved.headers["location"]).text
    assert "Count saved." in page and "20 tablets" in page and "Tue 8 Dec at 14:00" in page
    line = re.search(
        r'<p class="routine" id="supply-line">(.*?)</p>', client.get(f"/patients/{patient_id}/today").text
    )
    assert line is not None
    assert "About 7 days of baclofen 10 mg tablets left (runs out on Tue 8 Dec at 14:00)." in line[1]


def warning_box(client: TestClient, patient_id: int) -> tuple[str, str] | None:
    today = client.get(f"/patients/{patient_id}/today").text
    box = re.search(r'<div class="([^"]+)" role="alert" id="supply-warning">(.*?)</div>', today, re.S)
    return None if box is None else (box[1], box[2])


def test_today_warns_at_the_thresholds(patient: Any, clock: Clock) -> None:
    client, patient_id = patient["client"], patient["id"]
    post(client, patient_id, kind="counted", product="10mg", quantity="4")  # 8 doses of half a tablet
    box = warning_box(client, patient_id)
    assert box is not None and box[0] == "advice"  # 2.5 days: caregivers too (3 days)
    assert (
        "About 2 days of baclofen 10 mg tablets left (runs out on Thu 3 Dec at 20:00): arrange a refill now."
        in box[1]
    )
    assert "seizures and hallucinations [US-TAB, OZO, LYV]" in box[1]
    assert "(a product default) [DOSEWISE]" in box[1]
    post(client, patient_id, kind="counted", product="10mg", quantity="1")  # the 08:00 and 14:00 doses
    urgent = warning_box(client, patient_id)
    assert urgent is not None and urgent[0] == "advice advice-contact_prescriber"
    assert (
        "Less than a day of baclofen 10 mg tablets left (runs out today at 20:00): arrange a refill today."
        in urgent[1]
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"kind": "counted", "product": "tablet:10mg:halves", "quantity": "-3"},
            "Amount: a count must be 0 or more",
        ),
        ({"kind": "counted", "product": "tablet:10mg:halves", "quantity": "2.25"}, "halves"),
        ({"kind": "collected", "product": "tablet:10mg:halves", "quantity": "0"}, "more than 0 tablets"),
        ({"kind": "counted", "product": "tablet:25mg", "quantity": "3"}, "Product: no product"),
        ({"kind": "counted", "product": "tablet:10mg:halves", "quantity": ""}, "Amount"),
    ],
)
def test_a_mistake_shows_the_form_again_with_the_message(
    patient: Any, form: dict[str, str], message: str
) -> None:
    client, patient_id = patient["client"], patient["id"]
    page = post(client, patient_id, **form)
    assert page.status_code == 400
    assert message in page.text and 'id="form-error"' in page.text
    if form["quantity"]:
        assert f'value="{form["quantity"]}"' in page.text  # as typed
    assert events(patient["engine"]) == 0


def test_the_api_reads_and_records(patient: Any) -> None:
    client, patient_id = patient["client"], patient["id"]
    token = page_token(client)
    empty = client.get(f"/api/patients/{patient_id}/supply").json()
    assert empty["recorded"] is False and empty["products"][0]["counted"] is False
    made = client.post(
        f"/api/patients/{patient_id}/supply/events",
        headers={"x-csrf-token": token},
        json={"kind": "counted", "product": "tablet:10mg:halves", "quantity": 20},
    )
    assert made.status_code == 201
    body = made.json()
    assert body["event"]["quantity"] == "20 tablets" and body["level"] == "ok"
    assert body["runs_out_at"] == "2026-12-08T14:00:00+00:00" and body["thresholds"]["product_defaults"]
    bad = client.post(
        f"/api/patients/{patient_id}/supply/events",
        headers={"x-csrf-token": token},
        json={"kind": "counted", "product": "tablet:10mg:halves", "quantity": -1},
    )
    assert bad.status_code in (400, 422) and "0 or more" in str(bad.json()["detail"])
    unknown = client.post(
        f"/api/patients/{patient_id}/supply/events",
        headers={"x-csrf-token": token},
        json={"kind": "eaten", "product": "10mg", "quantity": 1},
    )
    assert unknown.status_code == 422
    assert events(patient["engine"]) == 1


def test_caregivers_record_and_clinicians_read(app: Any, patient: Any) -> None:
    alice, patient_id = patient["client"], patient["id"]
    codes = {}
    for role in ("caregiver", "clinician"):
        page = alice.post(
            f"/patients/{patient_id}/invitations",
            data={"csrf_token": page_token(alice, f"/patients/{patient_id}/access"), "role": role},
        )
        codes[role] = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', page.text)[1]
    with TestClient(app, follow_redirects=False) as carer, TestClient(app, follow_redirects=False) as doctor:
        for client, role, email in (
            (carer, "caregiver", "c@example.org"),
            (doctor, "clinician", "d@example.org"),
        ):
            sign_up(client, email, role=role)
            assert (
                client.post(
                    "/join", data={"csrf_token": page_token(client, "/join"), "code": codes[role]}
                ).status_code
                == 303
            )
        assert post(carer, patient_id, kind="collected", product="10mg", quantity="100").status_code == 303
        page = doctor.get(f"/patients/{patient_id}/supply")
        assert page.status_code == 200 and "+100 tablets" in page.text and "(caregiver)" in page.text
        assert 'id="form-counted"' not in page.text  # a clinician reads, never records
        assert post(doctor, patient_id, kind="counted", product="10mg", quantity="5").status_code == 403
        api = doctor.post(
            f"/api/patients/{patient_id}/supply/events",
            headers={"x-csrf-token": page_token(doctor)},
            json={"kind": "counted", "product": "10mg", "quantity": 5},
        )
        assert api.status_code == 403
    assert events(patient["engine"]) == 1

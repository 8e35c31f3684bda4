"""The comparison of other treatments through the API, from the patient's own record: the
plan's kidney function, the medicines taken now and About me (pregnancy). Expected results
written by hand from ../shared/clinical/alternatives.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import sign_up, web_settings
from dosewise.web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def api(tmp_path: Any) -> Any:
    clock = lambda: datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # noqa: E731
    app = create_app(web_settings(f"sqlite:///{tmp_path / 'compare.sqlite3'}"), clock=clock)
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, "compare@example.org", zone="UTC")
        web.cookies.clear()
        body = web.post("/api/session", json={"email": "compare@example.org", "password": PASSWORD}).json()
        patient = web.get("/api/patients").json()[0]["id"]
        yield {"client": web, "headers": {"x-csrf-token": body["csrf_token"]}, "patient": patient}


def test_the_comparison_reads_the_patients_record(api: dict[str, Any]) -> None:
    client, headers, patient = api["client"], api["headers"], api["patient"]
    base = f"/api/patients/{patient}"
    plan = {"kind": "titration", "target_mg_day": 30, "start": "2026-12-01", "crcl_ml_min": 45}
    assert client.post(f"{base}/plans", json=plan, headers=headers).status_code == 201, "plan"
    for name in ("Cipro", "oxycodone"):
        assert client.post(f"{base}/medicines", json={"name": name}, headers=headers).status_code == 200
    assert client.put(f"{base}/profile", json={"pregnant": True}, headers=headers).status_code == 200

    drugs = ["tizanidine", "diazepam", "gabapentin"]
    answer = client.get(f"{base}/alternatives", params={"drug": drugs, "liver": "mild"})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["situation"]["crcl_ml_min"] == 45 and data["situation"]["pregnant"] is True
    tizanidine, diazepam, gabapentin = data["drugs"]
    by_topic = {c["topic"]: c for c in tizanidine["cautions"] if c["topic"] in ("kidney", "pregnancy")}
    assert "kidney" not in by_topic  # CrCl 45 is not below the label's 25 [S3]
    assert by_topic["pregnancy"]["unconfirmed"] is True
    kidney = [c for c in gabapentin["cautions"] if c["topic"] == "kidney"]  # CrCl 30-59 [S17]
    assert [c["sources"] for c in kidney] == [["S17"]] and "400-1,400 mg/day in 2 doses" in kidney[0]["text"]
    assert tizanidine["cautions"][0]["level"] == "contraindicated"  # ciprofloxacin [S6]
    opioid = [c for c in diazepam["cautions"] if c["topic"] == "medicine"]
    assert [(c["level"], c["sources"]) for c in opioid] == [("warning", ["S13"])]
    assert "not advice to start, stop or switch" in data["disclaimer"]


def test_bad_input_is_a_clear_json_error(api: dict[str, Any]) -> None:
    client, patient = api["client"], api["patient"]
    unknown = client.get(f"/api/patients/{patient}/alternatives", params={"drug": "aspirin"})
    assert unknown.status_code == 400 and "unknown treatment 'aspirin'" in unknown.json()["detail"]
    assert unknown.json()["field"] == "/drug"  # the query parameter's name
    liver = client.get(f"/api/patients/{patient}/alternatives", params={"liver": "bad"})
    assert liver.status_code == 422
    everything = client.get(f"/api/patients/{patient}/alternatives")
    assert everything.status_code == 200 and len(everything.json()["drugs"]) == 9


def test_the_page_shows_each_treatment_with_what_matters_for_the_patient(api: dict[str, Any]) -> None:
    client, headers, patient = api["client"], api["headers"], api["patient"]
    base = f"/patients/{patient}"
    assert client.post(f"/api{base}/medicines", json={"name": "Cipro"}, headers=headers).status_code == 200
    page = client.get(f"{base}/alternatives")
    assert page.status_code == 200
    text = page.text
    assert "Tizanidine (Zanaflex)" in text and "Intrathecal baclofen" in text
    assert "it is not a suggestion to change treatment, and it does not say which one is better" in text
    assert "Talk to your prescriber before any change." in text
    # plain words for the patient, each with its sources [S23] [S6]
    assert "<strong>Not approved for spasticity.</strong> It is for short-term muscle spasm" in text
    assert (
        "<strong>Not allowed:</strong> With Cipro (ciprofloxacin): "
        "tizanidine must not be used with this medicine" in text
    )
    assert "liver disease (About me): not known." in text and "What if:" not in text.split("<form")[0]
    assert '<option value="" selected>As in About me (not known)</option>' in text
    # the label's wording stays, for the prescriber, under a details element (closed for the patient)
    assert '<details class="label-wording">' in text
    assert "<strong>Not labelled for spasticity.</strong> Acute painful musculoskeletal spasm only" in text
    assert "<strong>Contraindicated:</strong> With Cipro (ciprofloxacin): contraindicated" in text
    assert "[S6]" in text and "neurologyadvisor.com/drug/amrix/" in text
    # with the baclofen the patient takes (baclofen.md section 6: benzodiazepines major [PMS, OZO])
    assert "With the baclofen you take: a major interaction, which may be life-threatening" in text
    assert "pms-Baclofen Canadian product monograph" in text
    assert f'href="/patients/{patient}/alternatives" aria-current="page"' in text
    # a "what if" over About me's liver answer is said to be one, and is not saved
    what_if = client.get(f"{base}/alternatives", params={"liver": "mild"}).text
    assert 'value="mild" selected' in what_if
    assert (
        "<strong>What if:</strong> this page shows “mild liver disease”, "
        "not the About me answer (“not known”)" in what_if
    )
    assert "must not be used with active liver disease" in what_if  # dantrolene [S9][S10]
    assert "Contraindicated in active liver disease" in what_if
    assert client.get(f"/api{base}/profile").json()["liver"] == "not_known"
    bad = client.get(f"{base}/alternatives", params={"liver": "bad"})
    assert bad.status_code == 400 and "choose one of the liver disease answers" in bad.text
    api_what_if = client.get(
        f"/api{base}/alternatives", params={"drug": "dantrolene", "liver": "severe"}
    ).json()
    assert api_what_if["situation"] | {"medicines": None} == {
        "crcl_ml_min": None, "dialysis": False, "liver": "severe", "liver_from": "what_if",
        "liver_recorded": "not_known", "pregnant": False, "medicines": None,
    }  # fmt: skip
    caution = api_what_if["drugs"][0]["cautions"][0]  # the API keeps the label's wording, and the plain one
    assert caution["text"].startswith("Liver disease (severe): Contraindicated in active liver disease")
    assert caution["plain"].startswith("Liver disease (severe): must not be used with active liver disease")


def test_a_patient_on_dialysis_sees_the_kidney_cautions(
    api: dict[str, Any], tmp_path: Any, monograph: Any
) -> None:
    """A dialysis plan stores no CrCl: the page says "on dialysis", not "not recorded", with the
    rules for the lowest CrCl (alternatives.md section 1, gabapentin: "<15: 100-300 once daily.
    Extra dose of 125-350 mg after each haemodialysis [S17]")."""
    from zoneinfo import ZoneInfo

    from dosewise.domain.kidney import assess_dialysis
    from dosewise.domain.products import parse_product_specs
    from dosewise.domain.schedule import parse_clock_times
    from dosewise.domain.titration import build_titration
    from dosewise.services import plans
    from dosewise.store.database import build_engine

    client, patient = api["client"], api["patient"]
    engine = build_engine(f"sqlite:///{tmp_path / 'compare.sqlite3'}")
    plan = build_titration(
        monograph, target_daily_mg=5, products=parse_product_specs(["solution:1mg/ml"], monograph),
        start=datetime(2026, 12, 1).date(), kidney=assess_dialysis(monograph.kidney), clinician_override=True,
    )  # fmt: skip
    before = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3),
                     zone=ZoneInfo("UTC"), now=before, actor="t")  # fmt: skip
    engine.dispose()
    text = client.get(f"/patients/{patient}/alternatives").text
    assert "From the diary: kidney function on dialysis;" in text
    assert "Your kidneys (on dialysis): on haemodialysis, an extra 125 to 350 mg" in text
    data = client.get(f"/api/patients/{patient}/alternatives", params={"drug": "gabapentin"}).json()
    assert data["situation"]["dialysis"] is True and data["situation"]["crcl_ml_min"] is None
    kidney = [c for c in data["drugs"][0]["cautions"] if c["topic"] == "kidney"]
    assert [c["sources"] for c in kidney] == [["S17"], ["S17"]]

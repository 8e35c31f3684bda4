"""FHIR (issue 12): an open-ended plan's last step has no end in the MedicationRequest; a
replaced plan's last step ends when the next plan took over; a taper's last step ends."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle

from dosewise.services import patients, plans
from dosewise.services.plans import PlanRequest
from dosewise.services.reports import export_fhir

ZONE = ZoneInfo("Europe/London")


def _requests(engine, patient, now):
    bundle = Bundle.model_validate_json(export_fhir(engine, patient_id=patient, now=now))
    return [e.resource for e in bundle.entry if type(e.resource).__name__ == "MedicationRequest"]


def _save(engine, patient, now, **fields):
    built = plans.build_plan(PlanRequest(start=now.date(), **fields), today=now.date())
    plans.save_plan(engine, patient_id=patient, built=built, time_zone="Europe/London", now=now, actor="t")


def test_an_open_ended_plan_has_no_end_and_a_replaced_one_ends_at_the_change(engine):
    start = datetime(2026, 12, 1, 7, 0, tzinfo=ZONE)
    patient = patients.create_patient(engine, name="F", time_zone="Europe/London", now=start, actor="t")
    _save(engine, patient, start, kind="titration", target_mg_day=30)
    (request,) = _requests(engine, patient, start)
    last = request.dosageInstruction[-1]
    assert last.timing.repeat.boundsPeriod.end is None
    assert "until a new plan or a taper" in last.text and request.status == "active"
    change = datetime(2026, 12, 20, 9, 0, tzinfo=ZONE)
    _save(engine, patient, change, kind="taper", from_mg_day=30)
    old, taper = sorted(_requests(engine, patient, change), key=lambda r: str(r.authoredOn))
    assert old.status == "stopped"
    assert str(old.dosageInstruction[-1].timing.repeat.boundsPeriod.end) == "2026-12-20"
    assert all(d.timing.repeat.boundsPeriod.end is not None for d in taper.dosageInstruction)

"""Stored plans are typed, versioned records (issue 11): one codec writes and reads them, in
whole micrograms; migration 0005 converts the display JSON that Dosewise 0.1 stored."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text

from dosewise.exporters.plan_json import plan_to_dict
from dosewise.services.plans import BuiltPlan, KidneyInput, PlanRequest, build_plan, current_plan
from dosewise.store.database import build_engine, downgrade_database, upgrade_database
from dosewise.store.plan_codec import PLAN_FORMAT, PlanRecord, UnreadablePlan, decode_plan, encode_plan

START = date(2026, 12, 1)
ZONE = "Europe/London"

REQUESTS = {
    "titration with kidney and liquid": PlanRequest(
        kind="titration",
        target_mg_day=45,
        start=START,
        products=("solution:1mg/ml", "tablet:10mg:halves"),
        kidney=KidneyInput(crcl_ml_min=45),
    ),
    "taper in four doses": PlanRequest(
        kind="taper",
        from_mg_day=30,
        start=START,
        products=("tablet:10mg:halves", "tablet:5mg"),
        doses_per_day=4,
    ),
    "maintenance": PlanRequest(
        kind="maintenance", mg_day=15, review_weeks=2, start=START, times="07:30,13:00,21:15"
    ),
    "clinician steps": PlanRequest(kind="clinician", steps=("3:5,5,5", "4:5,5,10"), start=START),
    "dialysis by a clinician": PlanRequest(
        kind="maintenance",
        mg_day=5,
        start=START,
        products=("solution:1mg/ml",),
        kidney=KidneyInput(dialysis=True),
        clinician_override=True,
    ),
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_a_plan_reads_back_as_it_was_written(name: str) -> None:
    built = build_plan(REQUESTS[name])
    record = PlanRecord(plan=built.plan, times=built.times, time_zone=ZONE)
    stored = encode_plan(record)
    assert json.loads(stored)["format"] == PLAN_FORMAT
    assert all(isinstance(dose, int) for step in json.loads(stored)["steps"] for dose in step["doses_ug"])
    assert decode_plan(stored) == record


def test_a_newer_format_is_refused_not_misread() -> None:
    built = build_plan(REQUESTS["maintenance"])
    stored = json.loads(encode_plan(PlanRecord(plan=built.plan, times=built.times, time_zone=ZONE)))
    with pytest.raises(UnreadablePlan, match="format 3"):
        decode_plan(json.dumps({**stored, "format": 3}))


def _insert_v1_plan(engine: Any, built: BuiltPlan) -> dict[str, Any]:
    """A plan as Dosewise 0.1 stored it: the display JSON (mg as floats, recipes as text)."""
    data = plan_to_dict(built.plan, built.monograph, times=built.times, time_zone=ZONE)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO patients (id, name, time_zone, created_at) VALUES (1, 'Ann', :zone, :now)"),
            {"zone": ZONE, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO plans (patient_id, drug, kind, times, plan_json, created_at) "
                "VALUES (1, :drug, :kind, :times, :json, :now)"
            ),
            {
                "drug": built.plan.drug,
                "kind": built.plan.kind,
                "times": ",".join(t.strftime("%H:%M") for t in built.times),
                "json": json.dumps(data),
                "now": now,
            },
        )
    return data


def _insert_a_taken_dose(engine: Any) -> None:
    at = datetime(2026, 12, 1, 8, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        plan_id = connection.scalar(text("SELECT id FROM plans"))
        connection.execute(
            text(
                "INSERT INTO dose_slots (id, plan_id, due_at, dose_ug, how, step_number) "
                "VALUES (1, :plan, :at, 5000, '1 x 5 mg tablet', 1)"
            ),
            {"plan": plan_id, "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO dose_events (slot_id, status, taken_at, recorded_at) "
                "VALUES (1, 'taken', :at, :at)"
            ),
            {"at": at},
        )


def _doses(engine: Any) -> tuple[int, int]:
    with engine.connect() as connection:
        slots = connection.scalar(text("SELECT count(*) FROM dose_slots"))
        events = connection.scalar(text("SELECT count(*) FROM dose_events"))
    return int(slots), int(events)


@pytest.mark.parametrize(
    "name", ["titration with kidney and liquid", "taper in four doses", "clinician steps"]
)
def test_migration_0005_converts_stored_display_json(database_url: str, name: str) -> None:
    engine = build_engine(database_url)
    upgrade_database(engine, "0004")
    built = build_plan(REQUESTS[name])
    # plans stored before issue 12 had no review date
    built = replace(built, plan=replace(built.plan, review_on=None))
    before = _insert_v1_plan(engine, built)
    _insert_a_taken_dose(engine)
    upgrade_database(engine)
    assert _doses(engine) == (1, 1)  # the diary's doses survive the table rebuild
    stored = current_plan(engine, patient_id=1)
    assert stored is not None
    # the plan itself comes back whole: doses in µg, recipes, kidney, findings, sources
    plan = stored.record.plan
    assert plan.steps == built.plan.steps
    assert (plan.kidney, plan.warnings, plan.cautions, plan.sources) == (
        built.plan.kidney,
        built.plan.warnings,
        built.plan.cautions,
        built.plan.sources,
    )
    assert stored.record.times == built.times and stored.record.time_zone == ZONE
    # and the view shows what the patient saw (the PK exposure ratio needs a value 0.1 did not keep)
    after = stored.data
    before["pk"].pop("exposure_ratio_vs_normal_kidney_plan", None)
    assert after == before
    with engine.connect() as connection:
        crcl = connection.scalar(text("SELECT crcl_ml_min FROM plans"))
    assert crcl == (None if built.plan.kidney is None else built.plan.kidney.crcl_ml_min)
    downgrade_database(engine, "0004")  # and back: the display JSON again
    with engine.connect() as connection:
        again = json.loads(connection.scalar(text("SELECT plan_json FROM plans")))
    assert again["steps"] == before["steps"]
    assert _doses(engine) == (1, 1)
    engine.dispose()

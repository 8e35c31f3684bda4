"""The safety use cases have one implementation: the one-off question (CLI `interactions`,
`triage`, `missed`) and its diary version give the same answer from the same facts, and both
report the medicine names they did not recognise."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dosewise.errors import InputError
from dosewise.services import medicines, patients, plans
from dosewise.services.medicines import check_medicines, medicine_interactions
from dosewise.services.missed_doses import advise_missed, advise_missed_from_diary, parse_dose_times
from dosewise.services.plans import KidneyInput, PlanRequest, build_plan
from dosewise.services.simulation import SimulationRequest, estimate_levels
from dosewise.services.triage import assess_symptoms, assess_symptoms_from_diary, diary_context
from dosewise.store.database import build_engine, upgrade_database

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 2, 18, 30, tzinfo=LONDON)
MEDICINES = ("oxycodone", "ibuprofen", "Zzzqx")


@pytest.fixture
def engine(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'diary.sqlite3'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def patient(engine):
    """A patient on a titration made for CrCl 40 since yesterday, taking MEDICINES."""
    patient = patients.create_patient(engine, name="Sam", time_zone="Europe/London", now=NOW, actor="test")
    built = build_plan(
        PlanRequest(
            kind="titration", target_mg_day=30, start=date(2026, 12, 1), kidney=KidneyInput(crcl_ml_min=40)
        )
    )
    plans.start_plan(
        engine,
        patient_id=patient,
        plan=built.plan,
        times=built.times,
        zone=LONDON,
        now=datetime(2026, 12, 1, 7, tzinfo=LONDON),  # entered before its first dose
        actor="test",
    )
    for name in MEDICINES:
        medicines.add_medicine(engine, patient_id=patient, name=name, now=NOW, actor="test")
    return patient


def test_diary_medicines_are_the_one_off_check_with_the_plans_kidneys(engine, patient):
    check = medicine_interactions(engine, patient_id=patient, now=NOW)
    current, from_diary = check.medicines, check.report
    one_off = check_medicines([name for _, name in current], 40)
    assert from_diary == one_off
    assert from_diary is not None
    assert [miss.text for miss in from_diary.unrecognised] == ["Zzzqx"]


def test_diary_triage_is_the_one_off_triage_with_the_diarys_context(engine, patient):
    context = diary_context(engine, patient_id=patient, now=NOW)
    from_diary = assess_symptoms_from_diary(engine, patient_id=patient, symptoms=["very sleepy"], now=NOW)
    one_off = assess_symptoms(
        ["very sleepy"],
        stopped_hours_ago=context.stopped_hours_ago,
        missed_doses_24h=min(context.missed_doses_24h, 24) or None,
        crcl_ml_min=context.crcl_ml_min,
        medicines=context.medicines,
        usual_dose_mg=context.usual_dose_mg,
        tablet_mg=context.tablet_mg,
    )
    assert from_diary.result == one_off.result
    assert from_diary.context == context
    assert from_diary.unrecognised_medicines == one_off.unrecognised_medicines == ("Zzzqx",)
    assert any("oxycodone" in reason for reason in from_diary.result.reasons)  # a sedating medicine counts
    # drowsiness with an opioid (a major interaction) is at least urgent
    assert from_diary.result.level in ("urgent", "emergency")


def test_one_off_triage_reports_unrecognised_medicines():
    assessment = assess_symptoms(["dizzy"], medicines=["zzqx", "oxycodone"])
    assert assessment.unrecognised_medicines == ("zzqx",)


def test_diary_missed_dose_is_the_one_off_advice_with_the_plans_times(engine, patient):
    """The kidney-adjusted first step is one evening dose: yesterday's 20:00, with tonight's
    20:00 next (1.5 h away at 18:30), is to be skipped by both."""
    from_diary = advise_missed_from_diary(engine, patient_id=patient, missed=time(20), now=NOW).advice
    one_off = advise_missed(times=parse_dose_times("20:00"), missed=time(20), now=NOW)
    assert from_diary == one_off
    assert from_diary.missed_at == datetime(2026, 12, 1, 20, tzinfo=LONDON)
    with pytest.raises(InputError, match="no dose was due at 14:00"):  # the diary knows there was none
        advise_missed_from_diary(engine, patient_id=patient, missed=time(14), now=NOW)


def test_missed_dose_from_a_diary_without_a_plan_says_so(engine):
    patient = patients.create_patient(engine, name="Kim", time_zone="Europe/London", now=NOW, actor="test")
    with pytest.raises(InputError, match="no plan yet"):
        advise_missed_from_diary(engine, patient_id=patient, missed=time(14), now=NOW)


def test_bad_dose_times_name_their_field():
    with pytest.raises(InputError) as error:
        parse_dose_times("8,14")
    assert error.value.field == "times"


def test_a_simulated_dose_is_capped_at_the_monographs_maximum(monograph):
    cap = monograph.titration.override_max_daily_mg
    at_cap = estimate_levels(SimulationRequest(dose_mg=cap, every_h=24, days=1))
    assert at_cap.data["cmax_mg_l"] > 0
    with pytest.raises(InputError) as error:
        estimate_levels(SimulationRequest(dose_mg=cap + 1, every_h=24, days=1))
    assert error.value.field == "dose_mg"


def test_a_plan_dose_above_the_monographs_maximum_is_not_simulated(monograph):
    cap = monograph.titration.override_max_daily_mg
    plan = {"steps": [{"start": "2026-12-01", "days": 2, "doses_mg": [5, cap + 1, 5]}]}
    with pytest.raises(InputError) as error:
        estimate_levels(SimulationRequest(plan=plan))
    assert error.value.field == "plan"

"""About me: the country and the conditions, audited, read back by every interface, and kept by
a backup and restore (and the CSV export and import). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from dosewise.errors import InputError
from dosewise.services import patients
from dosewise.services.reports import gather_report
from dosewise.store.database import build_engine, read_only, upgrade_database
from dosewise.store.models import AuditRow
from dosewise.store.transfer import backup_database, export_csv, import_csv, restore_database

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def patient(engine) -> int:
    return patients.create_patient(engine, name="Ada", time_zone="Europe/London", now=NOW, actor="test")


def test_a_new_patient_has_no_country_and_no_conditions(engine, patient) -> None:
    profile = patients.patient_profile(engine, patient_id=patient)
    assert profile.as_dict() == {
        "country": None,
        "pregnant": False,
        "breastfeeding": False,
        "epilepsy": False,
        "liver": "not_known",  # nobody was asked (migration 0015)
    }
    assert profile.emergency.is_default and profile.emergency.number == "112"
    assert patients.condition_advice(engine, patient_id=patient) == ()


def test_setting_the_profile_changes_only_what_is_given_and_is_audited(engine, patient) -> None:
    saved = patients.set_patient_profile(
        engine, patient_id=patient, now=NOW, actor="user:7", country="gb", pregnant=True
    )
    assert saved.as_dict() == {
        "country": "GB", "pregnant": True, "breastfeeding": False, "epilepsy": False, "liver": "not_known",
    }  # fmt: skip
    assert saved.emergency.label == "999 (or 112)"
    again = patients.set_patient_profile(engine, patient_id=patient, now=NOW, actor="cli", epilepsy=True)
    assert again.country == "GB" and again.pregnant and again.epilepsy  # the rest kept
    cleared = patients.set_patient_profile(engine, patient_id=patient, now=NOW, actor="cli", country=None)
    assert cleared.country is None and cleared.emergency.is_default
    patients.set_patient_profile(engine, patient_id=patient, now=NOW, actor="cli", epilepsy=True)  # no change
    with read_only(engine) as session:
        rows = session.scalars(
            select(AuditRow).where(AuditRow.entity == "patient_profile").order_by(AuditRow.id)
        ).all()
        trail = [(row.actor, row.action, json.loads(row.detail or "{}")) for row in rows]
    assert [actor for actor, _, _ in trail] == ["user:7", "cli", "cli"]  # nothing changed: no row
    assert trail[0][2]["before"]["country"] is None and trail[0][2]["after"]["country"] == "GB"
    assert trail[1][2]["after"]["epilepsy"] is True
    assert [a.condition for a in patients.condition_advice(engine, patient_id=patient)] == [
        "pregnant",
        "epilepsy",
    ]


@pytest.mark.parametrize("country", ["XX", "GBR", "United Kingdom"])
def test_a_country_without_a_number_is_refused_and_names_the_field(engine, patient, country) -> None:
    with pytest.raises(InputError, match="no emergency number") as raised:
        patients.set_patient_profile(engine, patient_id=patient, now=NOW, actor="cli", country=country)
    assert raised.value.field == "country"
    assert patients.patient_profile(engine, patient_id=patient).country is None  # nothing stored


def test_the_report_carries_the_advice_for_the_conditions(engine, patient) -> None:
    first = date(2026, 11, 20)
    plain = gather_report(engine, patient_id=patient, first_day=first, last_day=first, now=NOW, levels=False)
    assert plain.conditions == ()
    patients.set_patient_profile(engine, patient_id=patient, now=NOW, actor="cli", breastfeeding=True)
    data = gather_report(engine, patient_id=patient, first_day=first, last_day=first, now=NOW, levels=False)
    assert [a.condition for a in data.conditions] == ["breastfeeding"]
    assert {key for key, _ in data.condition_sources} == {"LIO-IT", "CH-LIOHEM", "DOSEWISE"}
    from dosewise.exporters.report import render_report_html

    html = render_report_html(data)
    assert "Conditions with their own advice: breastfeeding" in html and "breast milk" in html


def test_the_profile_survives_a_backup_and_restore_and_a_csv_round_trip(engine, patient, tmp_path) -> None:
    patients.set_patient_profile(
        engine, patient_id=patient, now=NOW, actor="cli", country="CH", pregnant=True, epilepsy=True
    )
    expected = patients.patient_profile(engine, patient_id=patient).as_dict()
    backup = tmp_path / "diary.backup"
    backup_database(engine, str(backup))
    restored = build_engine(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    upgrade_database(restored)
    restore_database(restored, str(backup))
    assert patients.patient_profile(restored, patient_id=patient).as_dict() == expected
    folder = tmp_path / "csv"
    export_csv(engine, str(folder), now=NOW)
    imported = build_engine(f"sqlite:///{tmp_path / 'imported.sqlite3'}")
    upgrade_database(imported)
    import_csv(imported, str(folder))
    assert patients.patient_profile(imported, patient_id=patient).as_dict() == expected


def test_how_to_take_lists_the_storage_of_the_products_asked_for() -> None:
    guide = patients.how_to_take(["solution:1mg/ml:0.5ml", "suspension:5mg/ml"])
    assert [item.source for item in guide.storage] == ["OZO", "DOSEWISE"]
    assert len(patients.how_to_take().storage) == len(guide.guidance.storage)  # none named: all
    with pytest.raises(InputError):
        patients.how_to_take(["tablet:13mg"])


def test_liver_disease_is_kept_in_about_me_and_audited(engine, patient) -> None:
    saved = patients.set_patient_profile(
        engine, patient_id=patient, now=NOW, actor="user:7", liver="moderate"
    )
    assert (
        saved.liver == "moderate" and patients.patient_profile(engine, patient_id=patient).liver == "moderate"
    )
    kept = patients.set_patient_profile(engine, patient_id=patient, now=NOW, actor="cli", pregnant=True)
    assert kept.liver == "moderate"  # not given: unchanged
    with pytest.raises(
        InputError, match="liver disease must be one of none, mild, moderate, severe, not_known"
    ):
        patients.set_patient_profile(engine, patient_id=patient, now=NOW, actor="cli", liver="a bit")
    assert patients.patient_profile(engine, patient_id=patient).as_dict()["liver"] == "moderate"
    with read_only(engine) as session:
        detail = session.scalars(
            select(AuditRow.detail).where(AuditRow.entity == "patient_profile").order_by(AuditRow.id)
        ).first()
    change = json.loads(detail or "{}")
    assert (change["before"]["liver"], change["after"]["liver"]) == ("not_known", "moderate")

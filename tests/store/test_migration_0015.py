"""Migration 0015 (issue 16): liver disease in About me. Patients who existed before the upgrade
have "not known" (nobody was asked), the other About me facts are kept, only the five answers can
be stored, and going back removes the column and keeps everything else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from dosewise.services import patients
from dosewise.store.database import build_engine, downgrade_database, upgrade_database

CREATED = datetime(2026, 11, 1, 9, 0)  # naive UTC, as the store keeps it
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_existing_patients_have_liver_disease_not_known(database_url: str) -> None:
    engine = build_engine(database_url)
    upgrade_database(engine, "0014")
    with engine.begin() as connection:  # the patients table as 0014 has it
        for name, pregnant in (("Ada", True), ("Ben", False)):
            connection.execute(
                text(
                    "INSERT INTO patients (name, time_zone, created_at, country, pregnant, breastfeeding, "
                    "epilepsy) VALUES (:name, 'Europe/London', :at, 'GB', :pregnant, false, false)"
                ),
                {"name": name, "at": CREATED, "pregnant": pregnant},
            )
    upgrade_database(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, pregnant, liver_disease FROM patients ORDER BY name"))
        assert [tuple(row) for row in rows] == [("Ada", True, "not_known"), ("Ben", False, "not_known")]
    ada = patients.patient_profile(engine, patient_id=1)
    assert (ada.liver, ada.pregnant, ada.country) == ("not_known", True, "GB")
    patients.set_patient_profile(engine, patient_id=1, now=NOW, actor="test", liver="severe")
    with pytest.raises(IntegrityError), engine.begin() as connection:  # only the five answers
        connection.execute(text("UPDATE patients SET liver_disease = 'a bit' WHERE name = 'Ben'"))
    with engine.begin() as connection:  # a patient made after the upgrade without saying: not known
        connection.execute(
            text("INSERT INTO patients (name, time_zone, created_at) VALUES ('Cy', 'UTC', :at)"),
            {"at": CREATED},
        )
        assert (
            connection.execute(text("SELECT liver_disease FROM patients WHERE name = 'Cy'")).scalar_one()
            == "not_known"
        )

    downgrade_database(engine, "0014")
    columns = {column["name"] for column in inspect(engine).get_columns("patients")}
    assert "liver_disease" not in columns and {"pregnant", "country"} <= columns
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, pregnant, country FROM patients ORDER BY name"))
        assert [tuple(row) for row in rows] == [
            ("Ada", True, "GB"),
            ("Ben", False, "GB"),
            ("Cy", False, None),
        ]
    upgrade_database(engine)  # up again: the answer given before the round trip is not kept
    assert patients.patient_profile(engine, patient_id=1).liver == "not_known"
    engine.dispose()


def test_a_csv_import_refuses_an_unknown_liver_answer(tmp_path) -> None:
    from dosewise.errors import InputError
    from dosewise.store.transfer import export_csv, import_csv

    engine = build_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    upgrade_database(engine)
    patient = patients.create_patient(engine, name="Ada", time_zone="UTC", now=NOW, actor="test")
    patients.set_patient_profile(engine, patient_id=patient, now=NOW, actor="test", liver="mild")
    folder = tmp_path / "csv"
    export_csv(engine, str(folder), now=NOW)
    table = folder / "patients.csv"
    assert "liver_disease" in table.read_text().splitlines()[0] and ",mild" in table.read_text()
    table.write_text(table.read_text().replace(",mild", ",a little"))
    target = build_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    with pytest.raises(
        InputError, match=r"liver_disease.*must be one of none, mild, moderate, severe, not_known"
    ):
        import_csv(target, str(folder))
    engine.dispose()
    target.dispose()

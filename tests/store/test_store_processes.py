"""Durability and concurrency of the diary store, with real processes (issue 5 acceptance)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select, text

from dosewise.store.database import build_engine, unit_of_work
from dosewise.store.models import DoseEventRow, SymptomEntryRow

SETUP = textwrap.dedent(
    """
    import sys
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo
    from sqlalchemy import select
    from dosewise.domain.products import parse_product_specs
    from dosewise.domain.schedule import parse_clock_times
    from dosewise.domain.titration import build_titration
    from dosewise.monographs import load_monograph
    from dosewise.services.patients import create_patient
    from dosewise.services.doses import record_dose
    from dosewise.services.symptoms import record_symptoms
    from dosewise.services.plans import start_plan
    from dosewise.store.database import build_engine, unit_of_work, upgrade_database
    from dosewise.store.models import DoseSlotRow

    NOW = datetime(2027, 6, 1, tzinfo=UTC)
    engine = build_engine(sys.argv[1])
    """
)
CREATE = SETUP + textwrap.dedent(
    """
    upgrade_database(engine)
    m = load_monograph("baclofen")
    plan = build_titration(m, target_daily_mg=80, products=parse_product_specs([], m), start=date(2027, 1, 1),
                           doses_per_day=4, age_years=70)
    patient = create_patient(engine, name="P", time_zone="UTC", now=NOW, actor="setup")
    start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 4),
               zone=ZoneInfo("UTC"), now=datetime(2027, 1, 1, tzinfo=UTC), actor="setup")
    print(patient)
    """
)
RECORD = SETUP + textwrap.dedent(
    """
    import random
    patient = int(sys.argv[2])
    with unit_of_work(engine) as session:
        slots = list(session.scalars(select(DoseSlotRow.id).order_by(DoseSlotRow.id)))
    random.Random(int(sys.argv[3])).shuffle(slots)
    for slot in slots:
        record = record_dose(engine, patient_id=patient, slot_id=slot, status="taken", now=NOW, actor="proc")
        record_symptoms(engine, patient_id=patient, now=NOW, penn_frequency=1, penn_severity=1,
                        spasticity_nrs=3, actor="proc") if slot % 10 == 0 else None
        print(slot, record.created, flush=True)  # reported only after the commit returned
    """
)


def python(code: str, *args: str, **kwargs):
    command = [sys.executable, "-c", code, *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def create_diary(url: str) -> str:
    process = python(CREATE, url)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out.strip()


def test_acknowledged_doses_survive_sigkill(tmp_path):
    url = f"sqlite:///{tmp_path / 'diary.sqlite3'}"
    patient = create_diary(url)
    writer = python(RECORD, url, patient, "1")
    acknowledged: list[int] = []
    while len(acknowledged) < 60:
        line = writer.stdout.readline()
        assert line, writer.stderr.read()
        acknowledged.append(int(line.split()[0]))
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=10)
    writer.stdout.close()
    writer.stderr.close()
    engine = build_engine(url)
    with unit_of_work(engine) as session:
        stored = set(session.scalars(select(DoseEventRow.slot_id)))
        rows = session.scalar(select(func.count()).select_from(DoseEventRow))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
    assert set(acknowledged) <= stored  # every acknowledged dose is there
    assert rows == len(stored)  # none twice


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_processes_recording_at_once_lose_and_double_nothing(tmp_path, request, backend):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'diary.sqlite3'}"
    else:
        from postgres import create_database, drop_database

        admin = request.getfixturevalue("postgres_admin_url")
        url, name = create_database(admin)
        request.addfinalizer(lambda: drop_database(admin, name))
    patient = create_diary(url)
    writers = [python(RECORD, url, patient, str(seed)) for seed in range(4)]
    outputs = [writer.communicate(timeout=240) for writer in writers]
    for writer, (_, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert "locked" not in err
    created = [line for out, _ in outputs for line in out.splitlines() if line.endswith("True")]
    engine = build_engine(url)
    with unit_of_work(engine) as session:
        events = list(session.scalars(select(DoseEventRow.slot_id)))
        symptoms = session.scalar(select(func.count()).select_from(SymptomEntryRow))
    engine.dispose()
    assert len(events) == len(set(events)) == len(created)  # each slot once; every "created" is stored
    attempts = sum(1 for out, _ in outputs for line in out.splitlines() if int(line.split()[0]) % 10 == 0)
    assert symptoms == attempts  # every symptom entry submitted is stored

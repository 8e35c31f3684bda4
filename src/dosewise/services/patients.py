"""Patients: the diary's owner, their time zone, and the one local patient of the CLI."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dosewise.errors import InputError, NotFound
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.store.database import unit_of_work
from dosewise.store.models import (
    PatientRow,
)


def create_patient(engine: Engine, *, name: str, time_zone: str, now: datetime, actor: str) -> int:
    if not name.strip():
        raise InputError("the patient needs a name")
    with unit_of_work(engine) as session:
        patient = PatientRow(name=name.strip(), time_zone=time_zone, created_at=to_utc(now))
        session.add(patient)
        session.flush()
        audit(session, now, actor, patient.id, "create", "patient", patient.id)
        return patient.id


def find_local_patient(engine: Engine) -> tuple[int, str]:
    """The single local patient of a personal diary: (id, time zone)."""
    with unit_of_work(engine) as session:
        patient = session.scalars(select(PatientRow).order_by(PatientRow.id)).first()
        if patient is None:
            raise NotFound("no diary yet: run `dosewise diary init` first")
        return patient.id, patient.time_zone


def patient_zone(session: Session, patient_id: int) -> ZoneInfo:
    patient = session.get(PatientRow, patient_id)
    if patient is None:
        raise NotFound(f"no patient {patient_id}")
    return ZoneInfo(patient.time_zone)

"""Patients: the diary's owner, their time zone, and the one local patient of the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dosewise.errors import InputError, NotFound
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.store.database import unit_of_work

if TYPE_CHECKING:
    from dosewise.domain.monograph import Monograph

from dosewise.store.models import (
    PatientRow,
)


def drug_of(session: Session, patient_id: int) -> str:
    """The drug of the patient's newest plan (the default drug before the first plan): the
    monograph their diary is read with."""
    from dosewise.monographs import DEFAULT_DRUG
    from dosewise.store.models import PlanRow

    drug = session.scalar(
        select(PlanRow.drug).where(PlanRow.patient_id == patient_id).order_by(PlanRow.id.desc()).limit(1)
    )
    return drug or DEFAULT_DRUG


def monograph_of(engine: Engine, *, patient_id: int) -> Monograph:
    """The monograph of the patient's drug (their newest plan's; the default before a plan)."""
    from dosewise.monographs import load_monograph
    from dosewise.store.database import read_only

    with read_only(engine) as session:
        return load_monograph(drug_of(session, patient_id))


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

"""The patient's other medicines checked against baclofen: one check for every interface.

:func:`check_medicines` is the one implementation; the one-off ``dosewise interactions``, the
triage (its sedating medicines) and the diary's medicine list all go through it, so a name that
is not recognised is reported the same way everywhere. :func:`medicine_interactions` is the
diary's version: the medicines and kidney function come from what is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dosewise.errors import InputError, NotFound
from dosewise.monographs import DEFAULT_DRUG, load_monograph

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from dosewise.domain.interactions import InteractionReport
    from dosewise.domain.monograph import Monograph


def check_medicines(
    names: Sequence[str], crcl_ml_min: float | None, *, drug: str = DEFAULT_DRUG
) -> InteractionReport | None:
    """Interactions of the named medicines with ``drug``, with the kidney function when it is
    known (NSAIDs are major below CrCl 50 [BACLON]); None when no other medicine is named."""
    if not names:
        return None
    from dosewise.domain.interactions import MedicineIndex, check_interactions
    from dosewise.domain.kidney import assess_creatinine_clearance
    from dosewise.monographs import load_medicines

    monograph = load_monograph(drug)
    kidney = None
    if crcl_ml_min is not None:
        try:
            kidney = assess_creatinine_clearance(monograph.kidney, crcl_ml_min)
        except InputError as error:
            error.field = error.field or "crcl_ml_min"
            raise
    try:
        index = MedicineIndex(
            load_medicines(),
            same_drug=monograph.same_drug.names,
            same_drug_misspellings=monograph.same_drug.misspellings,
        )
        return check_interactions(monograph, index, names, kidney=kidney)
    except InputError as error:
        error.field = error.field or "medicines"
        raise


@dataclass(frozen=True, slots=True, kw_only=True)
class MedicineCheck:
    """The medicines the patient takes now, (number, name), their interactions (None: no other
    medicine) and the monograph of the patient's drug they were checked against."""

    medicines: list[tuple[int, str]]
    report: InteractionReport | None
    monograph: Monograph


def medicine_interactions(engine: Engine, *, patient_id: int, now: datetime) -> MedicineCheck:
    """The patient's medicines checked against their plan's drug, with the kidney function of
    the current plan."""
    from dosewise.services.triage import diary_context

    current = list_medicines(engine, patient_id=patient_id)
    context = diary_context(engine, patient_id=patient_id, now=now)
    report = check_medicines([name for _, name in current], context.crcl_ml_min, drug=context.drug)
    return MedicineCheck(medicines=current, report=report, monograph=load_monograph(context.drug))


def unrecognised_names(report: InteractionReport | None) -> tuple[str, ...]:
    """The names, as typed, that matched no medicine (never counted as safe)."""
    return () if report is None else tuple(miss.text for miss in report.unrecognised)


def add_medicine(engine: Engine, *, patient_id: int, name: str, now: datetime, actor: str) -> int:
    """Another medicine the patient takes (kept as typed; checked for interactions when read)."""
    from sqlalchemy import func, select

    from dosewise.services.audit import audit
    from dosewise.services.clock import to_utc
    from dosewise.store.database import unit_of_work
    from dosewise.store.models import MedicineRow, PatientRow

    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise InputError("a medicine name is 1-200 characters")
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        same = session.scalar(
            select(MedicineRow).where(
                MedicineRow.patient_id == patient_id,
                MedicineRow.stopped_at.is_(None),
                func.lower(MedicineRow.name) == cleaned.lower(),
            )
        )
        if same is not None:
            return same.id
        row = MedicineRow(patient_id=patient_id, name=cleaned, added_at=to_utc(now), stopped_at=None)
        session.add(row)
        session.flush()
        audit(session, now, actor, patient_id, "add_medicine", "patient_medicine", row.id)
        return row.id


def stop_medicine(engine: Engine, *, patient_id: int, medicine_id: int, now: datetime, actor: str) -> None:
    from dosewise.services.audit import audit
    from dosewise.services.clock import to_utc
    from dosewise.store.database import unit_of_work
    from dosewise.store.models import MedicineRow

    with unit_of_work(engine) as session:
        row = session.get(MedicineRow, medicine_id)
        if row is None or row.patient_id != patient_id:
            raise NotFound(f"no medicine #{medicine_id} for this patient")
        if row.stopped_at is None:
            row.stopped_at = to_utc(now)
            audit(session, now, actor, patient_id, "stop_medicine", "patient_medicine", row.id)


def list_medicines(engine: Engine, *, patient_id: int) -> list[tuple[int, str]]:
    """The medicines the patient takes now: (number, name), in the order added."""
    from sqlalchemy import select

    from dosewise.store.database import unit_of_work
    from dosewise.store.models import MedicineRow

    with unit_of_work(engine) as session:
        rows = session.execute(
            select(MedicineRow.id, MedicineRow.name)
            .where(MedicineRow.patient_id == patient_id, MedicineRow.stopped_at.is_(None))
            .order_by(MedicineRow.id)
        ).all()
    return [(row.id, row.name) for row in rows]

"""Symptom entries: spasms on the Penn scale [PSFS], stiffness 0-10, side effects from the
triage list. Nothing is half-stored: validation happens before the one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from dosewise.domain.monograph import Monograph
from dosewise.domain.scales import (
    PENN_FREQUENCY_RANGE,
    PENN_SEVERITY_RANGE,
    SIDE_EFFECT_SEVERITY_RANGE,
    SPASTICITY_NRS_RANGE,
)
from dosewise.errors import InputError, NotFound
from dosewise.monographs import load_monograph
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.services.notes import check_note
from dosewise.services.patients import drug_of
from dosewise.store.database import unit_of_work

if TYPE_CHECKING:
    from dosewise.services.triage import TriageAssessment
from dosewise.store.models import (
    PatientRow,
    SymptomEntryRow,
)


def record_symptoms(engine: Engine, **entry: Any) -> int:
    """:func:`record_symptoms_and_triage`, for callers that need the entry's id only."""
    return record_symptoms_and_triage(engine, **entry).entry_id


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedSymptoms:
    entry_id: int
    triage: TriageAssessment | None  # the side effects' triage, kept with the entry


def record_symptoms_and_triage(
    engine: Engine,
    *,
    patient_id: int,
    now: datetime,
    penn_frequency: int,
    penn_severity: int | None,
    spasticity_nrs: int,
    side_effects: dict[str, int] | None = None,
    note: str = "",
    actor: str,
) -> SavedSymptoms:
    """A symptom entry: Penn Spasm Frequency 0-4 with severity 1-3 when frequency > 0 [PSFS],
    spasticity 0-10, side effects from the triage list (key, label or synonym) with severity 1-3.
    Side effects are triaged with the diary's context and the result is kept with the entry."""
    low, high = PENN_FREQUENCY_RANGE
    if not low <= penn_frequency <= high:
        raise InputError(f"Penn spasm frequency is {low}-{high}", field="penn_frequency")
    low, high = PENN_SEVERITY_RANGE
    if penn_frequency == 0 and penn_severity is not None:
        raise InputError("Penn spasm severity is given only when frequency is above 0", field="penn_severity")
    if penn_frequency > 0 and (penn_severity is None or not low <= penn_severity <= high):
        raise InputError(
            f"Penn spasm severity is {low}-{high} when frequency is above 0", field="penn_severity"
        )
    low, high = SPASTICITY_NRS_RANGE
    if not low <= spasticity_nrs <= high:
        raise InputError(f"the spasticity rating is {low}-{high}", field="spasticity_nrs")
    check_note(note, required=False)
    from dosewise.services import triage  # the diary's context, read before the entry is written

    assessment = None
    if side_effects:
        assessment = triage.assess_symptoms_from_diary(
            engine, patient_id=patient_id, symptoms=list(side_effects), now=now
        )
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        effects = canonical_side_effects(side_effects or {}, load_monograph(drug_of(session, patient_id)))
        entry = SymptomEntryRow(
            patient_id=patient_id,
            recorded_at=to_utc(now),
            penn_frequency=penn_frequency,
            penn_severity=penn_severity,
            spasticity_nrs=spasticity_nrs,
            side_effects=json.dumps([{"key": k, "severity": v} for k, v in sorted(effects.items())]),
            note=note.strip(),
        )
        session.add(entry)
        session.flush()
        audit(session, now, actor, patient_id, "symptoms", "symptom_entry", entry.id)
        if assessment is not None:  # the side effects' triage, kept with the entry
            triage.store_result(
                session,
                patient_id=patient_id,
                now=now,
                actor=actor,
                result=assessment.result,
                inputs={"symptoms": sorted(effects), "answers": {}, "side_effects": effects},
                symptom_entry_id=entry.id,
            )
        return SavedSymptoms(entry_id=entry.id, triage=assessment)


def canonical_side_effects(side_effects: dict[str, int], monograph: Monograph) -> dict[str, int]:
    """Side effects by their triage key in the drug's list; an unknown name or a severity
    outside 1-3 is an error."""
    from dosewise.domain.triage import match_symptoms

    effects: dict[str, int] = {}
    for name, severity in side_effects.items():
        low, high = SIDE_EFFECT_SEVERITY_RANGE
        if not low <= severity <= high:
            raise InputError(
                f"side-effect severity is {low}-{high} (mild, moderate, severe), got {severity} for {name}",
                field="side_effects",
            )
        found, unknown = match_symptoms(monograph, [name])
        if unknown or len(found) != 1:
            keys = ", ".join(symptom.key for symptom in monograph.symptoms)
            raise InputError(
                f"side effect {name!r} is not on the list: use one of {keys}", field="side_effects"
            )
        effects[found[0].key] = max(severity, effects.get(found[0].key, 0))
    return effects

"""Symptom entries: spasms on the Penn scale [PSFS], stiffness 0-10, side effects from the
triage list. Nothing is half-stored: validation happens before the one transaction."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine

from dosewise.errors import InputError, NotFound
from dosewise.monographs import load_monograph
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.services.notes import check_note
from dosewise.store.database import unit_of_work
from dosewise.store.models import (
    PatientRow,
    SymptomEntryRow,
)


def record_symptoms(
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
) -> int:
    """A symptom entry: Penn Spasm Frequency 0-4 with severity 1-3 when frequency > 0 [PSFS],
    spasticity 0-10, side effects from the triage list (key, label or synonym) with severity 1-3."""
    if not 0 <= penn_frequency <= 4:
        raise InputError("Penn spasm frequency is 0-4")
    if penn_frequency == 0 and penn_severity is not None:
        raise InputError("Penn spasm severity is given only when frequency is above 0")
    if penn_frequency > 0 and (penn_severity is None or not 1 <= penn_severity <= 3):
        raise InputError("Penn spasm severity is 1-3 when frequency is above 0")
    if not 0 <= spasticity_nrs <= 10:
        raise InputError("the spasticity rating is 0-10")
    effects = canonical_side_effects(side_effects or {})
    check_note(note, required=False)
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
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
        return entry.id


def canonical_side_effects(side_effects: dict[str, int]) -> dict[str, int]:
    """Side effects by their triage key; an unknown name or a severity outside 1-3 is an error."""
    from dosewise.domain.triage import match_symptoms

    monograph = load_monograph("baclofen")
    effects: dict[str, int] = {}
    for name, severity in side_effects.items():
        if not 1 <= severity <= 3:
            raise InputError(
                f"side-effect severity is 1-3 (mild, moderate, severe), got {severity} for {name}"
            )
        found, unknown = match_symptoms(monograph, [name])
        if unknown or len(found) != 1:
            keys = ", ".join(symptom.key for symptom in monograph.symptoms)
            raise InputError(f"side effect {name!r} is not on the list: use one of {keys}")
        effects[found[0].key] = max(severity, effects.get(found[0].key, 0))
    return effects

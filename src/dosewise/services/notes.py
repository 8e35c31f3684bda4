"""Notes for the prescriber, free text, by the patient, a caregiver or a clinician."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from dosewise.errors import InputError, NotFound
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.store.database import unit_of_work
from dosewise.store.models import (
    NoteRow,
    PatientRow,
)

MAX_NOTE_CHARS = 4000


def check_note(text: str, *, required: bool) -> None:
    if required and not text.strip():
        raise InputError("the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise InputError(f"a note is at most {MAX_NOTE_CHARS} characters, this one has {len(text)}")


def add_note(
    engine: Engine, *, patient_id: int, text: str, now: datetime, actor: str, author: str | None = None
) -> int:
    """A free-text note for the prescriber (``author``: the name shown; default the actor)."""
    check_note(text, required=True)
    with unit_of_work(engine) as session:
        if session.get(PatientRow, patient_id) is None:
            raise NotFound(f"no patient {patient_id}")
        note = NoteRow(
            patient_id=patient_id, recorded_at=to_utc(now), author=(author or actor)[:200], text=text.strip()
        )
        session.add(note)
        session.flush()
        audit(session, now, actor, patient_id, "note", "note", note.id)
        return note.id

"""The audit trail: who (``user:ID`` or ``cli``) changed what in which patient's diary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dosewise.services.clock import to_utc
from dosewise.store.models import (
    AuditRow,
)


def audit(
    session: Session,
    now: datetime,
    actor: str,
    patient_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
) -> None:
    """One row of the audit trail: who (``user:ID`` or ``cli``) did what to which patient's data."""
    session.add(
        AuditRow(
            at=to_utc(now),
            actor=actor,
            patient_id=patient_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
        )
    )

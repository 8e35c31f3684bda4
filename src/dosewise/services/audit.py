"""The audit trail: who (``user:ID`` or ``cli``) changed what in which patient's diary.

One row shape, written from an ORM session (:func:`audit`) or from a plain connection on the
hot paths that use no ORM session (:func:`audit_on`).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, insert
from sqlalchemy.orm import Session

from dosewise.services.clock import to_utc
from dosewise.store.models import AuditRow


def _row(
    now: datetime,
    actor: str,
    patient_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "at": to_utc(now),
        "actor": actor,
        "patient_id": patient_id,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "detail": None if detail is None else json.dumps(detail, sort_keys=True, default=str),
    }


def audit(
    session: Session,
    now: datetime,
    actor: str,
    patient_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One row of the audit trail: who (``user:ID`` or ``cli``) did what to which patient's data;
    ``detail`` (stored as JSON) says what changed, e.g. ``{"before": ..., "after": ...}``."""
    session.add(AuditRow(**_row(now, actor, patient_id, action, entity, entity_id, detail)))


@cache
def _insert() -> Insert:
    return insert(AuditRow)


def audit_on(
    connection: Connection,
    now: datetime,
    actor: str,
    patient_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The same row as :func:`audit`, on a plain connection in its transaction."""
    connection.execute(_insert(), _row(now, actor, patient_id, action, entity, entity_id, detail))

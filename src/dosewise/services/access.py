"""Who may see which patient, and do what: relations, invitations, grants.

- A patient owns their diary; a caregiver or a clinician is let in with a one-time invitation
  code (only its SHA-256 is kept) and can be let out at any time.
- Access is checked on every request from the grants table, in the same statement that reads
  the session: revoking takes effect at once.
- A patient someone may not see is "not found", never "forbidden": ids reveal nothing.
- What each relation may do is :data:`CAPABILITIES`; only the patient's own clinician, with a
  clinician account verified by an administrator, has the clinician powers (the override,
  confirming a plan, correcting any dose): :attr:`PatientAccess.may_override`, the one check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import Engine, Select, and_, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from dosewise.errors import Conflict, DosewiseError, InputError, NotFound
from dosewise.services.audit import audit
from dosewise.services.auth import (
    CurrentUser,
    Role,
    SessionPolicy,
    digest,
    session_statement,
    user_of_session,
)
from dosewise.services.clock import to_utc
from dosewise.store.database import read_connection, read_only, unit_of_work
from dosewise.store.models import (
    AccessGrantRow,
    InvitationRow,
    PatientRow,
    UserRow,
)

if TYPE_CHECKING:
    from sqlalchemy import CursorResult


Relation = Literal["owner", "caregiver", "clinician"]


Capability = Literal["view", "record", "plan", "note", "manage", "profile", "export"]


# What each relation to a patient may do. Caregivers record for the patient (doses, symptoms,
# notes, triage) but never change the plan; the patient enters the prescriber's plan and
# clinicians change plans; only the patient manages access and the account. "About me" (the
# country and the conditions the advice depends on) is changed by the patient and their
# clinician; a caregiver sees it. "export": the diary's records as data files (the CSV tables,
# the FHIR Bundle, "download everything"), for the patient and their clinicians (docs/adr/0018);
# the report and the dose reminders (.ics) are readings of the diary, open to every relation.
CAPABILITIES: dict[Relation, frozenset[Capability]] = {
    "owner": frozenset({"view", "record", "plan", "note", "manage", "profile", "export"}),
    "caregiver": frozenset({"view", "record", "note"}),
    "clinician": frozenset({"view", "plan", "note", "profile", "export"}),
}


CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed by hand


CODE_LENGTH = 12


class NotAllowed(DosewiseError):
    """The user may see this patient but not do this."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientAccess:
    patient_id: int
    name: str
    time_zone: str
    relation: Relation
    user_role: Role | None = None  # the role of the user who has this access
    verified: bool = False  # the user's clinician account is verified (read with the session)

    @property
    def may_override(self) -> bool:
        """The clinician powers (lift a limit, confirm a plan, correct any dose): only the
        patient's own clinician, with a clinician account verified by an administrator."""
        return self.relation == "clinician" and self.user_role == "clinician" and self.verified

    def can(self, capability: Capability) -> bool:
        return capability in CAPABILITIES[self.relation]

    def require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise NotAllowed(f"a {self.relation} cannot do this for {self.name}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessEntry:
    grant_id: int
    user_name: str
    email: str
    role: str
    since: datetime  # UTC
    verified: bool = False  # a clinician account verified by an administrator


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingInvitation:
    invitation_id: int
    role: str
    expires_at: datetime  # UTC


def own_patient(engine: Engine, *, user: CurrentUser) -> int | None:
    with read_only(engine) as session:
        return session.scalar(select(PatientRow.id).where(PatientRow.user_id == user.user_id))


def patient_access(engine: Engine, *, user: CurrentUser, patient_id: int) -> PatientAccess:
    """How this user relates to the patient; NotFound when they have no access at all."""
    with read_only(engine) as session:
        patient = session.get(PatientRow, patient_id)
        if patient is None:
            raise NotFound("no such patient")
        relation: Relation | None = None
        if patient.user_id == user.user_id:
            relation = "owner"
        else:
            role = session.scalar(
                select(AccessGrantRow.role).where(
                    AccessGrantRow.patient_id == patient_id,
                    AccessGrantRow.user_id == user.user_id,
                    AccessGrantRow.revoked_at.is_(None),
                )
            )
            if role == "caregiver":
                relation = "caregiver"
            elif role == "clinician":
                relation = "clinician"
        if relation is None:
            raise NotFound("no such patient")
        return _access(patient, relation, user.role, verified=user.verified)


def session_access(
    engine: Engine, *, token: str, patient_id: int, now: datetime, policy: SessionPolicy
) -> tuple[CurrentUser | None, PatientAccess | None]:
    """The signed-in user of a session token and their access to a patient, read together in
    one statement (a request for a patient's page needs both): (None, None) for no session,
    (user, None) when the user may not see that patient (or there is no such patient).

    Checked against the database on every call, like :func:`patient_access`: a revoked grant
    or an ended session counts from the next request on."""
    with read_connection(engine) as connection:
        found = connection.execute(
            _session_access_statement(), {"token_hash": digest(token), "patient_id": patient_id}
        ).first()
    user = user_of_session(engine, found, now=now, policy=policy)
    if user is None or found is None or found.patient_id is None:
        return user, None
    relation: Relation | None = None
    if found.patient_user_id == user.user_id:
        relation = "owner"
    elif found.grant_role in ("caregiver", "clinician"):
        relation = found.grant_role
    if relation is None:
        return user, None
    patient = PatientAccess(
        patient_id=found.patient_id,
        name=found.patient_name,
        time_zone=found.patient_time_zone,
        relation=relation,
        user_role=user.role,
        verified=user.verified,
    )
    return user, patient


@cache
def _session_access_statement() -> Select[*tuple[Any, ...]]:
    """The session row of :func:`auth.session_statement`, the patient in the path and the
    user's live grant to them (at most one: a grant is unique per patient and user)."""
    return (
        session_statement()
        .add_columns(
            PatientRow.id.label("patient_id"),
            PatientRow.name.label("patient_name"),
            PatientRow.time_zone.label("patient_time_zone"),
            PatientRow.user_id.label("patient_user_id"),
            AccessGrantRow.role.label("grant_role"),
        )
        .outerjoin(PatientRow, PatientRow.id == bindparam("patient_id"))
        .outerjoin(
            AccessGrantRow,
            and_(
                AccessGrantRow.patient_id == PatientRow.id,
                AccessGrantRow.user_id == UserRow.id,
                AccessGrantRow.revoked_at.is_(None),
            ),
        )
    )


def patients_of(engine: Engine, *, user: CurrentUser) -> list[PatientAccess]:
    """Every patient the user may see: their own, then those who let them in, by name."""
    with read_only(engine) as session:
        own = session.scalars(select(PatientRow).where(PatientRow.user_id == user.user_id)).all()
        granted = session.execute(
            select(PatientRow, AccessGrantRow.role)
            .join(AccessGrantRow, AccessGrantRow.patient_id == PatientRow.id)
            .where(AccessGrantRow.user_id == user.user_id, AccessGrantRow.revoked_at.is_(None))
            .order_by(PatientRow.name, PatientRow.id)
        ).all()
    found = [_access(p, "owner", user.role, verified=user.verified) for p in own]
    found.extend(
        _access(
            patient, "clinician" if role == "clinician" else "caregiver", user.role, verified=user.verified
        )
        for patient, role in granted
    )
    return found


def _access(
    patient: PatientRow, relation: Relation, user_role: Role | None = None, *, verified: bool = False
) -> PatientAccess:
    return PatientAccess(
        patient_id=patient.id,
        name=patient.name,
        time_zone=patient.time_zone,
        relation=relation,
        user_role=user_role,
        verified=verified,
    )


def create_invitation(
    engine: Engine, *, patient_id: int, role: str, now: datetime, lifetime: timedelta, actor: CurrentUser
) -> tuple[str, datetime]:
    """A one-time code for a caregiver or clinician; returns the code (shown once) and expiry (UTC)."""
    if role not in ("caregiver", "clinician"):
        raise InputError("invite a caregiver or a clinician")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))
    expires = to_utc(now) + lifetime
    with unit_of_work(engine) as session:
        row = InvitationRow(
            patient_id=patient_id,
            role=role,
            code_hash=digest(raw),
            created_at=to_utc(now),
            expires_at=expires,
            used_at=None,
            revoked_at=None,
        )
        session.add(row)
        session.flush()
        audit(session, now, actor.actor, patient_id, "invite", "invitation", row.id)
    return code, expires


def accept_invitation(engine: Engine, *, user: CurrentUser, code: str, now: datetime) -> PatientAccess:
    """Use a code: the user gets the access it was made for (once; codes expire)."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    now_utc = to_utc(now)
    with unit_of_work(engine) as session:
        invitation = session.scalar(select(InvitationRow).where(InvitationRow.code_hash == digest(raw)))
        if (
            invitation is None
            or invitation.used_at is not None
            or invitation.revoked_at is not None
            or invitation.expires_at <= now_utc
        ):
            raise InputError("this code is not valid: it may be mistyped, used or expired; ask for a new one")
        if invitation.role != user.role:
            raise InputError(
                f"this code is for a {invitation.role}: sign in with a {invitation.role} account to use it"
            )
        patient = session.get(PatientRow, invitation.patient_id)
        if patient is None or patient.user_id == user.user_id:
            raise InputError("this code is for your own diary")
        # One statement marks the code used only if it still is unused: of people using it at
        # the same moment, one changes the row and the others (who read it unused) change nothing.
        claimed = session.execute(
            update(InvitationRow)
            .where(
                InvitationRow.id == invitation.id,
                InvitationRow.used_at.is_(None),
                InvitationRow.revoked_at.is_(None),
                InvitationRow.expires_at > now_utc,
            )
            .values(used_at=now_utc)
            .execution_options(synchronize_session=False)
        )
        if cast("CursorResult[Any]", claimed).rowcount != 1:
            raise InputError("this code is not valid: it may be mistyped, used or expired; ask for a new one")
        grant = session.scalar(
            select(AccessGrantRow).where(
                AccessGrantRow.patient_id == patient.id, AccessGrantRow.user_id == user.user_id
            )
        )
        if grant is None:
            grant = AccessGrantRow(
                patient_id=patient.id, user_id=user.user_id, role=invitation.role, created_at=now_utc
            )
            session.add(grant)
        else:  # invited again after a revocation
            grant.role, grant.created_at, grant.revoked_at = invitation.role, now_utc, None
        try:
            session.flush()
        except IntegrityError:  # two codes for the same diary used at the same moment: one wins
            raise Conflict("you can already see this diary: the other code stays unused") from None
        audit(session, now, user.actor, patient.id, "accept_invitation", "access_grant", grant.id)
        return _access(patient, "clinician" if invitation.role == "clinician" else "caregiver")


def list_access(
    engine: Engine, *, patient_id: int, now: datetime
) -> tuple[list[AccessEntry], list[PendingInvitation]]:
    """Who can see the patient, and the invitations not used yet."""
    with read_only(engine) as session:
        grants = session.execute(
            select(AccessGrantRow, UserRow)
            .join(UserRow, UserRow.id == AccessGrantRow.user_id)
            .where(AccessGrantRow.patient_id == patient_id, AccessGrantRow.revoked_at.is_(None))
            .order_by(AccessGrantRow.created_at)
        ).all()
        pending = session.scalars(
            select(InvitationRow)
            .where(
                InvitationRow.patient_id == patient_id,
                InvitationRow.used_at.is_(None),
                InvitationRow.revoked_at.is_(None),
                InvitationRow.expires_at > to_utc(now),
            )
            .order_by(InvitationRow.created_at)
        ).all()
        return (
            [
                AccessEntry(
                    grant_id=g.id,
                    user_name=u.display_name,
                    email=u.email,
                    role=g.role,
                    since=g.created_at,
                    verified=u.role == "clinician" and u.verified_at is not None,
                )
                for g, u in grants
            ],
            [PendingInvitation(invitation_id=i.id, role=i.role, expires_at=i.expires_at) for i in pending],
        )


def revoke_access(
    engine: Engine, *, patient_id: int, grant_id: int, now: datetime, actor: CurrentUser
) -> None:
    """End a caregiver's or clinician's access; their next request is refused."""
    with unit_of_work(engine) as session:
        grant = session.scalar(
            select(AccessGrantRow).where(
                AccessGrantRow.id == grant_id,
                AccessGrantRow.patient_id == patient_id,
                AccessGrantRow.revoked_at.is_(None),
            )
        )
        if grant is None:
            raise NotFound("no such access")
        grant.revoked_at = to_utc(now)
        audit(session, now, actor.actor, patient_id, "revoke", "access_grant", grant_id)


def revoke_invitation(
    engine: Engine, *, patient_id: int, invitation_id: int, now: datetime, actor: CurrentUser
) -> None:
    with unit_of_work(engine) as session:
        invitation = session.scalar(
            select(InvitationRow).where(
                InvitationRow.id == invitation_id,
                InvitationRow.patient_id == patient_id,
                InvitationRow.used_at.is_(None),
                InvitationRow.revoked_at.is_(None),
            )
        )
        if invitation is None:
            raise NotFound("no such invitation")
        invitation.revoked_at = to_utc(now)
        audit(session, now, actor.actor, patient_id, "revoke", "invitation", invitation_id)

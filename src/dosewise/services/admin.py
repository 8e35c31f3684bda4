"""The installation's administrators, and the clinician accounts they verify (issue 15).

- Anyone may sign up as a clinician; the clinician powers (the override, confirming a plan,
  correcting any dose: :attr:`access.PatientAccess.may_override`) need the account verified by
  an administrator. Unverified clinicians are shown as such to patients.
- An administrator is a dedicated account (role ``admin``, docs/adr/0016): made from the
  command line only (``dosewise admin create``), it has no diary, is nobody's caregiver or
  clinician, and so can never verify itself into clinician powers.
- Every verification and revocation is in the audit trail (actor ``cli`` or ``user:ID``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from dosewise.errors import Conflict, InputError, NotFound
from dosewise.services.audit import audit
from dosewise.services.auth import CurrentUser, check_password, normalize_email
from dosewise.services.clock import to_utc
from dosewise.store.database import read_only, unit_of_work
from dosewise.store.models import UserRow

if TYPE_CHECKING:
    from argon2 import PasswordHasher
    from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicianAccount:
    user_id: int
    email: str
    display_name: str
    signed_up_at: datetime  # UTC
    verified_at: datetime | None  # UTC; None: not verified (no clinician powers)
    verified_by: str | None

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    account: ClinicianAccount
    changed: bool  # False: it was already in that state (nothing written)


def describe_role(role: str, verified_at: datetime | None) -> str:
    """A user's role as people read it: a clinician not verified by an administrator says so."""
    return "clinician, not verified" if role == "clinician" and verified_at is None else role


def require_admin(user: CurrentUser) -> None:
    """Only administrators; anyone else is told there is nothing here (as for a patient they
    may not see)."""
    if user.role != "admin":
        raise NotFound("no such page")


def create_admin(
    engine: Engine,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    display_name: str,
    now: datetime,
    actor: str = "cli",
) -> int:
    """A new administrator account; returns its user id. An email already in use is a Conflict
    (an administrator is a dedicated account, never a patient's or a clinician's)."""
    address = normalize_email(email)
    name = " ".join(display_name.split())
    if not name or len(name) > 200:
        raise InputError("give the administrator's name (at most 200 characters)", field="name")
    check_password(password, email=address)
    password_hash = hasher.hash(password)
    with unit_of_work(engine) as session:
        if session.scalar(select(UserRow.id).where(UserRow.email == address)) is not None:
            raise Conflict(
                f"an account with the email {address} exists: an administrator needs its own email"
            )
        user = UserRow(
            email=address,
            display_name=name,
            password_hash=password_hash,
            role="admin",
            created_at=to_utc(now),
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:  # the same email at the same moment
            raise Conflict(f"an account with the email {address} exists") from None
        audit(session, now, actor, None, "create_admin", "user", user.id)
        return user.id


def list_clinicians(engine: Engine) -> list[ClinicianAccount]:
    """Every clinician account: those waiting for verification first (oldest sign-up first),
    then the verified ones by name."""
    with read_only(engine) as session:
        rows = session.scalars(select(UserRow).where(UserRow.role == "clinician")).all()
        found = [_account(row) for row in rows]
    waiting = sorted((a for a in found if not a.verified), key=lambda a: (a.signed_up_at, a.user_id))
    verified = sorted((a for a in found if a.verified), key=lambda a: (a.display_name.lower(), a.user_id))
    return waiting + verified


def set_verified(
    engine: Engine,
    *,
    verified: bool,
    now: datetime,
    actor: str,
    email: str | None = None,
    user_id: int | None = None,
) -> Verification:
    """Verify a clinician account (``verified``) or revoke its verification, found by email (the
    command line) or id (the admin page). Audited when it changes anything."""
    with unit_of_work(engine) as session:
        row = _clinician(session, email=email, user_id=user_id)
        if (row.verified_at is not None) == verified:
            return Verification(account=_account(row), changed=False)
        values = (
            {"verified_at": to_utc(now), "verified_by": actor}
            if verified
            else {"verified_at": None, "verified_by": None}
        )
        # one statement, guarded by the state read: two administrators at once change it once
        done = session.execute(
            update(UserRow)
            .where(
                UserRow.id == row.id,
                UserRow.role == "clinician",
                UserRow.verified_at.is_(None) if verified else UserRow.verified_at.is_not(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        changed = bool(getattr(done, "rowcount", 0))
        if changed:
            audit(
                session,
                now,
                actor,
                None,
                "verify_clinician" if verified else "unverify_clinician",
                "user",
                row.id,
                {"email": row.email},
            )
        session.expire(row)
        return Verification(account=_account(row), changed=changed)


def _clinician(session: Session, *, email: str | None, user_id: int | None) -> UserRow:
    if user_id is not None:
        row = session.get(UserRow, user_id)
        if row is None or row.role != "clinician":
            raise NotFound("no such clinician account")
        return row
    if email is None:
        raise InputError("say which clinician (their email)", field="email")
    address = email.strip().lower()
    row = session.scalar(select(UserRow).where(UserRow.email == address))
    if row is None:
        raise NotFound(f"no account has the email {address}")
    if row.role != "clinician":
        raise InputError(f"{address} is a {row.role} account, not a clinician: only clinicians are verified")
    return row


def _account(row: UserRow) -> ClinicianAccount:
    return ClinicianAccount(
        user_id=row.id,
        email=row.email,
        display_name=row.display_name,
        signed_up_at=row.created_at,
        verified_at=row.verified_at,
        verified_by=row.verified_by,
    )

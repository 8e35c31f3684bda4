"""Accounts and sign-in sessions.

- Passwords are hashed with argon2 (the hasher is passed in: the app sets its cost).
- A session is a random token in a signed cookie; the database keeps only its SHA-256, so any
  worker serves any user and a stolen backup signs nobody in.
- Failed sign-ins are counted in the database (per email and per client address), so the
  limit holds across workers.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine, Row, Select, bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from dosewise.errors import Conflict, DosewiseError, InputError, NotFound
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.store.database import read_connection, read_only, unit_of_work
from dosewise.store.models import (
    AuditRow,
    LoginAttemptRow,
    PatientRow,
    UserRow,
    WebSessionRow,
)

if TYPE_CHECKING:
    from argon2 import PasswordHasher
    from sqlalchemy.orm import Session


Role = Literal["patient", "caregiver", "clinician", "admin"]


ROLES: tuple[Role, ...] = ("patient", "caregiver", "clinician")  # what sign-up offers (never admin)


MIN_PASSWORD_CHARS = 10  # settings, not clinical numbers


MAX_PASSWORD_CHARS = 256


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


TOUCH_EVERY = timedelta(minutes=5)  # a session's last-seen time is written at most this often


class TooManyAttempts(DosewiseError):
    """Sign-in refused for a while after too many failures."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInLimits:
    """Failed sign-ins allowed in ``window``: from one address for one account (the usual
    guessing), for one account from anywhere (spread-out guessing; higher, so a stranger
    cannot lock a person out with five wrong tries), and from one address for any account."""

    max_failures_per_email_and_client: int = 5
    max_failures_per_email: int = 50
    max_failures_per_client: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPolicy:
    lifetime: timedelta = timedelta(days=14)  # idle time after which a session ends


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrentUser:
    user_id: int
    email: str
    display_name: str
    role: Role
    session_id: int
    csrf_token: str
    verified: bool = False  # a clinician account verified by an administrator (services.admin)

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSession:
    token: str
    csrf_token: str
    user_id: int


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_email(email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not EMAIL.match(cleaned):
        raise InputError("enter an email address such as name@example.org")
    return cleaned


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"choose a password of at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InputError(f"a password is at most {MAX_PASSWORD_CHARS} characters")


def sign_up(
    engine: Engine,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    display_name: str,
    role: str,
    time_zone: str,
    now: datetime,
) -> int:
    """Create an account (and, for a patient, their diary); returns the user id."""
    address = normalize_email(email)
    name = " ".join(display_name.split())
    if not name or len(name) > 200:
        raise InputError("enter your name (at most 200 characters)")
    if role not in ROLES:
        raise InputError("choose patient, caregiver or clinician")
    check_password(password)
    password_hash = hasher.hash(password)
    with unit_of_work(engine) as session:
        if session.scalar(select(UserRow.id).where(UserRow.email == address)) is not None:
            raise Conflict("an account with this email exists: sign in instead")
        user = UserRow(
            email=address, display_name=name, password_hash=password_hash, role=role, created_at=to_utc(now)
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:  # the same email signed up at the same moment
            raise Conflict("an account with this email exists: sign in instead") from None
        if role == "patient":
            patient = PatientRow(name=name, time_zone=time_zone, created_at=to_utc(now), user_id=user.id)
            session.add(patient)
            session.flush()
            audit(session, now, f"user:{user.id}", patient.id, "create", "patient", patient.id)
        audit(session, now, f"user:{user.id}", None, "sign_up", "user", user.id)
        return user.id


def sign_in(
    engine: Engine,
    hasher: PasswordHasher,
    *,
    email: str,
    password: str,
    client: str,
    now: datetime,
    limits: SignInLimits,
    policy: SessionPolicy,
) -> NewSession:
    """A new session for the right password; failures count towards the rate limit."""

    address = email.strip().lower()[:254]
    now_utc = to_utc(now)
    since = now_utc - limits.window
    client = client[:64]
    # The attempt is written first (and removed on success), so parallel guesses count too.
    with unit_of_work(engine) as session:  # short: argon2 runs outside any transaction
        attempts = session.execute(
            select(LoginAttemptRow.email, LoginAttemptRow.client).where(
                or_(LoginAttemptRow.email == address, LoginAttemptRow.client == client),
                LoginAttemptRow.at >= since,
            )
        ).all()
        both = sum(1 for e, c in attempts if e == address and c == client)
        by_email = sum(1 for e, _ in attempts if e == address)
        by_client = sum(1 for _, c in attempts if c == client)
        if (
            both >= limits.max_failures_per_email_and_client
            or by_email >= limits.max_failures_per_email
            or by_client >= limits.max_failures_per_client
        ):
            blocked = True
        else:
            blocked = False
            attempt = LoginAttemptRow(email=address, client=client, at=now_utc)
            session.add(attempt)
            session.flush()
            attempt_id = attempt.id
        found = session.execute(
            select(UserRow.id, UserRow.password_hash).where(UserRow.email == address)
        ).first()
    if blocked:
        minutes = int(limits.window.total_seconds() // 60)
        raise TooManyAttempts(f"too many failed sign-ins: wait {minutes} minutes, then try again")
    stored = found.password_hash if found is not None else None
    # an unknown email costs the same time as a wrong password
    ok = _verify(hasher, stored or _dummy_hash(hasher), password) and stored is not None
    if not ok or found is None:  # the attempt stays counted
        raise InputError("wrong email or password")
    with unit_of_work(engine) as session:
        session.execute(
            delete(LoginAttemptRow).where(
                or_(
                    LoginAttemptRow.id == attempt_id,
                    (LoginAttemptRow.email == address) & (LoginAttemptRow.client == client),
                )
            )
        )
        if stored is not None and hasher.check_needs_rehash(stored):
            user = session.get(UserRow, found.id)
            if user is not None:
                user.password_hash = hasher.hash(password)
        new = _new_session(session, found.id, now_utc, policy)
        audit(session, now, f"user:{found.id}", None, "sign_in", "user", found.id)
    return new


def _verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: dict[int, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = id(hasher)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash(secrets.token_hex(16))
    return _DUMMY[key]


def _new_session(session: Session, user_id: int, now_utc: datetime, policy: SessionPolicy) -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSessionRow(
            token_hash=digest(token),
            user_id=user_id,
            csrf_token=csrf,
            created_at=now_utc,
            last_seen_at=now_utc,
            expires_at=now_utc + policy.lifetime,
        )
    )
    return NewSession(token=token, csrf_token=csrf, user_id=user_id)


def session_user(engine: Engine, *, token: str, now: datetime, policy: SessionPolicy) -> CurrentUser | None:
    """The signed-in user of a session token, or None (unknown or expired)."""
    with read_connection(engine) as connection:
        found = connection.execute(session_statement(), {"token_hash": digest(token)}).first()
    return user_of_session(engine, found, now=now, policy=policy)


@cache
def session_statement() -> Select[*tuple[Any, ...]]:
    """A session and its user by token hash: one row (built once; more columns may be added)."""
    return (
        select(
            WebSessionRow.id.label("session_id"),
            WebSessionRow.csrf_token,
            WebSessionRow.last_seen_at,
            WebSessionRow.expires_at,
            UserRow.id.label("user_id"),
            UserRow.email,
            UserRow.display_name,
            UserRow.role,
            UserRow.verified_at,
        )
        .join(UserRow, UserRow.id == WebSessionRow.user_id)
        .where(WebSessionRow.token_hash == bindparam("token_hash"))
    )


def user_of_session(
    engine: Engine, found: Row[Any] | None, *, now: datetime, policy: SessionPolicy
) -> CurrentUser | None:
    """The user of a row of :func:`session_statement` (None: unknown or expired, then deleted).
    The sliding expiry is written at most every :data:`TOUCH_EVERY`."""
    if found is None:
        return None
    now_utc = to_utc(now)
    if found.expires_at <= now_utc:
        with unit_of_work(engine) as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.id == found.session_id))
        return None
    if now_utc - found.last_seen_at >= TOUCH_EVERY:  # sliding expiry, written rarely
        with unit_of_work(engine) as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.id == found.session_id)
                .values(last_seen_at=now_utc, expires_at=now_utc + policy.lifetime)
            )
    role: Role = found.role  # the CHECK constraint keeps it one of ROLES
    return CurrentUser(
        user_id=found.user_id,
        email=found.email,
        display_name=found.display_name,
        role=role,
        session_id=found.session_id,
        csrf_token=found.csrf_token,
        verified=found.verified_at is not None,
    )


def sign_out(engine: Engine, *, token: str) -> None:
    with unit_of_work(engine) as session:
        session.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == digest(token)))


def change_password(
    engine: Engine,
    hasher: PasswordHasher,
    *,
    user: CurrentUser,
    current: str,
    new: str,
    now: datetime,
    policy: SessionPolicy,
) -> NewSession:
    """Change the password and end every other session (a new one replaces this one)."""
    check_password(new)
    stored = _stored_hash(engine, user.user_id)
    if not _verify(hasher, stored, current):
        raise InputError("the current password is not right")
    new_hash = hasher.hash(new)
    with unit_of_work(engine) as session:
        row = session.get(UserRow, user.user_id)
        if row is None:
            raise NotFound("no such account")
        row.password_hash = new_hash
        session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.user_id))
        audit(session, now, user.actor, None, "change_password", "user", user.user_id)
        return _new_session(session, user.user_id, to_utc(now), policy)


def delete_account(engine: Engine, hasher: PasswordHasher, *, user: CurrentUser, password: str) -> None:
    """Delete the account; a patient's diary goes with it (plans, doses, entries, grants, and
    the audit trail about them). Caregivers and clinicians lose their grants."""
    if not _verify(hasher, _stored_hash(engine, user.user_id), password):
        raise InputError("the password is not right: the account was not deleted")
    with unit_of_work(engine) as session:
        patients = list(session.scalars(select(PatientRow.id).where(PatientRow.user_id == user.user_id)))
        if patients:
            session.execute(delete(AuditRow).where(AuditRow.patient_id.in_(patients)))
            session.execute(delete(PatientRow).where(PatientRow.id.in_(patients)))
        session.execute(delete(UserRow).where(UserRow.id == user.user_id))


def _stored_hash(engine: Engine, user_id: int) -> str:
    with read_only(engine) as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.id == user_id))
    if stored is None:
        raise NotFound("no such account")
    return stored

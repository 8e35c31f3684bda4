"""Accounts and sign-in sessions.

- Passwords are hashed with argon2 (the hasher is passed in: the app sets its cost).
- A session is a random token in a signed cookie; the database keeps only its SHA-256, so any
  worker serves any user and a stolen backup signs nobody in.
- Failed password tries are counted in the database under a few keys (a browser that signed
  in to the account before; else the account, the account from this address, the address),
  read and written under a row lock, so the limits hold across workers and parallel guesses.
  Past a limit each next try waits longer, up to a cap: nobody is locked out, and a browser
  the owner used before is limited by its own failures only (docs/adr/0017).
- Passwords are checked for strength (zxcvbn, offline, with its bundled lists) and may not
  contain the email.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
import secrets
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Engine, Row, Select, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from dosewise.errors import Conflict, DosewiseError, InputError, NotFound
from dosewise.services.audit import audit
from dosewise.services.clock import to_utc
from dosewise.store.database import read_connection, unit_of_work
from dosewise.store.models import (
    AuditRow,
    PatientRow,
    SignInCounterRow,
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


# zxcvbn's score runs 0-4; 3 means about 10^8 guesses or more ("safely unguessable" against
# online guessing and moderate against a stolen argon2 database). A setting, not a clinical number.
MIN_PASSWORD_SCORE = 3


ZXCVBN_MAX_CHARS = 72  # zxcvbn's own maximum


_ZXCVBN_LOCK = threading.Lock()


EMAIL_PART_MIN_CHARS = 4  # a shorter first part of an email ("jo@") is only fed to zxcvbn


CHOOSING_ADVICE = "choose three or four unrelated words (spaces are fine), or let a password manager make one"


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


TOUCH_EVERY = timedelta(minutes=5)  # a session's last-seen time is written at most this often


class TooManyAttempts(DosewiseError):
    """A password try refused for a while after too many failures; ``retry_after_s`` says how
    long to wait (the message says it in words)."""

    def __init__(self, message: str, *, retry_after_s: int = 0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInLimits:
    """Failed password tries allowed before each next try must wait (docs/adr/0017):

    - from a browser that signed in to the account before (its device cookie): its own
      failures only, so strangers' failures elsewhere never slow the owner down there;
    - from any other browser: for the account from this address (the usual guessing), for the
      account from anywhere (spread-out guessing) and from this address for any account;
    - on the account's own pages (change the password, delete the account): per account.

    Past a limit the next try waits ``first_delay``, then twice as long after each further
    failure, never more than ``max_delay``; a try refused for waiting counts nothing. A key's
    failures are forgotten ``forget_after`` its last failure, and a right password clears the
    failures of the browser (or address) it came from."""

    max_failures_per_device: int = 5
    max_failures_per_email_and_client: int = 5
    max_failures_per_email: int = 20
    max_failures_per_client: int = 20
    # an address with fewer failures than this (for any account, in ``forget_after``) is not held
    # back by the account's own wait: a stranger who keeps an account waiting cannot keep its
    # owner out on a new browser, and pays with fresh addresses (docs/adr/0017)
    clean_address_failures: int = 2
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)

    def delay_after(self, failures: int, allowed: int) -> timedelta:
        """How long after the last failure the next try may come (0 while under the limit)."""
        if failures < allowed:
            return timedelta(0)
        doubled: timedelta = self.first_delay * 2 ** min(failures - allowed, 30)
        return min(doubled, self.max_delay)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPolicy:
    """A session ends ``absolute_lifetime`` after the sign-in, however active (never
    extended), or after ``idle_limit`` without a request, whichever comes first."""

    absolute_lifetime: timedelta = timedelta(days=30)
    idle_limit: timedelta = timedelta(days=7)


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
    device: str = ""  # the browser's device entry (user id:nonce) for its signed device cookie


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_email(email: str) -> str:
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not EMAIL.match(cleaned):
        raise InputError("enter an email address such as name@example.org")
    return cleaned


def check_password(password: str, *, email: str | None = None) -> None:
    """Refuse a password that is short, contains the email (or its first part), or is easy to
    guess by zxcvbn's estimate (its bundled lists of common passwords, names, words and
    patterns; offline); the message says why and what to do."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"choose a password of at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InputError(f"a password is at most {MAX_PASSWORD_CHARS} characters")
    address = (email or "").strip().lower()
    local = address.split("@", 1)[0]
    lowered = password.lower()
    if (address and address in lowered) or (len(local) >= EMAIL_PART_MIN_CHARS and local in lowered):
        raise InputError(
            f"a password must not contain your email address or its first part: {CHOOSING_ADVICE}"
        )
    from zxcvbn import zxcvbn

    words = [part for part in re.split(r"[^a-z0-9]+", address) if part]
    # zxcvbn refuses more than 72 characters (its matching grows with the length): judge the
    # first 72. It keeps the user inputs in a module global: one check at a time.
    personal = [address, local, *words] if address else []
    with _ZXCVBN_LOCK:
        estimate = zxcvbn(password[:ZXCVBN_MAX_CHARS], user_inputs=personal)
    if estimate["score"] < MIN_PASSWORD_SCORE:
        feedback = estimate["feedback"]
        reason = (feedback.get("warning") or "").strip().rstrip(".")
        if not reason:
            reason = "it would be found quickly by trying common words, names and patterns"
        reason = reason[0].lower() + reason[1:]
        raise InputError(f"this password is easy to guess ({reason}): {CHOOSING_ADVICE}")


def guessing_estimate(text: str) -> tuple[float, int]:
    """zxcvbn's view of ``text`` (offline; judged 72 characters at a time): the bits a guesser
    using its lists and patterns would need, and how many characters it explains by words,
    names, keyboard runs, sequences, repeats or dates of 3 characters or more."""
    from zxcvbn import zxcvbn

    bits, explained = 0.0, 0
    for start in range(0, len(text), ZXCVBN_MAX_CHARS):
        with _ZXCVBN_LOCK:
            estimate = zxcvbn(text[start : start + ZXCVBN_MAX_CHARS])
        bits += float(estimate["guesses_log10"]) * math.log2(10)
        for match in estimate["sequence"]:
            pattern, token = str(match["pattern"]), str(match["token"])
            if pattern != "bruteforce" and len(token) >= 3:
                explained += len(token)
    return bits, explained


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
    check_password(password, email=address)
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
    known_devices: Collection[str] = (),
) -> NewSession:
    """A new session for the right password. ``known_devices``: the entries of the browser's
    signed device cookie (see :attr:`NewSession.device`); a browser that signed in to this
    account before is limited by its own failures only (docs/adr/0017)."""

    address = email.strip().lower()[:254]
    now_utc = to_utc(now)
    client = client_key(client)
    # The try is counted first (and forgiven on success), under row locks, so parallel
    # guesses are counted one after the other; argon2 runs outside any transaction.
    with unit_of_work(engine) as session:
        found = session.execute(
            select(UserRow.id, UserRow.password_hash).where(UserRow.email == address)
        ).first()
        device = _known_device(known_devices, found.id if found is not None else None)
        keys = _sign_in_keys(limits, address=address, client=client, device=device)
        _count_try(session, keys, now_utc, limits, "too many failed sign-ins")
    stored = found.password_hash if found is not None else None
    # an unknown email costs the same time as a wrong password
    ok = _verify(hasher, stored or _dummy_hash(hasher), password) and stored is not None
    if not ok or found is None:  # the try stays counted
        raise InputError("wrong email or password")
    with unit_of_work(engine) as session:
        _forgive(session, keys, now_utc, limits)
        if stored is not None and hasher.check_needs_rehash(stored):
            user = session.get(UserRow, found.id)
            if user is not None:
                user.password_hash = hasher.hash(password)
        new = _new_session(session, found.id, now_utc, policy, device=device or _new_device(found.id))
        audit(session, now, f"user:{found.id}", None, "sign_in", "user", found.id)
    return new


@dataclass(frozen=True, slots=True)
class _Limit:
    """One counted key: ``own`` keys belong to the browser (or address) that tried and are
    cleared by its right password; shared ones lose only that try."""

    key: str
    allowed: int
    own: bool
    account_wide: bool = False  # waived for a clean address (SignInLimits.clean_address_failures)
    address: bool = False  # the address's own key, which says whether it is clean


def _known_device(known_devices: Collection[str], user_id: int | None) -> str | None:
    """The browser's device entry for this account, if it signed in to it before."""
    if user_id is None:
        return None
    prefix = f"{user_id}:"
    return next((entry for entry in known_devices if entry.startswith(prefix) and len(entry) <= 64), None)


def _new_device(user_id: int) -> str:
    return f"{user_id}:{secrets.token_urlsafe(16)}"


def _sign_in_keys(limits: SignInLimits, *, address: str, client: str, device: str | None) -> list[_Limit]:
    if device is not None:
        return [_Limit(f"device {device}", limits.max_failures_per_device, own=True)]
    return [
        _Limit(f"email {address}", limits.max_failures_per_email, own=False, account_wide=True),
        _Limit(f"email+client {address} {client}", limits.max_failures_per_email_and_client, own=True),
        _Limit(f"client {client}", limits.max_failures_per_client, own=False, address=True),
    ]


def client_key(client: str) -> str:
    """The address a sign-in is counted under: an IPv6 address by its /64 (one household or
    machine is given a whole /64, so its addresses are one client), any other as it is."""
    try:
        parsed = ipaddress.ip_address(client)
    except ValueError:
        return client[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _count_try(
    session: Session, keys: Sequence[_Limit], now_utc: datetime, limits: SignInLimits, what: str
) -> None:
    """Count one more failure under every key, or raise :class:`TooManyAttempts` (counting
    nothing) when one of them must wait. The keys' rows are locked in one order (PostgreSQL;
    SQLite's writers queue anyway), so two tries are counted one after the other."""
    hashes = {digest(limit.key): limit for limit in keys}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(SignInCounterRow)
        .values([{"key_hash": h, "failures": 0, "last_failure_at": now_utc} for h in sorted(hashes)])
        .on_conflict_do_nothing(index_elements=["key_hash"])
    )
    rows = session.scalars(
        select(SignInCounterRow)
        .where(SignInCounterRow.key_hash.in_(sorted(hashes)))
        .order_by(SignInCounterRow.key_hash)
        .with_for_update()
    ).all()
    for row in rows:
        if now_utc - row.last_failure_at >= limits.forget_after:
            row.failures = 0
    clean = any(hashes[row.key_hash].address and row.failures < limits.clean_address_failures for row in rows)
    wait = timedelta(0)
    for row in rows:
        limit = hashes[row.key_hash]
        if limit.account_wide and clean:
            continue  # the account is under attack, but not from here: this try goes through
        ready_at = row.last_failure_at + limits.delay_after(row.failures, limit.allowed)
        wait = max(wait, ready_at - now_utc)
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        raise TooManyAttempts(f"{what}: wait {_say_wait(seconds)}, then try again", retry_after_s=seconds)
    for row in rows:
        row.failures += 1
        row.last_failure_at = now_utc


def _forgive(session: Session, keys: Sequence[_Limit], now_utc: datetime, limits: SignInLimits) -> None:
    """The password was right: clear the failures of the browser (or address) it came from,
    take this try back from the shared keys, and drop counters nobody failed under lately."""
    own = [digest(limit.key) for limit in keys if limit.own]
    shared = [digest(limit.key) for limit in keys if not limit.own]
    if own:
        session.execute(delete(SignInCounterRow).where(SignInCounterRow.key_hash.in_(own)))
    if shared:
        session.execute(
            update(SignInCounterRow)
            .where(SignInCounterRow.key_hash.in_(shared), SignInCounterRow.failures > 0)
            .values(failures=SignInCounterRow.failures - 1)
        )
        session.execute(
            delete(SignInCounterRow).where(
                SignInCounterRow.key_hash.in_(shared), SignInCounterRow.failures <= 0
            )
        )
    # by the index on last_failure_at: failures nobody added to for a day are forgotten anyway
    stale = now_utc - limits.forget_after
    session.execute(delete(SignInCounterRow).where(SignInCounterRow.last_failure_at <= stale))


def _say_wait(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


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


def _new_session(
    session: Session, user_id: int, now_utc: datetime, policy: SessionPolicy, *, device: str = ""
) -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSessionRow(
            token_hash=digest(token),
            user_id=user_id,
            csrf_token=csrf,
            created_at=now_utc,
            last_seen_at=now_utc,
            expires_at=now_utc + min(policy.idle_limit, policy.absolute_lifetime),
        )
    )
    return NewSession(token=token, csrf_token=csrf, user_id=user_id, device=device)


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
            WebSessionRow.created_at.label("session_created_at"),
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
    A session ends at its absolute end (sign-in + ``policy.absolute_lifetime``, never moved) or
    ``policy.idle_limit`` after it was last used; last use is written at most every
    :data:`TOUCH_EVERY`."""
    if found is None:
        return None
    now_utc = to_utc(now)
    absolute_end = found.session_created_at + policy.absolute_lifetime
    if min(found.expires_at, absolute_end, found.last_seen_at + policy.idle_limit) <= now_utc:
        with unit_of_work(engine) as session:
            session.execute(delete(WebSessionRow).where(WebSessionRow.id == found.session_id))
        return None
    if now_utc - found.last_seen_at >= TOUCH_EVERY:  # sliding idle expiry, written rarely
        with unit_of_work(engine) as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.id == found.session_id)
                .values(last_seen_at=now_utc, expires_at=min(now_utc + policy.idle_limit, absolute_end))
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
    limits: SignInLimits,
) -> NewSession:
    """Change the password and end every other session (a new one replaces this one).
    Wrong current passwords count towards the account pages' limit."""
    check_password(new, email=user.email)
    keys = _check_current_password(
        engine, hasher, user=user, password=current, now=now, limits=limits,
        wrong="the current password is not right",
    )  # fmt: skip
    new_hash = hasher.hash(new)
    with unit_of_work(engine) as session:
        row = session.get(UserRow, user.user_id)
        if row is None:
            raise NotFound("no such account")
        row.password_hash = new_hash
        session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.user_id))
        _forgive(session, keys, to_utc(now), limits)
        audit(session, now, user.actor, None, "change_password", "user", user.user_id)
        return _new_session(session, user.user_id, to_utc(now), policy)


def delete_account(
    engine: Engine,
    hasher: PasswordHasher,
    *,
    user: CurrentUser,
    password: str,
    now: datetime,
    limits: SignInLimits,
) -> None:
    """Delete the account; a patient's diary goes with it (plans, doses, entries, grants, and
    the audit trail about them). Caregivers and clinicians lose their grants. Wrong passwords
    count towards the account pages' limit."""
    keys = _check_current_password(
        engine, hasher, user=user, password=password, now=now, limits=limits,
        wrong="the password is not right: the account was not deleted",
    )  # fmt: skip
    with unit_of_work(engine) as session:
        patients = list(session.scalars(select(PatientRow.id).where(PatientRow.user_id == user.user_id)))
        if patients:
            session.execute(delete(AuditRow).where(AuditRow.patient_id.in_(patients)))
            session.execute(delete(PatientRow).where(PatientRow.id.in_(patients)))
        session.execute(delete(UserRow).where(UserRow.id == user.user_id))
        _forgive(session, keys, to_utc(now), limits)


def _check_current_password(
    engine: Engine,
    hasher: PasswordHasher,
    *,
    user: CurrentUser,
    password: str,
    now: datetime,
    limits: SignInLimits,
    wrong: str,
) -> list[_Limit]:
    """Raise unless ``password`` is the user's, counting the try like a sign-in from a known
    browser (per account); the keys to forgive once the change is made."""
    keys = [_Limit(f"account pages {user.user_id}", limits.max_failures_per_device, own=True)]
    with unit_of_work(engine) as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.id == user.user_id))
        if stored is None:
            raise NotFound("no such account")
        _count_try(session, keys, to_utc(now), limits, "too many wrong passwords")
    if not _verify(hasher, stored, password):
        raise InputError(wrong)
    return keys

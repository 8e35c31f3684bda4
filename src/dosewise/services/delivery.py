"""The dispatcher: sends what the outbox holds, once, and says what became of each message.

A run claims a batch of due messages (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several
workers take different rows; SQLite: the write lock) by setting them ``sending`` with a lease,
commits, sends, then marks each ``sent``. A worker killed in between leaves a lease that runs
out; the next run sends those again (at least once: a message is never lost). A message sent
but not marked before the kill is the only one that can go twice; its push carries the same
``Topic`` (RFC 8030: the push service replaces a pending copy) and notification ``tag`` (the
browser replaces the shown one), its email the same ``Message-ID``: the person sees it once.

Before sending, a message is checked again: a dose reminder whose dose was recorded is
``cancelled``; one past its ``stale_at`` (after downtime) is ``stale`` and not sent; a safety
alert has no ``stale_at`` and is always sent.
"""

from __future__ import annotations

import base64
import email.policy
import hashlib
import json
import os
import smtplib
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import Engine, bindparam, delete, select, update

from dosewise.errors import InputError
from dosewise.services.clock import to_utc
from dosewise.store.database import unit_of_work
from dosewise.store.models import DoseSlotRow, NotificationRow, PushSubscriptionRow, UserRow

LEASE = timedelta(minutes=2)  # a claimed message is the worker's for this long (setting)
BATCH = 100  # claimed at a time: several workers share a burst
MAX_ATTEMPTS = 6
RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30))
DOSE_KINDS = ("dose_reminder", "dose_follow_up", "dose_snoozed")
PUSH_TTL_S = 3600  # a push not delivered within an hour is dropped by the push service
Outcome = Literal["sent", "stale", "cancelled", "failed", "retry"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    sender: str = "Dosewise <dosewise@localhost>"
    starttls: bool = True
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReachSettings:
    """How Dosewise reaches people (from DOSEWISE_* variables in the composition roots)."""

    base_url: str = "http://127.0.0.1:8000"  # links in emails
    vapid_key_path: str = ""  # a PEM file, made at first run when missing
    vapid_private_key: str = ""  # or the key itself (PEM or base64url), e.g. from a secret store
    push_contact: str = "mailto:admin@localhost"  # VAPID "sub": who the push service may contact
    allow_loopback_push: bool = False  # development and tests: http://127.0.0.1 push endpoints
    smtp: SmtpSettings | None = None  # None: email is off

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str], *, data_folder: str, development: bool
    ) -> ReachSettings:
        """DOSEWISE_BASE_URL, DOSEWISE_VAPID_PRIVATE_KEY, DOSEWISE_PUSH_CONTACT,
        DOSEWISE_SMTP_HOST/PORT/USERNAME/PASSWORD/FROM/STARTTLS."""
        host = env.get("DOSEWISE_SMTP_HOST", "").strip()
        smtp = None
        if host:
            smtp = SmtpSettings(
                host=host,
                port=int(env.get("DOSEWISE_SMTP_PORT", "587")),
                username=env.get("DOSEWISE_SMTP_USERNAME", ""),
                password=env.get("DOSEWISE_SMTP_PASSWORD", ""),
                sender=env.get("DOSEWISE_SMTP_FROM", "Dosewise <dosewise@localhost>"),
                starttls=env.get("DOSEWISE_SMTP_STARTTLS", "1").strip().lower() in ("1", "true", "yes"),
            )
        return cls(
            base_url=env.get("DOSEWISE_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            vapid_key_path=os.path.join(data_folder, "vapid-private-key.pem"),
            vapid_private_key=env.get("DOSEWISE_VAPID_PRIVATE_KEY", ""),
            push_contact=env.get("DOSEWISE_PUSH_CONTACT", "mailto:admin@localhost"),
            allow_loopback_push=development,
            smtp=smtp,
        )


# --- VAPID (RFC 8292) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VapidKey:
    private_pem: bytes

    @property
    def public_key(self) -> str:
        """The application server key for ``pushManager.subscribe`` (uncompressed P-256, base64url)."""
        from cryptography.hazmat.primitives import serialization

        private = serialization.load_pem_private_key(self.private_pem, password=None)
        raw = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@cache
def load_vapid_key(settings: ReachSettings) -> VapidKey:
    """The key from the settings, else the data folder's file, made (mode 0600) at first run.
    Several workers share it through the file or the setting, never each their own."""
    from cryptography.hazmat.primitives.asymmetric import ec

    given = settings.vapid_private_key.strip()
    if given:
        if given.startswith("-----BEGIN"):
            return VapidKey(given.encode())
        raw = base64.urlsafe_b64decode(given + "=" * (-len(given) % 4))
        private = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        return VapidKey(_pem(private))
    if not settings.vapid_key_path:  # tests: a key for this process only
        return VapidKey(_pem(ec.generate_private_key(ec.SECP256R1())))
    path = Path(settings.vapid_key_path)
    try:
        return VapidKey(path.read_bytes())
    except FileNotFoundError:
        pass
    pem = _pem(ec.generate_private_key(ec.SECP256R1()))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: two processes starting at once keep the first key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return VapidKey(path.read_bytes())
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return VapidKey(pem)


def _pem(private: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


# --- channels ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


class PushSender(Protocol):
    def __call__(self, target: PushTarget, payload: bytes, *, topic: str, urgency: str) -> int:
        """Send one push; returns the push service's HTTP status."""


class EmailSender(Protocol):
    def __call__(self, message: EmailMessage) -> None: ...


REFUSED_ENDPOINT = 421  # our own code: the endpoint failed the SSRF check (never contacted)
VAPID_REUSE_S = 3600  # a signed VAPID header (valid 12 h) is reused for an hour per push service


def web_push_sender(key: VapidKey, contact: str, *, allow_loopback_http: bool) -> PushSender:
    """Web Push with pywebpush (RFC 8291 aes128gcm, RFC 8292 VAPID): the endpoint is checked
    against SSRF again at send time (it was checked when stored); one HTTP session per thread
    and one VAPID signature per push service and hour (signing is the costly step)."""
    import threading
    import time
    from urllib.parse import urlsplit

    import requests
    from py_vapid import Vapid02
    from pywebpush import WebPusher

    from dosewise.services.push_endpoints import (
        CheckedEndpoint,
        EndpointNotResolved,
        build_pinned_session,
        resolve_push_endpoint,
    )

    vapid = Vapid02.from_pem(key.private_pem)
    local = threading.local()
    signed: dict[str, tuple[float, dict[str, str]]] = {}
    lock = threading.Lock()

    def vapid_headers(endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with lock:
            kept = signed.get(audience)
            if kept is None or now - kept[0] > VAPID_REUSE_S:
                claims = {"sub": contact, "aud": audience, "exp": int(now) + 12 * 3600}
                kept = (now, dict(vapid.sign(claims)))
                signed[audience] = kept
            return dict(kept[1])

    def session_for(checked: CheckedEndpoint) -> requests.Session:
        """A keep-alive session per push service and thread, connecting only to the addresses
        checked now (a host that starts resolving elsewhere gets a new, checked session)."""
        sessions: dict[tuple[str, str, int], tuple[tuple[Any, ...], requests.Session]]
        sessions = getattr(local, "sessions", None) or {}
        local.sessions = sessions
        origin = (checked.scheme, checked.host, checked.port)
        kept = sessions.get(origin)
        if kept is None or kept[0] != checked.addresses:
            if kept is not None:
                kept[1].close()
            kept = (checked.addresses, build_pinned_session(checked))
            sessions[origin] = kept
        return kept[1]

    def send(target: PushTarget, payload: bytes, *, topic: str, urgency: str) -> int:
        try:  # the SSRF check again at send time, and the connection pinned to what it checked
            checked = resolve_push_endpoint(target.endpoint, allow_loopback_http=allow_loopback_http)
        except EndpointNotResolved:
            return 599  # DNS failed: try again later
        except InputError:
            return REFUSED_ENDPOINT
        headers = {**vapid_headers(checked.url), "Topic": topic, "Urgency": urgency}
        pusher = WebPusher(
            {"endpoint": checked.url, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            requests_session=session_for(checked),
        )
        try:
            response = pusher.send(data=payload, headers=headers, ttl=PUSH_TTL_S, timeout=10)
        except (OSError, requests.RequestException):
            return 599  # connection refused, timeout: try again later
        return int(response.status_code)

    return send


def smtp_sender(settings: SmtpSettings) -> EmailSender:
    def send(message: EmailMessage) -> None:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as client:
            if settings.starttls:
                client.starttls()
            if settings.username:
                client.login(settings.username, settings.password)
            # sendmail with the SMTP policy's bytes: send_message would turn a body line
            # starting with "From " (the heads-up's "From Fri 4 Dec: ...") into ">From "
            raw = message.as_bytes(policy=email.policy.SMTP)
            client.sendmail(str(message["From"]), [str(message["To"])], raw)

    return send


@dataclass(frozen=True, slots=True, kw_only=True)
class Senders:
    push: PushSender | None = None
    email: EmailSender | None = None
    email_from: str = "Dosewise <dosewise@localhost>"
    base_url: str = "http://127.0.0.1:8000"
    action_token: Callable[[int, int, int], str] | None = None  # (slot, patient, user) -> token
    threads: int = 1  # pushes and emails sent at once (network waits overlap)


# --- the dispatcher ----------------------------------------------------------------------------


@dataclass(slots=True)
class DispatchRun:
    claimed: int = 0
    released: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    key: str
    user_id: int
    patient_id: int | None
    channel: str
    kind: str
    level: str
    title: str
    body: str
    url: str
    payload: str
    due_at: datetime
    stale_at: datetime | None
    attempts: int


def dispatch(
    engine: Engine,
    *,
    now: datetime,
    worker: str,
    senders: Senders,
    batch: int = BATCH,
    lease: timedelta = LEASE,
    clock: Callable[[], datetime] | None = None,
) -> DispatchRun:
    """Send the messages due by ``now`` (one batch); returns what became of them.

    A message is sent only while this worker's lease on it has a quarter left (read on
    ``clock`` before each send): a slow push service never lets another worker, whose claim
    the expired lease would allow, send the same message. What is left is released."""
    run = DispatchRun()
    claimed = claim(engine, now=now, worker=worker, batch=batch, lease=lease)
    run.claimed = len(claimed)
    if not claimed:
        return run
    recorded = _recorded_slots(engine, claimed)
    targets = _push_targets(engine, {m.user_id for m in claimed if m.channel == "push"})
    emails = _emails(engine, {m.user_id for m in claimed if m.channel == "email"})
    quiet: list[tuple[_Claimed, Outcome, str | None]] = []  # nothing left the building
    gone_all: set[str] = set()  # subscriptions the push service says are gone
    outgoing: list[_Claimed] = []
    for message in claimed:  # what needs no network first: settled in one transaction
        outcome, error = _settle(message, now, recorded)
        if outcome is None:
            outgoing.append(message)
        else:
            quiet.append((message, outcome, error))
            run.count(outcome)
    _finish(engine, quiet, now=now, worker=worker, gone=set())
    send_until = to_utc(now) + lease * 3 / 4
    lock = threading.Lock()
    unsent: list[int] = []

    def deliver(message: _Claimed) -> None:
        if clock is not None and to_utc(clock()) >= send_until:
            with lock:
                unsent.append(message.id)
            return
        gone: set[str] = set()
        outcome, error = _send(message, now, recorded, targets, emails, senders, gone)
        # marked at once: a kill now can repeat at most the messages in flight
        _finish(engine, [(message, outcome, error)], now=now, worker=worker, gone=gone)
        with lock:
            run.count(outcome)
            gone_all.update(gone)

    if senders.threads > 1 and len(outgoing) > 1:
        with ThreadPoolExecutor(max_workers=senders.threads, thread_name_prefix="dosewise-send") as pool:
            list(pool.map(deliver, outgoing))
    else:
        for message in outgoing:
            deliver(message)
    if unsent:
        run.released = release(engine, unsent, worker=worker)
    return run


def _settle(message: _Claimed, now: datetime, recorded: set[int]) -> tuple[Outcome | None, str | None]:
    """What becomes of a message without sending anything (None: it must be sent)."""
    payload = json.loads(message.payload)
    if message.kind in DOSE_KINDS and payload.get("slot_id") in recorded:
        return "cancelled", "the dose was recorded (or the plan changed) before it went out"
    if message.stale_at is not None and to_utc(now) > message.stale_at:
        return "stale", "too late to be useful (the worker was not running)"
    if message.channel == "in_app":
        return "sent", None
    return None, None


def release(engine: Engine, ids: list[int], *, worker: str) -> int:
    """Give back claimed messages not sent (their attempt is not counted)."""
    with unit_of_work(engine) as session:
        done = session.execute(
            update(NotificationRow)
            .where(
                NotificationRow.id.in_(ids),
                NotificationRow.worker == worker,
                NotificationRow.status == "sending",
            )
            .values(status="pending", lease_until=None, worker=None, attempts=NotificationRow.attempts - 1)
        )
        return int(getattr(done, "rowcount", 0))


def claim(
    engine: Engine, *, now: datetime, worker: str, batch: int = BATCH, lease: timedelta = LEASE
) -> list[_Claimed]:
    """Take up to ``batch`` due messages (pending, or sending with a lease run out)."""
    now_utc = to_utc(now)
    with unit_of_work(engine) as session:
        query = (
            select(NotificationRow.id)
            .where(
                NotificationRow.status.in_(("pending", "sending")),
                NotificationRow.due_at <= now_utc,
                (NotificationRow.status == "pending")
                | (NotificationRow.lease_until < now_utc)
                | NotificationRow.lease_until.is_(None),
            )
            .order_by(NotificationRow.due_at, NotificationRow.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if not ids:
            return []
        rows = session.execute(
            update(NotificationRow)
            .where(NotificationRow.id.in_(ids))
            .values(
                status="sending",
                lease_until=now_utc + lease,
                worker=worker,
                attempts=NotificationRow.attempts + 1,
            )
            .returning(
                NotificationRow.id,
                NotificationRow.key,
                NotificationRow.user_id,
                NotificationRow.patient_id,
                NotificationRow.channel,
                NotificationRow.kind,
                NotificationRow.level,
                NotificationRow.title,
                NotificationRow.body,
                NotificationRow.url,
                NotificationRow.payload,
                NotificationRow.due_at,
                NotificationRow.stale_at,
                NotificationRow.attempts,
            )
        ).all()
    return sorted((_Claimed(*tuple(row)) for row in rows), key=lambda m: (m.due_at, m.id))


def _recorded_slots(engine: Engine, claimed: Sequence[_Claimed]) -> set[int]:
    """The slots of claimed dose reminders that are recorded (or gone: a plan change)."""
    wanted = {json.loads(m.payload).get("slot_id") for m in claimed if m.kind in DOSE_KINDS}
    wanted.discard(None)
    if not wanted:
        return set()
    with unit_of_work(engine) as session:
        open_slots = set(
            session.scalars(
                select(DoseSlotRow.id).where(
                    DoseSlotRow.id.in_(sorted(wanted)), DoseSlotRow.recorded.is_(None)
                )
            )
        )
    return {slot for slot in wanted if slot not in open_slots}


def _push_targets(engine: Engine, users: set[int]) -> dict[int, list[PushTarget]]:
    found: dict[int, list[PushTarget]] = {}
    if not users:
        return found
    with unit_of_work(engine) as session:
        for row in session.scalars(
            select(PushSubscriptionRow).where(PushSubscriptionRow.user_id.in_(sorted(users)))
        ):
            found.setdefault(row.user_id, []).append(
                PushTarget(endpoint=row.endpoint, p256dh=row.p256dh, auth=row.auth)
            )
    return found


def _emails(engine: Engine, users: set[int]) -> dict[int, str]:
    if not users:
        return {}
    with unit_of_work(engine) as session:
        return dict(
            session.execute(select(UserRow.id, UserRow.email).where(UserRow.id.in_(sorted(users)))).all()
        )


def _send(
    message: _Claimed,
    now: datetime,
    recorded: set[int],
    targets: dict[int, list[PushTarget]],
    emails: dict[int, str],
    senders: Senders,
    gone: set[str],
) -> tuple[Outcome, str | None]:
    settled, why = _settle(message, now, recorded)
    if settled is not None:
        return settled, why
    payload = json.loads(message.payload)
    if message.channel == "push":
        return _push(message, payload, targets.get(message.user_id, []), senders, gone)
    return _email(message, payload, emails.get(message.user_id), senders)


def _push(
    message: _Claimed, payload: dict[str, Any], targets: list[PushTarget], senders: Senders, gone: set[str]
) -> tuple[Outcome, str | None]:
    if senders.push is None:
        return "cancelled", "Web Push is not set up on this worker"
    if not targets:
        return "cancelled", "no browser has turned on notifications for this person"
    body = _push_body(message, payload, senders)
    topic = hashlib.sha256(message.key.removesuffix(":push").encode()).hexdigest()[
        :32
    ]  # RFC 8030: 32 base64url chars
    urgency = {"emergency": "high", "urgent": "high", "warning": "normal"}.get(message.level, "normal")
    delivered, retry, refused = 0, [], []
    for target in targets:
        status = senders.push(target, body, topic=topic, urgency=urgency)
        if 200 <= status < 300:
            delivered += 1
        elif status in (404, 410):
            gone.add(target.endpoint)  # the browser unsubscribed: forget it
        elif status == 429 or status >= 500:
            retry.append(str(status))  # busy or down: try again later
        elif status == REFUSED_ENDPOINT:
            refused.append("the endpoint is not a public https address (not contacted)")
        else:  # refused for what it is (RFC 8292: a bad VAPID header is 401/403)
            refused.append(str(status))
    if retry and message.attempts < MAX_ATTEMPTS:
        return "retry", f"push service answered {', '.join(retry)}"
    if delivered:
        return "sent", None
    if retry or refused:
        return "failed", f"push service answered {', '.join(retry + refused)}"
    return "cancelled", "every subscription of this person has expired"


def _push_body(message: _Claimed, payload: dict[str, Any], senders: Senders) -> bytes:
    data: dict[str, Any] = {
        "title": message.title,
        "body": message.body,
        "url": message.url or "/",
        "tag": message.key.removesuffix(":push"),
        "level": message.level,
        "kind": message.kind,
    }
    slot_id = payload.get("slot_id")
    if message.kind in DOSE_KINDS and slot_id is not None and senders.action_token and message.patient_id:
        data["actions"] = payload.get("actions", [])
        data["action_token"] = senders.action_token(int(slot_id), message.patient_id, message.user_id)
    body = json.dumps(data, ensure_ascii=False).encode()
    if len(body) > 3000:  # push services take about 4 kB after encryption
        data["body"] = data["body"][:300] + "..."
        body = json.dumps(data, ensure_ascii=False).encode()
    return body


def _email(
    message: _Claimed, payload: dict[str, Any], address: str | None, senders: Senders
) -> tuple[Outcome, str | None]:
    if senders.email is None:
        return "cancelled", "email is not set up on this server"
    if not address:
        return "cancelled", "no email address"
    mail = EmailMessage()
    mail["From"] = senders.email_from
    mail["To"] = address
    mail["Subject"] = message.title
    mail["Date"] = formatdate(localtime=False)
    # the same Message-ID for a resend: mail clients show one copy
    mail["Message-ID"] = f"<{hashlib.sha256(message.key.encode()).hexdigest()[:32]}@dosewise.invalid>"
    sources = payload.get("sources") or []
    lines = [message.body, ""]
    if sources:
        lines.append(f"Sources: {', '.join(sources)}")
    lines += [
        f"Open Dosewise: {senders.base_url}{message.url or '/'}",
        "",
        "Dosewise is decision support: agree every change with the prescriber.",
        f"Change what you receive: {senders.base_url}/notifications/settings",
    ]
    mail.set_content("\n".join(lines))
    try:
        senders.email(mail)
    except (OSError, smtplib.SMTPException) as error:
        if message.attempts < MAX_ATTEMPTS:
            return "retry", f"email: {error}"
        return "failed", f"email: {error}"
    return "sent", None


def _finish(
    engine: Engine,
    results: list[tuple[_Claimed, Outcome, str | None]],
    *,
    now: datetime,
    worker: str,
    gone: set[str],
) -> None:
    """Mark what became of each message (only while this worker still holds it), forget gone
    browsers: one transaction of plain statements (this runs once per message sent)."""
    if not results and not gone:
        return
    now_utc = to_utc(now)
    settled, retried = [], []
    for message, outcome, error in results:
        if outcome == "retry":
            wait = RETRY_AFTER[min(message.attempts - 1, len(RETRY_AFTER) - 1)]
            retried.append({"mid": message.id, "next_try": max(message.due_at, now_utc) + wait, "why": error})
        else:
            sent = now_utc if outcome == "sent" else None
            settled.append({"mid": message.id, "outcome": outcome, "sent_when": sent, "why": error})
    users = sorted({m.user_id for m, outcome, _ in results if m.channel == "push" and outcome == "sent"})
    with engine.begin() as connection:
        if settled:
            connection.execute(_settled_statement(), [{**row, "by": worker} for row in settled])
        if retried:
            connection.execute(_retried_statement(), [{**row, "by": worker} for row in retried])
        if gone:
            connection.execute(
                delete(PushSubscriptionRow).where(PushSubscriptionRow.endpoint.in_(sorted(gone)))
            )
        if users:
            connection.execute(
                update(PushSubscriptionRow)
                .where(PushSubscriptionRow.user_id.in_(users))
                .values(last_sent_at=now_utc)
            )


def _held() -> Any:
    return (
        (NotificationRow.id == bindparam("mid"))
        & (NotificationRow.worker == bindparam("by"))
        & (NotificationRow.status == "sending")
    )


@cache
def _settled_statement() -> Any:
    return (
        update(NotificationRow)
        .where(_held())
        .values(
            status=bindparam("outcome"),
            sent_at=bindparam("sent_when"),
            error=bindparam("why"),
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )


@cache
def _retried_statement() -> Any:
    return (
        update(NotificationRow)
        .where(_held())
        .values(status="pending", due_at=bindparam("next_try"), error=bindparam("why"), lease_until=None)
        .execution_options(synchronize_session=False)
    )

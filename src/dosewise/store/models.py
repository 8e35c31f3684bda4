"""The diary's tables. Times are stored as naive UTC; services convert at the edges."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UserRow(Base):
    """Someone who signs in (the web app, issue 6). The local CLI diary needs none."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('patient', 'caregiver', 'clinician', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # "admin": the installation's administrator (0013)
    created_at: Mapped[datetime]
    # a clinician account verified by an administrator (0013): the clinician powers need it
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(200))  # the actor ("user:ID", "cli")


class PatientRow(Base):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "liver_disease IN ('none', 'mild', 'moderate', 'severe', 'not_known')", name="liver_disease"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # what the advice depends on (0009): the country for the emergency number, and the
    # conditions with their own cautions (baclofen.md section 10)
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2, upper case
    pregnant: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    breastfeeding: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    epilepsy: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # liver disease (0015): none, mild, moderate, severe or not_known (the comparison of other
    # treatments reads it; patients from before 0015 have not_known)
    liver_disease: Mapped[str] = mapped_column(String(16), server_default=text("'not_known'"))


class ProductRow(Base):
    """A product the patient has, in the CLI spelling (``tablet:10mg:halves``)."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("patient_id", "spec", name="uq_products_patient_spec"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    spec: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]


class MedicineRow(Base):
    """Another medicine the patient takes, as they typed it (checked for interactions)."""

    __tablename__ = "patient_medicines"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]


class NoteRow(Base):
    __tablename__ = "notes"
    __table_args__ = (CheckConstraint("length(text) BETWEEN 1 AND 4000", name="text_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    recorded_at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class PlanRow(Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("kind IN ('titration', 'taper', 'maintenance', 'clinician')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    drug: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    format: Mapped[int] = mapped_column(Integer, server_default="2")  # of ``record`` (store.plan_codec)
    times: Mapped[str] = mapped_column(String(64))  # "08:00,14:00,20:00"
    time_zone: Mapped[str] = mapped_column(String(64))  # the zone the dose times are in
    crcl_ml_min: Mapped[float | None] = mapped_column(Float)  # the kidney function it was made for
    kidney_band: Mapped[str | None] = mapped_column(String(16))
    record: Mapped[str] = mapped_column(Text)  # the typed plan record, written by store.plan_codec
    created_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]  # a later plan took over from this moment
    # migration 0008: the daily routine
    takes_over_at: Mapped[datetime | None]  # its doses begin here (NULL: rows older than 0008)
    slots_until: Mapped[datetime | None]  # open-ended: slots made up to here (NULL: all made)
    entered_as: Mapped[str | None] = mapped_column(String(16))  # "patient", "clinician", "unverified"
    entered_by: Mapped[str | None] = mapped_column(String(200))  # the actor ("user:ID", "cli")
    confirmed_by: Mapped[str | None] = mapped_column(String(200))  # a clinician confirmed it
    confirmed_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)  # why it changed (a large rise needs one)


# The slots with nothing taken (nothing recorded, or skipped): a literal predicate, so that
# SQLite and PostgreSQL match a query's condition to the partial index written the same way.
NOT_TAKEN = text("(recorded IS NULL OR recorded = 'skipped')")
# Entries that report a side effect (the others hold an empty JSON list).
WITH_SIDE_EFFECTS = text("(side_effects != '[]')")


class DoseSlotRow(Base):
    """One scheduled dose of a plan.

    ``patient_id`` (the plan's patient) and ``recorded`` (the slot's dose event's status, NULL
    while nothing is recorded) are derived columns, kept by the database (triggers of
    migration 0006) for any writer, so that a patient's doses of a period and those not taken
    are index range scans (the clinician's list). Never write them by hand (start_plan gives
    patient_id; the trigger checks it).
    """

    __tablename__ = "dose_slots"
    __table_args__ = (
        UniqueConstraint("plan_id", "due_at", name="uq_dose_slots_plan_due"),
        CheckConstraint("dose_ug > 0", name="dose_positive"),
        Index("ix_dose_slots_patient_due", "patient_id", "due_at"),
        Index(
            "ix_dose_slots_patient_not_taken",
            "patient_id",
            "due_at",
            "recorded",
            sqlite_where=NOT_TAKEN,
            postgresql_where=NOT_TAKEN,
        ),
        # the notification planner: every patient's doses not taken, due in a minute (0010)
        Index("ix_dose_slots_due_not_taken", "due_at", sqlite_where=NOT_TAKEN, postgresql_where=NOT_TAKEN),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime]
    dose_ug: Mapped[int] = mapped_column(Integer)
    how: Mapped[str] = mapped_column(Text)
    step_number: Mapped[int] = mapped_column(Integer)
    # derived (0006): nullable only because SQLite cannot add a NOT NULL column without
    # rebuilding the table, and rebuilding it with foreign keys on deletes its dose events
    patient_id: Mapped[int | None] = mapped_column(Integer)
    recorded: Mapped[str | None] = mapped_column(String(8))


class DoseEventRow(Base):
    """What happened to a slot: recorded at most once (the unique slot is the guarantee)."""

    __tablename__ = "dose_events"
    __table_args__ = (
        CheckConstraint("status IN ('taken', 'late', 'skipped')", name="status"),
        # what a slot's state needs (status, taken_at) read from the index alone (0004)
        Index("ix_dose_events_slot_status_taken", "slot_id", "status", "taken_at"),
        Index("ix_dose_events_taken_at", "taken_at"),  # the planner: "24 hours since a dose" (0010)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("dose_slots.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(8))
    taken_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime]


class SymptomEntryRow(Base):
    __tablename__ = "symptom_entries"
    __table_args__ = (
        CheckConstraint("penn_frequency BETWEEN 0 AND 4", name="penn_frequency"),
        CheckConstraint(
            "(penn_frequency = 0 AND penn_severity IS NULL)"
            " OR (penn_frequency > 0 AND penn_severity BETWEEN 1 AND 3)",
            name="penn_severity",
        ),
        CheckConstraint("spasticity_nrs BETWEEN 0 AND 10", name="spasticity_nrs"),
        # a patient's entries of a period without reading the others (0004), with the rating
        # for the spasticity means read from the index alone (0006)
        Index("ix_symptom_entries_patient_recorded_nrs", "patient_id", "recorded_at", "spasticity_nrs"),
        # the few entries with a side effect (0006)
        Index(
            "ix_symptom_entries_side_effects",
            "patient_id",
            "recorded_at",
            sqlite_where=WITH_SIDE_EFFECTS,
            postgresql_where=WITH_SIDE_EFFECTS,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    recorded_at: Mapped[datetime]
    penn_frequency: Mapped[int] = mapped_column(Integer)
    penn_severity: Mapped[int | None] = mapped_column(Integer)
    spasticity_nrs: Mapped[int] = mapped_column(Integer)
    side_effects: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {key, severity}
    note: Mapped[str] = mapped_column(Text, default="")


class TriageResultRow(Base):
    """A triage told to someone (0009): the level, the reasons and what it was given from (the
    questions answered, the words typed, the diary's context), as shown then. Kept, never
    recomputed: the record of the advice given. ``symptom_entry_id``: the diary entry whose side
    effects were triaged (NULL: "How do I feel?", the API or ``diary triage``)."""

    __tablename__ = "triage_results"
    __table_args__ = (
        CheckConstraint("level IN ('emergency', 'urgent', 'routine')", name="level"),
        Index("ix_triage_results_patient_recorded", "patient_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    recorded_at: Mapped[datetime]
    level: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of strings, each with its [SOURCE]
    inputs: Mapped[str] = mapped_column(Text)  # JSON: answers, texts, context
    sources: Mapped[str] = mapped_column(Text)  # JSON list of source keys
    symptom_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("symptom_entries.id", ondelete="CASCADE"), index=True
    )
    recorded_by: Mapped[str] = mapped_column(String(200))


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    patient_id: Mapped[int | None] = mapped_column(index=True)  # no foreign key: the trail outlives rows
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: before/after of a correction (0008)


class AccessGrantRow(Base):
    """A caregiver or clinician the patient let in; revoking sets ``revoked_at`` (checked per request)."""

    __tablename__ = "access_grants"
    __table_args__ = (
        CheckConstraint("role IN ('caregiver', 'clinician')", name="role"),
        UniqueConstraint("patient_id", "user_id", name="uq_access_grants_patient_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class InvitationRow(Base):
    """A one-time code a patient gives a caregiver or clinician; only its SHA-256 is kept."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint("role IN ('caregiver', 'clinician')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSessionRow(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored here,
    so any worker can serve the user and a copy of the database signs nobody in."""

    __tablename__ = "web_sessions"
    __table_args__ = {"info": {"transfer": False}}  # noqa: RUF012  (SQLAlchemy reads it once)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AttentionSummaryRow(Base):
    """A patient's flags for the clinician's list, computed by ``services.clinic`` and valid
    while ``now < valid_until`` (naive UTC; NULL: stale). Not data: derived, kept out of
    backups and exports, and made stale by the database (triggers of migration 0007) whenever
    a dose event, slot, symptom entry, plan or the patient is written, whatever writes it.
    ``version`` changes with each such write, so that a summary computed from rows read
    before a write is never stored as valid after it."""

    __tablename__ = "attention_summaries"
    __table_args__ = {"info": {"transfer": False}}  # noqa: RUF012  (SQLAlchemy reads it once)

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[datetime | None]
    computed_at: Mapped[datetime | None]
    missed: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    worst_triage: Mapped[str | None] = mapped_column(String(16))
    worst_triage_at: Mapped[datetime | None]  # when the worst result was given (0009)
    spasticity_now: Mapped[float | None] = mapped_column(Float)
    spasticity_before: Mapped[float | None] = mapped_column(Float)
    has_plan: Mapped[bool] = mapped_column(Boolean)


class CalendarFeedRow(Base):
    """A patient's secret calendar subscription URL; only the token's SHA-256 is kept.
    Revoking sets ``revoked_at``; secrets stay out of backups and exports."""

    __tablename__ = "calendar_feeds"
    __table_args__ = {"info": {"transfer": False}}  # noqa: RUF012  (SQLAlchemy reads it once)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


# Migration 0010: reaching people (issue 14). The outbox, push subscriptions, preferences,
# the per-patient alert thresholds and the planner's cursor.
OUTBOX_OPEN = text("(status IN ('pending', 'sending'))")


class NotificationRow(Base):
    """One message to one person on one channel: the durable outbox and the in-app list.

    ``key`` is the idempotency key (what + about what + recipient + channel): a message is
    written at most once whoever plans it, however often. ``status``: pending -> sending (leased
    to a worker until ``lease_until``) -> sent | stale (too late to be useful: not sent) |
    cancelled (no longer true, e.g. the dose was recorded) | failed (gave up after retries).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("channel IN ('in_app', 'push', 'email')", name="channel"),
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'stale', 'cancelled', 'failed')", name="status"
        ),
        CheckConstraint("level IN ('info', 'warning', 'urgent', 'emergency')", name="level"),
        Index("ix_notifications_open_due", "due_at", sqlite_where=OUTBOX_OPEN, postgresql_where=OUTBOX_OPEN),
        Index("ix_notifications_user_channel_due", "user_id", "channel", "due_at"),
        # messages, not diary data: out of backups and exports (a restored outbox would resend)
        {"info": {"transfer": False}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500))
    payload: Mapped[str] = mapped_column(Text)  # JSON: slot, actions, sources
    due_at: Mapped[datetime]
    stale_at: Mapped[datetime | None]  # not sent after this (NULL: a safety alert, always sent)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    lease_until: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class PushSubscriptionRow(Base):
    """A browser's Web Push subscription (RFC 8030 endpoint + RFC 8291 keys)."""

    __tablename__ = "push_subscriptions"
    __table_args__ = {"info": {"transfer": False}}  # noqa: RUF012  (a browser's, not diary data)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    last_sent_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, server_default="0")


class NotificationPreferenceRow(Base):
    """What a person wants sent, where and when (no row: the defaults of their role)."""

    __tablename__ = "notification_preferences"
    __table_args__ = {"info": {"transfer": False}}  # noqa: RUF012  (a person's, not the diary's)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    push: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[bool] = mapped_column(Boolean)
    dose_reminders: Mapped[bool] = mapped_column(Boolean)
    heads_up: Mapped[bool] = mapped_column(Boolean)
    follow_up_minutes: Mapped[int] = mapped_column(Integer)  # 0: no follow-up
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00" on time_zone's clock
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    time_zone: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class AlertSettingRow(Base):
    """A patient's withdrawal-risk and supply thresholds, set by a clinician (no row: the
    product defaults of baclofen.md section 10)."""

    __tablename__ = "alert_settings"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    missed_in_row: Mapped[int] = mapped_column(Integer)
    late_hours: Mapped[int] = mapped_column(Integer)
    no_dose_hours: Mapped[int] = mapped_column(Integer)
    supply_warn_days: Mapped[int] = mapped_column(Integer)
    supply_caregivers_days: Mapped[int] = mapped_column(Integer)
    supply_urgent_days: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class PlannerCursorRow(Base):
    """How far the notification planner has looked (one row per kind of look)."""

    __tablename__ = "planner_cursors"
    __table_args__ = {"info": {"transfer": False}}  # noqa: RUF012  (the worker's own state)

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    until: Mapped[datetime]


class StockEventRow(Base):
    """A line of a product's supply ledger (0011): ``counted`` (an absolute amount then),
    ``collected`` (a refill) or ``adjusted`` (lost, dropped, found: with a note).
    ``quantity_milli`` is in thousandths of the product's unit (a tablet, a packet, a mL). The
    stock is never stored: it is derived from these lines and the doses taken (services.supply)."""

    __tablename__ = "stock_events"
    __table_args__ = (
        CheckConstraint("kind IN ('counted', 'collected', 'adjusted')", name="kind"),
        CheckConstraint(
            "(kind = 'counted' AND quantity_milli >= 0) OR (kind = 'collected' AND quantity_milli > 0)"
            " OR (kind = 'adjusted' AND quantity_milli != 0)",
            name="quantity",
        ),
        Index("ix_stock_events_patient_recorded", "patient_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    quantity_milli: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


# Migration 0012: review requests (issue 14, "Ask the clinician").
REVIEW_OPEN = text("(state = 'open')")


class ReviewRequestRow(Base):
    """A patient or caregiver asks the patient's clinicians to review the treatment: why, a
    short message, and the report as it was then (``report_html``: the rendered report of
    ``report_first_day``-``report_last_day``, self-contained, bounded by the service). Open
    until answered (:class:`ReviewAnswerRow`) or withdrawn; ``closed_at`` says when."""

    __tablename__ = "review_requests"
    __table_args__ = (
        CheckConstraint("reason IN ('side_effects', 'no_benefit', 'dose_question', 'other')", name="reason"),
        CheckConstraint("state IN ('open', 'answered', 'withdrawn')", name="state"),
        Index("ix_review_requests_patient_asked", "patient_id", "asked_at"),
        Index(
            "ix_review_requests_open", "patient_id", sqlite_where=REVIEW_OPEN, postgresql_where=REVIEW_OPEN
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime]
    asked_by: Mapped[str] = mapped_column(String(200))  # the actor: user:ID
    reason: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))
    report_first_day: Mapped[date]
    report_last_day: Mapped[date]
    report_html: Mapped[str] = mapped_column(Text)  # "" when it could not be kept (too large)


class ReviewAnswerRow(Base):
    """A clinician's answer to a review request: a short message, or a plan change
    (``plan_id``, with the plan's reason as its message). One per request."""

    __tablename__ = "review_answers"
    __table_args__ = (CheckConstraint("kind IN ('message', 'plan')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("review_requests.id", ondelete="CASCADE"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    answered_at: Mapped[datetime]
    answered_by: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="SET NULL"))


class SignInCounterRow(Base):
    """Failed password tries under one limited key (a known browser, an account from unknown
    browsers, an account from one address, an address, an account's own pages; docs/adr/0017),
    kept as the SHA-256 of the key. Read and written under a row lock. Not data: never backed up."""

    __tablename__ = "sign_in_counters"
    __table_args__ = {"info": {"transfer": False}}  # noqa: RUF012  (SQLAlchemy reads it once)

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime] = mapped_column(index=True)

"""reaching people: the notification outbox, push subscriptions, preferences, alert thresholds

- ``notifications``: the durable outbox and the in-app list; ``key`` is unique (the
  idempotency key); a partial index on the open messages by due time for the dispatcher.
- ``push_subscriptions``, ``notification_preferences`` (per person), ``alert_settings`` (per
  patient, by a clinician; no row means the product defaults of baclofen.md section 10).
- ``planner_cursors``: how far the planner has looked, so a restart neither repeats nor skips.
- Indexes for the planner: the doses not taken by due time (every patient), doses by the time
  they were taken.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OUTBOX_OPEN = sa.text("(status IN ('pending', 'sending'))")
NOT_TAKEN = sa.text("(recorded IS NULL OR recorded = 'skipped')")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("stale_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("channel IN ('in_app', 'push', 'email')", name="ck_notifications_channel"),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'stale', 'cancelled', 'failed')",
            name="ck_notifications_status",
        ),
        sa.CheckConstraint(
            "level IN ('info', 'warning', 'urgent', 'emergency')", name="ck_notifications_level"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_notifications_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_notifications_patient_id_patients", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("key", name="uq_notifications_key"),
    )
    op.create_index(
        "ix_notifications_open_due",
        "notifications",
        ["due_at"],
        sqlite_where=OUTBOX_OPEN,
        postgresql_where=OUTBOX_OPEN,
    )
    op.create_index("ix_notifications_user_channel_due", "notifications", ["user_id", "channel", "due_at"])
    op.create_index("ix_notifications_patient_id", "notifications", ["patient_id"])
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=2000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_push_subscriptions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_push_subscriptions"),
        sa.UniqueConstraint("endpoint", name="uq_push_subscriptions_endpoint"),
    )
    op.create_index("ix_push_subscriptions_user_id", "push_subscriptions", ["user_id"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("push", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("dose_reminders", sa.Boolean(), nullable=False),
        sa.Column("heads_up", sa.Boolean(), nullable=False),
        sa.Column("follow_up_minutes", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_notification_preferences_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_notification_preferences"),
    )
    op.create_table(
        "alert_settings",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("missed_in_row", sa.Integer(), nullable=False),
        sa.Column("late_hours", sa.Integer(), nullable=False),
        sa.Column("no_dose_hours", sa.Integer(), nullable=False),
        sa.Column("supply_warn_days", sa.Integer(), nullable=False),
        sa.Column("supply_caregivers_days", sa.Integer(), nullable=False),
        sa.Column("supply_urgent_days", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_alert_settings_patient_id_patients", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("patient_id", name="pk_alert_settings"),
    )
    op.create_table(
        "planner_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_planner_cursors"),
    )
    op.create_index(
        "ix_dose_slots_due_not_taken",
        "dose_slots",
        ["due_at"],
        sqlite_where=NOT_TAKEN,
        postgresql_where=NOT_TAKEN,
    )
    op.create_index("ix_dose_events_taken_at", "dose_events", ["taken_at"])


def downgrade() -> None:
    op.drop_index("ix_dose_events_taken_at", table_name="dose_events")
    op.drop_index("ix_dose_slots_due_not_taken", table_name="dose_slots")
    op.drop_table("planner_cursors")
    op.drop_table("alert_settings")
    op.drop_table("notification_preferences")
    op.drop_index("ix_push_subscriptions_user_id", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    op.drop_index("ix_notifications_patient_id", table_name="notifications")
    op.drop_index("ix_notifications_user_channel_due", table_name="notifications")
    op.drop_index("ix_notifications_open_due", table_name="notifications")
    op.drop_table("notifications")

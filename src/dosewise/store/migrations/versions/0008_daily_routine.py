"""the daily routine: open-ended plans made ahead on a rolling horizon, who entered and
confirmed a plan and why, audit rows with before/after, calendar subscriptions

- ``plans.takes_over_at``: the moment the plan's doses begin (the old plan's doses from then
  on are cancelled); ``plans.slots_until``: the dose slots of an open-ended plan exist up to
  here (NULL: every slot of the plan was made, as for a taper). A current plan stored before
  this migration gets its last slot's time, or the time of the upgrade if that is later, so that
  its doses go on from now (a titration that ended "in nothing" continues at its last step,
  and the days it showed no doses are not counted as missed).
- ``plans.entered_as`` / ``entered_by``: who entered the plan (the patient entering the
  prescriber's plan, or a clinician); ``confirmed_by`` / ``confirmed_at``: a linked clinician
  confirmed a plan the patient entered; ``reason``: why the plan changed (a rise beyond the
  step limit needs one).
- ``audit_log.detail``: what a change was, before and after (JSON), for corrections.
- ``calendar_feeds``: a patient's secret calendar URL (only its SHA-256 is kept), revocable.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("takes_over_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("slots_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("entered_as", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("entered_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("confirmed_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("detail", sa.Text(), nullable=True))
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_calendar_feeds_patient_id_patients", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_feeds"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feeds_token_hash"),
    )
    op.create_index("ix_calendar_feeds_patient_id", "calendar_feeds", ["patient_id"])
    # every plan's doses began at its first slot; the current non-taper plans go on from their last
    op.execute(
        "UPDATE plans SET takes_over_at = "
        "(SELECT min(dose_slots.due_at) FROM dose_slots WHERE dose_slots.plan_id = plans.id)"
    )
    # ... from now on: the weeks between the last slot and the upgrade showed "no doses", and
    # must not come back as missed doses (slots are made after slots_until only)
    # on SQLite written as SQLAlchemy writes datetimes (microseconds), so that comparing the
    # stored value with a bound one (keep_slots_ahead's conditional update) matches
    now = (
        "strftime('%Y-%m-%d %H:%M:%S.000000', 'now')"
        if op.get_bind().dialect.name == "sqlite"
        else "(now() AT TIME ZONE 'utc')"
    )
    latest = "max" if op.get_bind().dialect.name == "sqlite" else "greatest"
    op.execute(
        f"UPDATE plans SET slots_until = {latest}({now}, "  # noqa: S608 (no user input)
        "(SELECT max(dose_slots.due_at) FROM dose_slots WHERE dose_slots.plan_id = plans.id)) "
        "WHERE superseded_at IS NULL AND kind != 'taper'"
    )


def downgrade() -> None:
    op.drop_index("ix_calendar_feeds_patient_id", table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite 3.35+): a batch rebuild of plans
    # would break the triggers of 0006/0007 that name it
    op.execute("ALTER TABLE audit_log DROP COLUMN detail")
    for column in (
        "reason",
        "confirmed_at",
        "confirmed_by",
        "entered_by",
        "entered_as",
        "slots_until",
        "takes_over_at",
    ):
        op.execute(f"ALTER TABLE plans DROP COLUMN {column}")

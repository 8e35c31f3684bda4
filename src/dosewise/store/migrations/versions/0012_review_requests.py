"""review requests: "Ask the clinician" (issue 14)

- ``review_requests``: a patient or caregiver asks the patient's clinicians for a review (why,
  a short message) with the report as it was then (rendered HTML and its date range); open
  until answered or withdrawn. A partial index finds the open ones (the clinician's list).
- ``review_answers``: the clinician's answer, a message or a plan change (``plan_id``); one per
  request.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OPEN = sa.text("(state = 'open')")


def upgrade() -> None:
    op.create_table(
        "review_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("asked_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("report_first_day", sa.Date(), nullable=False),
        sa.Column("report_last_day", sa.Date(), nullable=False),
        sa.Column("report_html", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('side_effects', 'no_benefit', 'dose_question', 'other')",
            name="ck_review_requests_reason",
        ),
        sa.CheckConstraint("state IN ('open', 'answered', 'withdrawn')", name="ck_review_requests_state"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_review_requests_patient_id_patients", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_requests"),
    )
    op.create_index("ix_review_requests_patient_asked", "review_requests", ["patient_id", "asked_at"])
    op.create_index(
        "ix_review_requests_open", "review_requests", ["patient_id"], sqlite_where=OPEN, postgresql_where=OPEN
    )
    op.create_table(
        "review_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("answered_by", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('message', 'plan')", name="ck_review_answers_kind"),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["review_requests.id"],
            name="fk_review_answers_request_id_review_requests",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_review_answers_patient_id_patients", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name="fk_review_answers_plan_id_plans", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_answers"),
        sa.UniqueConstraint("request_id", name="uq_review_answers_request_id"),
    )
    op.create_index("ix_review_answers_patient_id", "review_answers", ["patient_id"])


def downgrade() -> None:
    op.drop_index("ix_review_answers_patient_id", table_name="review_answers")
    op.drop_table("review_answers")
    op.drop_index("ix_review_requests_open", table_name="review_requests")
    op.drop_index("ix_review_requests_patient_asked", table_name="review_requests")
    op.drop_table("review_requests")

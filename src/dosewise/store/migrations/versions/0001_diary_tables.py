"""diary tables

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("drug", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("times", sa.String(length=64), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('titration', 'taper', 'maintenance', 'clinician')", name=op.f("ck_plans_kind")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_plans_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "symptom_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("penn_frequency", sa.Integer(), nullable=False),
        sa.Column("penn_severity", sa.Integer(), nullable=True),
        sa.Column("spasticity_nrs", sa.Integer(), nullable=False),
        sa.Column("side_effects", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(penn_frequency = 0 AND penn_severity IS NULL)"
            " OR (penn_frequency > 0 AND penn_severity BETWEEN 1 AND 3)",
            name=op.f("ck_symptom_entries_penn_severity"),
        ),
        sa.CheckConstraint("penn_frequency BETWEEN 0 AND 4", name=op.f("ck_symptom_entries_penn_frequency")),
        sa.CheckConstraint("spasticity_nrs BETWEEN 0 AND 10", name=op.f("ck_symptom_entries_spasticity_nrs")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_symptom_entries_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_symptom_entries")),
    )
    with op.batch_alter_table("symptom_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_symptom_entries_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "dose_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("dose_ug", sa.Integer(), nullable=False),
        sa.Column("how", sa.Text(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("dose_ug > 0", name=op.f("ck_dose_slots_dose_positive")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_dose_slots_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_slots")),
        sa.UniqueConstraint("plan_id", "due_at", name="uq_dose_slots_plan_due"),
    )
    with op.batch_alter_table("dose_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dose_slots_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "dose_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("status IN ('taken', 'skipped')", name=op.f("ck_dose_events_status")),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["dose_slots.id"], name=op.f("fk_dose_events_slot_id_dose_slots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_events")),
        sa.UniqueConstraint("slot_id", name=op.f("uq_dose_events_slot_id")),
    )


def downgrade() -> None:
    op.drop_table("dose_events")
    with op.batch_alter_table("dose_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dose_slots_plan_id"))

    op.drop_table("dose_slots")
    with op.batch_alter_table("symptom_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_symptom_entries_patient_id"))

    op.drop_table("symptom_entries")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_patient_id"))

    op.drop_table("plans")
    op.drop_table("patients")
    op.drop_table("audit_log")

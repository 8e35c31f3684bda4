"""indexes for reads that cover many patients or a period: symptom entries by patient and
time, dose events with their status and time (the clinician's list, Today)

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_symptom_entries_patient_recorded", "symptom_entries", ["patient_id", "recorded_at"])
    op.create_index("ix_dose_events_slot_status_taken", "dose_events", ["slot_id", "status", "taken_at"])


def downgrade() -> None:
    op.drop_index("ix_dose_events_slot_status_taken", table_name="dose_events")
    op.drop_index("ix_symptom_entries_patient_recorded", table_name="symptom_entries")

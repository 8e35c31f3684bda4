"""liver disease in About me (issue 16): ``patients.liver_disease``

- ``none``, ``mild``, ``moderate``, ``severe`` or ``not_known``: what the comparison of other
  treatments reads from the record (dantrolene, diazepam, cyclobenzaprine ... have liver
  rules). Patients who existed before the upgrade have ``not_known``: nobody was asked.
- Plain ``ALTER TABLE ... ADD COLUMN`` on both databases: a batch rebuild of ``patients`` would
  break the triggers of 0007 (as in 0009).

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

VALUES = ("none", "mild", "moderate", "severe", "not_known")  # domain.alternatives.LIVER_RECORD


def upgrade() -> None:
    allowed = ", ".join(f"'{value}'" for value in VALUES)
    op.execute(
        "ALTER TABLE patients ADD COLUMN liver_disease VARCHAR(16) DEFAULT 'not_known' NOT NULL "
        f"CONSTRAINT ck_patients_liver_disease CHECK (liver_disease IN ({allowed}))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE patients DROP COLUMN liver_disease")

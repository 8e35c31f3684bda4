"""verified clinicians: an administrator of the installation verifies clinician accounts (issue 15)

- ``users.role`` may be ``admin``: a dedicated account that administers the installation (made
  with ``dosewise admin create``; it has no diary and is never anyone's caregiver or clinician).
- ``users.verified_at`` / ``verified_by``: when and by whom a clinician account was verified.
  The clinician powers (the override, confirming a plan) need it. Existing clinician accounts
  are NOT verified by this upgrade: anyone could sign up as a clinician before, so an
  administrator verifies each one (``dosewise admin clinicians`` lists them).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('patient', 'caregiver', 'clinician')"
ROLES_AFTER = "role IN ('patient', 'caregiver', 'clinician', 'admin')"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("verified_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("verified_by", sa.String(length=200), nullable=True))
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), sa.text(ROLES_AFTER))


def downgrade() -> None:
    # The administrators' accounts go (the old schema has no such role); they own no diary.
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    admins: sa.Select[tuple[int]] = (
        sa.select(sa.column("id")).select_from(sa.table("users")).where(sa.column("role") == "admin")
    )
    for table in inspector.get_table_names():
        for key in inspector.get_foreign_keys(table):
            if key["referred_table"] == "users" and table != "users":
                column = key["constrained_columns"][0]
                if table == "patients":
                    op.execute(
                        sa.table(table, sa.column(column))
                        .update()
                        .where(sa.column(column).in_(admins))
                        .values({column: None})
                    )
                else:
                    op.execute(
                        sa.table(table, sa.column(column)).delete().where(sa.column(column).in_(admins))
                    )
    op.execute(sa.table("users", sa.column("role")).delete().where(sa.column("role") == "admin"))
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role"), sa.text(ROLES_BEFORE))
        batch.drop_column("verified_by")
        batch.drop_column("verified_at")

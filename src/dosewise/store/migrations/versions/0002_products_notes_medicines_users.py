"""products, notes, medicines, users; late doses; superseded plans; audit by patient

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("role IN ('patient', 'caregiver', 'clinician')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("patients") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_patients_user_id"), ["user_id"])
        batch.create_foreign_key(
            batch.f("fk_patients_user_id_users"), "users", ["user_id"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("spec", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_products_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("patient_id", "spec", name="uq_products_patient_spec"),
    )
    op.create_index(op.f("ix_products_patient_id"), "products", ["patient_id"])
    op.create_table(
        "patient_medicines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_medicines_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_medicines")),
    )
    op.create_index(op.f("ix_patient_medicines_patient_id"), "patient_medicines", ["patient_id"])
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.CheckConstraint("length(text) BETWEEN 1 AND 4000", name=op.f("ck_notes_text_length")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_notes_patient_id_patients"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_patient_id"), "notes", ["patient_id"])
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("superseded_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("dose_events") as batch:
        batch.drop_constraint(op.f("ck_dose_events_status"), type_="check")
        batch.create_check_constraint("status", "status IN ('taken', 'late', 'skipped')")
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_audit_log_patient_id"), ["patient_id"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index(batch.f("ix_audit_log_patient_id"))
        batch.drop_column("patient_id")
    op.execute("UPDATE dose_events SET status = 'taken' WHERE status = 'late'")
    with op.batch_alter_table("dose_events") as batch:
        batch.drop_constraint(op.f("ck_dose_events_status"), type_="check")
        batch.create_check_constraint("status", "status IN ('taken', 'skipped')")
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("superseded_at")
    op.drop_index(op.f("ix_notes_patient_id"), table_name="notes")
    op.drop_table("notes")
    op.drop_index(op.f("ix_patient_medicines_patient_id"), table_name="patient_medicines")
    op.drop_table("patient_medicines")
    op.drop_index(op.f("ix_products_patient_id"), table_name="products")
    op.drop_table("products")
    with op.batch_alter_table("patients") as batch:
        batch.drop_constraint(op.f("fk_patients_user_id_users"), type_="foreignkey")
        batch.drop_index(batch.f("ix_patients_user_id"))
        batch.drop_column("user_id")
    op.drop_table("users")

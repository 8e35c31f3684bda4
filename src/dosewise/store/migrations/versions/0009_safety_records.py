"""safety records: every triage result kept, the patient's country and the conditions the
advice depends on

- ``triage_results``: each triage told to someone (level, reasons, inputs, sources, who, and
  the diary entry it came from, if any). Written by the services, never recomputed. Triggers
  make the patient's attention summary stale on every write, like the tables of 0007.
- ``attention_summaries.worst_triage_at``: when the worst result of the period was given, for
  the clinician's list ("emergency on 3 Dec").
- ``patients.country`` (the emergency number), ``pregnant``, ``breastfeeding``, ``epilepsy``
  (baclofen.md section 10).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STALE = (
    "UPDATE attention_summaries SET valid_until = NULL, version = version + 1 "
    "WHERE patient_id = {row}.patient_id"
)

SQLITE_TRIGGERS = tuple(
    f"""
    CREATE TRIGGER triage_results_attention_stale_{when.lower()} AFTER {when} ON triage_results
    BEGIN
        {"; ".join(STALE.format(row=row) for row in rows)};
    END
    """
    for when, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",)))
)
SQLITE_TRIGGER_NAMES = tuple(
    f"triage_results_attention_stale_{when}" for when in ("insert", "update", "delete")
)
POSTGRESQL_TRIGGERS = (
    f"""
    CREATE FUNCTION triage_results_attention_stale() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            {STALE.format(row="OLD")};
        END IF;
        IF TG_OP <> 'DELETE' THEN
            {STALE.format(row="NEW")};
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER triage_results_attention_stale AFTER INSERT OR UPDATE OR DELETE ON triage_results
    FOR EACH ROW EXECUTE FUNCTION triage_results_attention_stale()
    """,
)
POSTGRESQL_DROPS = (
    "DROP TRIGGER triage_results_attention_stale ON triage_results",
    "DROP FUNCTION triage_results_attention_stale()",
)


def upgrade() -> None:
    op.create_table(
        "triage_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("symptom_entry_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("level IN ('emergency', 'urgent', 'routine')", name="ck_triage_results_level"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_triage_results_patient_id_patients", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["symptom_entry_id"],
            ["symptom_entries.id"],
            name="fk_triage_results_symptom_entry_id_symptom_entries",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_triage_results"),
    )
    op.create_index("ix_triage_results_patient_recorded", "triage_results", ["patient_id", "recorded_at"])
    op.create_index("ix_triage_results_symptom_entry_id", "triage_results", ["symptom_entry_id"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)
    # ADD COLUMN on both databases: a batch rebuild of patients would break the triggers of 0007
    timestamp = "DATETIME" if dialect == "sqlite" else "TIMESTAMP WITHOUT TIME ZONE"
    op.execute(f"ALTER TABLE attention_summaries ADD COLUMN worst_triage_at {timestamp}")
    op.execute("ALTER TABLE patients ADD COLUMN country VARCHAR(2)")
    for column in ("pregnant", "breastfeeding", "epilepsy"):
        op.execute(f"ALTER TABLE patients ADD COLUMN {column} BOOLEAN DEFAULT false NOT NULL")
    # the summaries computed before this migration have no date for their worst result
    op.execute("UPDATE attention_summaries SET valid_until = NULL")


def downgrade() -> None:
    for column in ("epilepsy", "breastfeeding", "pregnant", "country"):
        op.execute(f"ALTER TABLE patients DROP COLUMN {column}")
    op.execute("ALTER TABLE attention_summaries DROP COLUMN worst_triage_at")
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for statement in POSTGRESQL_DROPS:
            op.execute(statement)
    op.drop_index("ix_triage_results_symptom_entry_id", table_name="triage_results")
    op.drop_index("ix_triage_results_patient_recorded", table_name="triage_results")
    op.drop_table("triage_results")

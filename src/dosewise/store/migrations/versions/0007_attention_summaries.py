"""attention summaries: each patient's flags for the clinician's list, cached with the moment
they stop being valid, made stale by triggers whenever the rows they come from are written

``attention_summaries`` holds, per patient, what ``services.clinic`` computed (doses missed and
skipped in the period, the worst side effect's triage, the spasticity means, whether there is
a plan), when, and ``valid_until``: the first moment after which the clock alone could change
the answer (NULL: stale). Triggers on ``dose_events``, ``dose_slots``, ``symptom_entries`` and
``plans`` (SQLite and PL/pgSQL) set ``valid_until`` to NULL and change ``version`` for the
patient of every row inserted, changed or deleted, whatever writes it (the services, a
restore or CSV import, raw SQL). The list stores a summary only if ``version`` is still the
one it read before reading the rows (no write in between). The table is not data: backups and
exports leave it out; deleting a patient (a restore deletes them all) deletes their summary.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STALE = (
    "UPDATE attention_summaries SET valid_until = NULL, version = version + 1 WHERE patient_id = {patient}"
)

# the written row's patient, for each table that feeds a summary ({row}: NEW or OLD)
PATIENT_OF = {
    "dose_events": "(SELECT dose_slots.patient_id FROM dose_slots WHERE dose_slots.id = {row}.slot_id)",
    "dose_slots": "{row}.patient_id",
    "symptom_entries": "{row}.patient_id",
    "plans": "{row}.patient_id",
}


def _stale(table: str, row: str) -> str:
    return STALE.format(patient=PATIENT_OF[table].format(row=row))


SQLITE_TRIGGERS = tuple(
    f"""
    CREATE TRIGGER {table}_attention_stale_{when.lower()} AFTER {when} ON {table}
    BEGIN
        {"; ".join(_stale(table, row) for row in rows)};
    END
    """
    for table in PATIENT_OF
    for when, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",)))
)
SQLITE_TRIGGER_NAMES = tuple(
    f"{table}_attention_stale_{when}" for table in PATIENT_OF for when in ("insert", "update", "delete")
)

POSTGRESQL_TRIGGERS = tuple(
    statement
    for table in PATIENT_OF
    for statement in (
        f"""
        CREATE FUNCTION {table}_attention_stale() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                {_stale(table, "OLD")};
            END IF;
            IF TG_OP <> 'DELETE' THEN
                {_stale(table, "NEW")};
            END IF;
            RETURN NULL;
        END
        $$
        """,
        f"""
        CREATE TRIGGER {table}_attention_stale AFTER INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_attention_stale()
        """,
    )
)
POSTGRESQL_DROPS = tuple(
    statement
    for table in PATIENT_OF
    for statement in (
        f"DROP TRIGGER {table}_attention_stale ON {table}",
        f"DROP FUNCTION {table}_attention_stale()",
    )
)


# Every patient has a summary row from the start (stale until the list computes it): a writer's
# trigger always finds the row to mark stale, so a list that read the diary before that write
# commits cannot store its summary as valid (the version it read has changed). Without the
# row, a write racing the list's first look at a patient could be missed until the next write.
COLUMNS = "(patient_id, version, missed, skipped, has_plan)"
# (the statements below are built from this module's constants only)
SQLITE_ROW_TRIGGER = f"""
    CREATE TRIGGER patients_attention_row AFTER INSERT ON patients
    BEGIN
        INSERT OR IGNORE INTO attention_summaries {COLUMNS}
        VALUES (NEW.id, abs(random() % 4611686018427387903), 0, 0, 0);
    END
    """  # noqa: S608
POSTGRESQL_ROW_TRIGGER = (
    f"""
    CREATE FUNCTION patients_attention_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO attention_summaries {COLUMNS}
        VALUES (NEW.id, floor(random() * 4.6e18)::bigint, 0, 0, false) ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$
    """,  # noqa: S608
    """
    CREATE TRIGGER patients_attention_row AFTER INSERT ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_attention_row()
    """,
)


def upgrade() -> None:
    op.create_table(
        "attention_summaries",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=True),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("worst_triage", sa.String(length=16), nullable=True),
        sa.Column("spasticity_now", sa.Float(), nullable=True),
        sa.Column("spasticity_before", sa.Float(), nullable=True),
        sa.Column("has_plan", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_attention_summaries_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name="pk_attention_summaries"),
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)
    for statement in (SQLITE_ROW_TRIGGER,) if dialect == "sqlite" else POSTGRESQL_ROW_TRIGGER:
        op.execute(statement)
    op.execute(f"INSERT INTO attention_summaries {COLUMNS} SELECT id, 0, 0, 0, false FROM patients")  # noqa: S608


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (*SQLITE_TRIGGER_NAMES, "patients_attention_row"):
            op.execute(f"DROP TRIGGER {name}")
    else:
        for statement in (
            *POSTGRESQL_DROPS,
            "DROP TRIGGER patients_attention_row ON patients",
            "DROP FUNCTION patients_attention_row()",
        ):
            op.execute(statement)
    op.drop_table("attention_summaries")

"""dose slots carry their patient and what was recorded (derived, kept by triggers); indexes
for the clinician's list: a patient's slots by due time, those not taken (partial), symptom
entries with their rating, entries with side effects (partial)

The two columns are derived: ``dose_slots.patient_id`` is the plan's patient and
``dose_slots.recorded`` the status of the slot's dose event (NULL: nothing recorded). Triggers
keep them so whatever writes (the services, a restore or CSV import, a bulk load): a slot
written or changed gets both from its plan and its event; a dose event inserted, changed or
deleted sets its slot's ``recorded``; a plan given to another patient moves its slots.

The columns are added without rebuilding ``dose_slots`` (no NOT NULL, no foreign key): on
SQLite a rebuild drops the table, and with foreign keys on that deletes every dose event
through their ON DELETE CASCADE.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NOT_TAKEN = "recorded IS NULL OR recorded = 'skipped'"
WITH_SIDE_EFFECTS = "side_effects != '[]'"

PLAN_PATIENT = "(SELECT plans.patient_id FROM plans WHERE plans.id = {slot}.plan_id)"
EVENT_STATUS = "(SELECT dose_events.status FROM dose_events WHERE dose_events.slot_id = {slot}.id)"

SQLITE_TRIGGERS = (
    # a slot written or changed: its patient from the plan, its status from its event (only
    # when they differ, so that the update below does not fire this trigger again)
    *(
        f"""
        CREATE TRIGGER dose_slots_derived_{name} AFTER {when} ON dose_slots
        WHEN NEW.patient_id IS NOT {PLAN_PATIENT.format(slot="NEW")}
          OR NEW.recorded IS NOT {EVENT_STATUS.format(slot="NEW")}
        BEGIN
            UPDATE dose_slots SET patient_id = {PLAN_PATIENT.format(slot="NEW")},
                                  recorded = {EVENT_STATUS.format(slot="NEW")}
            WHERE id = NEW.id;
        END
        """  # noqa: S608  (built from this module's constants)
        for name, when in (("insert", "INSERT"), ("update", "UPDATE OF plan_id, patient_id, recorded"))
    ),
    """
    CREATE TRIGGER dose_events_recorded_insert AFTER INSERT ON dose_events
    BEGIN
        UPDATE dose_slots SET recorded = NEW.status WHERE id = NEW.slot_id;
    END
    """,
    """
    CREATE TRIGGER dose_events_recorded_update AFTER UPDATE OF slot_id, status ON dose_events
    BEGIN
        UPDATE dose_slots SET recorded = NULL WHERE id = OLD.slot_id;
        UPDATE dose_slots SET recorded = NEW.status WHERE id = NEW.slot_id;
    END
    """,
    """
    CREATE TRIGGER dose_events_recorded_delete AFTER DELETE ON dose_events
    BEGIN
        UPDATE dose_slots SET recorded = NULL WHERE id = OLD.slot_id;
    END
    """,
    """
    CREATE TRIGGER plans_patient_update AFTER UPDATE OF patient_id ON plans
    BEGIN
        UPDATE dose_slots SET patient_id = NEW.patient_id WHERE plan_id = NEW.id;
    END
    """,
)
SQLITE_TRIGGER_NAMES = (
    "dose_slots_derived_insert",
    "dose_slots_derived_update",
    "dose_events_recorded_insert",
    "dose_events_recorded_update",
    "dose_events_recorded_delete",
    "plans_patient_update",
)

POSTGRESQL_TRIGGERS = (
    f"""
    CREATE FUNCTION dose_slots_derived() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.patient_id := {PLAN_PATIENT.format(slot="NEW")};
        NEW.recorded := {EVENT_STATUS.format(slot="NEW")};
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER dose_slots_derived BEFORE INSERT OR UPDATE ON dose_slots
    FOR EACH ROW EXECUTE FUNCTION dose_slots_derived()
    """,
    """
    CREATE FUNCTION dose_events_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE dose_slots SET recorded = NULL WHERE id = OLD.slot_id;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            UPDATE dose_slots SET recorded = NEW.status WHERE id = NEW.slot_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER dose_events_recorded AFTER INSERT OR UPDATE OR DELETE ON dose_events
    FOR EACH ROW EXECUTE FUNCTION dose_events_recorded()
    """,
    """
    CREATE FUNCTION plans_patient_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE dose_slots SET patient_id = NEW.patient_id WHERE plan_id = NEW.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER plans_patient_update AFTER UPDATE OF patient_id ON plans
    FOR EACH ROW EXECUTE FUNCTION plans_patient_update()
    """,
)
POSTGRESQL_DROPS = (
    "DROP TRIGGER plans_patient_update ON plans",
    "DROP FUNCTION plans_patient_update()",
    "DROP TRIGGER dose_events_recorded ON dose_events",
    "DROP FUNCTION dose_events_recorded()",
    "DROP TRIGGER dose_slots_derived ON dose_slots",
    "DROP FUNCTION dose_slots_derived()",
)


def upgrade() -> None:
    op.add_column("dose_slots", sa.Column("patient_id", sa.Integer(), nullable=True))
    op.add_column("dose_slots", sa.Column("recorded", sa.String(length=8), nullable=True))
    op.execute(
        f"UPDATE dose_slots SET patient_id = {PLAN_PATIENT.format(slot='dose_slots')}, "  # noqa: S608
        f"recorded = {EVENT_STATUS.format(slot='dose_slots')}"
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS:
        op.execute(statement)
    op.create_index("ix_dose_slots_patient_due", "dose_slots", ["patient_id", "due_at"])
    op.create_index(
        "ix_dose_slots_patient_not_taken",
        "dose_slots",
        ["patient_id", "due_at", "recorded"],
        sqlite_where=sa.text(NOT_TAKEN),
        postgresql_where=sa.text(NOT_TAKEN),
    )
    op.drop_index("ix_symptom_entries_patient_recorded", table_name="symptom_entries")
    op.create_index(
        "ix_symptom_entries_patient_recorded_nrs",
        "symptom_entries",
        ["patient_id", "recorded_at", "spasticity_nrs"],
    )
    op.create_index(
        "ix_symptom_entries_side_effects",
        "symptom_entries",
        ["patient_id", "recorded_at"],
        sqlite_where=sa.text(WITH_SIDE_EFFECTS),
        postgresql_where=sa.text(WITH_SIDE_EFFECTS),
    )


def downgrade() -> None:
    op.drop_index("ix_symptom_entries_side_effects", table_name="symptom_entries")
    op.drop_index("ix_symptom_entries_patient_recorded_nrs", table_name="symptom_entries")
    op.create_index("ix_symptom_entries_patient_recorded", "symptom_entries", ["patient_id", "recorded_at"])
    op.drop_index("ix_dose_slots_patient_not_taken", table_name="dose_slots")
    op.drop_index("ix_dose_slots_patient_due", table_name="dose_slots")
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
        # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch rebuild: see the docstring
        op.execute("ALTER TABLE dose_slots DROP COLUMN recorded")
        op.execute("ALTER TABLE dose_slots DROP COLUMN patient_id")
    else:
        for statement in POSTGRESQL_DROPS:
            op.execute(statement)
        op.drop_column("dose_slots", "recorded")
        op.drop_column("dose_slots", "patient_id")

"""The supply ledger moves with the diary: backup and restore, CSV export and import (every
diary table is in both: issue 14, point 5), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.services import patients, plans, supply
from dosewise.store.database import build_engine, upgrade_database
from dosewise.store.transfer import backup_database, count_rows, export_csv, import_csv, restore_database

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_the_supply_ledger_round_trips(engine, monograph, tmp_path):
    patient = patients.create_patient(engine, name="Zoë", time_zone="UTC", now=NOW, actor="test")
    plan = build_titration(
        monograph, target_daily_mg=30, products=parse_product_specs([], monograph), start=date(2026, 12, 1)
    )
    plans.start_plan(engine, patient_id=patient, plan=plan, times=parse_clock_times(None, 3), zone=UTC,
                     now=datetime(2026, 12, 1, tzinfo=UTC), actor="test")  # fmt: skip
    supply.record_stock(engine, patient_id=patient, kind="counted", product="tablet:10mg:halves",
                        quantity="37.5", now=NOW, actor="test")  # fmt: skip
    supply.record_stock(engine, patient_id=patient, kind="adjusted", product="5mg", quantity="-2",
                        note='dropped, "two"\nunder the sink', now=NOW, actor="test")  # fmt: skip
    before = supply.supply_view(supply.supply_overview(engine, patient_id=patient, now=NOW))
    counts = count_rows(engine)
    assert counts["stock_events"] == 2

    backup = tmp_path / "diary.backup"
    assert backup_database(engine, str(backup)) == counts
    restored = build_engine(f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    upgrade_database(restored)
    assert restore_database(restored, str(backup))["stock_events"] == 2
    assert supply.supply_view(supply.supply_overview(restored, patient_id=patient, now=NOW)) == before

    folder = tmp_path / "csv"
    assert export_csv(engine, str(folder), now=NOW)["stock_events"] == 2
    header = (folder / "stock_events.csv").read_text().splitlines()[0]
    assert header == "id,patient_id,product_id,kind,quantity_milli,recorded_at,recorded_by,note"
    imported = build_engine(f"sqlite:///{tmp_path / 'imported.sqlite3'}")
    upgrade_database(imported)
    assert import_csv(imported, str(folder))["stock_events"] == 2
    assert supply.supply_view(supply.supply_overview(imported, patient_id=patient, now=NOW)) == before
    one = export_csv(engine, str(tmp_path / "one"), patient_id=patient, now=NOW)
    assert one["stock_events"] == 2

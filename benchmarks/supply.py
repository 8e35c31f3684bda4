"""The notification engine's daily supply pass: ``supply_statuses`` for every patient at once.

Run: .venv/bin/python benchmarks/supply.py [--patients 10000] [--url sqlite:///...]
Builds a diary of N patients on a titration to 60 mg/day (3 doses a day), 14 days of doses
taken and 46 days of coming slots each, a count and a refill each; then times the batch pass
against calling ``supply_status`` patient by patient (a sample, scaled up) in the same run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.monographs import load_monograph
from dosewise.services import patients, plans
from dosewise.services.supply import FORECAST_DAYS, SupplyThresholds, supply_statuses
from dosewise.store.database import build_engine, read_connection, upgrade_database
from dosewise.store.models import DoseEventRow, DoseSlotRow, PatientRow, PlanRow, ProductRow, StockEventRow

LONDON = ZoneInfo("Europe/London")
START = date(2026, 12, 1)
NOW = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
TABLET = "tablet:10mg:halves"


def build(url: str, count: int) -> None:
    engine = build_engine(url)
    upgrade_database(engine)
    monograph = load_monograph("baclofen")
    plan = build_titration(
        monograph, target_daily_mg=60, products=parse_product_specs([TABLET], monograph), start=START
    )
    first = patients.create_patient(engine, name="P0", time_zone="Europe/London", now=NOW, actor="bench")
    plans.start_plan(
        engine,
        patient_id=first,
        plan=plan,
        times=parse_clock_times(None, 3),
        zone=LONDON,
        now=datetime(2026, 12, 1, 7, tzinfo=UTC),
        actor="bench",
    )
    with engine.begin() as connection:
        template = connection.execute(select(PlanRow).where(PlanRow.patient_id == first)).one()._asdict()
        slots = [
            row._asdict() for row in connection.execute(select(DoseSlotRow).order_by(DoseSlotRow.due_at))
        ]
        product = connection.execute(select(ProductRow).where(ProductRow.patient_id == first)).one()._asdict()
        now_naive = NOW.replace(tzinfo=None)
        for number in range(1, count):
            patient_id = connection.execute(
                insert(PatientRow).values(name=f"P{number}", time_zone="Europe/London", created_at=now_naive)
            ).inserted_primary_key[0]
            plan_row = {k: v for k, v in template.items() if k != "id"} | {"patient_id": patient_id}
            plan_id = connection.execute(insert(PlanRow).values(plan_row)).inserted_primary_key[0]
            connection.execute(
                insert(ProductRow).values(
                    {k: v for k, v in product.items() if k != "id"} | {"patient_id": patient_id}
                )
            )
            rows = [
                {
                    "plan_id": plan_id,
                    "patient_id": patient_id,
                    "due_at": s["due_at"],
                    "dose_ug": s["dose_ug"],
                    "how": s["how"],
                    "step_number": s["step_number"],
                }
                for s in slots
            ]
            connection.execute(insert(DoseSlotRow), rows)
        all_slots = connection.execute(
            select(DoseSlotRow.id, DoseSlotRow.due_at).where(DoseSlotRow.due_at <= now_naive)
        ).all()
        connection.execute(
            insert(DoseEventRow),
            [{"slot_id": i, "status": "taken", "taken_at": due, "recorded_at": due} for i, due in all_slots],
        )
        products = connection.execute(select(ProductRow.id, ProductRow.patient_id)).all()
        events = []
        for product_id, patient_id in products:
            base = {"patient_id": patient_id, "product_id": product_id, "recorded_by": "bench", "note": ""}
            events.append(
                base
                | {
                    "kind": "counted",
                    "quantity_milli": 40000,
                    "recorded_at": datetime(2026, 12, 1, 7, tzinfo=UTC).replace(tzinfo=None),
                }
            )
            events.append(
                base
                | {
                    "kind": "collected",
                    "quantity_milli": (patient_id % 60) * 1000 + 500,
                    "recorded_at": datetime(2026, 12, 10, 12, tzinfo=UTC).replace(tzinfo=None),
                }
            )
        connection.execute(insert(StockEventRow), events)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--url", help="a database to fill (default: a new SQLite file)")
    parser.add_argument("--reuse", action="store_true", help="the database at --url is already filled")
    parser.add_argument("--sample", type=int, default=200, help="patients timed one by one")
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    url = args.url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    started = time.perf_counter()
    if not args.reuse:
        build(url, args.patients)
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
        "(SQLite runs in this process: its CPU time is the cost on a busy machine)"
    )
    print(f"built {args.patients} patients in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
    engine = build_engine(url)
    thresholds = SupplyThresholds()
    with read_connection(engine) as connection:
        started, cpu = time.perf_counter(), time.process_time()
        found = supply_statuses(connection, patient_ids=None, now=NOW, thresholds=thresholds)
        batch, batch_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        full = supply_statuses(
            connection, patient_ids=None, now=NOW, thresholds=thresholds, horizon_days=FORECAST_DAYS
        )
        long, long_cpu = time.perf_counter() - started, time.process_time() - cpu
        same = sum(full[p].level == found[p].level for p in found)
        ids = sorted(found)[: args.sample]
        started = time.perf_counter()
        for patient_id in ids:
            supply_statuses(connection, patient_ids=[patient_id], now=NOW, thresholds=thresholds)
        one_by_one = (time.perf_counter() - started) / len(ids) * len(found)
    levels: dict[str, int] = {}
    for status in found.values():
        levels[status.level] = levels.get(status.level, 0) + 1
    each = 1e6 / len(found)
    print(
        f"batch, default horizon ({thresholds.warn_days + 1:g} days): {batch:.2f} s "
        f"({batch * each:.0f} us a patient); CPU {batch_cpu:.2f} s"
    )
    print(
        f"batch, {FORECAST_DAYS}-day horizon (exact days left): {long:.2f} s "
        f"({long * each:.0f} us a patient); CPU {long_cpu:.2f} s"
    )
    print(f"same level both ways: {same} of {len(found)}")
    print(f"one by one (sampled {len(ids)}, scaled): {one_by_one:.2f} s, {one_by_one / batch:.1f}x the batch")
    print("levels:", ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))


if __name__ == "__main__":
    main()

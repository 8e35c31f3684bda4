"""A long diary written straight into the store (issue 15): one maintenance plan a year of
40 mg/day in four doses from ``first``, each taking over from the last; most doses taken (some
late, skipped or missed) and two diary entries a day (a side effect every seventh day). Used by
the tests of long diaries (reports, FHIR pages); benchmarks/report.py builds its own the same way."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert, select

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.monographs import load_monograph
from dosewise.services import plans
from dosewise.store.database import unit_of_work
from dosewise.store.models import DoseEventRow, DoseSlotRow, PlanRow, SymptomEntryRow


def fill_diary(engine: Engine, patient_id: int, first: date, days: int, zone: str = "UTC") -> None:
    monograph = load_monograph("baclofen")
    done = 0
    while done < days:  # a plan lasts at most a year: one a year, each taking over on its first day
        start = first + timedelta(days=done)
        length = min(365, days - done)
        plan = build_maintenance(
            monograph,
            daily_mg=40,
            products=parse_product_specs([], monograph),
            start=start,
            days=length,
            doses_per_day=4,
        )
        entered = datetime.combine(start, datetime.min.time(), tzinfo=ZoneInfo(zone))
        plans.start_plan(
            engine,
            patient_id=patient_id,
            plan=plan,
            times=parse_clock_times("08:00,12:00,16:00,20:00", 4),
            zone=ZoneInfo(zone),
            now=entered,
            actor="test",
        )
        done += length
    with unit_of_work(engine) as session:
        slots = session.execute(
            select(DoseSlotRow.id, DoseSlotRow.due_at)
            .join(PlanRow, DoseSlotRow.plan_id == PlanRow.id)
            .where(PlanRow.patient_id == patient_id)
            .order_by(DoseSlotRow.id)
        ).all()
        events = []
        for number, (slot_id, due) in enumerate(slots):
            if number % 29 == 0:
                continue  # missed
            status = "skipped" if number % 31 == 0 else ("late" if number % 13 == 0 else "taken")
            taken = None if status == "skipped" else due + timedelta(minutes=95 if status == "late" else 10)
            events.append({"slot_id": slot_id, "status": status, "taken_at": taken, "recorded_at": due})
        session.execute(insert(DoseEventRow), events)
        entries = []
        for offset in range(days):
            for hour in (9, 21):
                moment = datetime.combine(first + timedelta(days=offset), datetime.min.time()) + timedelta(
                    hours=hour
                )
                entries.append(
                    {
                        "patient_id": patient_id,
                        "recorded_at": moment,
                        "penn_frequency": (offset // 30 + hour) % 5,
                        "penn_severity": None,
                        "spasticity_nrs": (offset // 20 + hour) % 11,
                        "side_effects": '[{"key": "drowsiness", "severity": 1}]' if offset % 7 == 0 else "[]",
                        "note": "",
                    }
                )
        session.execute(insert(SymptomEntryRow), entries)

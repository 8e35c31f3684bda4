"""Prescriber report speed on a one-year diary (issue 5).

Run: .venv/bin/python benchmarks/report.py [--days 365] [--runs 3]

A one-year diary on SQLite: 4 doses a day (most taken, some late, skipped or missed) and
2 symptom entries a day (some with side effects), a note a week, two medicines. Reports:
- warm: gathering the data + HTML (with both SVG charts), and HTML -> PDF, in this process;
- cold: `dosewise diary report FILE.html` end to end in a fresh process (imports included);
- baseline measured in the same run: reading the year's dose and symptom rows with one SQL
  query each, and the ratio of the HTML report to it.
Targets: HTML under 1 s, PDF in a few seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.exporters.report import render_report_html, render_report_pdf
from dosewise.monographs import load_monograph
from dosewise.services import medicines, notes, patients, plans
from dosewise.services.reports import gather_report
from dosewise.store.database import build_engine, unit_of_work, upgrade_database
from dosewise.store.models import DoseEventRow, DoseSlotRow, SymptomEntryRow

ZONE = ZoneInfo("Europe/London")


def build_diary(path: str, days: int) -> tuple[int, date, date, datetime]:
    monograph = load_monograph("baclofen")
    engine = build_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    first = date(2025, 12, 1)
    now = datetime.combine(first + timedelta(days=days), datetime.min.time(), tzinfo=ZONE)
    patient = patients.create_patient(
        engine, name="Benchmark", time_zone="Europe/London", now=now, actor="bench"
    )
    times = parse_clock_times("08:00,12:00,16:00,20:00", 4)
    plan = build_maintenance(
        monograph,
        daily_mg=40,
        products=parse_product_specs([], monograph),
        start=first,
        days=days,
        doses_per_day=4,
    )
    entered = datetime.combine(first, datetime.min.time(), tzinfo=ZONE)  # before its first dose
    plans.start_plan(engine, patient_id=patient, plan=plan, times=times, zone=ZONE,
                     now=entered, actor="bench")  # fmt: skip
    with unit_of_work(engine) as session:
        slots = session.execute(select(DoseSlotRow.id, DoseSlotRow.due_at).order_by(DoseSlotRow.id)).all()
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
                frequency = (offset // 30 + hour) % 5
                entries.append(
                    {
                        "patient_id": patient,
                        "recorded_at": moment,
                        "penn_frequency": frequency,
                        "penn_severity": None if frequency == 0 else 1 + offset % 3,
                        "spasticity_nrs": (offset // 20 + hour) % 11,
                        "side_effects": '[{"key": "drowsiness", "severity": 1}]' if offset % 7 == 0 else "[]",
                        "note": "",
                    }
                )
        session.execute(insert(SymptomEntryRow), entries)
    for offset in range(0, days, 7):
        notes.add_note(
            engine, patient_id=patient, text=f"week {offset // 7 + 1}: fine", now=now, actor="bench"
        )
    for name in ("gabapentin", "ibuprofen"):
        medicines.add_medicine(engine, patient_id=patient, name=name, now=now, actor="bench")
    engine.dispose()
    return patient, first, first + timedelta(days=days - 1), now


def timed(runs: int, action) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "diary.sqlite3")
        patient, first, last, now = build_diary(path, args.days)
        engine = build_engine(f"sqlite:///{path}")

        def baseline() -> int:
            with unit_of_work(engine) as session:
                doses = session.execute(
                    select(DoseSlotRow, DoseEventRow.status).outerjoin(DoseEventRow)
                ).all()
                entries = session.execute(select(SymptomEntryRow)).all()
            return len(doses) + len(entries)

        def html() -> str:
            data = gather_report(engine, patient_id=patient, first_day=first, last_day=last, now=now)
            return render_report_html(data)

        rows = baseline()
        html()  # warm the imports and caches once
        base_s, _ = timed(args.runs, baseline)
        html_s, page = timed(args.runs, html)
        data = gather_report(engine, patient_id=patient, first_day=first, last_day=last, now=now)
        pdf_s, pdf = timed(args.runs, lambda: render_report_pdf(data, str(page)))
        out = os.path.join(folder, "report.html")
        env = {**os.environ, "DOSEWISE_DATABASE_URL": f"sqlite:///{path}", "TZ": "Europe/London"}
        cold = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "dosewise.cli", "diary", "report", out, "--from", first.isoformat(),
                 "--to", last.isoformat()],
                check=True, env=env, capture_output=True,
            )  # fmt: skip
            cold.append(time.perf_counter() - start)
            os.remove(out)
        pdf_path = os.path.join(folder, "report.pdf")
        with open(pdf_path, "wb") as file:
            file.write(bytes(pdf))  # type: ignore[arg-type]
        pages = subprocess.run(["pdfinfo", pdf_path], capture_output=True, text=True, check=False).stdout
        page_count = next((line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")), "?")
        engine.dispose()
    print(f"One-year diary: {args.days} days, {rows} dose and symptom rows; median of {args.runs} runs")
    print(f"baseline (SQL read of the rows)     {base_s * 1000:8.1f} ms")
    print(f"HTML report, warm (gather + charts) {html_s * 1000:8.1f} ms   {html_s / base_s:6.1f}x baseline   "
          f"{len(str(page)) / 1024:.0f} KiB")  # fmt: skip
    print(f"HTML report, cold CLI (new process) {statistics.median(cold) * 1000:8.1f} ms")
    print(f"PDF from the HTML                   {pdf_s * 1000:8.1f} ms   {page_count} pages   "
          f"{len(bytes(pdf)) / 1024:.0f} KiB")  # type: ignore[arg-type]  # fmt: skip


if __name__ == "__main__":
    main()

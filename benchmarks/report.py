"""Prescriber report speed on a one-year diary (issue 5), and on long diaries (issue 15).

Run: .venv/bin/python benchmarks/report.py [--days 365] [--runs 3]
     .venv/bin/python benchmarks/report.py --long [--runs 3]

A one-year diary on SQLite: 4 doses a day (most taken, some late, skipped or missed) and
2 symptom entries a day (some with side effects), a note a week, two medicines. Reports:
- warm: gathering the data + HTML (with both SVG charts), and HTML -> PDF, in this process;
- cold: `dosewise diary report FILE.html` end to end in a fresh process (imports included);
- baseline measured in the same run: reading the year's dose and symptom rows with one SQL
  query each, and the ratio of the HTML report to it.
Targets: HTML under 1 s, PDF in a few seconds.

``--long`` (issue 15): diaries of 1, 5 and 10 years built the same way. For each: the default
report (the last 12 months: gather + HTML with charts), the whole diary asked for (summarized by
month past two years), a page of the FHIR API (the default ``_count``, first and last page) and
the streamed FHIR download of the whole diary; median time and tracemalloc peak, with the ratio
to the one-year diary measured in the same run. Target: the default report and the FHIR page
within 2x of one year in time and memory; the whole download bounded in memory (its time grows
with the diary: it is that much more JSON).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from dosewise.domain.products import parse_product_specs
from dosewise.domain.regimen import build_maintenance
from dosewise.domain.schedule import parse_clock_times
from dosewise.exporters.report import render_report_html, render_report_pdf
from dosewise.monographs import load_monograph
from dosewise.services import fhir, medicines, notes, patients, plans
from dosewise.services.reports import default_report_range, diary_span, gather_report
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
        entered = datetime.combine(start, datetime.min.time(), tzinfo=ZONE)  # before its first dose
        plans.start_plan(engine, patient_id=patient, plan=plan, times=times, zone=ZONE,
                         now=entered, actor="bench")  # fmt: skip
        done += length
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


def peak_mib(action: Callable[[], object]) -> float:
    """The tracemalloc peak of one run of ``action``, in MiB."""
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def diary_actions(path: str, days: int) -> dict[str, Callable[[], object]]:
    """The measured actions on a new diary of ``days`` days at ``path``."""
    patient, _, _, now = build_diary(path, days)
    engine = build_engine(f"sqlite:///{path}")

    def default_report() -> str:
        first, last = default_report_range(engine, patient_id=patient, now=now)
        data = gather_report(engine, patient_id=patient, first_day=first, last_day=last, now=now)
        return render_report_html(data)

    def whole_report() -> str:
        first, last = diary_span(engine, patient_id=patient, now=now)
        data = gather_report(engine, patient_id=patient, first_day=first, last_day=last, now=now)
        return render_report_html(data)

    last = diary_span(engine, patient_id=patient, now=now)[1]

    def page(query: fhir.FhirQuery) -> Callable[[], str]:
        return lambda: fhir.fhir_page(engine, patient_id=patient, now=now, query=query, link=str)

    def download() -> int:
        return sum(len(chunk) for chunk in fhir.stream_fhir(engine, patient_id=patient, now=now))

    return {
        "default report (last 12 months)": default_report,
        "whole diary report": whole_report,
        "FHIR page, first (_count 100)": page(fhir.FhirQuery()),
        "FHIR page, last days": page(fhir.FhirQuery(first_day=last - timedelta(days=2))),
        "FHIR download, whole (streamed)": download,
    }


def long_diaries(runs: int) -> None:
    """The default report, the whole diary, a FHIR page and the FHIR download on 1, 5 and 10
    years. The diaries are built first; each action then runs on 1, 5, 10 years in turn, ``runs``
    rounds, so a change in the machine's load touches every size alike (medians)."""
    all_years = (1, 5, 10)
    with tempfile.TemporaryDirectory() as folder:
        actions = {
            years: diary_actions(os.path.join(folder, f"{years}.sqlite3"), 365 * years) for years in all_years
        }
        download = "FHIR download, whole (streamed)"
        sizes = {years: str(actions[years][download]()) for years in all_years}  # characters of JSON
        actions[1]["default report (last 12 months)"]()  # warm the imports and caches once
        seconds: dict[tuple[str, int], list[float]] = {}
        for name in actions[1]:
            for _ in range(1 if name.startswith("FHIR download") else runs):
                for years in all_years:
                    start = time.perf_counter()
                    actions[years][name]()
                    seconds.setdefault((name, years), []).append(time.perf_counter() - start)
        peaks = {(name, years): peak_mib(actions[years][name]) for name in actions[1] for years in all_years}
    print(f"Long diaries: 1, 5 and 10 years; median of {runs} runs, interleaved; memory: tracemalloc peak")
    print(f"{'':34} {'years':>5} {'ms':>9} {'x 1 year':>9} {'peak MiB':>9} {'x 1 year':>9}")
    for name in actions[1]:
        base_s, base_peak = statistics.median(seconds[name, 1]), peaks[name, 1]
        for years in all_years:
            median_s, peak = statistics.median(seconds[name, years]), peaks[name, years]
            print(f"{name:34} {years:5} {median_s * 1000:9.1f} {median_s / base_s:8.2f}x {peak:9.1f} "
                  f"{peak / base_peak:8.2f}x")  # fmt: skip
    for years in all_years:
        print(f"FHIR download of {years:2} years: {int(sizes[years]) / 2**20:.1f} MiB of JSON")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--long", action="store_true", help="1-, 5- and 10-year diaries (issue 15)")
    args = parser.parse_args()
    if args.long:
        long_diaries(args.runs)
        return
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

"""The clinician's list ("My patients", GET /clinic) for 10, 100 and 1,000 patients (issue 11).

Run: .venv/bin/python benchmarks/clinic.py [--quick] [--databases sqlite,postgresql] [--runs 15]
     [--one-by-one]

One database per backend holds 1,000 patients (--quick: 100), each with a 90-day diary
(--quick: 30) as the services write it: a maintenance plan laid out two weeks ahead (stored by
plans.start_plan for one patient per time zone, and its plan, slot and product rows copied
for the others), dose events for the past doses (most taken, some late, some skipped, the rest
missed: no row), and a symptom entry on most days, some with side effects (in
symptoms.record_symptoms' JSON). Rows go in with one bulk insert per table, not through the
services one by one. Three clinicians are let in by the first 10, 100 and 1,000 patients
(--quick: 10, 30, 100), so every list reads from the same tables.

Timed: the real app (create_app with test settings) through Starlette's TestClient, signed in
as each clinician; GET /clinic (its first page: the PAGE_SIZE patients who need attention
most, with how many there are in all) after a warm-up, median of --runs: the steady state, the
patients' attention summaries valid (the list opened again during the day). Then cold: the
summaries deleted before each request (the first list ever, or after a restore), so that
every patient's is computed and stored, median of --runs / 3 (at least 3). Statements are counted with
SQLAlchemy's before_cursor_execute event on the app's engine, for one request (sign-in session
lookup, the list, everything). Target: statements constant in N; time at the largest N within
3x of time at the smallest, in the steady state. --one-by-one measures the list as it was (one
patient at a time). PostgreSQL is a private server on loopback (as tests/postgres.py starts it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, event, insert, select, text

from dosewise.services import plans
from dosewise.services.clinic import PAGE_SIZE
from dosewise.services.clock import to_utc
from dosewise.services.doses import ON_TIME_WINDOW
from dosewise.services.plans import PlanRequest, build_plan
from dosewise.store.database import build_engine, unit_of_work, upgrade_database
from dosewise.store.models import (
    AccessGrantRow,
    AttentionSummaryRow,
    DoseEventRow,
    DoseSlotRow,
    PatientRow,
    PlanRow,
    ProductRow,
    SymptomEntryRow,
    UserRow,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/postgres.py

PASSWORD = "clinic-benchmark-password"  # a throwaway account in a throwaway database
ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
SIDE_EFFECTS = ("drowsiness", "dizziness", "nausea", "fatigue", "fainting", "high_fever", "confusion")
BATCH = 20_000


@dataclass(frozen=True, slots=True)
class Scale:
    sizes: tuple[int, ...]  # patients per clinician
    days: int  # diary length


FULL = Scale(sizes=(10, 100, 1000), days=90)
QUICK = Scale(sizes=(10, 30, 100), days=30)


# --- seeding -----------------------------------------------------------------------------------


def _template_plans(engine: Engine, now: datetime, days: int, actor: str) -> dict[int, dict[str, Any]]:
    """One real plan per zone, stored by plans.start_plan for patients 1-4 (whatever columns
    the store has): {patient: {"plan": row values, "slots": [row values], "products": [...]}}."""
    found = {}
    for number in range(1, len(ZONES) + 1):
        zone_name = ZONES[number % len(ZONES)]
        zone = ZoneInfo(zone_name)
        start = now.astimezone(zone).date() - timedelta(days=days)
        built = build_plan(PlanRequest(kind="maintenance", mg_day=15, doses_per_day=3, start=start))
        plan_id = plans.start_plan(
            engine,
            patient_id=number,
            plan=built.plan,
            times=built.times,
            zone=zone,
            now=now - timedelta(days=days + 1),
            actor=actor,
        )
        with unit_of_work(engine) as session:
            plan = session.execute(select(PlanRow.__table__).where(PlanRow.id == plan_id)).one()._asdict()
            slots = [
                row._asdict()
                for row in session.execute(
                    select(DoseSlotRow.__table__)
                    .where(DoseSlotRow.plan_id == plan_id)
                    .order_by(DoseSlotRow.due_at)
                )
            ]
            products = [
                row._asdict()
                for row in session.execute(
                    select(ProductRow.__table__).where(ProductRow.patient_id == number)
                )
            ]
        found[number] = {"plan": plan, "slots": slots, "products": products}
    return found


def seed(
    engine: Engine, scale: Scale, now: datetime, password_hash: str, progress: Callable[[str], None]
) -> None:
    """The patients, their diaries and the clinicians. Patients 1-4 get their plan through
    plans.start_plan; the others a copy of the one of their zone (rows as the service wrote
    them, ids given here), so that every table is one bulk insert."""
    chance = random.Random(11)
    now_utc = to_utc(now)
    patients = max(scale.sizes)
    users: list[dict[str, Any]] = []
    patient_rows: list[dict[str, Any]] = []
    for number in range(1, patients + 1):
        created = now_utc - timedelta(days=scale.days + 1)
        users.append(
            {
                "id": number,
                "email": f"patient{number}@example.org",
                "display_name": f"Patient {number:04d}",
                "password_hash": password_hash,
                "role": "patient",
                "created_at": created,
            }
        )
        patient_rows.append(
            {
                "id": number,
                "name": f"Patient {number:04d}",
                "time_zone": ZONES[number % len(ZONES)],
                "created_at": created,
                "user_id": number,
            }
        )
    for index, size in enumerate(scale.sizes):
        users.append(
            {
                "id": patients + 1 + index,
                "email": f"clinician{size}@example.org",
                "display_name": f"Dr {size}",
                "password_hash": password_hash,
                "role": "clinician",
                "created_at": now_utc,
                "verified_at": now_utc,  # verified by an administrator (issue 15)
                "verified_by": "cli",
            }
        )
    _insert(engine, [(UserRow, users), (PatientRow, patient_rows)], progress)
    templates = _template_plans(engine, now, scale.days, actor="user:1")
    plan_rows: list[dict[str, Any]] = []
    slot_rows: list[dict[str, Any]] = []
    product_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = []
    grant_rows: list[dict[str, Any]] = []
    plan_id = max(t["plan"]["id"] for t in templates.values())
    slot_id = max(t["slots"][-1]["id"] for t in templates.values())
    product_id = max((p["id"] for t in templates.values() for p in t["products"]), default=0)
    for number in range(1, patients + 1):
        template = templates[(number - 1) % len(ZONES) + 1]
        if number in templates:
            slots = template["slots"]
        else:
            plan_id += 1
            plan_rows.append({**template["plan"], "id": plan_id, "patient_id": number})
            slots = []
            for slot in template["slots"]:
                slot_id += 1
                slots.append({**slot, "id": slot_id, "plan_id": plan_id, "patient_id": number})
            slot_rows.extend(slots)
            for product in template["products"]:
                product_id += 1
                product_rows.append({**product, "id": product_id, "patient_id": number})
        adherent = chance.random()  # some patients miss more than others
        for slot in slots:
            due = slot["due_at"]
            if due >= now_utc - timedelta(hours=3):
                continue  # the last doses: not recorded yet
            roll = chance.random()
            if roll < 0.80 + 0.15 * adherent:
                taken = due + timedelta(minutes=chance.choice((-20, 0, 5, 10, 30, 45, 90, 180)))
                late = taken > due + ON_TIME_WINDOW
                event_rows.append(
                    {
                        "slot_id": slot["id"],
                        "status": "late" if late else "taken",
                        "taken_at": taken,
                        "recorded_at": taken + timedelta(minutes=1),
                    }
                )
            elif roll < 0.88 + 0.1 * adherent:
                event_rows.append(
                    {
                        "slot_id": slot["id"],
                        "status": "skipped",
                        "taken_at": None,
                        "recorded_at": due + timedelta(minutes=30),
                    }
                )
        drift = chance.choice((-1, 0, 0, 1, 2))
        for day in range(scale.days):
            if chance.random() < 0.25:
                continue
            at = now_utc - timedelta(days=scale.days - day, hours=chance.randint(-6, 6))
            effects = {}
            if chance.random() < 0.08:
                effects[chance.choice(SIDE_EFFECTS)] = chance.randint(1, 3)
            frequency = chance.randint(0, 4)
            entry_rows.append(
                {
                    "patient_id": number,
                    "recorded_at": at,
                    "penn_frequency": frequency,
                    "penn_severity": chance.randint(1, 3) if frequency else None,
                    "spasticity_nrs": min(10, max(0, 5 + drift * day // 30 + chance.randint(-1, 1))),
                    "side_effects": json.dumps(
                        [{"key": k, "severity": v} for k, v in sorted(effects.items())]
                    ),
                    "note": "",
                }
            )
    for index, size in enumerate(scale.sizes):
        grant_rows.extend(
            {
                "patient_id": patient,
                "user_id": patients + 1 + index,
                "role": "clinician",
                "created_at": now_utc,
                "revoked_at": None,
            }
            for patient in range(1, size + 1)
        )
    _insert(
        engine,
        [
            (PlanRow, plan_rows),
            (DoseSlotRow, slot_rows),
            (ProductRow, product_rows),
            (DoseEventRow, event_rows),
            (SymptomEntryRow, entry_rows),
            (AccessGrantRow, grant_rows),
        ],
        progress,
    )
    with unit_of_work(engine) as session:
        if engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for model in (UserRow, PatientRow, PlanRow, DoseSlotRow, ProductRow):
                table = model.__tablename__
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(max(id), 1) FROM {table}))"
                    )
                )
        session.execute(text("ANALYZE"))


def _insert(
    engine: Engine, tables: list[tuple[type[Any], list[dict[str, Any]]]], progress: Callable[[str], None]
) -> None:
    for model, rows in tables:
        progress(f"{model.__tablename__}: {len(rows):,} rows")
        with unit_of_work(engine) as session:
            for first in range(0, len(rows), BATCH):
                session.execute(insert(model.__table__), rows[first : first + BATCH])


# --- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    patients: int
    statements: int
    median_ms: float
    min_ms: float
    flagged: int  # patients who need attention, on every page
    shown: int  # rows on the first page
    cold_statements: int  # the same, with no attention summary stored (every one computed)
    cold_median_ms: float
    cold_min_ms: float


def measure(url: str, scale: Scale, runs: int) -> list[Measured]:
    from fastapi.testclient import TestClient

    from dosewise.web.app import create_app
    from dosewise.web.settings import Argon2Cost, Settings

    settings = Settings(
        database_url=url,
        secret_key="clinic-benchmark-" + "k" * 40,
        environment="test",
        secure_cookies=False,
        argon2=Argon2Cost(time_cost=1, memory_kib=8, parallelism=1),
    )
    app = create_app(settings)
    engine: Engine = app.state.context.engine
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    results = []
    with TestClient(app, follow_redirects=False) as client:
        for size in scale.sizes:
            signed_in = client.post(
                "/api/session", json={"email": f"clinician{size}@example.org", "password": PASSWORD}
            )
            signed_in.raise_for_status()
            for _ in range(3):  # warm-up: templates compiled, statements cached, pool filled
                page = client.get("/clinic")
                page.raise_for_status()
            event.listen(engine, "before_cursor_execute", count)
            statements.clear()
            page = client.get("/clinic")
            event.remove(engine, "before_cursor_execute", count)
            listed = page.text.count('<th scope="row">')
            counted = re.search(r"<strong>(\d+) patients?</strong>, (\d+) needs? attention", page.text)
            if counted is None or int(counted.group(1)) != size or listed != min(size, PAGE_SIZE):
                said = counted.group(0) if counted else "nothing"
                raise SystemExit(
                    f"the list of clinician{size} shows {listed} rows and says {said}, "
                    f"not {size} patients in pages of {PAGE_SIZE}"
                )
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                client.get("/clinic").raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            steady_statements = len(statements)
            # cold: no summaries (the first list ever, or after a restore): all computed and stored
            cold_times = []
            for run_number in range(max(3, runs // 3) + 1):
                with engine.begin() as connection:
                    connection.execute(delete(AttentionSummaryRow))
                if run_number == 0:
                    event.listen(engine, "before_cursor_execute", count)
                    statements.clear()
                started = time.perf_counter()
                client.get("/clinic").raise_for_status()
                elapsed = (time.perf_counter() - started) * 1000
                if run_number == 0:
                    event.remove(engine, "before_cursor_execute", count)
                    cold_statements = len(statements)
                else:
                    cold_times.append(elapsed)
            results.append(
                Measured(
                    patients=size,
                    statements=steady_statements,
                    median_ms=statistics.median(times),
                    min_ms=min(times),
                    flagged=int(counted.group(2)),
                    shown=listed,
                    cold_statements=cold_statements,
                    cold_median_ms=statistics.median(cold_times),
                    cold_min_ms=min(cold_times),
                )
            )
            client.delete("/api/session", headers={"x-csrf-token": signed_in.json()["csrf_token"]})
    return results


def _one_by_one() -> None:
    """The list as it was before issue 11: attention() for one patient after another (then
    paged as the list is now)."""
    from dosewise.services import clinic
    from dosewise.services.access import patients_of

    def patient_page(
        engine: Engine, *, user: Any, now: datetime, page: int = 1, page_size: int = PAGE_SIZE
    ) -> clinic.PatientPage:
        found = [
            clinic.attention(engine, patient_id=p.patient_id, name=p.name, relation=p.relation, now=now)
            for p in patients_of(engine, user=user)
            if p.relation != "owner"
        ]
        ranked = sorted(found, key=lambda item: (*item.rank, item.name, item.patient_id))
        page = min(page, max(1, -(-len(ranked) // page_size)))
        return clinic.PatientPage(
            rows=tuple(ranked[(page - 1) * page_size : page * page_size]),
            total=len(ranked),
            flagged=sum(1 for item in ranked if item.reasons),
            page=page,
            page_size=page_size,
        )

    clinic.patient_page = patient_page  # type: ignore[assignment]


def print_table(label: str, results: list[Measured]) -> None:
    print(f"\n{label}")
    print(
        f"{'':>8} {'steady (summaries valid)':^31} {'':>15} {'cold (no summaries)':^31}\n"
        f"{'patients':>8} {'statements':>10} {'median ms':>10} {'min ms':>8} {'flagged':>8} {'shown':>6} "
        f"{'statements':>10} {'median ms':>10} {'min ms':>8}"
    )
    for row in results:
        print(
            f"{row.patients:8d} {row.statements:10d} {row.median_ms:10.1f} {row.min_ms:8.1f} "
            f"{row.flagged:8d} {row.shown:6d} {row.cold_statements:10d} {row.cold_median_ms:10.1f} "
            f"{row.cold_min_ms:8.1f}"
        )
    first, last = results[0], results[-1]
    for name, ratio, counts in (
        ("steady", last.median_ms / first.median_ms, {row.statements for row in results}),
        ("cold", last.cold_median_ms / first.cold_median_ms, {row.cold_statements for row in results}),
    ):
        print(
            f"{name}: time({last.patients})/time({first.patients}) = {ratio:.1f}x"
            f"{' (target <= 3x: on the steady state)' if name == 'steady' else ''}; statements "
            f"{'constant' if len(counts) == 1 else 'NOT constant'} in N"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="10/30/100 patients, 30-day diaries")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=15, help="timed requests per list (median)")
    parser.add_argument("--one-by-one", action="store_true", help="the list as it was: one patient at a time")
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if set(databases) - {"sqlite", "postgresql"}:
        parser.error("--databases takes sqlite and/or postgresql")
    if args.one_by_one:
        _one_by_one()
    from argon2 import PasswordHasher

    password_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    now = datetime.now(tz=UTC)
    print(
        f"Clinician list: {max(scale.sizes):,} patients with {scale.days}-day diaries; lists of "
        f"{', '.join(map(str, scale.sizes))}; {args.runs} runs; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs{'; one patient at a time (as before)' if args.one_by_one else ''}"
    )
    with tempfile.TemporaryDirectory(prefix="dosewise-clinic-") as folder:
        for name in databases:
            if name == "sqlite":
                run(
                    "SQLite (temp file)",
                    f"sqlite:///{os.path.join(folder, 'clinic.sqlite3')}",
                    scale,
                    now,
                    password_hash,
                    args,
                )
            else:
                from postgres import create_database, running_server

                with running_server() as admin:
                    url, _ = create_database(admin)
                    run("PostgreSQL (private server, fsync=off)", url, scale, now, password_hash, args)


def run(
    label: str, url: str, scale: Scale, now: datetime, password_hash: str, args: argparse.Namespace
) -> None:
    started = time.perf_counter()
    engine = build_engine(url)
    try:
        upgrade_database(engine)
        seed(engine, scale, now, password_hash, lambda line: print(f"  seeding {line}", flush=True))
    finally:
        engine.dispose()
    print(f"  seeded in {time.perf_counter() - started:.1f} s")
    print_table(label, measure(url, scale, args.runs))


if __name__ == "__main__":
    main()

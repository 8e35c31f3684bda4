"""Reminders at scale (issue 14): 10,000 patients with 4 doses a day.

1. Burst: every patient has a dose at 08:00. One worker plans and sends the 10,000 reminders
   by Web Push (real RFC 8291 encryption and VAPID) to a local push endpoint on 127.0.0.1.
   Reported: the lag from 08:00 to each push's arrival (p50, p99), messages per second, and the
   ratio against a baseline measured in the same run: the same 10,000 pushes sent by a bare
   pywebpush loop with no database (the floor a sender cannot beat).
2. An hour: the doses spread over the day (~28 a minute); the worker runs 60 simulated minutes;
   the process's resident memory is read after each minute (flat: no growth per minute).

    python benchmarks/reminders.py [--patients 10000] [--database-url URL] [--workers 1]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import insert, select

from dosewise.services.delivery import ReachSettings, load_vapid_key, web_push_sender
from dosewise.services.plans import PlanRequest, build_plan
from dosewise.store.database import build_engine, upgrade_database
from dosewise.store.models import (
    DoseSlotRow,
    PatientRow,
    PlannerCursorRow,
    PlanRow,
    PushSubscriptionRow,
    UserRow,
)
from dosewise.store.plan_codec import PlanRecord, plan_columns
from dosewise.worker.app import build_worker

DAY = date(2026, 12, 1)
SECRET = "benchmark-secret-" + "x" * 40


class Endpoint:
    """A push service on loopback that answers 201 and notes when each push arrived."""

    def __init__(self) -> None:
        arrivals = self.arrivals = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                with lock:
                    arrivals.append(time.perf_counter())
                self.send_response(201)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def browser_keys() -> tuple[str, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return encode(public), encode(os.urandom(16))


def populate(engine, patients: int, endpoint: str, minutes_of) -> None:
    """``patients`` people, each with an account, a browser subscribed, a plan and the dose
    slots of one day at the minutes ``minutes_of(i)`` gives."""
    built = build_plan(
        PlanRequest(
            kind="maintenance", start=DAY, mg_day=40, doses_per_day=4, times="08:00,12:00,16:00,20:00"
        )
    )
    record = plan_columns(PlanRecord(plan=built.plan, times=built.times, time_zone="UTC"))
    p256dh, auth = browser_keys()
    created = datetime(2026, 11, 1)
    with engine.begin() as connection:
        connection.execute(insert(UserRow), [
            {"id": i, "email": f"p{i}@example.org", "display_name": f"P{i}", "password_hash": None,
             "role": "patient", "created_at": created} for i in range(1, patients + 1)
        ])  # fmt: skip
        connection.execute(insert(PatientRow), [
            {"id": i, "name": f"P{i}", "time_zone": "UTC", "created_at": created, "user_id": i}
            for i in range(1, patients + 1)
        ])  # fmt: skip
        connection.execute(insert(PlanRow), [
            {"id": i, "patient_id": i, **record, "created_at": created, "superseded_at": None,
             "takes_over_at": datetime(2026, 12, 1), "slots_until": None} for i in range(1, patients + 1)
        ])  # fmt: skip
        connection.execute(insert(PushSubscriptionRow), [
            {"user_id": i, "endpoint": f"{endpoint}/push/{i}", "p256dh": p256dh, "auth": auth,
             "created_at": created, "failures": 0} for i in range(1, patients + 1)
        ])  # fmt: skip
        slots = []
        for i in range(1, patients + 1):
            for minute in minutes_of(i):
                due = datetime(2026, 12, 1) + timedelta(minutes=minute)
                slots.append({"plan_id": i, "patient_id": i, "due_at": due, "dose_ug": 10_000,
                              "how": "1 whole 10 mg tablet", "step_number": 1})  # fmt: skip
        for start in range(0, len(slots), 20_000):
            connection.execute(insert(DoseSlotRow), slots[start : start + 20_000])


def fresh_engine(url: str | None, folder: str, name: str):
    engine = build_engine(url or f"sqlite:///{os.path.join(folder, name)}")
    upgrade_database(engine)
    return engine


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def burst(args, folder: str, endpoint: Endpoint, reach: ReachSettings) -> dict:
    engine = fresh_engine(args.database_url, folder, "burst.sqlite3")
    populate(engine, args.patients, endpoint.url, lambda i: (8 * 60, 12 * 60, 16 * 60, 20 * 60))
    with engine.begin() as connection:  # the worker last looked at 07:59
        connection.execute(
            insert(PlannerCursorRow), [{"name": "planner", "until": datetime(2026, 12, 1, 7, 59)}]
        )
    sender = web_push_sender(load_vapid_key(reach), "mailto:bench@example.org", allow_loopback_http=True)
    now = datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC)
    workers = [
        build_worker(engine, secret_key=SECRET, reach=reach, clock=lambda: now, name=f"w{n}")
        for n in range(args.workers)
    ]
    endpoint.arrivals.clear()
    began = time.perf_counter()
    planned = workers[0].plan()
    planned_s = time.perf_counter() - began
    threads = [threading.Thread(target=worker.dispatch) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total_s = time.perf_counter() - began
    lags = [arrival - began for arrival in endpoint.arrivals]
    # the baseline: the same pushes with no database (encryption, VAPID, HTTP only)
    with engine.connect() as connection:
        targets = connection.execute(select(PushSubscriptionRow.endpoint, PushSubscriptionRow.p256dh,
                                            PushSubscriptionRow.auth)).all()  # fmt: skip
    from dosewise.services.delivery import PushTarget

    payload = json.dumps(
        {"title": "Baclofen 10 mg due at 08:00", "body": "Take 1 whole 10 mg tablet."}
    ).encode()
    endpoint.arrivals.clear()
    base_began = time.perf_counter()
    for row in targets:
        sender(PushTarget(endpoint=row[0], p256dh=row[1], auth=row[2]), payload, topic="t", urgency="normal")
    baseline_s = time.perf_counter() - base_began
    engine.dispose()
    return {
        "patients": args.patients,
        "messages_written": planned.written,
        "pushes_received": len(lags),
        "plan_s": round(planned_s, 2),
        "lag_p50_s": round(percentile(lags, 0.5), 2),
        "lag_p99_s": round(percentile(lags, 0.99), 2),
        "last_s": round(total_s, 2),
        "messages_per_s": round(len(lags) / total_s, 1),
        "baseline_s": round(baseline_s, 2),
        "baseline_per_s": round(len(targets) / baseline_s, 1),
        "ratio_vs_baseline": round(total_s / baseline_s, 2),
    }


def hour(args, folder: str, endpoint: Endpoint, reach: ReachSettings) -> dict:
    engine = fresh_engine(args.database_url, folder, "hour.sqlite3")
    populate(
        engine, args.patients, endpoint.url, lambda i: tuple((i * 7919 + k * 360) % 1440 for k in range(4))
    )
    with engine.begin() as connection:
        connection.execute(
            insert(PlannerCursorRow), [{"name": "planner", "until": datetime(2026, 12, 1, 7, 59)}]
        )
    clock = {"now": datetime(2026, 12, 1, 8, 0, tzinfo=UTC)}
    worker = build_worker(engine, secret_key=SECRET, reach=reach, clock=lambda: clock["now"], name="w")
    memory, tick_s = [], []
    for minute in range(61):
        clock["now"] = datetime(2026, 12, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=minute)
        began = time.perf_counter()
        worker.tick()
        tick_s.append(time.perf_counter() - began)
        memory.append(rss_mib())
    engine.dispose()
    return {
        "minutes": 60,
        "pushes_received": len(endpoint.arrivals),
        "tick_p50_s": round(statistics.median(tick_s), 3),
        "tick_max_s": round(max(tick_s), 3),
        "rss_after_minute_1_mib": round(memory[1], 1),
        "rss_after_minute_60_mib": round(memory[-1], 1),
        "rss_growth_minutes_10_to_60_mib": round(memory[-1] - memory[10], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument(
        "--workers", type=int, default=1, help="workers (each with its sender threads) at once"
    )
    parser.add_argument("--skip-hour", action="store_true")
    args = parser.parse_args()
    endpoint = Endpoint()
    with tempfile.TemporaryDirectory() as folder:
        reach = ReachSettings(vapid_key_path=os.path.join(folder, "vapid.pem"), allow_loopback_push=True)
        if args.database_url:
            print("note: --database-url must name an empty database; it is used twice", file=sys.stderr)
        result = {"burst": burst(args, folder, endpoint, reach)}
        print(json.dumps(result["burst"]), flush=True)
        if not args.skip_hour and not args.database_url:
            result["hour"] = hour(args, folder, endpoint, reach)
            print(json.dumps(result["hour"]), flush=True)


if __name__ == "__main__":
    main()

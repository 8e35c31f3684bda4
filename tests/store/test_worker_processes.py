"""The real `dosewise worker` process (issue 14), on SQLite and PostgreSQL, sending Web Push to a
local push service that decrypts every message:

- killed with SIGKILL at random moments over 100 runs, on a simulated clock that goes on from
  where the last run stopped: no message is lost (every due row ends sent, stale or cancelled,
  every sent one arrived, every dose has its reminder), and a person never sees one twice (a
  message repeated because the kill fell between the push service's answer and our commit
  carries the same tag, which the browser replaces; such repeats are counted and printed);
- two workers at once on one database send each message once.
"""

from __future__ import annotations

import os
import random
import select as waiting
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dosewise.services import notifications, patients, plans
from dosewise.services.delivery import LEASE, ReachSettings, load_vapid_key
from dosewise.services.plans import PlanRequest
from dosewise.store.database import build_engine, unit_of_work, upgrade_database
from dosewise.store.models import DoseSlotRow, NotificationRow, PatientRow, UserRow

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 12, 1, 5, 50, tzinfo=LONDON)
SPEED = 300.0  # five simulated minutes a second
KEY = ReachSettings()  # a VAPID key for this test process; the workers get it by setting


def _vapid_pem() -> str:
    return load_vapid_key(KEY).private_pem.decode()


def _setup(url: str, push_service, people: int) -> None:
    engine = build_engine(url)
    upgrade_database(engine)
    for n in range(people):
        patient = patients.create_patient(
            engine, name=f"P{n}", time_zone="Europe/London", now=START, actor="t"
        )
        with unit_of_work(engine) as session:
            user = UserRow(
                email=f"p{n}@example.org",
                display_name=f"P{n}",
                role="patient",
                created_at=datetime(2026, 11, 1),
            )
            session.add(user)
            session.flush()
            session.get(PatientRow, patient).user_id = user.id
            user_id = user.id
        times = ",".join(f"{(6 + n + 4 * k) % 24:02d}:{15 * (n % 4):02d}" for k in range(3))
        request = PlanRequest(kind="titration", start=START.date(), target_mg_day=30, times=times)
        built = plans.build_plan(request, today=START.date())
        plans.save_plan(
            engine, patient_id=patient, built=built, time_zone="Europe/London", now=START, actor="t"
        )
        browser = push_service.new_subscription(application_server_key=load_vapid_key(KEY).public_key)
        keys = browser["keys"]
        notifications.subscribe(
            engine, user_id=user_id, now=START, allow_loopback_http=True,
            subscription=notifications.SubscriptionInput(endpoint=browser["endpoint"], p256dh=keys["p256dh"],
                                                         auth=keys["auth"]),
        )  # fmt: skip
    engine.dispose()


def _env(url: str, tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "DOSEWISE_DATABASE_URL": url,
        "DOSEWISE_ENV": "development",  # loopback push endpoints are accepted
        "DOSEWISE_SECRET_KEY": "worker-test-secret-" + "s" * 40,
        "DOSEWISE_VAPID_PRIVATE_KEY": _vapid_pem(),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }


def _worker(
    env: dict[str, str], at: datetime, *extra: str, stdout: int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "dosewise",
        "worker",
        "--simulate-from",
        at.isoformat(),
        "--speed",
        str(SPEED),
    ]
    return subprocess.Popen([*command, *extra], env=env, stdout=stdout, stderr=subprocess.DEVNULL)


def _rows(url: str) -> list[NotificationRow]:
    engine = build_engine(url)
    with unit_of_work(engine) as session:
        found = session.scalars(select(NotificationRow).where(NotificationRow.channel == "push")).all()
        slots = session.execute(select(DoseSlotRow.id, DoseSlotRow.due_at)).all()
    engine.dispose()
    return found, slots


def test_killing_the_worker_at_random_loses_nothing_and_shows_nothing_twice(
    database_url, push_service, tmp_path
):
    _setup(database_url, push_service, people=4)
    env = _env(database_url, tmp_path)
    chance = random.Random(14)
    moment, kills = START, 0
    for _ in range(100):
        began = time.monotonic()
        process = _worker(env, moment, stdout=subprocess.PIPE)
        assert process.stdout is not None
        ready, _, _ = waiting.select([process.stdout], [], [], 60)  # started: kill it at work
        assert ready, "the worker did not start within 60 s"
        process.stdout.readline()
        time.sleep(chance.uniform(0.0, 0.8))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process.stdout.close()
        kills += process.returncode == -signal.SIGKILL
        moment += timedelta(seconds=(time.monotonic() - began) * SPEED)
    # the last sweep once any lease a killed worker held has run out (two real minutes, at the
    # simulated speed), as the next worker to start would do
    moment += LEASE * SPEED + timedelta(minutes=1)
    final = subprocess.run(
        [sys.executable, "-m", "dosewise", "worker", "--simulate-from", moment.isoformat(), "--once"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert final.returncode == 0, final.stderr
    rows, slots = _rows(database_url)
    end_utc = moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    # nothing lost: every message due is settled, every one marked sent arrived
    open_rows = [r for r in rows if r.status in ("pending", "sending") and r.due_at <= end_utc]
    assert not open_rows, [(r.key, r.status, r.due_at) for r in open_rows]
    delivered = Counter(d.json["tag"] for d in push_service.deliveries)
    sent = {r.key.removesuffix(":push") for r in rows if r.status == "sent"}
    assert sent <= set(delivered), sorted(sent - set(delivered))[:5]
    assert set(delivered) <= {r.key.removesuffix(":push") for r in rows}  # nothing made up
    # every dose due in the hours simulated has its reminder (planned once, whatever the kills)
    reminded = {r.key.split(":")[1] for r in rows if r.kind == "dose_reminder"}
    start_utc = START.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    due = {f"s{slot_id}" for slot_id, due_at in slots if start_utc < due_at <= end_utc - timedelta(minutes=1)}
    assert due and due <= reminded, sorted(due - reminded)
    # nothing shown twice: a repeat carries the same tag (the browser replaces the first) and
    # is a message whose send a kill interrupted
    repeated = {tag for tag, count in delivered.items() if count > 1}
    attempts = {r.key.removesuffix(":push"): r.attempts for r in rows}
    assert all(attempts[tag] >= 2 for tag in repeated)
    stale = sum(r.status == "stale" for r in rows)
    print(f"\n{kills} kills over {moment - START} simulated: {len(push_service.deliveries)} pushes, "
          f"{len(sent)} messages sent, {len(repeated)} repeated by a kill, {stale} stale")  # fmt: skip
    assert kills >= 90


def test_two_workers_at_once_send_each_message_once(database_url, push_service, tmp_path):
    _setup(database_url, push_service, people=3)
    engine = build_engine(database_url)
    with unit_of_work(engine) as session:  # 400 alerts due at once, for the three people
        users = session.scalars(select(UserRow.id)).all()
        session.add_all(
            NotificationRow(
                key=f"supply:test{n}:u{users[n % 3]}:push",
                user_id=users[n % 3],
                patient_id=None,
                channel="push",
                kind="supply",
                level="warning",
                title=f"Alert {n}",
                body="b",
                url="/",
                payload="{}",
                due_at=datetime(2026, 12, 1, 5, 0),
                stale_at=None,
                status="pending",
                attempts=0,
                created_at=datetime(2026, 12, 1, 5, 0),
            )
            for n in range(400)
        )
    engine.dispose()
    env = _env(database_url, tmp_path)
    workers = [_worker(env, START, "--name", f"w{n}") for n in (1, 2)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and sum(_supply(push_service).values()) < 400:
            time.sleep(0.2)
        time.sleep(1)  # a repeat, if any, would arrive now
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    tags = _supply(push_service)
    assert len(tags) == 400 and max(tags.values()) == 1
    rows, _ = _rows(database_url)
    by_worker = Counter(r.worker for r in rows if r.kind == "supply")
    # who took how many depends on which started first (batches of 100); none went twice
    assert set(by_worker) <= {"w1", "w2"} and sum(by_worker.values()) == 400
    print(f"\nsent by each worker: {dict(by_worker)}")


def _supply(push_service) -> Counter[str]:
    return Counter(d.json["tag"] for d in push_service.deliveries if d.json["kind"] == "supply")

"""Web load: signed-in patients opening Today and recording doses (issue 6).

Run: .venv/bin/python benchmarks/web_load.py [--clients 50] [--requests 40] [--quick]
     [--databases sqlite,postgresql] [--sqlite-workers 1,2] [--pg-workers 2] [--pg-fsync on]

A bounded load on the loopback interface against the real app in a uvicorn subprocess
(`uvicorn --factory dosewise.web.app:app_from_environment --workers N`, DOSEWISE_ENV=production):
- SQLite in a temporary file: 1 worker (the set-up SQLite is for), and 2 workers as well;
- PostgreSQL on a private server started for this run (as `postgres` when run as root, fsync
  on like SQLite's synchronous=FULL), 2 workers; the schema is made before the workers start.
Untimed: the patients' accounts are made through the services (argon2 at the app's cost), each
with a 5 mg three-times-daily maintenance plan that started days ago; every client signs in
through the API (one argon2 verify each) and opens Today once.
Timed, all clients at once, each signed in as its own patient on its own keep-alive connection:
- the ceiling: the same app's trivial GET /health, the same number of requests;
- the load: GET /api/patients/{id}/today, then POST a dose as taken (a distinct slot that was
  due in the past), repeated until the client has made its share of the requests.
Reports throughput (requests/s), p50/p99 latency, the ratio of the load's throughput to the
ceiling's, the CPU time the app and its database server spent per request, and the cores busy
on average: the app (uvicorn and its workers), PostgreSQL, this load generator (it shares the
machine), and anything else running meanwhile.
Every response must be 2xx and every dose POST must answer created=true; afterwards the
dose_events rows are counted with SQLAlchemy and every recorded slot must be there. Any failure
is printed and makes the exit status 1. Last, the SQL statements of one GET today and one dose
POST are counted in-process on the same database (SQLAlchemy's before_cursor_execute; SQLite's
BEGIN is one of them, PostgreSQL's is not sent as a statement).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select

from dosewise.services import auth, plans
from dosewise.services.plans import PlanRequest, build_plan
from dosewise.store.database import build_engine, unit_of_work, upgrade_database
from dosewise.store.models import DoseEventRow, DoseSlotRow, PatientRow, PlanRow
from dosewise.web.settings import Argon2Cost

UVICORN = Path(sys.executable).with_name("uvicorn")
APP = "dosewise.web.app:app_from_environment"
PASSWORD = "load-benchmark-password"  # a throwaway account in a throwaway database
ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
MG_DAY, DOSES_PER_DAY = 15, 3  # maintenance 5 mg three times a day
SIGN_IN_AT_ONCE = 4  # argon2 takes 64 MiB and 4 lanes per verify: no need to queue 50 of them
READY_TIMEOUT_S = 60
SHOWN_FAILURES = 10


class LoadFailed(Exception):
    """The run cannot go on (a server that does not start, a sign-in refused...)."""


@dataclass(frozen=True, slots=True)
class Account:
    email: str
    patient_id: int
    slots: tuple[int, ...]  # due in the past, oldest first: one per dose POST


@dataclass(slots=True)
class Outcome:
    """One timed scenario."""

    wall_s: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)  # by request kind
    failures: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)  # slots a POST answered created=true for
    server_cpu_s: float = 0.0  # uvicorn and its workers
    client_cpu_s: float = 0.0  # this process
    database_cpu_s: float = 0.0  # the PostgreSQL server (SQLite runs inside the workers)
    machine_cpu_s: float = 0.0  # every process on the machine, other users' too
    connections: int | None = None  # PostgreSQL sessions opened meanwhile

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values()) + len(self.failures)


# --- databases and seeding ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def private_postgres(fsync: bool) -> Iterator[tuple[str, int]]:
    """A private PostgreSQL server on a free loopback port (as `postgres` when run as root), the
    way tests/postgres.py starts one; yields its URL and the postmaster's pid. Unlike the tests'
    server it keeps fsync on by default: SQLite runs with synchronous=FULL, so both make every
    commit durable."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise LoadFailed("PostgreSQL server binaries are missing: apt-get install postgresql")
    folder = tempfile.mkdtemp(prefix="dosewise-load-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = os.path.join(folder, "data"), _free_port()
    pg_ctl = os.path.join(found[-1], "pg_ctl")
    try:
        subprocess.run(
            _as_server_user([os.path.join(found[-1], "initdb"), "-D", data, "-U", "app", "-A", "trust",
                             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' " + (
            "-c fsync=on" if fsync else "-c fsync=off"
        )
        started = subprocess.run(
            _as_server_user([pg_ctl, "-D", data, "-l", os.path.join(folder, "server.log"), "-w", "-t", "30",
                             "-o", options, "start"]),
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if started.returncode != 0:  # e.g. the port was taken meanwhile: never use another server
            raise LoadFailed(f"PostgreSQL did not start: {started.stdout}{started.stderr}")
        postmaster = int(Path(data, "postmaster.pid").read_text().split()[0])
        yield f"postgresql+psycopg://app@127.0.0.1:{port}/postgres", postmaster
    finally:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(_as_server_user([pg_ctl, "-D", data, "-m", "fast", "stop"]), capture_output=True,
                           check=False)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(slots=True)
class DatabaseServer:
    """What is watched of a PostgreSQL server during a scenario: CPU and sessions opened."""

    admin_url: str
    pid: int
    engine: Engine | None = None

    def cpu_seconds(self) -> float:
        return _tree_cpu_seconds(self.pid)

    def sessions(self) -> int:
        """Sessions ever opened on the server (this probe keeps its one connection)."""
        from sqlalchemy import create_engine, text

        if self.engine is None:
            self.engine = create_engine(self.admin_url, pool_size=1, isolation_level="AUTOCOMMIT")
        with self.engine.connect() as connection:
            return int(connection.execute(text("SELECT sum(sessions) FROM pg_stat_database")).scalar() or 0)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def _new_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def seed(url: str, clients: int, doses_each: int) -> list[Account]:
    """Create the schema, then `clients` patients with a maintenance plan and past doses."""
    engine = build_engine(url)
    try:
        upgrade_database(engine)  # before any worker starts: two workers must not both migrate
        cost = Argon2Cost()  # the app's default cost, so signing in needs no rehash
        hasher = PasswordHasher(
            time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
        )
        now = datetime.now(tz=UTC)
        days_back = -(-doses_each // DOSES_PER_DAY) + 1  # enough doses already due, whatever the zone
        seeded = []
        for number in range(clients):
            zone_name = ZONES[number % len(ZONES)]
            zone = ZoneInfo(zone_name)
            email = f"load{number}@example.org"
            user_id = auth.sign_up(engine, hasher, email=email, password=PASSWORD,
                                       display_name=f"Load Patient {number}", role="patient",
                                       time_zone=zone_name, now=now)  # fmt: skip
            with unit_of_work(engine) as session:
                patient_id = session.scalar(select(PatientRow.id).where(PatientRow.user_id == user_id))
            if patient_id is None:
                raise LoadFailed(f"sign_up made no patient for {email}")
            start = now.astimezone(zone).date() - timedelta(days=days_back)
            built = build_plan(
                PlanRequest(kind="maintenance", mg_day=MG_DAY, doses_per_day=DOSES_PER_DAY, start=start)
            )
            entered = datetime.combine(start, datetime.min.time(), zone)  # before its first dose
            plans.start_plan(engine, patient_id=patient_id, plan=built.plan,
                             times=built.times, zone=zone, now=entered, actor=f"user:{user_id}")  # fmt: skip
            with unit_of_work(engine) as session:
                slots = tuple(
                    session.scalars(
                        select(DoseSlotRow.id)
                        .join(PlanRow, PlanRow.id == DoseSlotRow.plan_id)
                        .where(
                            PlanRow.patient_id == patient_id,
                            DoseSlotRow.due_at < now.replace(tzinfo=None),  # stored as naive UTC
                        )
                        .order_by(DoseSlotRow.due_at)
                        .limit(doses_each)
                    )
                )
            if len(slots) < doses_each:
                raise LoadFailed(f"patient {patient_id} has {len(slots)} past doses, {doses_each} needed")
            seeded.append(Account(email=email, patient_id=patient_id, slots=slots))
        return seeded
    finally:
        engine.dispose()


def check_doses(url: str, created: list[int]) -> tuple[int, int, list[str]]:
    """(rows in dose_events, recorded slots found, problems), read with SQLAlchemy directly."""
    engine = build_engine(url)
    try:
        with unit_of_work(engine) as session:
            rows = session.scalar(select(func.count()).select_from(DoseEventRow)) or 0
            found = set(
                session.scalars(select(DoseEventRow.slot_id).where(DoseEventRow.slot_id.in_(created)))
            )
    finally:
        engine.dispose()
    problems = []
    if rows != len(created):
        problems.append(f"dose_events has {rows} rows, but {len(created)} POSTs answered created=true")
    missing = sorted(set(created) - found)
    if missing:
        problems.append(f"{len(missing)} recorded slots are not in dose_events, e.g. {missing[:10]}")
    return rows, len(found), problems


def count_statements(url: str, account: Account) -> tuple[int, int]:
    """The SQL statements one GET today and one POST dose send (session lookup and access check
    included), counted with SQLAlchemy's before_cursor_execute in an in-process app on the same
    database; the dose is the account's spare slot, after the load was checked."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from dosewise.web.app import create_app
    from dosewise.web.settings import Settings

    settings = Settings(database_url=url, secret_key=secrets.token_urlsafe(36), environment="test",
                        secure_cookies=False, argon2=Argon2Cost())  # fmt: skip
    app = create_app(settings)
    engine: Engine = app.state.context.engine
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    counts = []
    with TestClient(app) as client:
        signed_in = client.post("/api/session", json={"email": account.email, "password": PASSWORD})
        signed_in.raise_for_status()
        client.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
        today = f"/api/patients/{account.patient_id}/today"
        client.get(today).raise_for_status()  # the first request may touch the session
        for method, path, body in (
            ("GET", today, None),
            ("POST", f"/api/patients/{account.patient_id}/doses/{account.slots[-1]}", {"status": "taken"}),
        ):
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                client.request(method, path, json=body).raise_for_status()
            finally:
                event.remove(engine, "before_cursor_execute", count)
            counts.append(len(statements))
    return counts[0], counts[1]


# --- the server ---------------------------------------------------------------------------------


def _machine_cpu_seconds() -> float:
    """CPU time every core spent busy since boot (/proc/stat: all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its live descendants, with the children they reaped (from /proc):
    PostgreSQL's backends for connections that were closed count too."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
    return total


@contextlib.contextmanager
def uvicorn_server(url: str, workers: int, folder: str) -> Iterator[tuple[str, int, Path]]:
    """A uvicorn subprocess serving the app on a free loopback port: (base URL, pid, its log)."""
    port = _free_port()
    env = {
        **os.environ,
        "DOSEWISE_ENV": "production",
        "DOSEWISE_SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "DOSEWISE_SECURE_COOKIES": "0",  # plain http on 127.0.0.1
        "DOSEWISE_DATABASE_URL": url,
    }
    command = [str(UVICORN), "--factory", APP, "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--no-proxy-headers", "--no-server-header"]  # fmt: skip
    log_path = Path(folder) / f"uvicorn-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process, log_path, workers)
        yield base, process.pid, log_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # uvicorn stops its workers
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # the group this run started
                process.wait()


def server_errors(log_path: Path, lines: int = 60) -> str:
    """The end of the server's log without its access lines: tracebacks and warnings."""
    kept = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if not (line.startswith("INFO:") and ' - "' in line)
    ]
    return "\n".join(kept[-lines:])


def _wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path, workers: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LoadFailed(f"uvicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        started = log_path.read_text(errors="replace").count("Application startup complete")
        if started >= workers:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    return
        time.sleep(0.1)
    raise LoadFailed(f"uvicorn not ready after {READY_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")


# --- clients ------------------------------------------------------------------------------------

Step = tuple[str, str, str, int | None]  # kind, method, path, slot id (POST dose)


async def sign_in_all(base: str, seeded: list[Account]) -> list[httpx.AsyncClient]:
    """One signed-in client per account (its own cookie jar, connection and CSRF token).

    All sign in first (a few at a time), then all open Today once, together, just before the
    timed part: a connection left idle longer than uvicorn's keep-alive (5 s) would be closed
    by the server while a request is being sent on it, a failure of the client's making."""
    gate = asyncio.Semaphore(SIGN_IN_AT_ONCE)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def sign_in(account: Account, client: httpx.AsyncClient) -> None:
        async with gate:
            response = await client.post("/api/session", json={"email": account.email, "password": PASSWORD})
        if response.status_code != 200:
            raise LoadFailed(f"sign-in of {account.email}: HTTP {response.status_code} {response.text[:300]}")
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]

    async def warm_up(account: Account, client: httpx.AsyncClient) -> None:
        path = f"/api/patients/{account.patient_id}/today"
        try:
            response = await client.get(path)
        except httpx.RemoteProtocolError:  # idle past the keep-alive while the others signed in
            response = await client.get(path)  # (a GET: safe to send again, on a new connection)
        if response.status_code != 200:
            raise LoadFailed(f"Today of {account.email}: HTTP {response.status_code} {response.text[:300]}")

    clients = [httpx.AsyncClient(base_url=base, timeout=120, limits=limits) for _ in seeded]
    for step in (sign_in, warm_up):
        pairs = zip(seeded, clients, strict=True)
        results = await asyncio.gather(*(step(a, c) for a, c in pairs), return_exceptions=True)
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            await asyncio.gather(*(client.aclose() for client in clients))
            raise errors[0]
    return clients


def trivial_steps(requests: int) -> list[Step]:
    return [("GET /health", "GET", "/health", None)] * requests


def load_steps(account: Account, requests: int) -> list[Step]:
    steps: list[Step] = []
    for number in range(requests // 2):
        steps.append(("GET today", "GET", f"/api/patients/{account.patient_id}/today", None))
        slot = account.slots[number]
        steps.append(("POST dose", "POST", f"/api/patients/{account.patient_id}/doses/{slot}", slot))
    return steps


async def run_scenario(
    clients: list[httpx.AsyncClient],
    plans: list[list[Step]],
    server_pid: int,
    database: DatabaseServer | None,
) -> Outcome:
    outcome = Outcome()

    async def run_client(client: httpx.AsyncClient, steps: list[Step]) -> None:
        for kind, method, path, slot in steps:
            body = {"status": "taken"} if method == "POST" else None
            started = time.perf_counter()
            try:
                response = await client.request(method, path, json=body)
            except httpx.HTTPError as error:
                outcome.failures.append(f"{method} {path}: {type(error).__name__} {error}")
                continue
            elapsed = time.perf_counter() - started
            if not 200 <= response.status_code < 300:
                outcome.failures.append(f"{method} {path}: HTTP {response.status_code} {response.text[:200]}")
                continue
            outcome.latencies.setdefault(kind, []).append(elapsed)
            if slot is not None:
                answer = response.json()
                if answer.get("created") is True and answer.get("slot_id") == slot:
                    outcome.created.append(slot)
                else:
                    outcome.failures.append(f"{method} {path}: not created: {answer}")

    def database_cpu() -> float:
        return database.cpu_seconds() if database is not None else 0.0

    sessions_before = database.sessions() if database is not None else 0
    server_before, client_before = _tree_cpu_seconds(server_pid), time.process_time()
    database_before, machine_before = database_cpu(), _machine_cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(run_client(client, steps) for client, steps in zip(clients, plans, strict=True)))
    outcome.wall_s = time.perf_counter() - started
    outcome.server_cpu_s = _tree_cpu_seconds(server_pid) - server_before
    outcome.client_cpu_s = time.process_time() - client_before
    outcome.database_cpu_s = database_cpu() - database_before
    outcome.machine_cpu_s = _machine_cpu_seconds() - machine_before
    if database is not None:
        outcome.connections = database.sessions() - sessions_before
    return outcome


async def measure(
    base: str, server_pid: int, database: DatabaseServer | None, seeded: list[Account], requests: int
) -> dict[str, Outcome]:
    clients = await sign_in_all(base, seeded)
    try:
        trivial = await run_scenario(clients, [trivial_steps(requests)] * len(clients), server_pid, database)
        load = await run_scenario(clients, [load_steps(a, requests) for a in seeded], server_pid, database)
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return {"trivial": trivial, "load": load}


# --- reporting ----------------------------------------------------------------------------------


def _percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    if len(values) == 1:
        return values[0] * 1000, values[0] * 1000
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values) * 1000, cuts[98] * 1000


HEADER = (
    f"{'scenario':26} {'workers':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'ratio':>6}  {'CPU ms/req':>10}  {'cores: app':>10} {'db':>5} {'client':>6} {'other':>6}"
)


def _row(name: str, workers: int, outcome: Outcome, ceiling: float | None) -> str:
    values = [v for kind_values in outcome.latencies.values() for v in kind_values]
    p50, p99 = _percentiles(values)
    rate = outcome.requests / outcome.wall_s
    ratio = f"{rate / ceiling:5.2f}x" if ceiling else "  1.00x"
    per_request = (outcome.server_cpu_s + outcome.database_cpu_s) * 1000 / outcome.requests
    return (
        f"{name:26} {workers:7d} {outcome.requests:8d} {rate:8.1f} {p50:8.1f} {p99:8.1f} {ratio:>6}  "
        f"{per_request:10.2f}  {_cores(outcome, 'server'):10.2f} {_cores(outcome, 'database'):5.2f} "
        f"{_cores(outcome, 'client'):6.2f} {_cores(outcome, 'other'):6.2f}"
    )


def _cores(outcome: Outcome, who: str) -> float:
    """Cores busy on average during the scenario: CPU seconds / wall seconds."""
    ours = outcome.server_cpu_s + outcome.database_cpu_s + outcome.client_cpu_s
    seconds = {
        "server": outcome.server_cpu_s,
        "database": outcome.database_cpu_s,
        "client": outcome.client_cpu_s,
        "other": max(outcome.machine_cpu_s - ours, 0.0),
    }[who]
    return seconds / outcome.wall_s


def _part(kind: str, workers: int, outcome: Outcome) -> str:
    values = outcome.latencies.get(kind, [])
    p50, p99 = _percentiles(values)
    return f"{'  of which ' + kind:26} {workers:7d} {len(values):8d} {'':>8} {p50:8.1f} {p99:8.1f}"


def run_configuration(
    label: str,
    url: str,
    workers: int,
    clients: int,
    requests: int,
    folder: str,
    database: DatabaseServer | None,
) -> list[str]:
    """Seed, serve, load, check; print the table; returns the problems found."""
    print(f"\n{label}, {workers} worker{'s' if workers > 1 else ''}: {clients} clients x {requests} "
          f"requests = {clients * requests} requests per scenario")  # fmt: skip
    busy_before = _machine_cpu_seconds()
    time.sleep(1)
    others = _machine_cpu_seconds() - busy_before  # other work on the machine, before this run
    started = time.perf_counter()
    seeded = seed(url, clients, requests // 2 + 1)  # one spare slot each: counted below
    seeded_s = time.perf_counter() - started
    with uvicorn_server(url, workers, folder) as (base, pid, log_path):
        started = time.perf_counter()
        try:
            outcomes = asyncio.run(measure(base, pid, database, seeded, requests))
        except LoadFailed as error:
            raise LoadFailed(f"{error}\nserver log:\n{server_errors(log_path)}") from None
        signed_in_s = time.perf_counter() - started - sum(o.wall_s for o in outcomes.values())
        failed = any(outcome.failures for outcome in outcomes.values())
        log_excerpt = server_errors(log_path) if failed else ""
    trivial, load = outcomes["trivial"], outcomes["load"]
    ceiling = trivial.requests / trivial.wall_s
    print(f"untimed: seeding {seeded_s:.1f} s, signing in + warm-up {signed_in_s:.1f} s; "
          f"{others:.2f} cores busy with other work just before")  # fmt: skip
    print(HEADER)
    print(_row("/health (trivial ceiling)", workers, trivial, None))
    print(_row("Today + doses", workers, load, ceiling))
    for kind in ("GET today", "POST dose"):
        print(_part(kind, workers, load))
    if trivial.connections is not None and load.connections is not None:
        per_request = load.connections / load.requests
        print(f"PostgreSQL sessions opened while timing: {trivial.connections} for /health, "
              f"{load.connections} for Today + doses ({per_request:.2f} per request)")  # fmt: skip
    problems = []
    for name, outcome in outcomes.items():
        if outcome.failures:
            problems.append(f"{label} {workers}w {name}: {len(outcome.failures)} failed requests")
            for failure in outcome.failures[:SHOWN_FAILURES]:
                print(f"  FAILED {failure}")
    if log_excerpt:
        print(f"server log (without access lines), last lines:\n{log_excerpt}")
    expected = len(seeded) * (requests // 2)
    rows, found, missing = check_doses(url, load.created)
    print(f"doses recorded: {found}/{len(load.created)} in the database ({rows} dose_events rows; "
          f"{len(load.created)}/{expected} POSTs answered created=true)")  # fmt: skip
    problems.extend(f"{label} {workers}w: {problem}" for problem in missing)
    today_count, dose_count = count_statements(url, seeded[0])
    print(f"statements per request (counted in-process on this database, SQLite's BEGIN included): "
          f"GET today {today_count}, POST dose {dose_count}")  # fmt: skip
    if len(load.created) != expected and not load.failures:
        problems.append(f"{label} {workers}w: {len(load.created)} doses created, {expected} expected")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent signed-in clients")
    parser.add_argument("--requests", type=int, default=40, help="requests per client (even)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 clients x 6 requests")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sqlite-workers", default="1,2", help="uvicorn workers for SQLite runs")
    parser.add_argument("--pg-workers", default="2", help="uvicorn workers for PostgreSQL runs")
    parser.add_argument("--pg-fsync", choices=("on", "off"), default="on", help="PostgreSQL's fsync")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.requests = 10, 6
    if args.requests < 2 or args.requests % 2:
        parser.error("--requests is an even number: GET today and POST a dose, repeated")
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    if set(databases) - {"sqlite", "postgresql"}:
        parser.error("--databases takes sqlite and/or postgresql")
    sqlite_workers = [int(n) for n in args.sqlite_workers.split(",")]
    pg_workers = [int(n) for n in args.pg_workers.split(",")]

    print(f"Web load: {args.clients} concurrent clients, {args.requests} requests each, loopback, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")  # fmt: skip
    problems: list[str] = []
    folder = tempfile.mkdtemp(prefix="dosewise-load-")
    try:
        with contextlib.ExitStack() as stack:
            if "sqlite" in databases:
                for number, workers in enumerate(sqlite_workers):
                    url = f"sqlite:///{os.path.join(folder, f'load-{number}.sqlite3')}"
                    label = "SQLite (temp file, WAL, synchronous=FULL)"
                    problems += run_configuration(label, url, workers, args.clients, args.requests, folder,
                                                  None)  # fmt: skip
            if "postgresql" in databases:
                admin, postmaster = stack.enter_context(private_postgres(fsync=args.pg_fsync == "on"))
                database = DatabaseServer(admin_url=admin, pid=postmaster)
                stack.callback(database.close)
                for number, workers in enumerate(pg_workers):
                    url = _new_database(admin, f"load_{number}")
                    label = f"PostgreSQL (private server, fsync={args.pg_fsync})"
                    problems += run_configuration(label, url, workers, args.clients, args.requests, folder,
                                                  database)  # fmt: skip
    except LoadFailed as error:
        problems.append(f"the run stopped: {error}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if problems:
        print("\nFAILED:")
        for problem in problems:
            print(f"- {problem}")
        raise SystemExit(1)
    print("\nOK: every request answered 2xx and every recorded dose is in the database.")


if __name__ == "__main__":
    main()

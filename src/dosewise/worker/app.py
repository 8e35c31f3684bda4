"""The worker's composition root: build it from settings, run it on a schedule."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from dosewise.services.delivery import (
    LEASE,
    DispatchRun,
    ReachSettings,
    Senders,
    dispatch,
    load_vapid_key,
    smtp_sender,
    web_push_sender,
)
from dosewise.services.notification_actions import action_signer
from dosewise.services.plans import keep_all_slots_ahead
from dosewise.services.reminders import PlanRun, plan_messages, plan_supply_alerts
from dosewise.store.database import build_engine

log = logging.getLogger("dosewise.worker")
PLAN_EVERY = timedelta(seconds=20)  # settings: a reminder goes out within ~half a minute
DISPATCH_EVERY = timedelta(seconds=5)
SENDER_THREADS = 8  # pushes in flight at once per worker process (network waits overlap)
MAX_BATCHES_PER_TICK = 200  # one dispatch tick sends at most this many batches, then yields


def real_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Totals:
    planned: int = 0
    sent: dict[str, int] = field(default_factory=dict)


class Worker:
    """Plans and dispatches; each step is one short transaction, safe to kill at any moment."""

    def __init__(
        self,
        engine: Engine,
        senders: Senders,
        *,
        clock: Callable[[], datetime],
        name: str,
        lease: timedelta = LEASE,
    ) -> None:
        self.lease = lease
        self.engine = engine
        # the dispatcher's marks: safe against a killed process, no fsync per message
        self.outbox = build_engine(engine.url.render_as_string(hide_password=False), crash_durable_only=True)
        self.senders = senders
        self.clock = clock
        self.name = name
        self.totals = Totals()
        self._lock = threading.Lock()

    def plan(self) -> PlanRun:
        now = self.clock()
        keep_all_slots_ahead(self.engine, now=now)  # open-ended plans keep their slots ahead
        run = plan_messages(self.engine, now=now)
        run.written += plan_supply_alerts(self.engine, now=now)
        self.totals.planned += run.written
        return run

    def dispatch(self) -> list[DispatchRun]:
        runs = []
        with self._lock:  # one dispatch at a time per process (the database guards across)
            for _ in range(MAX_BATCHES_PER_TICK):
                run = dispatch(
                    self.outbox,
                    now=self.clock(),
                    worker=self.name,
                    senders=self.senders,
                    lease=self.lease,
                    clock=self.clock,
                )
                runs.append(run)
                for outcome, count in run.outcomes.items():
                    self.totals.sent[outcome] = self.totals.sent.get(outcome, 0) + count
                if run.claimed == 0:
                    break
        return runs

    def tick(self) -> tuple[PlanRun, list[DispatchRun]]:
        """Plan, then send what is due: what a scheduled run does, in one call (tests, --once)."""
        return self.plan(), self.dispatch()


def connect(database_url: str) -> Engine:
    """The database, brought to the newest schema (as the web app does at start)."""
    from dosewise.store.database import build_engine, ensure_schema

    engine = build_engine(database_url)
    ensure_schema(engine)
    return engine


def build_worker(
    engine: Engine,
    *,
    secret_key: str,
    reach: ReachSettings,
    clock: Callable[[], datetime] | None = None,
    name: str | None = None,
    speed: float = 1.0,
) -> Worker:
    senders = Senders(
        push=web_push_sender(
            load_vapid_key(reach), reach.push_contact, allow_loopback_http=reach.allow_loopback_push
        ),
        email=smtp_sender(reach.smtp) if reach.smtp is not None else None,
        email_from=reach.smtp.sender if reach.smtp is not None else "",
        base_url=reach.base_url,
        action_token=action_signer(secret_key),
        threads=SENDER_THREADS,
    )
    return Worker(
        engine,
        senders,
        clock=clock or real_clock,
        name=name or f"{socket.gethostname()}:{os.getpid()}",
        lease=LEASE * speed,  # a simulated clock: the lease stays two real minutes
    )


def schedule(worker: Worker, scheduler: Any, *, speed: float = 1.0) -> Any:
    """The two jobs on an APScheduler scheduler: coalesced, one instance each (a slow run is
    never stacked), no misfire limit (a late run still runs once). On a simulated clock
    running ``speed`` times faster, the intervals shrink with it (not below 0.2 s)."""
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    plan_s = max(0.2, PLAN_EVERY.total_seconds() / speed)
    dispatch_s = max(0.2, DISPATCH_EVERY.total_seconds() / speed)
    scheduler.add_job(_safe(worker.plan), "interval", seconds=plan_s, id="plan", **common)
    scheduler.add_job(_safe(worker.dispatch), "interval", seconds=dispatch_s, id="dispatch", **common)
    return scheduler


def _safe(job: Callable[[], Any]) -> Callable[[], None]:
    """A failing run is logged and tried again next time (the database may be restarting)."""

    def run() -> None:
        try:
            job()
        except Exception:  # the next tick retries; a worker must not die of one bad run
            log.exception("worker run failed; trying again at the next tick")

    return run


def run_forever(worker: Worker, *, speed: float = 1.0) -> None:
    """``dosewise worker``: block, planning and sending, until SIGTERM or Ctrl-C."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = schedule(worker, BlockingScheduler(timezone=UTC), speed=speed)
    worker.tick()  # at once, not after the first interval
    scheduler.start()


def start_in_background(worker: Worker) -> Any:
    """The web app's own worker (``make run``): a background scheduler, stopped at shutdown."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = schedule(worker, BackgroundScheduler(timezone=UTC, daemon=True))
    scheduler.start()
    return scheduler

"""``dosewise worker``: plan and send reminders and alerts (the web app's database).

The same worker the web app runs in its own process under ``make run``; run it on its own when
the app runs with ``DOSEWISE_WORKER=off`` (several web workers, or another host). Reads the web
app's settings: DOSEWISE_DATABASE_URL, DOSEWISE_SECRET_KEY, DOSEWISE_SMTP_*, DOSEWISE_VAPID_*.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dosewise.cli.options import add_command, add_json, print_json
from dosewise.errors import InputError

if TYPE_CHECKING:
    from dosewise.cli.settings import Settings


def add_commands(commands: Any) -> None:
    worker = add_command(
        commands, "worker", help="send dose reminders and alerts (the web app's database)",
        description="Plans what is due (dose reminders, follow-ups, the heads-up before a dose change, "
        "withdrawal-risk alerts, review dates) and sends it by Web Push, email and the in-app list. "
        "Safe to run several at once on PostgreSQL, and to stop at any moment.",
    )  # fmt: skip
    worker.add_argument("--once", action="store_true", help="plan and send what is due now, then stop")
    worker.add_argument(
        "--database-url", help="the database (default: DOSEWISE_DATABASE_URL or the web app's)"
    )
    worker.add_argument("--name", help="this worker's name in the outbox (default: host:pid)")
    worker.add_argument(
        "--simulate-from", metavar="ISO_TIME",
        help="a simulated clock starting at this time with a UTC offset (tests and demonstrations)",
    )  # fmt: skip
    worker.add_argument("--speed", type=float, default=1.0, help="the simulated clock's speed (default 1)")
    add_json(worker)
    worker.set_defaults(run=run_worker)


def _clock(args: argparse.Namespace) -> Callable[[], datetime] | None:
    if args.simulate_from is None:
        return None
    try:
        start = datetime.fromisoformat(args.simulate_from)
    except ValueError:
        raise InputError(
            f"--simulate-from {args.simulate_from!r} must be an ISO time, e.g. 2026-12-01T08:00+00:00"
        ) from None
    if start.tzinfo is None:
        raise InputError("--simulate-from needs a UTC offset, e.g. 2026-12-01T08:00+00:00")
    if not 0 < args.speed <= 10_000:
        raise InputError("--speed must be above 0 and at most 10000")
    began = datetime.now(UTC)
    return lambda: start + (datetime.now(UTC) - began) * args.speed


def run_worker(args: argparse.Namespace, settings: Settings) -> None:
    from dataclasses import replace

    from dosewise.web.settings import Settings as WebSettings
    from dosewise.worker.app import build_worker, connect, run_forever

    web = WebSettings.from_environment()
    if args.database_url:
        web = replace(web, database_url=args.database_url)
    engine = connect(web.database_url)
    speed = args.speed if args.simulate_from else 1.0
    worker = build_worker(
        engine, secret_key=web.secret_key, reach=web.reach, clock=_clock(args), name=args.name, speed=speed
    )
    if not args.once:
        print(
            f"dosewise worker {worker.name}: planning every 20 s, sending every 5 s (Ctrl-C stops)",
            flush=True,
        )
        run_forever(worker, speed=speed)
        return
    planned, dispatched = worker.tick()
    outcomes: dict[str, int] = {}
    for run in dispatched:
        for outcome, count in run.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    if args.as_json:
        print_json({"planned": planned.written, "by_kind": dict(planned.by_kind), "outcomes": outcomes})
        return
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(planned.by_kind.items())) or "nothing due"
    sent = ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items())) or "nothing to send"
    print(f"planned {planned.written} messages ({kinds}); {sent}")

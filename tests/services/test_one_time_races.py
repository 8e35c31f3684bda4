"""One-time actions under a crowd (issue 15, point 2): clients released together by a barrier,
each on its own connection, on SQLite and PostgreSQL. An invitation code lets exactly one
person in; parallel guesses check no more passwords than the sign-in limit allows."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from dosewise.errors import Conflict, InputError
from dosewise.services import access, auth
from dosewise.services.auth import CurrentUser, SessionPolicy, SignInLimits, TooManyAttempts
from dosewise.store.models import AccessGrantRow, AuditRow

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


class CountingHasher(PasswordHasher):
    """argon2id at test cost that counts the passwords it checks (from any thread)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.checked = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.checked += 1
        return super().verify(hash, password)


def run_together(count: int, action: Callable[[int], Any]) -> list[Any]:
    """``action(i)`` in ``count`` threads released at once; each result or the exception raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as error:  # the test counts the refusals
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def signed_in(engine: Any, hasher: PasswordHasher, email: str, role: str) -> CurrentUser:
    auth.sign_up(
        engine,
        hasher,
        email=email,
        password=PASSWORD,
        display_name=email.split("@", maxsplit=1)[0],
        role=role,
        time_zone="Europe/London",
        now=NOW,
    )
    new = auth.sign_in(
        engine,
        hasher,
        email=email,
        password=PASSWORD,
        client="192.0.2.1",
        now=NOW,
        limits=SignInLimits(),
        policy=SessionPolicy(),
    )
    user = auth.session_user(engine, token=new.token, now=NOW, policy=SessionPolicy())
    assert user is not None
    return user


def test_an_invitation_code_lets_exactly_one_of_20_people_in(engine: Any) -> None:
    hasher = CountingHasher()
    owner = signed_in(engine, hasher, "owner@example.org", "patient")
    patient_id = access.own_patient(engine, user=owner)
    assert patient_id is not None
    crowd = [signed_in(engine, hasher, f"carer{i}@example.org", "caregiver") for i in range(20)]
    for round_ in range(3):  # the attack run saw 7, 9 and 10 winners in three rounds
        code, _ = access.create_invitation(
            engine,
            patient_id=patient_id,
            role="caregiver",
            now=NOW,
            lifetime=timedelta(days=7),
            actor=owner,
        )

        def join(i: int, code: str = code) -> Any:
            return access.accept_invitation(engine, user=crowd[i], code=code, now=NOW)

        results = run_together(20, join)
        winners = [r for r in results if isinstance(r, access.PatientAccess)]
        refused = [r for r in results if isinstance(r, InputError)]
        assert len(winners) == 1, f"round {round_}: {len(winners)} winners"
        assert len(refused) == 19 and all("not valid" in str(r) for r in refused)
        with engine.connect() as connection:
            grants = connection.scalar(
                select(func.count()).select_from(AccessGrantRow).where(AccessGrantRow.revoked_at.is_(None))
            )
            accepted = connection.scalar(
                select(func.count()).select_from(AuditRow).where(AuditRow.action == "accept_invitation")
            )
        assert (grants, accepted) == (1, round_ + 1)
        for grant in access.list_access(engine, patient_id=patient_id, now=NOW)[0]:
            access.revoke_access(engine, patient_id=patient_id, grant_id=grant.grant_id, now=NOW, actor=owner)


def test_one_person_using_two_codes_for_one_diary_at_once_gets_in_once(engine: Any) -> None:
    """Found in review: two codes for the same diary, used by one person at the same moment, both
    passed their claim and the second grant broke the unique key (a server error)."""
    hasher = CountingHasher()
    owner = signed_in(engine, hasher, "owner2@example.org", "patient")
    patient_id = access.own_patient(engine, user=owner)
    assert patient_id is not None
    carer = signed_in(engine, hasher, "carer-two-codes@example.org", "caregiver")
    for round_ in range(5):
        codes = [
            access.create_invitation(
                engine,
                patient_id=patient_id,
                role="caregiver",
                now=NOW,
                lifetime=timedelta(days=7),
                actor=owner,
            )[0]
            for _ in range(2)
        ]

        def join(i: int, codes: list[str] = codes) -> Any:
            return access.accept_invitation(engine, user=carer, code=codes[i], now=NOW)

        results = run_together(2, join)
        winners = [r for r in results if isinstance(r, access.PatientAccess)]
        assert len(winners) == 1 or all(isinstance(r, access.PatientAccess) for r in results), results
        others = [r for r in results if not isinstance(r, access.PatientAccess)]
        assert all(isinstance(r, Conflict) and "already see this diary" in str(r) for r in others), others
        entries = access.list_access(engine, patient_id=patient_id, now=NOW)[0]
        assert len(entries) == 1, f"round {round_}"
        access.revoke_access(
            engine, patient_id=patient_id, grant_id=entries[0].grant_id, now=NOW, actor=owner
        )


def test_50_parallel_guesses_check_no_more_passwords_than_the_limit(engine: Any) -> None:
    hasher = CountingHasher()
    auth.sign_up(
        engine,
        hasher,
        email="victim@example.org",
        password=PASSWORD,
        display_name="Victim",
        role="patient",
        time_zone="UTC",
        now=NOW,
    )
    limits = SignInLimits()
    hasher.checked = 0

    def guess(i: int) -> Any:
        return auth.sign_in(
            engine,
            hasher,
            email="victim@example.org",
            password=f"guess number {i}",
            client="203.0.113.9",
            now=NOW,
            limits=limits,
            policy=SessionPolicy(),
        )

    results = run_together(50, guess)
    wrong = [r for r in results if isinstance(r, InputError)]
    waiting = [r for r in results if isinstance(r, TooManyAttempts)]
    assert len(wrong) + len(waiting) == 50, [r for r in results if not isinstance(r, Exception)]
    assert hasher.checked == len(wrong) == limits.max_failures_per_email_and_client


@pytest.mark.parametrize("clients", [1, 50])
def test_parallel_guesses_from_many_addresses_meet_the_account_limit(engine: Any, clients: int) -> None:
    """Spread over addresses, the guesses at one account meet its own limit (unknown devices;
    without the pass for fresh addresses, which gives each two guesses a day)."""
    hasher = CountingHasher()
    auth.sign_up(
        engine,
        hasher,
        email="victim@example.org",
        password=PASSWORD,
        display_name="Victim",
        role="patient",
        time_zone="UTC",
        now=NOW,
    )
    limits = SignInLimits(
        max_failures_per_email_and_client=100, max_failures_per_client=100, clean_address_failures=0
    )
    hasher.checked = 0

    def guess(i: int) -> Any:
        return auth.sign_in(
            engine,
            hasher,
            email="victim@example.org",
            password=f"guess number {i}",
            client=f"203.0.113.{i % clients}",
            now=NOW,
            limits=limits,
            policy=SessionPolicy(),
        )

    run_together(50, guess)
    assert hasher.checked == limits.max_failures_per_email

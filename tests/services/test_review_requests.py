"""Ask the clinician (issue 14, point 4): review requests asked by the patient or a caregiver,
answered by a clinician with a message or a plan change, withdrawn; each step kept with its
outbox rows in one transaction, and nothing kept on bad input. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dosewise.errors import Conflict, InputError, NotFound
from dosewise.services import clinic, review_requests
from dosewise.services.access import NotAllowed, PatientAccess
from dosewise.services.auth import CurrentUser
from dosewise.services.patients import create_patient
from dosewise.services.plans import PlanRequest, build_plan, save_plan
from dosewise.services.reports import gather_report
from dosewise.store.database import unit_of_work
from dosewise.store.models import (
    AccessGrantRow,
    AuditRow,
    NotificationRow,
    PatientRow,
    ReviewAnswerRow,
    ReviewRequestRow,
    UserRow,
)

ZONE = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=ZONE)


class Team:
    """A patient (with an account), a caregiver and a clinician let in, and another patient."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.patient_id = create_patient(
            engine, name="Sam Rowe", time_zone=str(ZONE), now=NOW - timedelta(days=40), actor="t"
        )
        self.other_id = create_patient(engine, name="Other", time_zone=str(ZONE), now=NOW, actor="t")
        with unit_of_work(engine) as session:
            users = {}
            for role, name in (
                ("patient", "Sam Rowe"),
                ("caregiver", "Lee Rowe"),
                ("clinician", "Dr Noor Haddad"),
            ):
                user = UserRow(
                    email=f"{role}@example.org",
                    display_name=name,
                    password_hash=None,
                    role=role,
                    created_at=NOW.replace(tzinfo=None),
                    verified_at=NOW.replace(tzinfo=None) if role == "clinician" else None,  # issue 15
                )
                session.add(user)
                session.flush()
                users[role] = user.id
            session.get(PatientRow, self.patient_id).user_id = users["patient"]
            for role in ("caregiver", "clinician"):
                session.add(
                    AccessGrantRow(
                        patient_id=self.patient_id,
                        user_id=users[role],
                        role=role,
                        created_at=NOW.replace(tzinfo=None),
                        revoked_at=None,
                    )
                )
        self.users = users

    def access(self, relation: str, patient_id: int | None = None) -> PatientAccess:
        role = {"owner": "patient"}.get(relation, relation)
        return PatientAccess(
            patient_id=patient_id or self.patient_id,
            name="Sam Rowe",
            time_zone=str(ZONE),
            relation=relation,  # type: ignore[arg-type]
            user_role=role,  # type: ignore[arg-type]
        )

    def actor(self, relation: str) -> str:
        return f"user:{self.users[{'owner': 'patient'}.get(relation, relation)]}"

    def ask(
        self, relation: str = "owner", reason: str = "dose_question", message: str = "Can I go up?"
    ) -> int:
        return review_requests.ask_review(
            self.engine,
            caller=self.access(relation),
            reason=reason,
            message=message,
            now=NOW,
            actor=self.actor(relation),
        )

    def outbox(self) -> list[tuple[str, str, str]]:
        with self.engine.connect() as connection:
            return sorted(
                (row.key, row.kind, row.level)
                for row in connection.execute(
                    select(NotificationRow.key, NotificationRow.kind, NotificationRow.level)
                )
            )

    def count(self, table) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(table))


@pytest.fixture
def team(engine) -> Team:
    return Team(engine)


def test_a_patient_asks_with_the_report_attached_and_the_care_team_is_told(team: Team) -> None:
    from dosewise.services.plans import start_plan

    began = NOW - timedelta(days=40)
    built = build_plan(PlanRequest(kind="maintenance", mg_day=15, start=began.date()))
    start_plan(
        team.engine,
        patient_id=team.patient_id,
        plan=built.plan,
        times=built.times,
        zone=ZONE,
        now=began - timedelta(hours=12),
        actor="cli",
    )
    request_id = team.ask(reason="side_effects", message="Very sleepy after the\nmorning dose.")
    found = review_requests.review_request(team.engine, patient_id=team.patient_id, request_id=request_id)
    assert (found.state, found.reason, found.message) == (
        "open",
        "side_effects",
        "Very sleepy after the\nmorning dose.",
    )
    assert found.asked_by_name == "Sam Rowe (patient)"
    assert found.asked_at == NOW and found.has_report
    # the report of the last four weeks (the diary began 40 days ago), as it was then
    assert (found.report_first_day, found.report_last_day) == (NOW.date() - timedelta(days=27), NOW.date())
    html = review_requests.snapshot_html(team.engine, patient_id=team.patient_id, request_id=request_id)
    assert html.startswith("<!doctype html>") and "Sam Rowe" in html and "<script" not in html
    assert len(html) <= review_requests.MAX_SNAPSHOT_CHARS
    # the caregiver and the clinician, in the app and by push (their defaults); not the sender;
    # side effects are a warning
    caregiver, clinician = team.users["caregiver"], team.users["clinician"]
    assert team.outbox() == sorted(
        (f"review_request:r{request_id}:u{user}:{channel}", "review_request", "warning")
        for user in (caregiver, clinician)
        for channel in ("in_app", "push")
    )
    with team.engine.connect() as connection:
        titles = dict(connection.execute(select(NotificationRow.user_id, NotificationRow.title)).all())
        urls = set(connection.execute(select(NotificationRow.url)).scalars())
    assert titles[clinician] == "Review request from Sam Rowe: side effects"
    assert titles[caregiver] == "Sam Rowe (patient) asked the clinician for a review"
    assert urls == {f"/patients/{team.patient_id}/review-requests/{request_id}"}
    assert "sleepy" not in str(titles)  # the message is read in Dosewise, not on a lock screen


def test_a_caregiver_asks_and_the_patient_is_told_not_the_caregiver(team: Team) -> None:
    request_id = team.ask("caregiver", reason="no_benefit", message="No better after 3 weeks")
    users = {key.split(":")[2] for key, _, level in team.outbox() if level == "info"}
    assert users == {f"u{team.users['patient']}", f"u{team.users['clinician']}"}
    assert review_requests.list_reviews(team.engine, patient_id=team.patient_id)[0].request_id == request_id


@pytest.mark.parametrize(
    ("reason", "message", "field"),
    [
        ("dose_question", "   ", "message"),
        ("dose_question", "x" * (review_requests.MAX_MESSAGE + 1), "message"),
        ("because", "Can I go up?", "reason"),
    ],
)
def test_bad_input_keeps_nothing(team: Team, reason: str, message: str, field: str) -> None:
    audited = team.count(AuditRow)
    with pytest.raises(InputError) as raised:
        team.ask(reason=reason, message=message)
    assert raised.value.field == field
    assert (team.count(ReviewRequestRow), team.count(NotificationRow), team.count(AuditRow)) == (
        0,
        0,
        audited,
    )


def test_only_the_patient_and_caregivers_ask_and_only_clinicians_answer(team: Team) -> None:
    with pytest.raises(NotAllowed):
        team.ask("clinician")
    request_id = team.ask()
    for relation in ("owner", "caregiver"):
        with pytest.raises(NotAllowed):
            review_requests.answer_review(
                team.engine,
                caller=team.access(relation),
                request_id=request_id,
                message="Yes",
                now=NOW,
                actor=team.actor(relation),
            )
    with pytest.raises(NotAllowed):
        review_requests.withdraw_review(
            team.engine,
            caller=team.access("clinician"),
            request_id=request_id,
            now=NOW,
            actor=team.actor("clinician"),
        )
    assert review_requests.review_request(
        team.engine, patient_id=team.patient_id, request_id=request_id
    ).is_open


def test_another_patients_request_is_not_found(team: Team) -> None:
    request_id = team.ask()
    other = team.access("owner", patient_id=team.other_id)
    with pytest.raises(NotFound):
        review_requests.review_request(team.engine, patient_id=team.other_id, request_id=request_id)
    with pytest.raises(NotFound):
        review_requests.withdraw_review(
            team.engine, caller=other, request_id=request_id, now=NOW, actor="user:99"
        )
    with pytest.raises(NotFound):
        review_requests.answer_review(
            team.engine,
            caller=team.access("clinician", patient_id=team.other_id),
            request_id=request_id,
            message="Yes",
            now=NOW,
            actor="user:98",
        )


def test_a_clinician_answers_once_and_the_family_is_told(team: Team) -> None:
    request_id = team.ask()
    before = set(team.outbox())
    later = NOW + timedelta(hours=5)
    clinician = team.access("clinician")
    with pytest.raises(InputError):  # an empty answer: nothing kept, still open
        review_requests.answer_review(
            team.engine,
            caller=clinician,
            request_id=request_id,
            message=" ",
            now=later,
            actor=team.actor("clinician"),
        )
    assert team.count(ReviewAnswerRow) == 0 and set(team.outbox()) == before
    answer_id = review_requests.answer_review(
        team.engine,
        caller=clinician,
        request_id=request_id,
        message="Stay at 30 mg until we meet.",
        now=later,
        actor=team.actor("clinician"),
    )
    found = review_requests.review_request(team.engine, patient_id=team.patient_id, request_id=request_id)
    assert (found.state, found.closed_at) == ("answered", later)
    assert found.answer is not None and found.answer.kind == "message"
    assert found.answer.describe() == "answered: Stay at 30 mg until we meet."
    assert found.waiting(later + timedelta(days=3)) == "5 hours"  # how long it was open
    new = set(team.outbox()) - before
    assert new == {
        (f"review_answer:r{request_id}:a{answer_id}:u{team.users[who]}:{channel}", "review_answer", "info")
        for who in ("patient", "caregiver")
        for channel in ("in_app", "push")
    }
    with pytest.raises(Conflict):
        review_requests.answer_review(
            team.engine,
            caller=clinician,
            request_id=request_id,
            message="Again",
            now=later,
            actor=team.actor("clinician"),
        )
    assert team.count(ReviewAnswerRow) == 1


def test_a_withdrawn_request_is_closed_and_the_clinicians_are_told(team: Team) -> None:
    request_id = team.ask()
    review_requests.withdraw_review(
        team.engine,
        caller=team.access("caregiver"),
        request_id=request_id,
        now=NOW + timedelta(hours=1),
        actor=team.actor("caregiver"),
    )
    found = review_requests.review_request(team.engine, patient_id=team.patient_id, request_id=request_id)
    assert found.state == "withdrawn" and found.closed_by_name == "Lee Rowe (caregiver)"
    withdrawn = {key for key, _, _ in team.outbox() if ":withdrawn:" in key}
    assert withdrawn == {
        f"review_request:r{request_id}:withdrawn:u{team.users[who]}:{channel}"
        for who in ("patient", "clinician")
        for channel in ("in_app", "push")
    }
    with pytest.raises(Conflict):
        review_requests.answer_review(
            team.engine,
            caller=team.access("clinician"),
            request_id=request_id,
            message="Yes",
            now=NOW,
            actor=team.actor("clinician"),
        )


def test_a_plan_change_answers_the_request_with_one_message(team: Team) -> None:
    request_id = team.ask(reason="no_benefit", message="Still stiff")
    before = set(team.outbox())
    built = build_plan(PlanRequest(kind="maintenance", mg_day=30, start=NOW.date()))
    with pytest.raises(NotAllowed):  # only a clinician answers by changing the plan
        save_plan(
            team.engine,
            patient_id=team.patient_id,
            built=built,
            time_zone=str(ZONE),
            now=NOW,
            actor=team.actor("owner"),
            caller=team.access("owner"),
            answers_request=request_id,
        )
    later = NOW + timedelta(hours=2)
    plan_id = save_plan(
        team.engine,
        patient_id=team.patient_id,
        built=built,
        time_zone=str(ZONE),
        now=later,
        actor=team.actor("clinician"),
        caller=team.access("clinician"),
        reason="more for stiffness",
        answers_request=request_id,
    )
    found = review_requests.review_request(team.engine, patient_id=team.patient_id, request_id=request_id)
    assert found.state == "answered" and found.answer is not None
    assert (found.answer.kind, found.answer.plan_id, found.answer.message) == (
        "plan",
        plan_id,
        "more for stiffness",
    )
    assert found.answer.describe() == "changed the plan: more for stiffness"
    new = set(team.outbox()) - before
    answer_id = found.answer.answer_id
    assert new == {  # the plan's message is the answer: no second "plan_changed" message
        (f"review_answer:r{request_id}:a{answer_id}:u{team.users[who]}:{channel}", "review_answer", "info")
        for who in ("patient", "caregiver")
        for channel in ("in_app", "push")
    }
    with team.engine.connect() as connection:
        title, body, url = connection.execute(
            select(NotificationRow.title, NotificationRow.body, NotificationRow.url).where(
                NotificationRow.user_id == team.users["patient"],
                NotificationRow.channel == "in_app",
                NotificationRow.kind == "review_answer",
            )
        ).one()
    assert title == "Dr Noor Haddad (clinician) answered the review request: the plan is changed"
    assert "30 mg a day" in body and "more for stiffness" in body
    assert url.endswith(f"/review-requests/{request_id}")
    # a later plan change for a request no longer open changes the plan only
    save_plan(
        team.engine,
        patient_id=team.patient_id,
        built=build_plan(PlanRequest(kind="maintenance", mg_day=25, start=NOW.date())),
        time_zone=str(ZONE),
        now=later + timedelta(hours=1),
        actor=team.actor("clinician"),
        caller=team.access("clinician"),
        answers_request=request_id,
    )
    assert team.count(ReviewAnswerRow) == 1


def test_a_few_requests_open_at_once(team: Team) -> None:
    for _ in range(review_requests.MAX_OPEN):
        team.ask()
    with pytest.raises(InputError, match="open already"):
        team.ask()
    assert team.count(ReviewRequestRow) == review_requests.MAX_OPEN


def test_the_clinicians_list_puts_an_open_request_high_with_its_age(team: Team) -> None:
    quiet = create_patient(team.engine, name="Aaron Quiet", time_zone=str(ZONE), now=NOW, actor="t")
    with unit_of_work(team.engine) as session:
        session.add(
            AccessGrantRow(
                patient_id=quiet,
                user_id=team.users["clinician"],
                role="clinician",
                created_at=NOW.replace(tzinfo=None),
                revoked_at=None,
            )
        )
    user = CurrentUser(
        user_id=team.users["clinician"],
        email="c@example.org",
        display_name="Dr",
        role="clinician",
        session_id=0,
        csrf_token="x",
    )
    request_id = team.ask(reason="side_effects")
    later = NOW + timedelta(days=2, hours=3)
    for _ in range(2):  # computed, then from the stored summaries: the same list
        listed = clinic.patient_page(team.engine, user=user, now=later)
        first = listed.rows[0]
        assert (first.name, first.open_request_id, first.open_requests) == ("Sam Rowe", request_id, 1)
        assert "review request: side effects, waiting 2 days" in first.reasons
        assert listed.flagged == 1
    one = clinic.attention(
        team.engine, patient_id=team.patient_id, name="Sam Rowe", relation="clinician", now=later
    )
    assert one == first
    review_requests.answer_review(
        team.engine,
        caller=team.access("clinician"),
        request_id=request_id,
        message="Halve the evening dose",
        now=later,
        actor=team.actor("clinician"),
    )
    listed = clinic.patient_page(team.engine, user=user, now=later)
    assert [row.name for row in listed.rows] == ["Aaron Quiet", "Sam Rowe"] and listed.flagged == 0


def test_the_report_lists_the_requests_asked_and_how_they_were_answered(team: Team) -> None:
    from dosewise.exporters.report import render_report_html

    request_id = team.ask(reason="dose_question", message="Can I take the evening dose earlier?")
    review_requests.answer_review(
        team.engine,
        caller=team.access("clinician"),
        request_id=request_id,
        message="Yes, from 18:00.",
        now=NOW + timedelta(hours=1),
        actor=team.actor("clinician"),
    )
    data = gather_report(
        team.engine,
        patient_id=team.patient_id,
        first_day=NOW.date() - timedelta(days=6),
        last_day=NOW.date(),
        now=NOW + timedelta(hours=2),
        levels=False,
    )
    (review,) = data.reviews
    assert (review.reason, review.state, review.closed_at) == (
        "a question about the dose",
        "answered",
        NOW + timedelta(hours=1),
    )
    assert review.outcome == "answered: Yes, from 18:00. (Dr Noor Haddad (clinician))"
    html = render_report_html(data)
    assert "Review requests" in html and "Can I take the evening dose earlier?" in html


def test_requests_and_answers_move_with_the_diary(team: Team, tmp_path) -> None:
    """The CSV export of one patient, and a whole export imported again, keep the requests, the
    answers and the report kept with them (HTML in a CSV cell) exactly."""
    from dosewise.services import storage
    from dosewise.store.transfer import export_csv

    request_id = team.ask(message='Two lines, "quotes",\nand a comma')
    review_requests.answer_review(
        team.engine,
        caller=team.access("clinician"),
        request_id=request_id,
        message="Yes",
        now=NOW,
        actor=team.actor("clinician"),
    )
    html = review_requests.snapshot_html(team.engine, patient_id=team.patient_id, request_id=request_id)
    counts = storage.export_tables(team.engine, str(tmp_path / "one"), patient_id=team.patient_id, now=NOW)
    assert (counts["review_requests"], counts["review_answers"]) == (1, 1)
    other = storage.export_tables(team.engine, str(tmp_path / "other"), patient_id=team.other_id, now=NOW)
    assert (other["review_requests"], other["review_answers"]) == (0, 0)
    export_csv(team.engine, str(tmp_path / "all"), now=NOW)
    storage.import_tables(team.engine, str(tmp_path / "all"))
    found = review_requests.review_request(team.engine, patient_id=team.patient_id, request_id=request_id)
    assert found.message == 'Two lines, "quotes",\nand a comma' and found.answer is not None
    assert (
        review_requests.snapshot_html(team.engine, patient_id=team.patient_id, request_id=request_id) == html
    )


def test_a_report_too_large_to_keep_leaves_the_request_without_it(team: Team, monkeypatch) -> None:
    """The snapshot is bounded: beyond the limit (even without the levels chart) the request is
    kept without it, and its page offers the report of those days instead."""
    monkeypatch.setattr(review_requests, "MAX_SNAPSHOT_CHARS", 1000)
    request_id = team.ask()
    found = review_requests.review_request(team.engine, patient_id=team.patient_id, request_id=request_id)
    assert found.is_open and not found.has_report
    with pytest.raises(NotFound):
        review_requests.snapshot_html(team.engine, patient_id=team.patient_id, request_id=request_id)

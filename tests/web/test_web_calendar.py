"""The calendar page and the subscription feed (issue 12): the owner makes and turns off a
secret link, a calendar app reads it without signing in, and no one else can manage it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from fastapi.testclient import TestClient
from icalendar import Calendar

from conftest import page_token, sign_up, web_settings
from dosewise.services import plans
from dosewise.services.plans import PlanRequest, build_plan
from dosewise.web.app import create_app

ZONE = ZoneInfo("Europe/London")
START = date(2027, 1, 4)
TEN_MG = "Baclofen 10 mg: 1 x 10 mg tablet"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(START, 7))


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> Any:
    return create_app(web_settings(f"sqlite:///{tmp_path / 'web.sqlite3'}"), clock=clock)


@pytest.fixture
def people(app: Any, clock: Clock) -> Iterator[dict[str, Any]]:
    """Alice (titrating to 30 mg/day since this morning) with Carol, her caregiver; Bob, another
    patient; and a calendar app that never signs in."""
    clients = {name: TestClient(app, follow_redirects=False) for name in ("alice", "bob", "carol", "app")}
    for client in clients.values():
        client.__enter__()
    sign_up(clients["alice"], "alice@example.org", name="Alice")
    sign_up(clients["bob"], "bob@example.org", name="Bob")
    sign_up(clients["carol"], "carol@example.org", role="caregiver", name="Carol")
    alice = int(clients["alice"].get("/").headers["location"].split("/")[2])
    bob = int(clients["bob"].get("/").headers["location"].split("/")[2])
    built = build_plan(PlanRequest(kind="titration", target_mg_day=30, start=START), today=START)
    plans.start_plan(
        app.state.context.engine, patient_id=alice, plan=built.plan, times=built.times, zone=ZONE,
        now=clock(), actor="test",
    )  # fmt: skip
    invited = clients["alice"].post(
        f"/patients/{alice}/invitations",
        data={"csrf_token": page_token(clients["alice"], f"/patients/{alice}/access"), "role": "caregiver"},
    )
    code = re.search(r'class="code"><strong>([A-Z0-9-]+)</strong>', invited.text)
    assert code, invited.text
    joined = clients["carol"].post(
        "/join", data={"csrf_token": page_token(clients["carol"], "/join"), "code": code[1]}
    )
    assert joined.status_code == 303
    yield {**clients, "patient": alice, "bob_patient": bob}
    for client in clients.values():
        client.__exit__(None, None, None)


def make_link(client: TestClient, patient: int) -> tuple[str, str]:
    """Press "Make a calendar link": the webcal:// and http(s):// links shown once."""
    page = client.post(
        f"/patients/{patient}/calendar/link",
        data={"csrf_token": page_token(client, f"/patients/{patient}/calendar")},
    )
    assert page.status_code == 200, page.text
    webcal = re.search(r'value="(webcal://[^"]+)"', page.text)
    web = re.search(r'value="(https?://[^"]+)"', page.text)
    assert webcal and web, page.text
    return webcal[1], web[1]


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def ten_mg_days(content: bytes, first: datetime, days: int) -> dict[date, list[str]]:
    """The doses (local clock time and summary) of ``days`` days from ``first``, recurring
    events expanded the way a calendar app does."""
    last = first + timedelta(days=days)
    found: dict[date, list[str]] = {}
    for event in Calendar.from_ical(content).walk("VEVENT"):
        start = event["DTSTART"].dt
        if not isinstance(start, datetime):
            continue
        if "RRULE" in event:
            starts = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start).between(first, last, inc=True)
        else:
            starts = [start] if first <= start <= last else []
        for moment in starts:
            local = moment.astimezone(ZONE)
            found.setdefault(local.date(), []).append(f"{local:%H:%M} {event['SUMMARY']}")
    return {day: sorted(items) for day, items in found.items()}


def test_the_owner_makes_a_link_and_a_calendar_app_reads_it_without_signing_in(
    people: dict[str, Any],
) -> None:
    alice, patient = people["alice"], people["patient"]
    page = alice.get(f"/patients/{patient}/calendar")
    assert page.status_code == 200
    assert "Make a calendar link" in page.text and 'aria-current="page">Calendar<' in page.text
    webcal, web = make_link(alice, patient)
    assert webcal.startswith("webcal://") and path_of(webcal) == path_of(web)
    assert re.fullmatch(r"/calendar/[A-Za-z0-9_-]{43}\.ics", path_of(web))
    feed = people["app"].get(path_of(web))  # no session, no CSRF token
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert feed.headers["cache-control"] == "private, max-age=300"
    # the titration to 30 mg/day ends on day 6: each of the next 30 days has three 10 mg doses
    days = ten_mg_days(feed.content, at(START + timedelta(days=6), 0), 30)
    expected = [f"{clock} {TEN_MG}" for clock in ("08:00", "14:00", "20:00")]
    assert all(days[START + timedelta(days=n)] == expected for n in range(6, 36)), days
    # the download is the same calendar
    download = alice.get(f"/patients/{patient}/export/calendar.ics")
    assert download.status_code == 200 and download.content == feed.content
    # the link is shown once: not on the page later
    token = path_of(web).split("/")[-1].removesuffix(".ics")
    again = alice.get(f"/patients/{patient}/calendar")
    assert token not in again.text and "is on" in again.text and "Make a new link" in again.text


def test_a_form_without_its_csrf_token_is_refused(people: dict[str, Any]) -> None:
    alice, patient = people["alice"], people["patient"]
    assert alice.post(f"/patients/{patient}/calendar/link", data={}).status_code == 403
    assert alice.post(f"/patients/{patient}/calendar/off", data={"csrf_token": "x"}).status_code == 403


def test_a_new_link_revokes_the_old_one_and_turning_it_off_ends_it(
    people: dict[str, Any], clock: Clock
) -> None:
    alice, app, patient = people["alice"], people["app"], people["patient"]
    _, old = make_link(alice, patient)
    _, new = make_link(alice, patient)
    revoked = app.get(path_of(old))
    assert revoked.status_code == 404
    assert app.get(path_of(new)).status_code == 200
    unknown = app.get("/calendar/" + "A" * 43 + ".ics")
    assert unknown.status_code == 404 and unknown.text == revoked.text  # the same answer for both
    assert app.get("/calendar/short.ics").status_code == 404
    off = alice.post(f"/patients/{patient}/calendar/off", data={"csrf_token": page_token(alice)})
    assert off.status_code == 303 and off.headers["location"] == f"/patients/{patient}/calendar?done=off"
    assert "The calendar link is off" in alice.get(off.headers["location"]).text
    assert app.get(path_of(new)).status_code == 404
    _, newest = make_link(alice, patient)
    clock.moment = at(START + timedelta(days=40), 9)  # weeks later: still current, still from now on
    later = app.get(path_of(newest))
    assert later.status_code == 200
    assert min(ten_mg_days(later.content, clock.moment - timedelta(days=1), 5)) == clock.moment.date()


def test_a_caregiver_sees_the_page_and_downloads_but_cannot_manage_the_link(people: dict[str, Any]) -> None:
    carol, patient = people["carol"], people["patient"]
    make_link(people["alice"], patient)
    page = carol.get(f"/patients/{patient}/calendar")
    assert page.status_code == 200
    assert "Only Alice can make or turn off this link" in page.text
    assert "Make a" not in page.text and "Turn off" not in page.text and "is on" not in page.text
    download = carol.get(f"/patients/{patient}/export/calendar.ics")
    assert download.status_code == 200 and download.content.startswith(b"BEGIN:VCALENDAR")
    token = page_token(carol)
    assert carol.post(f"/patients/{patient}/calendar/link", data={"csrf_token": token}).status_code == 403
    assert carol.post(f"/patients/{patient}/calendar/off", data={"csrf_token": token}).status_code == 403


def test_another_patients_calendar_is_not_found(people: dict[str, Any]) -> None:
    bob, patient = people["bob"], people["patient"]
    token = page_token(bob)
    assert bob.get(f"/patients/{patient}/calendar").status_code == 404
    assert bob.post(f"/patients/{patient}/calendar/link", data={"csrf_token": token}).status_code == 404
    assert bob.post(f"/patients/{patient}/calendar/off", data={"csrf_token": token}).status_code == 404
    assert bob.get(f"/patients/{patient}/export/calendar.ics").status_code == 404
    # his own page works, and his link shows his (empty) calendar, not Alice's
    _, link = make_link(bob, people["bob_patient"])
    feed = people["app"].get(path_of(link))
    assert feed.status_code == 200 and b"BEGIN:VEVENT" not in feed.content

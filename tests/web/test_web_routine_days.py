"""Day after day (issue 12): a titration to 30 mg/day ends on day 6, and for the next 30 days
Today (the API and the page) shows three 10 mg doses each day, on SQLite and PostgreSQL, with
the app's clock moved a day at a time; the doses never run out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from conftest import sign_up, web_settings_for_months
from dosewise.web.app import create_app

PASSWORD = "correct horse battery"
FIRST_DAY = date(2026, 12, 1)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@contextmanager
def signed_in(database_url: str, email: str) -> Iterator[tuple[TestClient, Clock, dict[str, str], int]]:
    """The app with its clock at 07:00 UTC on 1 December, a patient (zone UTC) signed in through
    the API: (client, clock, headers with the CSRF token, patient id)."""
    clock = Clock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    app = create_app(web_settings_for_months(database_url), clock=clock)
    with TestClient(app, follow_redirects=False) as web:
        sign_up(web, email, zone="UTC")
        web.cookies.clear()
        signed = web.post("/api/session", json={"email": email, "password": PASSWORD}).json()
        patient = web.get("/api/patients").json()[0]["id"]
        yield web, clock, {"x-csrf-token": signed["csrf_token"]}, patient


def test_after_a_titration_ends_today_shows_its_last_dose_every_day(database_url: str) -> None:
    with signed_in(database_url, "days@example.org") as (web, clock, headers, patient):
        saved = web.post(
            f"/api/patients/{patient}/plans",
            json={"kind": "titration", "target_mg_day": 30, "start": FIRST_DAY.isoformat()},
            headers=headers,
        )
        assert saved.status_code == 201, saved.text
        last_step_day = FIRST_DAY + timedelta(days=5)
        for offset in range(1, 31):
            day = last_step_day + timedelta(days=offset)
            clock.moment = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
            today = web.get(f"/api/patients/{patient}/today")
            assert today.status_code == 200
            doses = [(d["due_at"][11:16], d["dose_mg"]) for d in today.json()["doses"]]
            assert doses == [("08:00", 10.0), ("14:00", 10.0), ("20:00", 10.0)], day
            assert today.json()["next_dose"]["due_at"][11:16] == "08:00"
            assert today.json()["routine"]["stopped"] is False
        # the page, as the patient sees it on the last of those days
        page = web.get(f"/patients/{patient}/today")
        assert page.status_code == 200
        assert "No doses today" not in page.text
        for clock_time in ("08:00", "14:00", "20:00"):
            assert clock_time in page.text
        assert len(re.findall(r"\b10 mg\b", page.text)) >= 3
        # nothing was ticked off in all those days: the page says not to simply restart
        assert "No dose recorded for" in page.text and "do not simply restart" in page.text


def test_a_dose_has_one_card_whether_due_late_or_from_last_night(database_url: str) -> None:
    """At 08:05 the 08:00 dose is due: one card, no "missed" advice; at 09:30 the advice is on
    that same card; after midnight, last night's 20:00 dose (still to take) has a card of its own
    and is not listed twice."""
    with signed_in(database_url, "cards@example.org") as (web, clock, headers, patient):
        saved = web.post(
            f"/api/patients/{patient}/plans",
            json={"kind": "titration", "target_mg_day": 30, "times": "08:00,14:00,23:00"},
            headers=headers,
        )
        assert saved.status_code == 201, saved.text
        clock.moment = datetime(2026, 12, 1, 8, 5, tzinfo=UTC)
        page = web.get(f"/patients/{patient}/today").text
        assert page.count('aria-label="Taken: 08:00 dose"') == 1
        assert "Due now" in page and "Take the missed dose" not in page
        clock.moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        page = web.get(f"/patients/{patient}/today").text
        assert page.count('aria-label="Taken: 08:00 dose"') == 1
        assert page.count("Take the missed dose of 08:00") == 1
        clock.moment = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)  # the 23:00 dose, 90 minutes on
        page = web.get(f"/patients/{patient}/today").text
        assert "Still to take from yesterday" in page
        names = ('aria-label="Taken: Tue 23:00 dose"', 'aria-label="Taken: 23:00 dose"')
        assert sum(page.count(name) for name in names) == 1


def test_the_api_refuses_a_large_rise_without_a_reason_and_commits_a_draft(database_url: str) -> None:
    with signed_in(database_url, "rise@example.org") as (web, clock, headers, patient):
        plans = f"/api/patients/{patient}/plans"
        assert web.post(plans, json={"kind": "maintenance", "mg_day": 15}, headers=headers).status_code == 201
        clock.moment = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
        refused = web.post(plans, json={"kind": "maintenance", "mg_day": 60}, headers=headers)
        assert refused.status_code == 422
        assert (
            refused.json()["field"] == "/confirm_rise" and "from 15 to 60 mg/day" in refused.json()["detail"]
        )
        preview = web.post(
            f"{plans}/preview", json={"kind": "maintenance", "mg_day": 60}, headers=headers
        ).json()
        assert preview["change"]["needs_confirmation"] is True
        assert preview["change"]["takes_over"] == "2026-12-02T14:00:00+00:00"
        commit = {
            "draft": preview["draft"],
            "confirm_rise": "Dr Lee, letter of 1 Dec",
            "reason": "spasms at night",
        }
        saved = web.post(f"{plans}/commit", json=commit, headers=headers)
        assert saved.status_code == 201, saved.text
        body = saved.json()
        assert body["plan"]["steps"][0]["daily_mg"] == 60 and body["entered_as"] == "patient"
        assert body["reason"] == "spasms at night (rise: Dr Lee, letter of 1 Dec)"
        assert body["takes_over"].startswith("2026-12-02T14:00")
        # a draft changed on the way is refused, nothing stored
        tampered = {"draft": preview["draft"][:-4] + "abcd"}
        assert web.post(f"{plans}/commit", json=tampered, headers=headers).json()["field"] == "/draft"


def test_after_a_taper_today_and_the_calendar_page_say_it_stopped(database_url: str) -> None:
    with signed_in(database_url, "taper@example.org") as (web, clock, headers, patient):
        taper = web.post(
            f"/api/patients/{patient}/plans", json={"kind": "taper", "from_mg_day": 30}, headers=headers
        )
        assert taper.status_code == 201, taper.text
        stop = date.fromisoformat(taper.json()["plan"]["stop_date"])
        clock.moment = datetime(stop.year, stop.month, stop.day, 9, 0, tzinfo=UTC) + timedelta(days=1)
        web.cookies.clear()  # weeks later: the session has ended, sign in again
        assert web.post("/api/session", json={"email": "taper@example.org", "password": PASSWORD}).is_success
        today = web.get(f"/api/patients/{patient}/today").json()
        assert today["doses"] == [] and today["routine"]["stopped"] is True
        assert today["routine"]["stop_date"] == stop.isoformat()
        page = web.get(f"/patients/{patient}/today").text
        assert (
            f"Baclofen was stopped on {stop.strftime('%A %-d %B %Y')} after a taper. No more doses." in page
        )
        assert "Missed a dose at another time?" not in page
        calendar = web.get(f"/patients/{patient}/calendar").text
        assert "after a taper: the calendar has no more doses to remind you of." in calendar

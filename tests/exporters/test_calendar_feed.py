"""The patient's calendar (issue 12): the schedule from now on as calendar apps read it, on SQLite
and PostgreSQL. A recurring event is expanded the way a calendar app does (dateutil's RFC 5545
rules, as icalendar parses them), and khal, a real client, lists the days after a titration."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar
from sqlalchemy import select

from conftest import missing, run_cli
from dosewise.errors import NotFound
from dosewise.services import calendar, doses, patients, plans
from dosewise.services.auth import digest
from dosewise.services.plans import PlanRequest, build_plan
from dosewise.store.database import read_only
from dosewise.store.models import AuditRow, CalendarFeedRow

LONDON = ZoneInfo("Europe/London")
START = date(2027, 1, 4)  # a Monday
TEN_MG = "Baclofen 10 mg: 1 x 10 mg tablet"
STOPPED = "Baclofen stopped after a taper (agreed with the prescriber)"
REVIEW = "Plan review with the prescriber"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def patient(engine: Any) -> int:
    return patients.create_patient(
        engine, name="Pat", time_zone="Europe/London", now=at(START, 7), actor="test"
    )


def save(engine: Any, patient: int, now: datetime, **request: Any) -> int:
    """A plan saved at ``now`` (it starts that day unless ``start`` says otherwise)."""
    takes_over = request.pop("takes_over", None)
    request.setdefault("start", now.date())
    built = build_plan(PlanRequest(**request), today=now.date())
    return plans.start_plan(
        engine, patient_id=patient, plan=built.plan, times=built.times, zone=LONDON, now=now, actor="test",
        takes_over=takes_over,
    )  # fmt: skip


def feed(engine: Any, patient: int, now: datetime) -> bytes:
    return calendar.export_calendar(engine, patient_id=patient, now=now)


def events(content: bytes) -> list[Any]:
    return list(Calendar.from_ical(content).walk("VEVENT"))


def doses_between(content: bytes, first: datetime, last: datetime) -> list[tuple[datetime, str]]:
    """Every dose reminder that starts in [first, last], recurring events expanded."""
    found: list[tuple[datetime, str]] = []
    for event in events(content):
        start = event["DTSTART"].dt
        if not isinstance(start, datetime):
            continue
        if "RRULE" in event:
            rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
            excluded = {moment.dt for exdate in _list(event.get("EXDATE")) for moment in exdate.dts}
            starts = [s for s in rule.between(first, last, inc=True) if s not in excluded]
        else:
            starts = [start] if first <= start <= last else []
        found.extend((moment, str(event["SUMMARY"])) for moment in starts)
    return sorted(found)


def all_day(content: bytes) -> list[tuple[date, str]]:
    return [
        (event["DTSTART"].dt, str(event["SUMMARY"]))
        for event in events(content)
        if not isinstance(event["DTSTART"].dt, datetime)
    ]


def _list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def by_day(found: list[tuple[datetime, str]]) -> dict[date, list[tuple[str, str]]]:
    days: dict[date, list[tuple[str, str]]] = {}
    for moment, summary in found:
        local = moment.astimezone(LONDON)
        days.setdefault(local.date(), []).append((local.strftime("%H:%M"), summary))
    return days


THREE_TEN_MG = [("08:00", TEN_MG), ("14:00", TEN_MG), ("20:00", TEN_MG)]


def test_after_a_titration_to_30_each_of_the_next_30_days_has_three_10_mg_doses(engine, patient):
    save(engine, patient, at(START, 7), kind="titration", target_mg_day=30)
    content = feed(engine, patient, at(START, 7))
    # the titration's steps (5 mg, then 10 mg three times a day) end on day 6
    days = by_day(doses_between(content, at(START, 0), at(START + timedelta(days=36), 0)))
    assert [summary for _, summary in days[START]] == ["Baclofen 5 mg: 1 x 5 mg tablet"] * 3
    after = [START + timedelta(days=n) for n in range(6, 36)]
    assert all(days[day] == THREE_TEN_MG for day in after), {d: days.get(d) for d in after}
    # one recurring event per dose time, with no end
    recurring = [e for e in events(content) if "RRULE" in e]
    assert [e["RRULE"].to_ical().decode() for e in recurring] == ["FREQ=DAILY"] * 3
    assert (START + timedelta(weeks=12, days=3), REVIEW) in all_day(content)
    # weeks later, with no dose slots made ahead since, the calendar still never runs out
    later = feed(engine, patient, at(START + timedelta(days=100), 9))
    days = by_day(doses_between(later, at(START, 0), at(START + timedelta(days=131), 0)))
    assert min(days) == START + timedelta(days=100)
    assert all(days[START + timedelta(days=n)] == THREE_TEN_MG for n in range(101, 131))


def test_the_event_text_is_plain_safety_text_with_one_line_of_sources(engine, patient):
    save(engine, patient, at(START, 7), kind="titration", target_mg_day=30)
    for event in events(feed(engine, patient, at(START, 7))):
        text = str(event["DESCRIPTION"])
        assert "Do not stop baclofen suddenly" in text or "never stop suddenly" in text
        sources = [line for line in text.splitlines() if "Sources" in line or "[" in line]
        assert len(sources) == 1 and sources[0].startswith("Sources: "), text
        assert event["DTSTART"].params.get("TZID", "Europe/London") == "Europe/London"
    assert [
        tz["TZID"] for tz in Calendar.from_ical(feed(engine, patient, at(START, 7))).walk("VTIMEZONE")
    ] == ["Europe/London"]


def test_a_taper_ends_with_its_stop_day_and_no_later_doses(engine, patient):
    save(engine, patient, at(START, 7), kind="maintenance", mg_day=30)
    taper_day = START + timedelta(days=10)
    before = {str(e["UID"]): e for e in events(feed(engine, patient, at(taper_day, 7)))}
    save(engine, patient, at(taper_day, 7), kind="taper", from_mg_day=30)
    content = feed(engine, patient, at(taper_day, 7))
    found = doses_between(content, at(START, 0), at(taper_day + timedelta(days=400), 0))
    stops = [day for day, summary in all_day(content) if summary == STOPPED]
    assert len(stops) == 1
    stop = stops[0]
    assert found[0][0] == at(taper_day, 8)
    assert found[-1][0].astimezone(LONDON).date() == stop - timedelta(days=1)  # the last dose
    assert all(moment.astimezone(LONDON).date() < stop for moment, _ in found)
    assert REVIEW not in [summary for _, summary in all_day(content)]  # the maintenance plan's is gone
    # the old plan's recurring events are the taper's now (same UIDs): a calendar app replaces them
    assert any(str(e["UID"]) in before for e in events(content))
    for event in events(content):
        if str(event["UID"]) in before:
            assert event["SEQUENCE"] > before[str(event["UID"])]["SEQUENCE"]
    # after the stop day: an empty calendar, still a valid one
    assert events(feed(engine, patient, at(stop + timedelta(days=1), 9))) == []


def test_no_event_starts_before_now(engine, patient):
    save(engine, patient, at(START, 7), kind="titration", target_mg_day=30)
    now = at(START + timedelta(days=2), 15)
    content = feed(engine, patient, now)
    for event in events(content):
        start = event["DTSTART"].dt
        if isinstance(start, datetime):
            assert start >= now, event
        else:
            assert start >= now.date()
    found = doses_between(content, at(START, 0), now + timedelta(days=40))
    assert found[0][0] == at(now.date(), 20)
    assert all(moment >= now for moment, _ in found)


def test_polls_give_the_same_file_until_something_changes(engine, patient):
    save(engine, patient, at(START, 7), kind="maintenance", mg_day=30)
    first = feed(engine, patient, at(START + timedelta(days=3), 9))
    assert feed(engine, patient, at(START + timedelta(days=3), 9, 30)) == first  # nothing to update
    # the 14:00 dose passed: only its recurring event changes (same UID, next day, higher SEQUENCE)
    later = {str(e["UID"]): e for e in events(feed(engine, patient, at(START + timedelta(days=3), 14, 30)))}
    changed = []
    for event in events(first):
        again = later[str(event["UID"])]
        if again.to_ical() != event.to_ical():
            changed.append(event["DTSTART"].dt.strftime("%H:%M"))
            assert again["DTSTART"].dt == event["DTSTART"].dt + timedelta(days=1)
            assert again["SEQUENCE"] > event["SEQUENCE"]
            assert again["DTSTAMP"].dt > event["DTSTAMP"].dt
    assert changed == ["14:00"]


def test_a_new_plan_replaces_the_old_plans_future_events(engine, patient):
    save(engine, patient, at(START, 7), kind="maintenance", mg_day=15)
    day = START + timedelta(days=3)
    old = feed(engine, patient, at(day, 10))
    save(
        engine, patient, at(day, 10), kind="maintenance", mg_day=30, takes_over=at(day + timedelta(days=1), 8)
    )
    content = feed(engine, patient, at(day, 10, 1))
    days = by_day(doses_between(content, at(day, 0), at(day + timedelta(days=30), 0)))
    five = "Baclofen 5 mg: 1 x 5 mg tablet"
    # the old plan until the new one takes over (tomorrow 08:00), then only the new one
    assert days[day] == [("14:00", five), ("20:00", five)]
    assert all(days[day + timedelta(days=n)] == THREE_TEN_MG for n in range(1, 30))
    assert len({str(e["UID"]) for e in events(content)}) == len(events(content))
    old_uids = {str(e["UID"]): e["SEQUENCE"] for e in events(old)}
    assert all(e["SEQUENCE"] > old_uids[str(e["UID"])] for e in events(content) if str(e["UID"]) in old_uids)


def test_a_dose_the_diary_leaves_out_at_a_plan_change_is_not_in_the_calendar(engine, patient):
    save(engine, patient, at(START, 7), kind="maintenance", mg_day=15, times="09:00,15:00,21:00")
    day = START + timedelta(days=1)
    slot = next(
        s
        for s in doses.list_day(engine, patient_id=patient, day=day, now=at(day, 20, 50))
        if s.due_at.hour == 21
    )
    doses.record_dose(
        engine, patient_id=patient, slot_id=slot.slot_id, status="taken", now=at(day, 20, 50), actor="t"
    )
    save(engine, patient, at(day, 20, 55), kind="maintenance", mg_day=30, times="09:00,15:00,21:00")
    content = feed(engine, patient, at(day, 20, 55))
    found = doses_between(content, at(day, 20, 55), at(day + timedelta(days=3), 0))
    # the 21:00 dose was taken at 20:50: neither plan reminds of a second one tonight
    assert [(m.astimezone(LONDON), s) for m, s in found][:2] == [
        (at(day + timedelta(days=1), 9), TEN_MG),
        (at(day + timedelta(days=1), 15), TEN_MG),
    ]
    assert at(day + timedelta(days=1), 21) in [m for m, _ in found]


def test_dose_times_stay_on_the_wall_clock_across_the_clock_change(engine, patient):
    day = date(2027, 3, 20)  # London's clocks go forward on 28 March 2027
    save(engine, patient, at(day, 7), kind="maintenance", mg_day=30)
    content = feed(engine, patient, at(day, 7))
    days = by_day(doses_between(content, at(day, 0), at(day + timedelta(days=14), 0)))
    assert days[date(2027, 3, 27)] == days[date(2027, 3, 29)] == THREE_TEN_MG
    spring = [m for m, _ in doses_between(content, at(date(2027, 3, 29), 0), at(date(2027, 3, 29), 23))]
    assert spring[0].astimezone(UTC).hour == 7  # 08:00 BST


def test_a_link_is_a_secret_kept_as_its_hash_and_revocable(engine, patient):
    save(engine, patient, at(START, 7), kind="maintenance", mg_day=15)
    now = at(START, 9)
    token = calendar.create_feed(engine, patient_id=patient, now=now, actor="user:1")
    assert calendar.read_feed(engine, token=token, now=now) == feed(engine, patient, now)
    with read_only(engine) as session:
        rows = session.scalars(select(CalendarFeedRow)).all()
        assert [row.token_hash for row in rows] == [digest(token)]
    newer = calendar.create_feed(engine, patient_id=patient, now=now, actor="user:1")
    with pytest.raises(NotFound):
        calendar.read_feed(engine, token=token, now=now)  # a new link revokes the old one
    assert calendar.read_feed(engine, token=newer, now=now)
    assert calendar.feed_link(engine, patient_id=patient) is not None
    assert calendar.revoke_feed(engine, patient_id=patient, now=now, actor="user:1")
    assert calendar.feed_link(engine, patient_id=patient) is None
    for bad in (newer, "x" * 43, "../../etc/passwd", ""):
        with pytest.raises(NotFound):
            calendar.read_feed(engine, token=bad, now=now)
    with read_only(engine) as session:
        actions = session.execute(
            select(AuditRow.action, AuditRow.entity)
            .where(AuditRow.entity == "calendar_feed")
            .order_by(AuditRow.id)
        ).all()
    assert [tuple(a) for a in actions] == [
        ("create", "calendar_feed"),
        ("create", "calendar_feed"),
        ("revoke", "calendar_feed"),
    ]


def test_the_download_needs_a_plan(engine, patient):
    from dosewise.errors import InputError

    with pytest.raises(InputError, match="no plan yet"):
        feed(engine, patient, at(START, 7))
    token = calendar.create_feed(engine, patient_id=patient, now=at(START, 7), actor="t")
    assert events(calendar.read_feed(engine, token=token, now=at(START, 7))) == []  # a subscription: empty


def test_the_plan_commands_file_goes_on_after_the_titration(capsys, tmp_path):
    path = tmp_path / "doses.ics"
    code, _, err = run_cli(
        capsys, "plan", "baclofen", "--target-mg-day", "30", "--start", "2027-01-04", "--tz", "Europe/London",
        "--ics", str(path),
    )  # fmt: skip
    assert code == 0, err
    days = by_day(doses_between(path.read_bytes(), at(START, 0), at(START + timedelta(days=60), 0)))
    assert all(days[START + timedelta(days=n)] == THREE_TEN_MG for n in range(6, 60))


@pytest.fixture
def khal(tmp_path):
    """A real calendar client with a throwaway configuration (`make test` installs it)."""
    executable = shutil.which("khal")
    if executable is None:
        missing("khal is not installed")
    (tmp_path / "cal").mkdir()
    (tmp_path / "config" / "khal").mkdir(parents=True)
    (tmp_path / "config" / "khal" / "config").write_text(
        f"[calendars]\n[[dosewise]]\npath = {tmp_path / 'cal'}\ntype = calendar\n"
        "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
        "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
        "local_timezone = Europe/London\ndefault_timezone = Europe/London\n"
    )
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}

    def run(*args):
        result = subprocess.run([executable, *args], env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


def test_khal_lists_three_10_mg_doses_on_the_days_after_a_titration(engine, patient, khal, tmp_path):
    save(engine, patient, at(START, 7), kind="titration", target_mg_day=30)
    path = tmp_path / "feed.ics"
    path.write_bytes(feed(engine, patient, at(START, 7)))
    khal("import", "--batch", "-a", "dosewise", str(path))
    first = START + timedelta(days=6)
    listed = khal(
        "list", "--format", "{start-time} {title}", "--day-format", "{date}", first.isoformat(), "30d"
    )
    days: dict[str, list[str]] = {}
    current = ""
    for line in filter(None, (line.strip() for line in listed.splitlines())):
        if line[:4].isdigit() and len(line) == 10:
            current = line
            days[current] = []
        else:
            days[current].append(line)
    expected = [f"{clock} {TEN_MG}" for clock in ("08:00", "14:00", "20:00")]
    wanted = [(first + timedelta(days=n)).isoformat() for n in range(30)]
    assert all(days.get(day, [])[-3:] == expected for day in wanted), {d: days.get(d) for d in wanted}


def test_a_left_out_dose_after_the_first_is_an_exception_date(monograph):
    from dosewise.exporters.ical import ScheduledPlan, build_schedule_calendar

    built = build_plan(PlanRequest(kind="maintenance", mg_day=30, start=START), today=START)
    now = at(START, 7)
    skipped = at(START + timedelta(days=2), 14)
    scheduled = ScheduledPlan(
        plan=built.plan, times=built.times, time_zone="Europe/London", monograph=monograph,
        revised=now, since=now, left_out=frozenset({skipped.astimezone(UTC)}),
    )  # fmt: skip
    content = build_schedule_calendar([scheduled], name="Baclofen doses", owner="patient-1", now=now)
    found = [moment for moment, _ in doses_between(content, now, at(START + timedelta(days=4), 0))]
    assert skipped not in found
    assert at(START + timedelta(days=1), 14) in found and at(START + timedelta(days=3), 14) in found
    assert len(found) == 4 * 3 - 1

"""Calendar export: RFC 5545 structure, stable UIDs, and a real client (khal) reading it."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from dosewise.domain.products import parse_product_specs
from dosewise.domain.schedule import build_dose_events, parse_clock_times
from dosewise.domain.titration import build_titration
from dosewise.exporters.ical import build_calendar

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def export(
    monograph,
    start=date(2026, 3, 27),
    zone="Europe/London",
    target=45,
    products=("tablet:10mg:halves",),
):
    plan = build_titration(
        monograph,
        target_daily_mg=target,
        products=parse_product_specs(list(products), monograph),
        start=start,
    )
    events = build_dose_events(plan, parse_clock_times(None, 3), ZoneInfo(zone))
    return build_calendar(plan, events, monograph, time_zone=zone, created=CREATED)


def test_one_event_per_dose_with_alarm_and_timezone(monograph):
    calendar = Calendar.from_ical(export(monograph))
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 27  # 3 steps x 3 days x 3 doses
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    first = events[0]
    assert str(first["SUMMARY"]) == "Baclofen 5 mg: 1/2 x 10 mg tablet"
    assert first["DTSTART"].params["TZID"] == "Europe/London"
    assert [str(a["ACTION"]) for a in first.walk("VALARM")] == ["DISPLAY"]
    assert "agree every plan" in str(first["DESCRIPTION"])
    assert len({str(e["UID"]) for e in events}) == 27


def test_uids_are_stable_across_exports(monograph):
    uids = [str(e["UID"]) for e in Calendar.from_ical(export(monograph)).walk("VEVENT")]
    again = [str(e["UID"]) for e in Calendar.from_ical(export(monograph, target=30)).walk("VEVENT")]
    assert again == uids[: len(again)]  # same days and times: an updated plan replaces reminders


def test_summary_with_two_pieces(monograph):
    summaries = {str(e["SUMMARY"]) for e in Calendar.from_ical(export(monograph)).walk("VEVENT")}
    assert "Baclofen 15 mg: 1 x 10 mg tablet + 1/2 x 10 mg tablet" in summaries


@pytest.fixture
def khal(tmp_path):
    """A real calendar client with a throwaway configuration (installed by `make test`)."""
    executable = shutil.which("khal")
    assert executable, "khal is missing: `make test` installs it (apt-get install khal)"
    (tmp_path / "cal").mkdir()
    (tmp_path / "config" / "khal").mkdir(parents=True)
    (tmp_path / "config" / "khal" / "config").write_text(
        f"[calendars]\n[[dosewise]]\npath = {tmp_path / 'cal'}\ntype = calendar\n"
        "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
        "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
        "local_timezone = Europe/London\ndefault_timezone = Europe/London\n"
    )
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }

    def run(*args):
        result = subprocess.run([executable, *args], env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


def test_khal_imports_the_file_and_lists_the_doses_at_local_times(monograph, khal, tmp_path):
    path = tmp_path / "plan.ics"
    path.write_bytes(export(monograph))  # London clocks go forward on 2026-03-29
    khal("import", "--batch", "-a", "dosewise", str(path))
    listed = khal(
        "list",
        "--format",
        "{start-time} {title}{alarm-symbol}",
        "--day-format",
        "{date}",
        "2026-03-28",
        "3d",
    )
    lines = [line for line in listed.splitlines() if line.strip()]
    first_day = [f"{clock} Baclofen 5 mg: 1/2 x 10 mg tablet ⏰" for clock in ("08:00", "14:00", "20:00")]
    assert lines[:4] == ["2026-03-28", *first_day]
    assert "2026-03-29" in lines
    assert lines[lines.index("2026-03-29") + 1].startswith("08:00 Baclofen 5 mg")
    assert lines[lines.index("2026-03-30") + 1] == "08:00 Baclofen 10 mg: 1 x 10 mg tablet ⏰"

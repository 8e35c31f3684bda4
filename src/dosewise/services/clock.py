"""Times as people type them, and as the store keeps them (naive UTC).

One place turns a typed time into a moment on the patient's clock, for the CLI, the pages and
the API alike: ``"22:40"`` typed at 00:30 means last night, not 22 hours ahead.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dosewise.errors import InputError

FIRST_YEAR, LAST_YEAR = 2000, 2200  # a date outside is a typo (setting)
# A clock a little ahead of the server is not an error (setting, not clinical).
FUTURE_TOLERANCE = timedelta(minutes=10)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# The moments people type besides HH:MM: a date and a clock time, with seconds or a UTC offset
# if they like. Python reads more (week dates, 20260630T0800, a date alone): those are refused.
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$", re.ASCII)


def to_utc(moment: datetime) -> datetime:
    """An aware moment as the store keeps it: naive UTC."""
    if moment.tzinfo is None:
        raise InputError("times need a time zone")
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_utc(naive_utc: datetime, zone: tzinfo) -> datetime:
    """A stored (naive UTC) time on the patient's clock."""
    return naive_utc.replace(tzinfo=UTC).astimezone(zone)


def zone_named(name: str, *, field: str = "time_zone") -> ZoneInfo:
    """The IANA time zone of that name, or InputError saying what to type."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        raise InputError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/London", field=field
        ) from None


def parse_date(text: str, what: str, *, field: str | None = None) -> date:
    """``YYYY-MM-DD`` between the years 2000 and 2200."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} {text!r} must be YYYY-MM-DD, e.g. 2026-12-01", field=field) from None
    check_date(day, what, field=field)
    return day


def check_date(day: date, what: str = "start date", *, field: str | None = "start") -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InputError(
            f"{what} {day.isoformat()} must be between {FIRST_YEAR} and {LAST_YEAR}", field=field
        )


def parse_clock(text: str, *, field: str | None = None) -> time:
    """``"8:05"`` or ``"08:05"`` on a 24-hour clock."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise InputError(
            f"the time {text.strip()!r} must be HH:MM on a 24-hour clock, e.g. 08:05", field=field
        )
    return time(int(match[1]), int(match[2]))


def moment_from_text(text: str, *, now: datetime, zone: tzinfo, field: str | None = None) -> datetime:
    """When something happened, as typed: ``HH:MM`` (the latest such time that is not in the
    future, so "22:40" typed at 00:30 is last night), ``YYYY-MM-DDTHH:MM`` on the patient's
    clock, or an ISO time with a UTC offset. The result is on the patient's clock."""
    cleaned = text.strip()
    local_now = now.astimezone(zone)
    if _CLOCK.match(cleaned):
        clock = parse_clock(cleaned, field=field)
        moment = _on_clock(local_now.date(), clock, zone)
        if moment > local_now + FUTURE_TOLERANCE:
            moment = _on_clock(local_now.date() - timedelta(days=1), clock, zone)
        return moment
    try:
        if not _MOMENT.match(cleaned):
            raise ValueError(cleaned)
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InputError(
            f"the time {cleaned!r} must be HH:MM (today, or last night) or YYYY-MM-DDTHH:MM, "
            "e.g. 2026-12-01T08:05 (a UTC offset such as +01:00 may follow)",
            field=field,
        ) from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise InputError(f"the time {cleaned!r} must be between {FIRST_YEAR} and {LAST_YEAR}", field=field)
    if moment.tzinfo is None:
        return _on_clock(moment.date(), moment.time(), zone)
    return moment.astimezone(zone)


def _on_clock(day: date, clock: time, zone: tzinfo) -> datetime:
    from dosewise.domain.schedule import localize

    return localize(day, clock, zone)

"""The CLI's settings: read once from the environment by ``main()`` and passed to every command.

- ``DOSEWISE_DATABASE_URL``: the diary database (default: SQLite in the user's data folder).
- ``TZ``: the default time zone when a command has no ``--tz`` (a name that is not an IANA zone
  falls back to UTC quietly).
- ``DOSEWISE_NOW`` (test hook, not for patients): a fixed "now", an ISO time with a UTC offset
  such as ``2026-12-02T00:30+00:00``, so tests can say what "22:40" typed at 00:30 means.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dosewise.errors import InputError

DEFAULT_ZONE = "UTC"


class Settings:
    """What every command may need from outside: where the diary is, the default zone, the clock.

    A plain class, not a dataclass: it is built on every start, and the plan path counts
    milliseconds."""

    __slots__ = ("clock", "database_url", "time_zone")

    def __init__(self, *, database_url: str | None, time_zone: str, clock: Callable[[], datetime]) -> None:
        self.database_url = database_url  # None: SQLite in the user's data folder (made on first use)
        self.time_zone = time_zone  # the default IANA zone name
        self.clock = clock  # the aware time now

    def now(self, zone: tzinfo) -> datetime:
        """The time now on that zone's clock."""
        return self.clock().astimezone(zone)

    def zone(self, name: str | None) -> tuple[str, ZoneInfo]:
        """The zone a command's ``--tz`` names, or the default one."""
        from dosewise.services.clock import zone_named

        if name is None:
            return self.time_zone, ZoneInfo(self.time_zone)
        return name.strip(), zone_named(name, field="time_zone")


def build_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    return Settings(
        database_url=environ.get("DOSEWISE_DATABASE_URL") or None,
        time_zone=_default_zone(environ.get("TZ", "")),
        clock=_clock(environ.get("DOSEWISE_NOW", "")),
    )


def _default_zone(configured: str) -> str:
    name = configured.lstrip(":").strip() or DEFAULT_ZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        return DEFAULT_ZONE
    return name


def _clock(fixed: str) -> Callable[[], datetime]:
    if not fixed:
        return lambda: datetime.now(tz=UTC)
    try:
        moment = datetime.fromisoformat(fixed.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(f"DOSEWISE_NOW {fixed!r} must be an ISO time with a UTC offset (a test hook)")
    return lambda: moment

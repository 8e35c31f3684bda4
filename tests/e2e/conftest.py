"""End-to-end fixtures: the real app on a live server, driven by Debian's Chromium.

Each xdist worker starts its own uvicorn server (SQLite in a temporary folder) on a free port of
127.0.0.1; every test signs up its own accounts (unique emails), so tests never depend on each
other. Never `playwright install`: the browser is /usr/bin/chromium.

Dose times: the patient's time zone is chosen at sign-up so that their local time is between
15:00 and 16:00 whatever the real clock says. A plan takes over at its first dose time from the
moment it is saved (issue 12), so the helpers save it "this morning": the server's clock
(:data:`SERVER_CLOCK`) is set back to 07:xx on the patient's clock for the save, then returned
to the real time. With the default dose times (08:00, 14:00, 20:00) the 08:00 dose is then
missed, the 14:00 dose is due (late, with the missed-dose advice) and the 20:00 dose is to come:
the same page at any time of day. A test may move the server's clock further
(``e2e.clock.shifted(days=10)``); it is always put back.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-sandbox",  # the tests may run as root
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PASSWORD = "correct horse battery"  # at least 10 characters
LOCAL_HOUR = 15  # the patient's local hour during a test (see the module docstring)


# --- the live server -------------------------------------------------------------------------


class ServerClock:
    """The live server's "now": the real time, shifted while a test says so (one server per
    xdist worker, and a worker runs one test at a time)."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(tz=UTC) + self.shift

    @contextmanager
    def shifted(self, **by: float) -> Iterator[None]:
        """The server's clock moved by ``timedelta(**by)`` inside the block."""
        before = self.shift
        self.shift = before + timedelta(**by)
        try:
            yield
        finally:
            self.shift = before

    def this_morning(self) -> Any:
        """07:xx on the patient's clock (their local time is 15:xx): before the first dose time."""
        return self.shifted(hours=7 - LOCAL_HOUR)


SERVER_CLOCK = ServerClock()
LIVE_ENGINE: list[Any] = []  # the live server's database engine (one server per xdist worker)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 (one per xdist worker); yields its address."""
    import uvicorn

    from dosewise.services.auth import SessionPolicy
    from dosewise.web.app import create_app
    from dosewise.web.settings import Argon2Cost, Settings

    folder = tmp_path_factory.mktemp("e2e-server")
    settings = Settings(
        database_url=f"sqlite:///{folder}/web.sqlite3",
        secret_key="e2e-" + "x" * 40,
        environment="test",
        secure_cookies=False,
        argon2=Argon2Cost(time_cost=1, memory_kib=8, parallelism=1),
        # tests move the clock by days (``shifted``) with one sign-in: sessions do not end here
        session_policy=SessionPolicy(absolute_lifetime=timedelta(days=3650), idle_limit=timedelta(days=3650)),
    )
    app = create_app(settings, clock=SERVER_CLOCK)
    LIVE_ENGINE.append(app.state.context.engine)  # sign_up verifies clinicians through it
    # Bind the socket here (port 0: the system picks a free one) and hand it to uvicorn, so no
    # other process can take the port between choosing it and listening on it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the e2e server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright's base URL: relative page.goto("/sign-up") goes to the live server."""
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium, offline (keeps --headed and the other command-line options)."""
    if not Path(CHROMIUM).exists():
        from conftest import missing

        missing(f"Chromium is not installed at {CHROMIUM}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


@pytest.fixture(autouse=True)
def _short_timeouts(request: pytest.FixtureRequest) -> None:
    """A page that does not answer within 10 s is broken: fail fast, not after 30 s."""
    expect.set_options(timeout=10_000)
    if "context" in request.fixturenames:
        context: BrowserContext = request.getfixturevalue("context")
        context.set_default_timeout(10_000)


# --- helpers -----------------------------------------------------------------------------------


def afternoon_zone(now: datetime | None = None) -> str:
    """A fixed-offset IANA zone where the local time is now between 15:00 and 16:00."""
    utc = (now or datetime.now(tz=UTC)).astimezone(UTC)
    offset = (LOCAL_HOUR - utc.hour + 12) % 24 - 12  # -12..+11 hours, all of them Etc/GMT zones
    # POSIX-style names: Etc/GMT-5 is five hours *ahead* of UTC.
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    assert utc.astimezone(ZoneInfo(name)).hour == LOCAL_HOUR
    return name


@dataclass
class Account:
    email: str
    name: str
    role: str
    time_zone: str
    patient_id: int | None = None  # a patient's own diary

    def path(self, page_name: str, patient_id: int | None = None) -> str:
        return f"/patients/{patient_id or self.patient_id}/{page_name}"


def sign_up(
    page: Page,
    *,
    role: str = "patient",
    name: str | None = None,
    time_zone: str | None = None,
    verified: bool = True,
) -> Account:
    """Create an account through the sign-up form, as a person would; a patient lands on Today."""
    unique = uuid.uuid4().hex[:10]
    name = name or f"{role.capitalize()} {unique[:4].upper()}"
    zone = time_zone or afternoon_zone()
    page.goto("/sign-up")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(f"{role}-{unique}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator(f"input[name=role][value={role}]").check()
    page.get_by_label("Time zone").fill(zone)
    page.get_by_role("button", name="Create the account").click()
    account = Account(email=f"{role}-{unique}@example.org", name=name, role=role, time_zone=zone)
    if role == "patient":
        expect(page).to_have_url(re.compile(r"/patients/\d+/today$"))
        match = re.search(r"/patients/(\d+)/today", page.url)
        assert match is not None
        account.patient_id = int(match.group(1))
    elif role == "clinician":
        expect(page).to_have_url(re.compile(r"/clinic$"))
        if verified:  # an administrator verifies the account (issue 15)
            from dosewise.services.admin import set_verified

            set_verified(
                LIVE_ENGINE[-1], email=account.email, verified=True, now=datetime.now(tz=UTC), actor="test"
            )
            page.reload()
    else:
        expect(page).to_have_url(re.compile(r"/patients$"))
    return account


def save_titration(
    page: Page,
    account: Account,
    *,
    target: str = "30",
    crcl: str = "",
    products: tuple[str, ...] = (),
    this_morning: bool = True,
) -> None:
    """Build and save a titration plan starting today (the builder's default start), this
    morning at 07:xx (``this_morning``, see the module docstring) or now; products are the
    labels of the builder's checkboxes (none: 5, 10 and 20 mg tablets)."""
    with SERVER_CLOCK.this_morning() if this_morning else SERVER_CLOCK.shifted():
        page.goto(account.path("plans"))
        page.get_by_label("Start or raise baclofen (titration)").check()
        page.get_by_label("Titration: target mg a day").fill(target)
        for product in products:
            page.get_by_label(product).check()
        if crcl:
            page.get_by_label("I know the creatinine clearance (CrCl)").check()
            page.get_by_label("CrCl, mL/min").fill(crcl)
        page.get_by_role("button", name="Preview the plan").click()
        expect(page.get_by_role("heading", name="Preview: not saved yet")).to_be_visible()
        page.get_by_role("button", name="Save this plan").click()
        expect(page).to_have_url(re.compile(r"/today\?done=plan$"))
    page.reload()  # Today at the real time
    expect(page.get_by_role("status")).to_have_text(re.compile("The plan is saved"))


def invite(page: Page, account: Account, role: str) -> str:
    """The patient makes an invitation code on "Who can see this"; returns the code."""
    page.goto(account.path("access"))
    page.locator(f"input[name=role][value={role}]").check()
    page.get_by_role("button", name="Make a code").click()
    code = page.locator(".code-box .code").inner_text().strip()
    assert code, "no invitation code shown"
    return code


def join(page: Page, code: str) -> int:
    """A caregiver or clinician uses the code; returns the patient id they now see."""
    page.goto("/join")
    page.get_by_label("Invitation code").fill(code)
    page.get_by_role("button", name="Use the code").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+/today\?done=joined$"))
    expect(page.get_by_role("status")).to_have_text("You can now see this diary.")
    match = re.search(r"/patients/(\d+)/today", page.url)
    assert match is not None
    return int(match.group(1))


def screenshot(page: Page, name: str) -> None:
    """A full-page picture for people to look at (build/screenshots, git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@dataclass
class Helpers:
    """The helpers as a fixture (test modules do not import conftest)."""

    sign_up: Callable[..., Account] = sign_up
    save_titration: Callable[..., None] = save_titration
    invite: Callable[[Page, Account, str], str] = invite
    join: Callable[[Page, str], int] = join
    screenshot: Callable[[Page, str], None] = screenshot
    afternoon_zone: Callable[..., str] = afternoon_zone
    clock: ServerClock = field(default_factory=lambda: SERVER_CLOCK)
    live_engine: Callable[[], Any] = lambda: LIVE_ENGINE[-1]  # the live server's database


@pytest.fixture(scope="session")
def e2e() -> Helpers:
    return Helpers()


@pytest.fixture
def second_page(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """Another person's browser (own cookies), e.g. the caregiver beside the patient."""
    context = browser.new_context(**browser_context_args)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


PHONE_375 = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


def _phone_page(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(**{**browser_context_args, **PHONE_375})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """A small phone (375 x 812, touch); a module may define its own ``phone`` (another size)."""
    yield from _phone_page(browser, browser_context_args)


@pytest.fixture
def second_phone(browser: Browser, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    """Another person's small phone (own cookies), e.g. the caregiver's."""
    yield from _phone_page(browser, browser_context_args)

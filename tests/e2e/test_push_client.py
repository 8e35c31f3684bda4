"""Web Push in the browser (issue 14), against a small stand-in server: the page's switch
(app.js) and the service worker's push and notification-click handlers.

The stand-in serves the real app.js, service worker and static files with the app's security
headers, a page with the switch as the notification preferences page has it, and records what
the browser sends to the push API. Headless Chromium has no push service, so the page's
PushManager is replaced (before any script of the page runs) by one that hands out a fixed
subscription; the push itself is delivered to the service worker through the DevTools protocol
(ServiceWorker.deliverPushMessage), as DevTools' "Push" button does.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dosewise.web.app import HERE, SecurityHeaders
from dosewise.web.routes import install

VAPID_KEY_BYTES = bytes([4]) + bytes(range(1, 65))  # an uncompressed P-256 point's shape
VAPID_KEY = base64.urlsafe_b64encode(VAPID_KEY_BYTES).rstrip(b"=").decode()
CSRF = "csrf-token-for-scripts"
SUBSCRIPTION = {
    "endpoint": "https://push.example.test/send/abc",
    "expirationTime": None,
    "keys": {
        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
        "auth": "tBHItJI5svbpez7KI4CCXg",
    },
}
PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Notifications</title>
<meta name="csrf-token" content="{CSRF}">
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js"></script></head>
<body><main>
<section id="push" data-vapid-key="{VAPID_KEY}" data-subscribe-url="/api/push/subscriptions">
<h1>Notifications</h1>
<p id="push-status">Checking this browser...</p>
<button id="push-on" type="button">Turn on</button>
<button id="push-off" type="button" class="secondary">Turn off</button>
</section></main></body></html>"""
FAKE_PUSH_MANAGER = """(() => {
    const subscription = SUBSCRIPTION;
    const fake = {
        endpoint: subscription.endpoint,
        toJSON() { return subscription; },
        unsubscribe() {
            window.__subscription = null;
            window.__unsubscribed = true;
            return Promise.resolve(true);
        },
    };
    window.__subscription = null;
    PushManager.prototype.getSubscription = function () { return Promise.resolve(window.__subscription); };
    PushManager.prototype.subscribe = function (options) {
        window.__subscribeOptions = {
            userVisibleOnly: options.userVisibleOnly,
            key: Array.from(new Uint8Array(options.applicationServerKey)),
        };
        window.__subscription = fake;
        return Promise.resolve(fake);
    };
})();""".replace("SUBSCRIPTION", json.dumps(SUBSCRIPTION), 1)
NOTIFICATIONS = """() => navigator.serviceWorker.ready
    .then((registration) => registration.getNotifications())
    .then((shown) => shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data,
        actions: n.actions.map((a) => ({action: a.action, title: a.title})),
        requireInteraction: n.requireInteraction})))"""


@dataclass
class StandIn:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False  # the push API answers 422


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    import uvicorn

    app = FastAPI()
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    state = StandIn(url="")

    app.get("/sw.js")(install.service_worker)
    app.get("/manifest.webmanifest")(install.manifest)

    @app.get("/offline")
    def offline() -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>Offline</title><h1>You are offline</h1>")

    @app.get("/push-test")
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.api_route("/api/push/subscriptions", methods=["POST", "DELETE"])
    async def subscriptions(request: Request) -> Response:
        state.received.append(await _seen(request))
        if state.refuse:
            return JSONResponse({"detail": "endpoint: a push service must be https"}, status_code=422)
        return JSONResponse({"ok": True}, status_code=201 if request.method == "POST" else 200)

    @app.post("/api/notification-actions")
    async def notification_action(request: Request) -> JSONResponse:
        seen = await _seen(request)
        state.received.append(seen)
        return JSONResponse({"message": f"Recorded: the 14:00 dose, {seen['json']['action']}."})

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    state.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the stand-in did not start"
        time.sleep(0.02)
    yield state
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


async def _seen(request: Request) -> dict[str, Any]:
    body = await request.body()
    return {
        "method": request.method,
        "path": request.url.path,
        "csrf": request.headers.get("x-csrf-token"),
        "content_type": request.headers.get("content-type"),
        "cookie": request.headers.get("cookie"),
        "json": json.loads(body) if body else None,
    }


@pytest.fixture
def browser_context(
    browser: Browser, browser_context_args: dict[str, Any], stand_in: StandIn
) -> Iterator[BrowserContext]:
    context = browser.new_context(**browser_context_args)
    context.set_default_timeout(10_000)
    stand_in.received.clear()
    stand_in.refuse = False
    try:
        yield context
    finally:
        context.close()


def open_switch(context: BrowserContext, stand_in: StandIn, *, init: str = FAKE_PUSH_MANAGER) -> Page:
    context.add_init_script(init)
    page = context.new_page()
    page.goto(f"{stand_in.url}/push-test")
    return page


def test_the_switch_subscribes_and_tells_the_server(
    browser_context: BrowserContext, stand_in: StandIn
) -> None:
    browser_context.grant_permissions(["notifications"], origin=stand_in.url)
    page = open_switch(browser_context, stand_in)
    status = page.locator("#push-status")
    expect(status).to_have_text("Notifications are off for this browser")
    expect(status).to_have_attribute("role", "status")
    expect(page.locator("#push-off")).to_be_disabled()

    page.locator("#push-on").click()
    expect(status).to_have_text("Notifications are on for this browser")
    options = page.evaluate("window.__subscribeOptions")
    assert options == {"userVisibleOnly": True, "key": list(VAPID_KEY_BYTES)}
    assert stand_in.received == [
        {
            "method": "POST",
            "path": "/api/push/subscriptions",
            "csrf": CSRF,
            "content_type": "application/json",
            "cookie": None,
            "json": SUBSCRIPTION,
        }
    ]
    expect(page.locator("#push-on")).to_be_disabled()

    page.locator("#push-off").click()
    expect(status).to_have_text("Notifications are off for this browser")
    assert stand_in.received[-1]["method"] == "DELETE"
    assert stand_in.received[-1]["json"] == {"endpoint": SUBSCRIPTION["endpoint"]}
    assert stand_in.received[-1]["csrf"] == CSRF
    assert page.evaluate("window.__unsubscribed") is True


def test_a_refused_subscription_is_said_and_undone(
    browser_context: BrowserContext, stand_in: StandIn
) -> None:
    browser_context.grant_permissions(["notifications"], origin=stand_in.url)
    stand_in.refuse = True
    page = open_switch(browser_context, stand_in)
    page.locator("#push-on").click()
    expect(page.locator("#push-status")).to_have_text(
        "Notifications could not be turned on: endpoint: a push service must be https"
    )
    assert page.evaluate("window.__unsubscribed") is True  # no subscription left that nobody sends to


@pytest.mark.parametrize(
    ("init", "said"),
    [
        (
            FAKE_PUSH_MANAGER + 'Object.defineProperty(Notification, "permission", {get: () => "denied"});',
            "Notifications are blocked in the browser settings",
        ),
        ("delete window.PushManager;", "Notifications are not supported by this browser"),
    ],
    ids=["blocked", "unsupported"],
)
def test_the_switch_says_when_notifications_cannot_work(
    browser_context: BrowserContext, stand_in: StandIn, init: str, said: str
) -> None:
    page = open_switch(browser_context, stand_in, init=init)
    expect(page.locator("#push-status")).to_have_text(said)
    expect(page.locator("#push-on")).to_be_disabled()
    assert stand_in.received == []


def shown_when(page: Page, which: str) -> list[dict[str, Any]]:
    """The notifications shown that match ``which`` (a JavaScript predicate), once there are some."""
    deadline = time.monotonic() + 20  # the worker may be woken for it on a loaded machine
    while True:
        shown: list[dict[str, Any]] = page.evaluate(
            f"async () => (await ({NOTIFICATIONS})()).filter({which})"
        )
        if shown or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(50)


def _registration_id(context: BrowserContext, page: Page, scope: str) -> str:
    cdp = context.new_cdp_session(page)
    found: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: found.extend(
            r["registrationId"]
            for r in event["registrations"]
            if r["scopeURL"] == scope and not r["isDeleted"]
        ),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not found and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert found, "the service worker's registration was not reported"
    page.__dict__["_cdp"] = cdp  # kept open for the push
    return found[0]


def test_a_push_shows_the_notification_and_its_buttons_answer(
    browser_context: BrowserContext, stand_in: StandIn
) -> None:
    browser_context.grant_permissions(["notifications"], origin=stand_in.url)
    browser_context.add_cookies([{"name": "dosewise_session", "value": "secret", "url": stand_in.url}])
    page = open_switch(browser_context, stand_in)
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    registration = _registration_id(browser_context, page, f"{stand_in.url}/")
    message = {
        "title": "Dose at 14:00",
        "body": "5 mg: 5 mL of 1 mg/mL oral solution",
        "url": "/patients/1/today",
        "tag": "dose-7",
        "level": "urgent",
        "actions": [{"action": "taken", "title": "Taken"}, {"action": "snooze", "title": "Snooze 15 min"}],
        "action_token": "signed-token-7",
    }
    page.__dict__["_cdp"].send(
        "ServiceWorker.deliverPushMessage",
        {"origin": stand_in.url, "registrationId": registration, "data": json.dumps(message)},
    )
    assert shown_when(page, "(n) => n.tag === 'dose-7'") == [
        {
            "title": "Dose at 14:00",
            "body": "5 mg: 5 mL of 1 mg/mL oral solution",
            "tag": "dose-7",
            "data": {"url": "/patients/1/today", "action_token": "signed-token-7"},
            "actions": [
                {"action": "taken", "title": "Taken"},
                {"action": "snooze", "title": "Snooze 15 min"},
            ],
            "requireInteraction": True,
        }
    ]

    # "Taken" from the notification: the token goes back, without cookies; the answer is shown
    worker = browser_context.service_workers[0]
    worker.evaluate(
        "answerClick('taken', {url: '/patients/1/today', action_token: 'signed-token-7'}, 'dose-7')"
    )
    assert stand_in.received == [
        {
            "method": "POST",
            "path": "/api/notification-actions",
            "csrf": None,
            "content_type": "application/json",
            "cookie": None,
            "json": {"token": "signed-token-7", "action": "taken"},
        }
    ]
    shown = shown_when(page, "(n) => n.title === 'Dosewise'")
    assert [(n["title"], n["body"], n["tag"]) for n in shown] == [
        ("Dosewise", "Recorded: the 14:00 dose, taken.", "dose-7")
    ]

    # a routine message does not stay on screen; a click on it (no button) opens its page
    page.__dict__["_cdp"].send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": stand_in.url,
            "registrationId": registration,
            "data": json.dumps(
                {"title": "Plan changed", "body": "From tomorrow", "url": "/offline", "tag": "p"}
            ),
        },
    )
    (routine,) = shown_when(page, "(n) => n.tag === 'p'")
    assert routine["requireInteraction"] is False and routine["actions"] == []
    worker.evaluate("answerClick('', {url: '/offline', action_token: null}, 'p')")
    expect(page).to_have_url(f"{stand_in.url}/offline")

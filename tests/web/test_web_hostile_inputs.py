"""Every route, every parameter, hostile values (issue 15): far dates, offsets where a local time
is expected, 24:00, leap seconds, NUL characters, huge numbers, wrong types. A person gets a
message saying what to fix (4xx), never a server error, and the next request still works.

The walk learns which form fields and query parameters a route reads by sending it one ordinary
request first and recording what it looked up, so a field added later is covered too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.datastructures import FormData, QueryParams
from starlette.requests import HTTPConnection, Request
from test_web_authorization import ZONE, _ask_review, _first, _invite, _patient_of, _today, give_plan

from conftest import page_token, sign_up, web_settings
from dosewise.services import medicines
from dosewise.store.models import AccessGrantRow, DoseSlotRow, InvitationRow, MedicineRow, PlanRow
from dosewise.web.app import create_app, route_table

HOSTILE_TEXTS = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "08:00+05:00",
    "24:00",
    "2026-06-30T23:59:60",
    "0001-01-01",
    "a\x00b",
    "9" * 40,
    "NaN",
]
HOSTILE_JSON: list[Any] = [*HOSTILE_TEXTS, 2**70, 1e308, None, ["a\x00b"], {"k\x00": 1}]
# a body model walked on one route, again on another: what its route may do differently
AGAIN: list[Any] = ["a\x00b", "9" * 40, "0001-01-01", "24:00", None]
# pages that draw a chart for every valid form (slow); their model is walked in full by the API
DRAWN = {("POST", "/patients/{patient_id}/plans")}
HOSTILE_IDS = ["0", "-1", "99999999999999999999", "2147483648", "1e3", "%00", "x"]
# Routes that end the session: walked last (with hostile values they must still not fail)
ENDING = {("POST", "/sign-out"), ("DELETE", "/api/session"), ("POST", "/account/delete")}
PUBLIC = {"/sign-in", "/sign-up", "/api/session", "/api/notification-actions", "/api/push/key",
          "/manifest.webmanifest", "/sw.js", "/offline"}  # fmt: skip
PASSWORD = "correct horse battery"

BASE_FORM = {
    "status": "taken",
    "change": "taken",
    "taken_at": "08:00",
    "role": "caregiver",
    "name": "ibuprofen",
    "text": "note",
    "kind": "maintenance",
    "mg_day": "15",
    "start": "",
    "action": "preview",
    "reason": "dose_question",
    "message": "a question",
    "missed": "08:00",
    "penn_frequency": "0",
    "spasticity": "2",
    "email": "walker@example.org",
    "password": "not the password",
    "current_password": "not the password",
    "new_password": "another long password 42",
    "display_name": "Walker",
    "time_zone": ZONE,
    "code": "ABCD-EFGH",
    "country": "GB",
    "product": "tablet:10mg",
    "quantity": "10",
    "first": "2026-01-01",
    "last": "2026-01-31",
    "next": "/",
    "page": "1",
    "limit": "5",
}
BASE_JSON: dict[str, Any] = {
    **BASE_FORM,
    "mg_day": 15,
    "penn_frequency": 0,
    "spasticity": 2,
    "symptoms": ["drowsy"],
    "change": "undo",
    "taken_at": None,
    "draft": "x",
    "endpoint": "https://push.example/1",
    "keys": {"p256dh": "k", "auth": "a"},
    "token": "t",
    "missed_in_row": 3,
    "late_hours": 4,
    "no_dose_hours": 24,
    "supply_warn_days": 7,
    "supply_caregivers_days": 5,
    "supply_urgent_days": 3,
}


class _RecordingForm(FormData):
    seen: set[str] = set()  # noqa: RUF012  (the walk's own record)

    def get(self, key: Any, default: Any = None) -> Any:
        self.seen.add(key)
        return super().get(key, default)

    def getlist(self, key: Any) -> list[Any]:
        self.seen.add(key)
        return super().getlist(key)

    def __contains__(self, key: Any) -> bool:
        self.seen.add(key)
        return super().__contains__(key)

    def __getitem__(self, key: Any) -> Any:
        self.seen.add(key)
        return super().__getitem__(key)


class _RecordingQuery(QueryParams):
    seen: set[str] = set()  # noqa: RUF012

    def get(self, key: Any, default: Any = None) -> Any:
        self.seen.add(key)
        return super().get(key, default)

    def getlist(self, key: Any) -> list[Any]:
        self.seen.add(key)
        return super().getlist(key)

    def __contains__(self, key: Any) -> bool:
        self.seen.add(key)
        return super().__contains__(key)

    def __getitem__(self, key: Any) -> Any:
        self.seen.add(key)
        return super().__getitem__(key)


@contextmanager
def _recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Record which form fields and query parameters the app looks up."""
    original_form = Request._get_form

    async def form(self: Request, **options: Any) -> FormData:
        found = await original_form(self, **options)
        return _RecordingForm(found.multi_items())

    def query(self: HTTPConnection) -> QueryParams:
        if not isinstance(getattr(self, "_query_params", None), _RecordingQuery):
            self._query_params = _RecordingQuery(self.scope["query_string"])
        return self._query_params

    with monkeypatch.context() as patch:
        patch.setattr(Request, "_get_form", form)
        patch.setattr(HTTPConnection, "query_params", property(query))
        yield


@pytest.fixture
def walker(database_url: str) -> Iterator[dict[str, Any]]:
    """A patient (signed in) with a plan, a medicine, a caregiver, an open invitation and a review
    request, and an anonymous browser for the public routes."""
    app = create_app(web_settings(database_url))
    engine = app.state.context.engine
    patient, carer, anonymous = (
        TestClient(app, follow_redirects=False, raise_server_exceptions=False) for _ in range(3)
    )
    for client in (patient, carer, anonymous):
        client.__enter__()
    user_id = sign_up(patient, "walker@example.org")
    sign_up(carer, "carer@example.org", role="caregiver")
    patient_id = _patient_of(engine, user_id)
    give_plan(engine, patient_id)
    now = datetime.now(tz=ZoneInfo(ZONE))
    medicines.add_medicine(engine, patient_id=patient_id, name="tramadol", now=now, actor="t")
    code = _invite(patient, patient_id, "caregiver")
    carer.post("/join", data={"csrf_token": page_token(carer, "/join"), "code": code})
    _invite(patient, patient_id, "clinician")
    ids = {
        "patient_id": patient_id,
        "slot_id": _first(engine, select(DoseSlotRow.id).join(PlanRow).where(PlanRow.patient_id == patient_id)
                          .order_by(DoseSlotRow.id)),
        "medicine_id": _first(engine, select(MedicineRow.id).where(MedicineRow.patient_id == patient_id)),
        "plan_id": _first(engine, select(PlanRow.id).where(PlanRow.patient_id == patient_id)),
        "grant_id": _first(engine, select(AccessGrantRow.id).where(AccessGrantRow.patient_id == patient_id)),
        "invitation_id": _first(engine, select(InvitationRow.id)
                                .where(InvitationRow.patient_id == patient_id)),
        "request_id": _ask_review(engine, patient_id, user_id),
        "token": "x" * 43,
        "user_id": user_id,  # the admin pages' (issue 15): the patient is no administrator, so 404
    }  # fmt: skip
    yield {"patient": patient, "anonymous": anonymous, "ids": ids}
    for client in (patient, carer, anonymous):
        client.__exit__(None, None, None)


def _path(template: str, ids: dict[str, Any], **changes: str) -> str:
    return template.format(**{**{k: str(v) for k, v in ids.items()}, **changes})


def _send(
    client: TestClient, method: str, path: str, *, form: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None, query: dict[str, str] | None = None,
) -> Any:  # fmt: skip
    headers = {"x-csrf-token": _token(client)} if path.startswith("/api/") else {}
    if form is not None and not path.startswith("/api/"):
        form = {"csrf_token": _token(client), **form}
    page_form = form if method != "GET" and not path.startswith("/api/") else None
    return client.request(method, path, data=page_form, json=body, params=query, headers=headers)


_TOKENS: dict[int, str] = {}


def _token(client: TestClient) -> str:
    """The client's CSRF token (read once per session from a page, as a browser keeps it)."""
    session = client.cookies.get("dosewise_session") or client.cookies.get("dosewise_csrf") or ""
    key = hash((id(client), session))
    if key not in _TOKENS:
        _TOKENS[key] = page_token(
            client, "/account" if client.cookies.get("dosewise_session") else "/sign-in"
        )
    return _TOKENS[key]


def _body_fields(route: Any) -> list[str]:
    if route.body_field is None or not route.path.startswith("/api/"):
        return []
    annotation = route.body_field.field_info.annotation
    return list(getattr(annotation, "model_fields", {}))


def test_no_hostile_input_makes_a_server_error(
    walker: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, failures, sent = walker["ids"], [], 0
    walked_models: set[Any] = set()
    BASE_FORM["start"] = BASE_JSON["start"] = _today()
    routes = sorted(
        ((method, route) for route in route_table() for method in sorted(route.methods - {"HEAD"})),
        key=lambda pair: (pair[0], pair[1].path) in ENDING,
    )
    for method, route in routes:
        client = walker["anonymous"] if route.path in PUBLIC else walker["patient"]
        template = route.path
        fields = _body_fields(route)
        base_body = {name: BASE_JSON[name] for name in fields if name in BASE_JSON} if fields else None
        # the ordinary request first: which form fields and query parameters does it read?
        _RecordingForm.seen.clear()
        _RecordingQuery.seen.clear()
        with _recording(monkeypatch):
            _send(client, method, _path(template, ids), form=dict(BASE_FORM), body=base_body, query={})
        sent += 1
        form_fields = sorted(_RecordingForm.seen - {"csrf_token"})
        query_fields = sorted(_RecordingQuery.seen)
        trials: list[tuple[str, dict[str, Any]]] = [("ordinary", {})]
        for name in (n for n in ids if "{" + n + "}" in template):
            trials += [(f"path {name}={value!r}", {"path": {name: value}}) for value in HOSTILE_IDS]
        for name in query_fields:
            trials += [(f"query {name}={value!r}", {"query": {name: value}}) for value in HOSTILE_TEXTS]
        if not template.startswith("/api/") and method != "GET":
            texts = AGAIN[:-1] if (method, template) in DRAWN else HOSTILE_TEXTS
            for name in form_fields:
                trials += [(f"form {name}={value!r}", {"form": {name: value}}) for value in texts]
        model = route.body_field.field_info.annotation if fields else None
        values = HOSTILE_JSON if model not in walked_models else AGAIN  # the model is the same
        walked_models.add(model)
        for name in fields:
            trials += [(f"json {name}={value!r}", {"json": {name: value}}) for value in values]
        for what, change in trials:
            path = _path(template, ids, **change.get("path", {}))
            form = {**BASE_FORM, **change.get("form", {})} if method != "GET" else None
            body = {**(base_body or {}), **change.get("json", {})} if fields else None
            query = {name: BASE_FORM.get(name, "1") for name in query_fields} | change.get("query", {})
            response = _send(client, method, path, form=form, body=body, query=query)
            sent += 1
            if response.status_code >= 500:
                failures.append((method, template, what, response.status_code, response.text[:120]))
        if (method, template) not in ENDING:  # the next request still works, the session too
            assert walker["patient"].get("/api/me").status_code == 200, (method, template)
    assert not failures, "\n".join(map(repr, failures))
    assert 1000 < sent < 6000, sent  # every route, within a reasonable time

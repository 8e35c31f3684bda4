"""The administrator's pages: clinician accounts and their verification (issue 15).

Only administrators (role ``admin``, made with ``dosewise admin create``) see these; for anyone
else they do not exist (404). Verifying and revoking are CSRF-checked forms, audited by the
service.
"""

from __future__ import annotations

from datetime import UTC

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from dosewise.services import admin
from dosewise.web.context import Ctx, Id, User, render

router = APIRouter(tags=["pages"], include_in_schema=False)

NOTICES = {
    "verified": "Verified: the clinician can now use the clinician powers for their patients.",
    "revoked": "Verification revoked: the clinician's powers end with their next request.",
    "unchanged": "Nothing changed: the account was already in that state.",
}


@router.get("/admin/clinicians")
def clinicians(request: Request, context: Ctx, user: User) -> Response:
    admin.require_admin(user)
    accounts = admin.list_clinicians(context.engine)
    return render(
        context,
        request,
        "admin_clinicians.html.j2",
        accounts=accounts,
        pending=sum(1 for a in accounts if not a.verified),
        notice=NOTICES.get(request.query_params.get("done", "")),
        utc=UTC,
    )


def _set(context: Ctx, user: User, user_id: int, *, verified: bool) -> Response:
    admin.require_admin(user)
    result = admin.set_verified(
        context.engine, user_id=user_id, verified=verified, now=context.now(), actor=user.actor
    )
    done = "unchanged" if not result.changed else ("verified" if verified else "revoked")
    return RedirectResponse(f"/admin/clinicians?done={done}", status_code=303)


@router.post("/admin/clinicians/{user_id}/verify")
def verify(context: Ctx, user: User, user_id: Id) -> Response:
    return _set(context, user, user_id, verified=True)


@router.post("/admin/clinicians/{user_id}/revoke")
def revoke(context: Ctx, user: User, user_id: Id) -> Response:
    return _set(context, user, user_id, verified=False)

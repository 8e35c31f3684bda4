"""The installable app: the web app manifest, the service worker and the offline page.

No sign-in: none of the three says anything about a person. The service worker is served from
the root (``/sw.js``) so that its scope is the whole site; its source, web/service_worker.js,
gets a version made from its own text and what it keeps for offline use (static files, the
offline page, the manifest), so that any change to them installs a new worker (which fetches
them again) on the next visit.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dosewise.web.context import Ctx

router = APIRouter(tags=["pages"], include_in_schema=False)
WEB = Path(__file__).resolve().parents[1]
THEME_COLOR = "#1d4f91"  # --brand in app.css
BACKGROUND_COLOR = "#ffffff"  # --paper
OFFLINE_PATH = "/offline"
# What the service worker keeps for offline use besides the Today pages: the page's own
# stylesheet, script and icons, the offline page and the manifest.
OFFLINE_FILES = (
    "/static/app.css",
    "/static/app.js",
    "/static/favicon.svg",
    "/static/icons/icon-192.png",
    OFFLINE_PATH,
    "/manifest.webmanifest",
)
ICONS = (
    ("icon-192.png", "192x192", "image/png", "any"),
    ("icon-512.png", "512x512", "image/png", "any"),
    ("maskable-192.png", "192x192", "image/png", "maskable"),
    ("maskable-512.png", "512x512", "image/png", "maskable"),
    ("monochrome.svg", "any", "image/svg+xml", "monochrome"),
)


def build_manifest() -> dict[str, Any]:
    """The web app manifest (W3C Web Application Manifest): what a phone installs."""
    return {
        "id": "/",
        "name": "Dosewise",
        "short_name": "Dosewise",
        "description": "Safe oral baclofen: today's doses, the plan, the diary and safety checks.",
        "lang": "en",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {"src": f"/static/icons/{name}", "sizes": sizes, "type": kind, "purpose": purpose}
            for name, sizes, kind, purpose in ICONS
        ],
    }


@cache
def build_service_worker() -> str:
    """The service worker's script with its version and the list of files it keeps (read once
    per process, at the first request for it)."""
    source = (WEB / "service_worker.js").read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode())
    for path in sorted((WEB / "static").rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(WEB).as_posix().encode())
            digest.update(path.read_bytes())
    for template in ("base.html.j2", "offline.html.j2"):  # the offline page, as kept
        digest.update((WEB / "templates" / template).read_bytes())
    digest.update(json.dumps(build_manifest()).encode())  # the manifest, as kept
    return source.replace('"__VERSION__"', json.dumps(digest.hexdigest()[:16])).replace(
        '["__OFFLINE_FILES__"]', json.dumps(list(OFFLINE_FILES))
    )


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    return Response(
        json.dumps(build_manifest(), indent=1),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/sw.js")
def service_worker() -> Response:
    return Response(
        build_service_worker(),
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


@router.get(OFFLINE_PATH)
def offline(request: Request, context: Ctx) -> HTMLResponse:
    """The page the service worker shows offline for any page but Today. Nobody is signed in
    on it (it is kept in the browser's cache), so it names no one and carries no token."""
    return context.templates.TemplateResponse(
        request, "offline.html.j2", {"user": None, "patient": None, "csrf_token": ""}
    )

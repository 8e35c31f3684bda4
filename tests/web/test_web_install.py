"""The installable app's routes (issue 14): the manifest, the service worker, the offline page,
and what every page links to them. The browser side is in tests/e2e/test_installable.py."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from conftest import sign_up
from dosewise.web.app import CSP

STATIC = Path(__file__).resolve().parents[2] / "src" / "dosewise" / "web" / "static"


def test_the_manifest_says_what_a_phone_installs(web: TestClient) -> None:
    response = web.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/manifest+json"
    assert response.headers["content-security-policy"] == CSP
    manifest = response.json()
    assert manifest["name"] == "Dosewise" and manifest["short_name"] == "Dosewise"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/", "/", "standalone")
    assert manifest["theme_color"] == "#1d4f91" and manifest["background_color"] == "#ffffff"
    css = (STATIC / "app.css").read_text()
    assert f"--brand: {manifest['theme_color']}" in css and f"--paper: {manifest['background_color']}" in css


def test_every_icon_is_served_at_its_declared_size(web: TestClient) -> None:
    icons = web.get("/manifest.webmanifest").json()["icons"]
    purposes = {icon["purpose"] for icon in icons}
    assert purposes == {"any", "maskable", "monochrome"}
    png_sizes = {icon["sizes"] for icon in icons if icon["type"] == "image/png" and icon["purpose"] == "any"}
    assert {"192x192", "512x512"} <= png_sizes
    for icon in icons:
        response = web.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        assert response.headers["content-type"] == icon["type"], icon["src"]
        if icon["type"] != "image/png":
            assert "<svg" in response.text
            continue
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG"
        assert f"{image.width}x{image.height}" == icon["sizes"], icon["src"]
    if "maskable" in purposes:  # full bleed: the platform's mask must not show a transparent corner
        maskable = next(icon["src"] for icon in icons if icon["purpose"] == "maskable")
        corner = Image.open(io.BytesIO(web.get(maskable).content)).convert("RGBA").getpixel((0, 0))
        assert corner == (0x1D, 0x4F, 0x91, 255)


def test_the_service_worker_is_served_from_the_root_for_the_whole_site(web: TestClient) -> None:
    response = web.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == CSP  # unchanged: the worker fetches only 'self'
    script = response.text
    version = re.search(r'const VERSION = "([0-9a-f]{16})";', script)
    assert version, "the version is filled in"
    files = json.loads(re.search(r"const OFFLINE_FILES = (\[.*?\]);", script)[1])  # type: ignore[index]
    assert "/offline" in files and "/static/app.css" in files
    for path in files:  # every file it keeps is there (install fails on one missing file)
        assert web.get(path).status_code == 200, path
    assert "__" not in script.split("*/", 1)[1].replace("__proto__", "")


def test_the_offline_page_names_no_one_and_says_what_works(web: TestClient) -> None:
    sign_up(web, "ana@example.org", name="Ana Offline")
    response = web.get("/offline")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    page = response.text
    assert "You are offline" in page and 'href="/">Today</a>' in page
    assert "Ana Offline" not in page and "csrf" not in page.lower() and "Sign out" not in page
    assert "dosewise_csrf" not in response.headers.get("set-cookie", "")


def test_pages_link_the_manifest_the_script_and_the_token_for_scripts(web: TestClient) -> None:
    welcome = web.get("/").text
    for tag in (
        '<link rel="manifest" href="/manifest.webmanifest">',
        '<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png">',
        '<meta name="theme-color" content="#1d4f91">',
        '<script src="/static/app.js"></script>',
    ):
        assert tag in welcome
    assert 'name="csrf-token"' not in welcome  # nobody signed in: no token for scripts
    sign_up(web, "bo@example.org")
    today = web.get(web.get("/").headers["location"])
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', today.text)
    assert token, "a signed-in page gives its scripts the CSRF token"
    assert re.search(r'name="csrf_token" value="' + re.escape(token[1]) + '"', today.text)
    assert 'data-loaded-at="' in today.text
    assert "<script>" not in today.text and " style=" not in today.text  # still nothing inline
    assert today.headers["content-security-policy"] == CSP
    assert today.headers["cache-control"] == "no-store"


def test_the_static_script_is_served_as_javascript(web: TestClient) -> None:
    response = web.get("/static/app.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")

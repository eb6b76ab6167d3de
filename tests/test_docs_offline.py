"""/docs in a real headless Chromium that can resolve no host but 127.0.0.1 (the harness's resolver rule).

Swagger UI must come from the app itself: a page that needed a CDN would show no operations here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Request, expect

from tests.harness import LiveServer


@pytest.mark.browser
def test_docs_render_every_operation_from_local_files_only(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_page()
    requests: list[Request] = []
    failed: list[str] = []
    page.on("request", lambda request: requests.append(request))
    page.on("requestfailed", lambda request: failed.append(request.url))
    errors: list[str] = []  # a Content-Security-Policy violation is a console error
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{live_server.url}/docs")
        expect(page.locator(".info .title")).to_contain_text("Infant seizures Q&A")  # the schema loaded
        ask = page.locator(".opblock-summary", has_text="/api/ask")
        expect(ask).to_contain_text("POST")
        expect(ask).to_contain_text("Answer a question with verbatim, cited source passages")
        expect(page.locator(".opblock-summary", has_text="/api/health")).to_contain_text("GET")
    finally:
        page.close()
    hosts = {urlsplit(request.url).hostname for request in requests if not request.url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, [request.url for request in requests]
    assert not failed
    assert not errors, errors
    paths = {urlsplit(request.url).path for request in requests}
    assert {"/docs", "/openapi.json", "/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"} <= paths


def test_docs_page_names_only_local_assets_and_redoc_is_gone(client: httpx.Client) -> None:
    html = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in html
    assert "https://" not in html and "http://" not in html
    # "text/javascript", or "application/javascript" once Gradio has registered its own mime types
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"], script.headers
    assert client.get("/redoc").status_code == 404

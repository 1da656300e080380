"""The API documentation renders in a real browser under the platform's strict Content-Security-Policy.

Swagger UI comes from drf-spectacular-sidecar (no CDN: the platform runs in a closed network). The page
must load its scripts and styles from the platform itself, raise no CSP violation and show the operations.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_the_documentation_renders_without_csp_violations(browser, live_server, committed_world):
    # given a browser that records every CSP violation and every request to another origin
    page = browser.new_page()
    violations: list[str] = []
    foreign: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("request", lambda request: None if request.url.startswith(live_server.url) else foreign.append(request.url))

    # when the documentation is opened
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)

    # then Swagger UI shows the API's operations, with nothing blocked and nothing fetched from elsewhere
    assert "iiz API" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".swagger-ui .opblock").count() >= 20
    assert violations == []
    assert [url for url in foreign if not url.startswith("data:")] == []
    page.close()

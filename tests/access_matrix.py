"""The routes of the project and the outcomes of an access decision, for the access matrix test.

``routes()`` walks the URL resolver (includes, namespaces, the admin site, the API and its catch-all) and
names every route by a stable key: its namespaced name, or for an unnamed route its full pattern. The matrix
itself (``tests/test_access_matrix.py``) declares one entry per key, or one group entry whose members are
again taken from the resolver; ``coverage()`` compares the two, and ``tests/conftest.py`` prints the result
at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    """One routed URL pattern: its key, its full pattern and the view that answers it."""

    key: str
    pattern: str
    callback: Callable[..., Any]


def _walk(resolver: URLResolver, prefix: str, namespaces: tuple[str, ...]) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            key = ":".join((*namespaces, entry.name)) if entry.name else pattern
            yield Route(key=key, pattern=pattern, callback=entry.callback)


def routes() -> list[Route]:
    """Every URL pattern the project routes, in resolver order."""
    return list(_walk(get_resolver(), "", ()))


def coverage(declared: set[str]) -> tuple[list[str], list[str], int]:
    """(routed keys without an entry, declared keys that are not routed, number of routed keys)."""
    routed = [route.key for route in routes()]
    missing = [key for key in routed if key not in declared]
    stale = sorted(declared - set(routed))
    return missing, stale, len(routed)


# ---------------------------------------------------------------------------------------------------------
# Outcomes of an access decision
# ---------------------------------------------------------------------------------------------------------

OK = "allowed"  # 2xx, or a redirect that is not to a login page; a POST may also answer 400 (form errors)
FORBIDDEN = "403"
HIDDEN = "404"
LOGIN = "login"  # a redirect to a login page (the platform's, or the admin's which leads there)
UNAUTHENTICATED = "401"  # the API without a token
REDIRECT = "redirect"  # any redirect, and never the page itself (checked on the status code)


def _login_paths() -> set[str]:
    return {str(resolve_url(settings.LOGIN_URL)), "/admin/login/"}


def outcome_of(response: HttpResponse, *, method: str) -> str:
    """What the response means for the access decision (500 and other surprises are returned as is)."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        return LOGIN if urlsplit(response["Location"]).path in _login_paths() else OK
    if status == 400 and method != "get":
        return OK  # allowed through, then the (deliberately empty or minimal) form was refused
    if 200 <= status < 300:
        return OK
    return {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: HIDDEN}.get(status, str(status))


# ---------------------------------------------------------------------------------------------------------
# The session's last line (registered in tests/conftest.py)
# ---------------------------------------------------------------------------------------------------------

MATRIX_FILE = "test_access_matrix.py"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """``access matrix: covered N of M routes`` after a run that included the matrix.

    Computed here, from the resolver and the table, so that under xdist the controller prints it whichever
    worker ran which test.
    """
    ran = any(
        MATRIX_FILE in str(getattr(report, "nodeid", ""))
        for reports in terminalreporter.stats.values()
        for report in reports
    )
    if not ran:
        return
    from tests.test_access_matrix import declared_keys

    missing, _stale, total = coverage(declared_keys())
    terminalreporter.write_line(f"access matrix: covered {total - len(missing)} of {total} routes")

"""What the API tests share: tokens of two partner institutions, clients that carry them, problem details.

The fixtures are registered in ``tests/conftest.py``. Modules whose tests count against the rate limit
use ``fresh_rate_limits``: the limit counts in the cache, so each test starts with a clean slate.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient

from iiz.interfaces.models import Scope
from iiz.interfaces.services import IssuedToken, api_token_issue
from iiz.organisations.models import Institution, User

PROBLEM = "application/problem+json"

ALL_SCOPES = list(Scope.values)


def token_for(institution: Institution, *, scopes: list[str] | None = None, **kwargs: object) -> IssuedToken:
    """A token of the institution, issued by the demo administrator through the service."""
    admin = User.objects.get(username="admin")
    return api_token_issue(
        actor=admin,
        institution=institution,
        name=f"System {institution.short_name}",
        scopes=ALL_SCOPES if scopes is None else scopes,
        **kwargs,  # type: ignore[arg-type]
    )


def api_client(key: str) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {key}"})


def problem(response) -> dict:  # type: ignore[no-untyped-def]
    """The body of an RFC 9457 problem detail, after checking its shape."""
    assert response["Content-Type"] == PROBLEM, response.content
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == response.status_code
    return body


@pytest.fixture
def fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token_a(world) -> IssuedToken:  # type: ignore[no-untyped-def]
    """A token of the Amt für Arbeit (RAV) with every scope."""
    return token_for(world.labour)


@pytest.fixture
def token_b(world) -> IssuedToken:  # type: ignore[no-untyped-def]
    """A token of the IV-Stelle with every scope."""
    return token_for(world.disability)


@pytest.fixture
def api_a(token_a: IssuedToken) -> HttpClient:
    return api_client(token_a.key)


@pytest.fixture
def api_b(token_b: IssuedToken) -> HttpClient:
    return api_client(token_b.key)

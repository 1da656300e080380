"""The API against its own OpenAPI schema: schemathesis generates requests for every operation.

The Django application is called in-process through WSGI (no network), authenticated with a token of the
Amt für Arbeit that has data to show: a person, a case it takes part in and an agreement of its adviser.
Every answer must be no server error and must match the schema: a documented status code and content
type, a body of the documented shape, the documented headers. Examples are bounded (ten per operation)
so that the run stays short.

The schema is the one served at /api/schema/, generated at import (no database needed). schemathesis'
``from_fixture`` loader would be the way to load it through WSGI inside the test, but it relies on a
private attribute of pytest nodes that pytest 9.2 no longer has; the calls still go through the WSGI app.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cache as once
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import cases_world
from tests.api_world import token_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@once
def _django_app() -> Any:
    # Built on the first request, inside a test: the application must start after the test database is set up.
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def application(environ: dict[str, Any], start_response: Any) -> Any:
    return _django_app()(environ, start_response)


def _served_schema() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


schema = schemathesis.openapi.from_dict(_served_schema())
schema.app = application


@pytest.fixture(autouse=True)
def _in_test_transaction(settings) -> Iterator[None]:
    # Django closes "old" connections at the start and end of each request; inside the test's transaction
    # that would close the connection the test runs in. Django's own test client disconnects them the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # Hundreds of requests within seconds come from one token here; the rate limit has its own test.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "100000/min"}}
    cache.clear()
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token_headers(world, rav_client, iv_specialist, coordinator, rav_adviser) -> dict[str, str]:
    """A token of the labour office, with a person, a case it takes part in and an agreement to show."""
    case = cases_world.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    cases_world.agreement_add(case=case, coordinator=coordinator, owner=rav_adviser, due_on=cases_world.days_ago(-10))
    return {"Authorization": f"Bearer {token_for(world.labour).key}"}


# Ten examples per operation, the same ones on every run so that CI is repeatable. For a deeper search by
# hand: IIZ_SCHEMATHESIS_EXAMPLES=200 IIZ_SCHEMATHESIS_RANDOM=1 pytest tests/test_schemathesis.py
@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("IIZ_SCHEMATHESIS_EXAMPLES", "10")),
    derandomize=not os.environ.get("IIZ_SCHEMATHESIS_RANDOM"),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_answers_as_its_schema_says(case, token_headers):
    case.call_and_validate(headers=token_headers, checks=CHECKS)

"""One shared test world for the whole suite.

The world is the demo organisation: the partner institutions that the data migration loads, the units,
municipal social services and the eight demo users that ``demo_world_build()`` creates. It is built
once per test database (once per xdist worker) right after the migrations, and each test runs in a
transaction that is rolled back, so every test starts from the same world. Tests that need committed
data (the browser tests with the live server, the PostgreSQL concurrency tests) use ``committed_world``;
the flush that ends them empties the tables, and ``_world_in_database`` reloads the world from its
snapshot before the next database test.

Never use ``transactional_db`` or ``django_db(transaction=True)`` without this conftest's fixtures in
mind: the audit trail's triggers refuse the flush's DELETE/TRUNCATE, which ``_world_in_database``
handles by removing them just before the flush and putting them back with the world.

Personas (one fixture per role): ``rav_adviser``, ``iv_specialist``, ``social_worker``, ``biz_adviser``,
``coordinator``, ``committee``, ``supervisory``, ``admin``.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Generator, Iterator
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection, connections
from django.test import Client as HttpClient
from django.test import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from iiz.clients.models import Client
from iiz.organisations.models import Institution, InstitutionKind, OrganisationalUnit, User
from tests.access_matrix import pytest_terminal_summary  # noqa: F401 - the hook is registered here
from tests.api_world import api_a, api_b, fresh_rate_limits, token_a, token_b  # noqa: F401 - shared API fixtures
from tests.ci_flags import pytest_runtest_makereport  # noqa: F401 - the hook is registered here
from tests.factories import ClientFactory, RegistrationFactory, partner

CHROMIUM = Path("/usr/bin/chromium")

# Database-backed property tests are slow per example and use the function-scoped world; examples are
# wrapped in their own savepoint by the tests themselves.
hypothesis_settings.register_profile(
    "iiz",
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.load_profile("iiz")


def pytest_configure(config: pytest.Config) -> None:
    # Declared here too so that `-p no:xdist` runs still accept the browser tests' group marker.
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one pytest-xdist worker")


# ---------------------------------------------------------------------------------------------------
# Settings for the test run, the CI flags' skips, and the world in the test database.


def _worker_caches() -> dict[str, dict[str, str]]:
    """Each xdist worker gets its own Redis database, so one worker's cache.clear() never empties another's.

    The databases follow the one named in REDIS_URL (``/0`` gives 1 and 2 to two workers, ``/6`` gives 7
    and 8), so that two test runs on one machine can be kept apart. Without Redis the configured
    local-memory cache is already per process.
    """
    from django.conf import settings

    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    default = caches["default"]
    if default["BACKEND"].endswith("RedisCache"):
        location = urlsplit(default["LOCATION"])
        base = int(location.path.strip("/") or 0)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        number = base + int(worker.removeprefix("gw") or 0) + 1
        default["LOCATION"] = location._replace(path=f"/{number}").geturl()
    return caches


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Uploads go to a throw-away directory; the fast hasher keeps the many test logins cheap. Tasks run
    # inline even where REDIS_URL is set (CI), so that no test depends on a worker or the broker.
    from iiz.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    with override_settings(
        CACHES=_worker_caches(),
        CELERY_TASK_ALWAYS_EAGER=True,
        MEDIA_ROOT=tmp_path_factory.mktemp("media"),
        STATIC_ROOT=tmp_path_factory.mktemp("static"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # The audit tests seal and write checkpoints themselves, each into its own store (audit_store).
        IIZ_AUDIT_SEAL_INLINE=False,
        IIZ_AUDIT_CHECKPOINT_DIR=tmp_path_factory.mktemp("audit-checkpoints"),
    ):
        yield


@pytest.fixture(autouse=True)
def _skip_unavailable(request: pytest.FixtureRequest) -> None:
    """Skip PostgreSQL tests on SQLite and browser tests without Chromium (CI turns these skips into failures)."""
    if request.node.get_closest_marker("postgres") is not None and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: set DATABASE_URL=postgres://…")
    if request.node.get_closest_marker("browser") is not None and not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}")


# The world as serialized right after it was built, by database alias. Left out: the audit trail
# (reloading it would UPDATE rows, which its triggers refuse), and content types and permissions, which
# the flush's post_migrate signal recreates under new ids.
WORLD_SNAPSHOT: dict[str, str] = {}
_NOT_IN_SNAPSHOT = {"audit.auditevent", "audit.auditseal", "contenttypes.contenttype", "auth.permission"}


@pytest.fixture(scope="session")
def django_db_setup(
    _test_settings: None, django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[None]:
    """Build the world once per test database and take its snapshot."""
    from iiz.demo.world import demo_world_build

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        demo_world_build()
        for conn in connections.all():
            rows = json.loads(conn.creation.serialize_db_to_string())
            WORLD_SNAPSHOT[conn.alias] = json.dumps([row for row in rows if row["model"] not in _NOT_IN_SNAPSHOT])
    yield


# The append-only triggers of the audit entries and their seals.
_TRIGGERS = importlib.import_module("iiz.audit.migrations.0006_keyed_chain")


def _run(statements: list[str]) -> None:
    # Plain SQL rather than a schema editor: this also works inside a transaction on SQLite.
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def audit_triggers_install() -> None:
    sql = {"sqlite": _TRIGGERS.SQLITE, "postgresql": _TRIGGERS.POSTGRES}[connection.vendor]
    audit_triggers_remove()
    _run(sql)


def audit_triggers_remove() -> None:
    _run({"sqlite": _TRIGGERS.SQLITE_REVERSE, "postgresql": _TRIGGERS.POSTGRES_REVERSE}[connection.vendor])


def world_restore_if_flushed() -> None:
    """Reload the world (and the audit triggers) after the flush that ends a transactional test."""
    if not User.objects.filter(username="rav-berater").exists():
        connection.creation.deserialize_db_from_string(WORLD_SNAPSHOT[connection.alias])
        audit_triggers_install()


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
        or (marker is not None and marker.kwargs.get("transaction"))
    )


@pytest.fixture(autouse=True)
def _world_in_database(request: pytest.FixtureRequest, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """Every database test starts with the world, even after a transactional test emptied the tables.

    xdist's loadgroup runs the browser group first on its worker, so transactional tests are not
    necessarily last. The flush that ends them would fail on the audit trail's triggers (no DELETE, no
    TRUNCATE), so they are removed just before it; the next test reloads the world and the triggers,
    before its own transaction starts, so the reload is committed once and not repeated.
    """
    uses_database = "db" in request.fixturenames or _is_transactional(request)
    if not uses_database:
        yield
        return
    transactional = _is_transactional(request)
    if transactional:
        # Set up first, so that its teardown (the flush) runs after ours.
        request.getfixturevalue("transactional_db")
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        world_restore_if_flushed()
    yield
    if transactional:
        with django_db_blocker.unblock():  # type: ignore[attr-defined]
            audit_triggers_remove()


@pytest.fixture
def committed_world(transactional_db: None) -> None:
    """The world in committed data, for tests whose data other threads, connections or the live server see.

    (Playwright's sync API runs an event loop in the test's thread, and Django then hands the test
    another connection object than the one the world was built with; on the shared in-memory SQLite
    database, and on PostgreSQL, both see the same committed data.)
    """


# ---------------------------------------------------------------------------------------------------
# The world and its personas.


class World:
    """The demo organisation, looked up by name or kind."""

    def unit(self, name: str) -> OrganisationalUnit:
        return OrganisationalUnit.objects.select_related("institution").get(name=name)

    def partner(self, kind: str) -> Institution:
        return partner(kind)

    @cached_property
    def labour(self) -> Institution:
        return partner(InstitutionKind.LABOUR)

    @cached_property
    def disability(self) -> Institution:
        return partner(InstitutionKind.DISABILITY)

    @cached_property
    def youth(self) -> Institution:
        return partner(InstitutionKind.YOUTH)

    @cached_property
    def coordination(self) -> Institution:
        return partner(InstitutionKind.COORDINATION)

    @cached_property
    def social_service_uster(self) -> Institution:
        return Institution.objects.get(name="Sozialdienst Uster")

    @cached_property
    def rav_uster(self) -> OrganisationalUnit:
        return self.unit("RAV Uster")

    @cached_property
    def rav_wetzikon(self) -> OrganisationalUnit:
        return self.unit("RAV Wetzikon")


@pytest.fixture
def world(db: None) -> World:
    return World()


def _demo_user(username: str) -> User:
    # A persona asked for with request.getfixturevalue() may come after a flush that the autouse fixture
    # did not see coming (the test did not name `db` itself).
    world_restore_if_flushed()
    return User.objects.get(username=username)


@pytest.fixture
def rav_adviser(db: None) -> User:
    """Berater, RAV Uster (Amt für Arbeit): case worker and case-team member."""
    return _demo_user("rav-berater")


@pytest.fixture
def iv_specialist(db: None) -> User:
    """iiz-Spezialistin, SVA Zürich IV-Stelle."""
    return _demo_user("iv-spezialistin")


@pytest.fixture
def social_worker(db: None) -> User:
    """Sozialarbeiterin, Sozialdienst Uster (a municipal social service)."""
    return _demo_user("sozialdienst-uster")


@pytest.fixture
def biz_adviser(db: None) -> User:
    """Berufsberaterin, biz Uster (Amt für Jugend und Berufsberatung)."""
    return _demo_user("biz-beraterin")


@pytest.fixture
def coordinator(db: None) -> User:
    """Koordinatorin, Geschäftsstelle iiz."""
    return _demo_user("koordinatorin")


@pytest.fixture
def committee(db: None) -> User:
    """Operativer Ausschuss: aggregates only."""
    return _demo_user("ausschuss")


@pytest.fixture
def supervisory(db: None) -> User:
    """Trägerschaft: strategic reports only."""
    return _demo_user("traegerschaft")


@pytest.fixture
def admin(db: None) -> User:
    """Administrator/in (staff and superuser): catalogues and users."""
    return _demo_user("admin")


@pytest.fixture
def http_as(db: None) -> Callable[[User], HttpClient]:
    """A test client signed in as the given user: ``http_as(rav_adviser).get(url)``."""

    def signed_in(user: User) -> HttpClient:
        http = HttpClient()
        http.force_login(user, backend="iiz.organisations.backends.IizBackend")
        return http

    return signed_in


@pytest.fixture
def rav_client(world: World) -> Client:
    """A client recorded by the Amt für Arbeit and registered at RAV Uster, with contact details."""
    client = ClientFactory(last_name="Muster", first_name="Anna", registered=False)
    RegistrationFactory(client=client, institution=world.labour, unit=world.rav_uster)
    return client


@pytest.fixture
def audit_store(settings, tmp_path: Path) -> Path:
    """An empty checkpoint store of the audit trail for this test (checkpoints outlive a rolled-back test)."""
    from iiz.audit import sealing

    settings.IIZ_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    sealing._last_checkpoint.clear()
    return settings.IIZ_AUDIT_CHECKPOINT_DIR


@pytest.fixture
def clear_axes() -> Generator[None]:
    """Start without recorded login failures (the lock-out state lives in the database)."""
    from axes.utils import reset

    reset()
    yield
    reset()

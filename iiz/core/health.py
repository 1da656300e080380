"""Health endpoints for load balancers and operators. They reveal nothing about the data.

``/healthz``: the process is alive. ``/readyz``: the database answers, every migration is applied, and
background work is not piling up behind a broker that is down. Both are answered by the Django views below
and, in production, also by a small listener in each gunicorn worker (``iiz/core/health_server.py``) that
answers even when every worker is busy with requests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

Answer = tuple[int, dict[str, Any]]


def liveness() -> Answer:
    """The process is alive and answers; no dependency is touched."""
    return 200, {"status": "ok"}


# Once a process has seen every migration applied it stays so until the next deploy restarts it; the
# migration graph is not rebuilt for every probe.
_migrations_applied = False


def _migrations(checks: dict[str, Any]) -> bool:
    global _migrations_applied
    if _migrations_applied:
        checks["migrations"] = "ok"
        return True
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        checks["migrations"] = "unknown"
        return False
    if pending:
        checks["migrations"] = f"{len(pending)} pending"
        return False
    _migrations_applied = True
    checks["migrations"] = "ok"
    return True


def readiness() -> Answer:
    """Ready to serve: the database answers, every migration is applied, background work is not stuck.

    A broker that is down does not by itself take the instance out of service: requests still succeed and
    their work waits in the outbox. Once that work has waited longer than ``IIZ_READY_BACKLOG_SECONDS``,
    the instance answers 503, so that operators are alerted.
    """
    from iiz.outbox.services import broker_ping, outbox_backlog

    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "unreachable"
        return 503, {"status": "unavailable", "checks": checks}
    if not _migrations(checks):
        return 503, {"status": "unavailable", "checks": checks}
    broker = broker_ping()
    checks["broker"] = {None: "inline", True: "ok", False: "unreachable"}[broker]
    try:
        backlog = outbox_backlog()
    except DatabaseError:
        checks["outbox"] = "unknown"
        return 503, {"status": "unavailable", "checks": checks}
    checks["outbox"] = {"waiting": backlog.waiting, "oldest_seconds": backlog.oldest_seconds, "failed": backlog.failed}
    if broker is False and backlog.oldest_seconds > int(getattr(settings, "IIZ_READY_BACKLOG_SECONDS", 60)):
        return 503, {"status": "unavailable", "checks": checks}
    return 200, {"status": "ok", "checks": checks}


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    status, body = liveness()
    return JsonResponse(body, status=status)


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    status, body = readiness()
    return JsonResponse(body, status=status)

"""Health endpoints for load balancers and operators. They reveal nothing about the data."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and answers; no dependency is touched."""
    return JsonResponse({"status": "ok"})


# Once a process has seen every migration applied it stays so until the next deploy restarts it; the
# migration graph is not rebuilt for every probe.
_migrations_applied = False


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database answers and every migration is applied."""
    global _migrations_applied
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError:
        checks["database"] = "unreachable"
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    if _migrations_applied:
        checks["migrations"] = "ok"
        return JsonResponse({"status": "ok", "checks": checks})
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        checks["migrations"] = "unknown"
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    if pending:
        checks["migrations"] = f"{len(pending)} pending"
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    _migrations_applied = True
    checks["migrations"] = "ok"
    return JsonResponse({"status": "ok", "checks": checks})

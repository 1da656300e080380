"""Sign in the bench personas without a browser; run with the same environment as the server under test.

Production requires a TOTP second factor for every user, and demo accounts are refused there, so the
benchmark uses its own users, each with a confirmed TOTP device:

- ``rav-uster``: "bench-rav-uster", case worker at RAV Uster (client search and client file);
- ``traegerschaft``: "bench-traegerschaft", supervisory body (Trägerschaft): the strategic dashboard;
- ``koordination``: "bench-koordination", coordinator of the Geschäftsstelle iiz: the operational dashboard;
- ``api``: an API token of RAV Uster's institution (clients:read, kpis:read), issued by "bench-admin";
  tokens of earlier runs are revoked.

It writes sessions straight into the session store, as `django.contrib.auth.login` and `django_otp.login`
would, and prints JSON: the credentials per persona and the fixtures (client ids, a common surname, the
current year and the district with the most cases) for the target paths.

Usage: python bench/prepare_session.py --sessions 10 --clients 200 > fixtures.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import import_module
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iiz.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from iiz import access  # noqa: E402
from iiz.audit.models import AuditEvent  # noqa: E402
from iiz.cases.models import Case  # noqa: E402
from iiz.core.middleware import SESSION_FLAG  # noqa: E402
from iiz.interfaces.models import ApiToken, Scope  # noqa: E402
from iiz.interfaces.services import api_token_issue, api_token_revoke  # noqa: E402
from iiz.organisations.models import OrganisationalUnit, Role, User  # noqa: E402
from iiz.organisations.services import user_create  # noqa: E402

USERNAME = "bench-rav-uster"
UNIT = "RAV Uster"
OFFICE = "Geschäftsstelle iiz"
BACKEND = "iiz.organisations.backends.IizBackend"
BENCH_LABEL = "bench"
# Persona -> (username, unit, roles) of the users who sign in with a session.
PERSONAS: dict[str, tuple[str, str, list[str]]] = {
    "rav-uster": (USERNAME, UNIT, [Role.CASE_WORKER, Role.CASE_TEAM_MEMBER]),
    "traegerschaft": ("bench-traegerschaft", OFFICE, [Role.SUPERVISORY_BODY]),
    "koordination": ("bench-koordination", OFFICE, [Role.COORDINATOR, Role.CASE_TEAM_MEMBER]),
}


def bench_user(username: str = USERNAME, unit_name: str = UNIT, roles: list[str] | None = None) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        unit = OrganisationalUnit.objects.get(name=unit_name)
        user = user_create(actor=None, username=username, first_name="Bench", last_name=unit_name,
                           email=f"{username}@bench.iiz.invalid", unit=unit,
                           roles=roles or [Role.CASE_WORKER, Role.CASE_TEAM_MEMBER], password=None)
    return user


def sessions_for(user: User, count: int) -> list[str]:
    """Signed-in sessions with a confirmed second factor, as the login and OTP views would leave them."""
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for _ in range(count):
        session = store_class()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[SESSION_FLAG] = True
        session.create()
        keys.append(session.session_key)
    return keys


def api_key() -> str:
    """A fresh token of RAV Uster's institution; the bench tokens of earlier runs are revoked first."""
    admin = bench_user("bench-admin", OFFICE, [Role.ADMINISTRATOR])
    unit = OrganisationalUnit.objects.select_related("institution").get(name=UNIT)
    for old in ApiToken.objects.filter(name=BENCH_LABEL, institution=unit.institution, revoked_at__isnull=True):
        api_token_revoke(actor=admin, token=old)
    issued = api_token_issue(actor=admin, institution=unit.institution, unit=unit, name=BENCH_LABEL,
                             scopes=[Scope.CLIENTS_READ, Scope.KPIS_READ])
    return issued.key


def audit_row_estimate() -> int:
    table = AuditEvent._meta.db_table
    if connection.vendor != "postgresql":
        return AuditEvent.objects.count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(c.reltuples), 0)::bigint FROM pg_class c "
            "LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE c.relname = %s OR p.relname = %s",
            [table, table],
        )
        row = cursor.fetchone()
    return max(int(row[0]) if row else 0, 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    assert BACKEND in settings.AUTHENTICATION_BACKENDS
    personas: dict[str, dict[str, list[str]]] = {
        name: {"sessions": sessions_for(bench_user(username, unit, roles), args.sessions)}
        for name, (username, unit, roles) in PERSONAS.items()
    }
    personas["api"] = {"tokens": [api_key()]}
    user = bench_user()
    visible = access.clients_visible_to(user=user)
    total = visible.count()
    step = max(total // args.clients, 1)
    ids = [str(pk) for pk in visible.order_by("pk").values_list("public_id", flat=True)[::step][: args.clients]]
    surname = (visible.values("last_name").annotate(n=Count("id")).order_by("-n", "last_name")
               .values_list("last_name", flat=True).first())
    district = (Case.objects.filter(client__municipality__isnull=False)
                .values("client__municipality__district__number").annotate(n=Count("id"))
                .order_by("-n", "client__municipality__district__number")
                .values_list("client__municipality__district__number", flat=True).first())
    json.dump({
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "personas": personas,
        "visible_clients": total,
        "cases": Case.objects.count(),
        # The planner's estimate: counting hundreds of millions of audit rows exactly takes minutes.
        "audit_rows": audit_row_estimate(),
        "fixtures": {
            "client": ids,
            "surname": [surname] if surname else [],
            "year": [str(timezone.localdate().year)],
            "district": [str(district)] if district is not None else [],
        },
    }, sys.stdout)


if __name__ == "__main__":
    main()

"""Sign in the bench user without a browser; run with the same environment as the server under test.

Production requires a TOTP second factor, and demo accounts are refused there, so the benchmark uses
its own case worker at RAV Uster ("bench-rav-uster") with a confirmed TOTP device. It writes sessions
straight into the session store, as `django.contrib.auth.login` and `django_otp.login` would, and prints
JSON: the session keys and the fixtures (client ids and a common surname) for the target paths.

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
from django.db.models import Count  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from iiz import access  # noqa: E402
from iiz.core.middleware import SESSION_FLAG  # noqa: E402
from iiz.organisations.models import OrganisationalUnit, Role, User  # noqa: E402
from iiz.organisations.services import user_create  # noqa: E402

USERNAME = "bench-rav-uster"
UNIT = "RAV Uster"
BACKEND = "iiz.organisations.backends.IizBackend"


def bench_user() -> User:
    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        unit = OrganisationalUnit.objects.get(name=UNIT)
        user = user_create(actor=None, username=USERNAME, first_name="Bench", last_name="RAV Uster",
                           email=f"{USERNAME}@bench.iiz.invalid", unit=unit,
                           roles=[Role.CASE_WORKER, Role.CASE_TEAM_MEMBER], password=None)
    return user


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    assert BACKEND in settings.AUTHENTICATION_BACKENDS
    user = bench_user()
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for _ in range(args.sessions):
        session = store_class()
        session[SESSION_KEY] = user._meta.pk.value_to_string(user)
        session[BACKEND_SESSION_KEY] = BACKEND
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[SESSION_FLAG] = True
        session.create()
        keys.append(session.session_key)
    visible = access.clients_visible_to(user=user)
    total = visible.count()
    step = max(total // args.clients, 1)
    ids = [str(pk) for pk in visible.order_by("pk").values_list("public_id", flat=True)[::step][: args.clients]]
    surname = (visible.values("last_name").annotate(n=Count("id")).order_by("-n", "last_name")
               .values_list("last_name", flat=True).first())
    json.dump({
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "sessions": keys,
        "visible_clients": total,
        "fixtures": {"client": ids, "surname": [surname] if surname else []},
    }, sys.stdout)


if __name__ == "__main__":
    main()

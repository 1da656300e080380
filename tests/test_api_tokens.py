"""API tokens: issued, scoped, rotated and revoked by administrators; authentication and rate limits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client as HttpClient
from django.utils import timezone

from iiz.audit.models import AuditAction, AuditEvent
from iiz.interfaces import services
from iiz.interfaces.models import ApiToken, Scope
from tests.api_world import api_client, problem, token_for

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def test_it_stores_only_a_hash_of_the_secret(world):
    # when a token is issued
    issued = token_for(world.labour, scopes=[Scope.CLIENTS_READ])

    # then the key is prefix.secret, and neither the key nor the secret is stored
    prefix, secret = issued.key.split(".")
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.prefix == prefix and token.secret_hash != secret and len(token.secret_hash) == 64
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_it_acts_through_a_service_user_of_the_institution(world):
    # when a token is issued
    issued = token_for(world.labour, scopes=[Scope.CLIENTS_READ])

    # then its service user belongs to the institution, works with clients and cannot sign in
    user = issued.token.service_user
    assert user.institution == world.labour and user.has_role("case_worker")
    assert not user.has_usable_password()


def test_it_audits_issue_rotation_and_revocation(world, admin):
    # when a token is issued, rotated and its successor revoked
    issued = token_for(world.labour, scopes=[Scope.CLIENTS_READ])
    rotated = services.api_token_rotate(actor=admin, token=issued.token)
    services.api_token_revoke(actor=admin, token=rotated.token)

    # then each step is in the audit trail, with the administrator
    events = AuditEvent.objects.filter(object_type="api_token").order_by("id")
    assert [(e.action, e.object_id) for e in events] == [
        (AuditAction.CREATE, str(issued.token.pk)),
        (AuditAction.UPDATE, str(issued.token.pk)),
        (AuditAction.CREATE, str(rotated.token.pk)),
        (AuditAction.UPDATE, str(rotated.token.pk)),
    ]
    assert {e.actor_username for e in events} == {"admin"}


def test_it_lets_only_administrators_issue_tokens(world, rav_adviser):
    with pytest.raises(PermissionDenied):
        services.api_token_issue(
            actor=rav_adviser, institution=world.labour, name="Eigenbau", scopes=[Scope.CLIENTS_READ]
        )


def test_it_refuses_an_operation_outside_the_tokens_scopes(world, rav_client):
    # given a token that may only read persons
    api = api_client(token_for(world.labour, scopes=[Scope.CLIENTS_READ]).key)

    # when it reads, records a person and reads cases
    read = api.get("/api/v1/clients/")
    write = api.post("/api/v1/clients/", data={}, content_type="application/json")
    cases = api.get("/api/v1/cases/")

    # then only the read is allowed; the others are a 403 naming the missing scope
    assert read.status_code == 200
    assert (write.status_code, cases.status_code) == (403, 403)
    body = problem(write)
    assert body["type"] == "urn:iiz:problem:scope-missing" and "clients:write" in body["detail"]


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Bearer iiz_000000000000.wrong", "Bearer a.b.c", "Bearer", "Bearer two words"],
)
def test_it_answers_a_bad_token_with_401(db, header):
    response = HttpClient(headers={"Authorization": header}).get("/api/v1/clients/")

    assert response.status_code == 401
    assert problem(response)["type"] == "urn:iiz:problem:not-authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="iiz"'


def test_it_answers_401_without_credentials(db):
    response = HttpClient().get("/api/v1/clients/")

    assert response.status_code == 401 and problem(response)


def test_it_refuses_a_revoked_token(world, admin):
    # given a token that worked
    issued = token_for(world.labour)
    api = api_client(issued.key)
    assert api.get("/api/v1/clients/").status_code == 200

    # when it is revoked
    services.api_token_revoke(actor=admin, token=issued.token)

    # then it is refused at once
    response = api.get("/api/v1/clients/")
    assert response.status_code == 401 and problem(response)


def test_it_refuses_an_expired_token(world):
    # given a token that expired a minute ago
    issued = token_for(world.labour, expires_at=timezone.now() + dt.timedelta(hours=1))
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    # when used / then refused
    assert api_client(issued.key).get("/api/v1/clients/").status_code == 401


def test_it_rotates_a_token_at_once(world, admin):
    # given a token
    issued = token_for(world.labour)

    # when it is rotated without grace
    rotated = services.api_token_rotate(actor=admin, token=issued.token)

    # then the old key stops and the new one works with the same scopes and service user
    assert api_client(issued.key).get("/api/v1/clients/").status_code == 401
    assert api_client(rotated.key).get("/api/v1/clients/").status_code == 200
    assert rotated.token.rotated_from_id == issued.token.pk
    assert rotated.token.scopes == issued.token.scopes and rotated.token.service_user == issued.token.service_user


def test_it_keeps_the_old_key_through_the_grace_period(world, admin):
    # given a token rotated with a grace period of one hour
    issued = token_for(world.labour)
    rotated = services.api_token_rotate(actor=admin, token=issued.token, grace=dt.timedelta(hours=1))

    # then both keys work now
    assert api_client(issued.key).get("/api/v1/clients/").status_code == 200
    assert api_client(rotated.key).get("/api/v1/clients/").status_code == 200
    # and after the grace period only the new one
    ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now() - dt.timedelta(seconds=1))
    assert api_client(issued.key).get("/api/v1/clients/").status_code == 401


def test_it_refuses_to_rotate_a_token_twice(world, admin):
    issued = token_for(world.labour)
    services.api_token_rotate(actor=admin, token=issued.token, grace=dt.timedelta(hours=1))

    with pytest.raises(Exception, match="bereits rotiert"):
        services.api_token_rotate(actor=admin, token=issued.token)


def test_it_throttles_each_token_on_its_own(world, settings):
    # given a rate of two requests a minute
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "2/min"}}
    first, second = api_client(token_for(world.labour).key), api_client(token_for(world.labour).key)

    # when the first token asks three times and the second once
    answers = [first.get("/api/v1/clients/").status_code for _ in range(3)]
    other = second.get("/api/v1/clients/")

    # then the third is refused with Retry-After, and the other token is not affected
    assert answers == [200, 200, 429]
    refused = first.get("/api/v1/clients/")
    assert problem(refused)["type"] == "urn:iiz:problem:too-many-requests"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert other.status_code == 200


def test_it_remembers_when_a_token_was_last_used(world):
    issued = token_for(world.labour)

    api_client(issued.key).get("/api/v1/clients/")

    issued.token.refresh_from_db()
    assert issued.token.last_used_at is not None


# ---------------------------------------------------------------------------------------------------------
# The administration
# ---------------------------------------------------------------------------------------------------------


def test_it_shows_the_key_once_when_an_administrator_issues_a_token(http_as, admin, world):
    # when the administrator issues a token in the admin
    response = http_as(admin).post(
        "/admin/interfaces/apitoken/add/",
        {
            "institution": world.labour.pk,
            "name": "AVAM",
            "scopes": [Scope.CLIENTS_READ, Scope.CASES_READ],
            "language": "de",
        },
    )

    # then the page shows the key, which works, and is not cached
    assert response.status_code == 200, response.content.decode()[:2000]
    token = ApiToken.objects.get(name="AVAM")
    html = response.content.decode()
    key = html.split("<code>")[1].split("</code>")[0]
    assert key.startswith(token.prefix + ".")
    assert "no-store" in response["Cache-Control"]
    assert api_client(key).get("/api/v1/cases/").status_code == 200


def test_it_rotates_and_revokes_in_the_admin(http_as, admin, world):
    issued = token_for(world.labour)
    browser = http_as(admin)

    # when the administrator rotates the token, then revokes the new one
    rotated = browser.post(
        "/admin/interfaces/apitoken/", {"action": "rotate_now", "_selected_action": [issued.token.pk]}
    )
    successor = ApiToken.objects.get(rotated_from=issued.token)
    browser.post("/admin/interfaces/apitoken/", {"action": "revoke", "_selected_action": [successor.pk]})

    # then the new key was shown once, and both are refused now
    assert rotated.status_code == 200 and successor.prefix in rotated.content.decode()
    successor.refresh_from_db()
    assert successor.status == "revoked"
    assert api_client(issued.key).get("/api/v1/clients/").status_code == 401


def test_it_changes_a_tokens_scopes_through_the_service(http_as, admin, world):
    issued = token_for(world.labour, scopes=[Scope.CLIENTS_READ])

    response = http_as(admin).post(
        f"/admin/interfaces/apitoken/{issued.token.pk}/change/",
        {"name": "Neu", "scopes": [Scope.CASES_READ], "expires_at_0": "", "expires_at_1": ""},
    )

    assert response.status_code == 302
    issued.token.refresh_from_db()
    assert issued.token.scopes == [Scope.CASES_READ] and issued.token.name == "Neu"
    assert AuditEvent.objects.filter(object_type="api_token", action=AuditAction.UPDATE).exists()

"""A specialist asks the Geschäftsstelle to override a failed target-group check; a coordinator decides."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from iiz import access
from iiz.audit.models import AuditAction, AuditEvent
from iiz.cases import services
from tests.cases_world import days_ago, person_create, topics

pytestmark = pytest.mark.django_db


def _failed_check(specialist):  # type: ignore[no-untyped-def]
    client = person_create(actor=specialist)
    check = services.target_group_check_record(
        actor=specialist, client=client, employable=False, topics=topics(), topics_block_integration=True,
        checked_on=days_ago(1),
    )
    return client, check


def test_it_hides_the_person_from_coordinators_until_an_override_is_requested(iv_specialist, coordinator):
    # given a failed check of the IV specialist
    client, _check = _failed_check(iv_specialist)
    # when nobody has asked the Geschäftsstelle
    grant = access.client_access_for(user=coordinator, client=client)
    # then the coordinator does not see the person
    assert grant is None


def test_it_lets_a_coordinator_see_and_override_a_requested_check(iv_specialist, coordinator):
    # given a failed check whose override the specialist requested
    client, check = _failed_check(iv_specialist)
    services.target_group_override_request(actor=iv_specialist, check=check, note="Mehrfachproblematik klar gegeben")
    # when the coordinator overrides it
    assert access.client_access_for(user=coordinator, client=client) is not None
    services.target_group_override(actor=coordinator, check=check, reason="Begründet durch die Spezialistin")
    check.refresh_from_db()
    # then the check allows a case, the request was audited as a disclosure, and the coordinator's view ends
    assert check.allows_case
    assert AuditEvent.objects.filter(client_id=client.pk, action=AuditAction.DISCLOSE,
                                     object_type="target_group_check").count() == 1
    assert access.client_access_for(user=coordinator, client=client) is None


def test_it_refuses_a_request_without_reason_and_a_second_request(iv_specialist):
    # given a failed check
    _client, check = _failed_check(iv_specialist)
    # when the specialist asks without a reason, then twice
    with pytest.raises(ValidationError):
        services.target_group_override_request(actor=iv_specialist, check=check, note="kurz")
    services.target_group_override_request(actor=iv_specialist, check=check, note="Mehrfachproblematik klar")
    # then the second request is refused
    with pytest.raises(ValidationError):
        services.target_group_override_request(actor=iv_specialist, check=check, note="Noch einmal begründet")


def test_it_refuses_a_request_by_a_case_worker(iv_specialist, rav_adviser):
    # given a failed check of a person the RAV adviser also serves
    client, check = _failed_check(iv_specialist)
    from iiz.clients.services import registration_create

    registration_create(actor=rav_adviser, client=client, unit=rav_adviser.unit, registered_on=days_ago(5))
    # when the case worker (not a specialist) asks, then it is refused
    with pytest.raises(PermissionDenied):
        services.target_group_override_request(actor=rav_adviser, check=check, note="Bitte übersteuern, danke")


def test_it_lists_pending_requests_for_coordinators_only(iv_specialist, coordinator, rav_adviser, http_as):
    # given a pending request
    client, check = _failed_check(iv_specialist)
    services.target_group_override_request(actor=iv_specialist, check=check, note="Mehrfachproblematik klar")
    url = reverse("cases:override_requests")
    # when a coordinator and a case worker open the list
    as_coordinator = http_as(coordinator).get(url)
    as_adviser = http_as(rav_adviser).get(url)
    # then only the coordinator sees it, and the check page offers the override form
    assert as_coordinator.status_code == 200
    assert client.last_name in as_coordinator.content.decode()
    assert as_adviser.status_code == 403
    page = http_as(coordinator).get(reverse("cases:check_detail", args=[client.public_id, check.pk]))
    assert page.status_code == 200
    assert 'id="override-form"' in page.content.decode()

"""The leak paths of the outside test (issue 14), each written as the attacker's request.

1. the right-of-access report without an access request;
2. an AHV number alone revealing a hidden person (import, web form, API);
3. a consent recorded by one's own institution unlocking another institution's data;
4. "who saw this file" revealing which institutions serve the person.

Each refused attempt answers 404 or 403 and leaves a denial in the audit trail.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from iiz.audit.models import AccessRequest, AuditAction, AuditBasis, AuditEvent, DisclosureScope
from iiz.clients.models import DataCategory
from tests import cases_world
from tests.factories import RegistrationFactory


def denials(user, client=None):
    found = AuditEvent.objects.filter(action=AuditAction.DENIED, actor=user)
    return found.filter(client_id=client.pk) if client is not None else found


# --- 1. the right-of-access report ----------------------------------------------------------------


@pytest.fixture
def case_of_many(iv_specialist, coordinator, rav_adviser, social_worker, world):
    """A level-3 case of an IV client; the RAV and the social service are registered and take part, and their
    registrations, contact data and notes are hidden from the others (no consent)."""
    case = cases_world.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    for user in (rav_adviser, social_worker):
        RegistrationFactory(client=case.client, institution=user.institution, recorded_by=user)
    cases_world.participant_join(case=case, by=coordinator, users=[rav_adviser, social_worker])
    return case


def test_it_refuses_the_report_to_a_coordinator_who_takes_part_in_the_case_without_a_request(
    http_as, coordinator, case_of_many
):
    # given the coordinator takes part in the person's case, and the person asked for nothing
    url = reverse("clients:disclosure", args=[case_of_many.client.public_id])
    http = http_as(coordinator)

    # when the coordinator downloads the report (the attacker's request) or opens its page
    posted = http.post(url, {"format": "json"})
    shown = http.get(url)

    # then both are refused, nothing is exported, and both refusals are in the audit trail
    assert (posted.status_code, shown.status_code) == (403, 403)
    assert case_of_many.client.last_name not in posted.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="disclosure").exists()
    assert denials(coordinator, case_of_many.client).count() == 2


# Each kind of data the person may ask for, and the keys of the report that hold it.
KIND_KEYS = {
    DisclosureScope.PERSONAL: ["person"],
    DisclosureScope.REGISTRATIONS: ["registrations"],
    DisclosureScope.CONSENTS: ["consents"],
    DisclosureScope.CASES: ["cases"],
    DisclosureScope.EXCHANGE: ["messages", "documents"],
    DisclosureScope.ACCESS_LOG: ["audit"],
}


@pytest.mark.parametrize("kind", list(DisclosureScope.values))
def test_it_puts_into_the_report_exactly_the_kind_of_data_the_person_asked_for(
    kind, http_as, coordinator, case_of_many
):
    # given the person's request, recorded by the coordinator, for one kind of data
    client = case_of_many.client
    http = http_as(coordinator)
    recorded = http.post(
        reverse("audit:access_requests"),
        {
            "ahv_number": client.ahv_number,
            "received_on": cases_world.days_ago(0).isoformat(),
            "identity_check": "Identitätskarte am Schalter",
            "scope": [kind],
        },
    )
    assert recorded.status_code == 302

    # when the report is produced
    report = json.loads(http.post(reverse("clients:disclosure", args=[client.public_id]), {"format": "json"}).content)

    # then it holds that kind, from every institution, and no other kind; purposes and retention are always there
    wanted = set(KIND_KEYS[kind])
    other = {key for keys in KIND_KEYS.values() for key in keys} - wanted
    assert wanted <= set(report) and not (other & set(report))
    assert report["scope"] == [kind] and report["purposes"] and report["retention"]
    assert report["subject"]["last_name"] == client.last_name
    if kind == DisclosureScope.REGISTRATIONS:
        assert len(report["registrations"]) == 3  # the IV's, the RAV's and the social service's
    export = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="disclosure")
    request = AccessRequest.objects.get(client=client)
    assert (export.basis, export.object_id, export.details["scope"]) == (
        AuditBasis.ACCESS_REQUEST,
        str(request.public_id),
        [kind],
    )


def test_it_names_the_institutions_in_the_report_s_access_log_but_not_their_staff(
    http_as, coordinator, case_of_many, rav_adviser
):
    # given the RAV adviser read the file, and the person asked for the access log
    client = case_of_many.client
    http_as(rav_adviser).get(client.get_absolute_url())
    AccessRequest.objects.create(
        client=client,
        received_on=cases_world.days_ago(1),
        identity_check="Identitätskarte",
        recorded_by=coordinator,
        scope=[DisclosureScope.ACCESS_LOG],
    )

    # when the report is produced
    response = http_as(coordinator).post(reverse("clients:disclosure", args=[client.public_id]), {"format": "json"})

    # then the RAV's read is in it with its institution, and no user name is
    report = json.loads(response.content)
    assert rav_adviser.institution.name in {entry["institution"] for entry in report["audit"]}
    assert rav_adviser.username not in response.content.decode()


# --- 4. who saw this file ---------------------------------------------------------------------------


def test_it_shows_the_access_log_without_the_accesses_of_institutions_the_viewer_may_not_know_of(
    http_as, iv_specialist, social_worker, coordinator, case_of_many
):
    # given the social service read the file; the person's consent does not cover social assistance for the IV
    client = case_of_many.client
    http_as(social_worker).get(client.get_absolute_url())
    http_as(coordinator).get(client.get_absolute_url())

    # when the IV specialist opens "who saw this file"
    page = http_as(iv_specialist).get(reverse("clients:audit", args=[client.public_id])).content.decode()

    # then the IV's own accesses and the Geschäftsstelle's are listed, the social service's are not
    assert iv_specialist.institution.name in page
    assert coordinator.institution.name in page
    assert social_worker.institution.name not in page


def test_it_shows_another_institution_s_accesses_when_the_person_s_consent_covers_them(
    http_as, iv_specialist, social_worker, case_of_many
):
    # given the person consents that the IV and the social service exchange social-assistance data
    client = case_of_many.client
    http_as(social_worker).get(client.get_absolute_url())
    cases_world.consent_give(
        actor=iv_specialist,
        client=client,
        institutions=[iv_specialist.institution, social_worker.institution],
        categories=[DataCategory.SOCIAL_ASSISTANCE],
    )

    # when the IV specialist opens "who saw this file"
    page = http_as(iv_specialist).get(reverse("clients:audit", args=[client.public_id])).content.decode()

    # then the social service's access is listed
    assert social_worker.institution.name in page

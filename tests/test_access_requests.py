"""Access requests (Auskunftsbegehren): the Geschäftsstelle answers a person's request, case or not."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from stdnum.ch import ssn

from iiz.audit.models import ACCESS_REQUEST_DAYS, AccessRequest, AuditAction, AuditBasis, AuditEvent, DisclosureScope
from tests.factories import ClientFactory

if TYPE_CHECKING:
    from iiz.clients.models import Client
    from iiz.organisations.models import User

LIST = reverse("audit:access_requests")
UNKNOWN_AHV = "756.9999.9999.91"  # a valid check digit that the factories do not hand out (checked below)


def form_data(client: Client | None, **overrides: str) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "ahv_number": ssn.format(client.ahv_number) if client else UNKNOWN_AHV,
        "received_on": timezone.localdate().isoformat(),
        "identity_check": "Kopie der Identitätskarte",
        "reference": "DSG-2026-014",
        "scope": list(DisclosureScope.values),
    }
    data.update(overrides)
    return data


def disclosure_url(client: Client) -> str:
    return reverse("clients:disclosure", args=[client.public_id])


def test_it_opens_the_file_of_a_person_without_a_case_for_the_right_of_access_report(
    http_as, coordinator: User, rav_client: Client
) -> None:
    # given a person registered at the RAV only: no case links the coordinator to her
    http = http_as(coordinator)
    assert http.get(disclosure_url(rav_client)).status_code == 404

    # when the coordinator records her request with the exact AHV number
    response = http.post(LIST, form_data(rav_client))

    # then the coordinator is taken to the report, which now answers, and the request is on record
    assert response.status_code == 302
    assert response["Location"] == disclosure_url(rav_client)
    recorded = AccessRequest.objects.get()
    assert (recorded.client, recorded.reference, recorded.recorded_by) == (rav_client, "DSG-2026-014", coordinator)
    report = http.post(disclosure_url(rav_client), {"format": "json"})
    assert report.status_code == 200
    assert json.loads(report.content)["person"]["last_name"] == rav_client.last_name
    export = AuditEvent.objects.filter(client_id=rav_client.pk, action=AuditAction.EXPORT).get()
    assert export.basis == AuditBasis.ACCESS_REQUEST


def test_it_records_a_request_for_a_person_the_platform_does_not_know(http_as, coordinator: User) -> None:
    # given an AHV number that belongs to nobody on the platform
    assert not ClientFactory._meta.model.objects.filter(ahv_number=ssn.compact(UNKNOWN_AHV)).exists()

    # when the coordinator records the request
    response = http_as(coordinator).post(LIST, form_data(None), follow=True)

    # then the request is recorded without a person, the number is not kept, and the answer is explained
    recorded = AccessRequest.objects.get()
    assert recorded.client is None
    assert ssn.compact(UNKNOWN_AHV) not in json.dumps(
        list(AuditEvent.objects.filter(object_type="access_request").values("details", "object_id"))
    )
    assert "keine Daten zu dieser AHV-Nummer" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("ahv_number", "756.1234.5678.90", "Ungültige AHV-Nummer"),
        ("received_on", "2999-01-01", "nicht in der Zukunft"),
        ("identity_check", "", "Dieses Feld ist zwingend erforderlich."),
    ],
)
def test_it_returns_the_form_with_the_message_at_the_field(
    http_as, coordinator: User, rav_client: Client, field: str, typed: str, message: str
) -> None:
    # given a request with one bad field
    data = form_data(rav_client, **{field: typed})

    # when it is sent
    response = http_as(coordinator).post(LIST, data)

    # then nothing is recorded, the message is shown and what was typed is kept
    assert response.status_code == 400
    assert not AccessRequest.objects.exists()
    page = response.content.decode()
    assert message in page
    assert "DSG-2026-014" in page


@pytest.mark.parametrize("persona", ["rav_adviser", "iv_specialist", "committee", "supervisory", "admin"])
def test_it_leaves_access_requests_to_the_coordinators(persona: str, request, http_as, rav_client: Client) -> None:
    # given a user who is not a coordinator
    http = http_as(request.getfixturevalue(persona))

    # when they open the register or try to record a request
    listed = http.get(LIST)
    posted = http.post(LIST, form_data(rav_client))

    # then both are refused and nothing is recorded
    assert (listed.status_code, posted.status_code) == (403, 403)
    assert not AccessRequest.objects.exists()


def test_it_closes_the_file_again_when_the_request_is_closed(http_as, coordinator: User, rav_client: Client) -> None:
    # given a recorded request
    http = http_as(coordinator)
    http.post(LIST, form_data(rav_client))
    recorded = AccessRequest.objects.get()

    # when the coordinator closes it
    response = http.post(reverse("audit:access_request_close", args=[recorded.public_id]))

    # then it is closed with who and when, the report is hidden again, and both steps are audited
    assert response.status_code == 302
    recorded.refresh_from_db()
    assert recorded.closed_by == coordinator and recorded.closed_at is not None
    assert http.get(disclosure_url(rav_client)).status_code == 404
    steps = AuditEvent.objects.filter(object_type="access_request", client_id=rav_client.pk)
    assert sorted(steps.values_list("action", flat=True)) == [AuditAction.CREATE, AuditAction.UPDATE]


def test_it_ends_the_access_when_the_request_is_older_than_the_period(
    http_as, coordinator: User, rav_client: Client
) -> None:
    # given a request received longer ago than the access period
    http = http_as(coordinator)
    received = timezone.localdate() - dt.timedelta(days=ACCESS_REQUEST_DAYS + 1)
    http.post(LIST, form_data(rav_client, received_on=received.isoformat()))

    # when the coordinator opens the report
    response = http.get(disclosure_url(rav_client))

    # then the file is hidden again; the register marks the request as expired and overdue
    assert response.status_code == 404
    page = http.get(LIST).content.decode()
    assert "Zugriff abgelaufen" in page
    assert "überfällig" in page


def test_it_shows_the_register_with_a_fixed_number_of_queries(http_as, coordinator: User, world) -> None:
    # given a few requests, some with and some without a known person
    http = http_as(coordinator)
    for _ in range(3):
        http.post(LIST, form_data(ClientFactory()))
    http.post(LIST, form_data(None))
    with CaptureQueriesContext(connection) as few:
        http.get(LIST)
    for _ in range(5):
        http.post(LIST, form_data(ClientFactory()))

    # when the register lists twice as many
    with CaptureQueriesContext(connection) as many:
        response = http.get(LIST)

    # then it needs no more queries
    assert response.status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_it_pages_the_register(http_as, coordinator: User) -> None:
    # given 26 requests, one more than a page holds
    http = http_as(coordinator)
    for number in range(26):
        http.post(LIST, form_data(None, reference=f"DSG-{number:03}"))

    # when the first and the second page are opened
    first = http.get(LIST).content.decode()
    second = http.get(LIST, {"seite": 2}).content.decode()

    # then the first links to the second, which holds the one left over
    assert 'href="?seite=2"' in first
    assert "Seite 1 von 2" in first
    assert 'href="?seite=1"' in second
    assert second.count("DSG-0") == 1


def test_it_opens_the_file_for_the_report_only_never_for_changes_or_exports(
    http_as, coordinator: User, rav_client: Client, world
) -> None:
    # given an open access request for a person the coordinator has no case with
    from iiz.clients.models import Consent, Registration

    http = http_as(coordinator)
    http.post(LIST, form_data(rav_client))
    registrations, consents = Registration.objects.count(), Consent.objects.count()
    public_id = rav_client.public_id

    # when the coordinator tries to register the person, record a consent or export the person as eCH
    registered = http.post(
        reverse("clients:registration_create", args=[public_id]),
        {"unit": coordinator.unit.pk, "registered_on": timezone.localdate().isoformat()},
    )
    consented = http.post(
        reverse("clients:consent_create", args=[public_id]),
        {
            "institutions": [world.coordination.pk],
            "categories": ["personal"],
            "purpose": "Abklärung",
            "valid_from": timezone.localdate().isoformat(),
        },
    )
    exported = http.get(reverse("clients:ech_export", args=[public_id]))

    # then each is refused and nothing was written; the report itself still answers
    assert (registered.status_code, consented.status_code, exported.status_code) == (403, 403, 403)
    assert (Registration.objects.count(), Consent.objects.count()) == (registrations, consents)
    assert http.get(disclosure_url(rav_client)).status_code == 200


def test_it_audits_who_looked_at_the_register_and_whom_it_showed(
    http_as, coordinator: User, rav_client: Client
) -> None:
    # given a request of Anna Muster
    http = http_as(coordinator)
    http.post(LIST, form_data(rav_client))

    # when the register is opened
    http.get(LIST)

    # then the read is in the audit trail, naming the person shown
    read = AuditEvent.objects.filter(object_type="access_request_register", actor=coordinator).latest("id")
    assert (read.action, read.basis, read.details["results"]) == (
        AuditAction.READ,
        AuditBasis.ACCESS_REQUEST,
        [rav_client.pk],
    )


def test_it_shows_the_file_opened_by_a_request_without_the_actions_it_does_not_allow(
    http_as, coordinator: User, rav_adviser: User, rav_client: Client
) -> None:
    # given an open access request
    http = http_as(coordinator)
    http.post(LIST, form_data(rav_client))

    # when the coordinator opens the person's file
    page = http.get(rav_client.get_absolute_url()).content.decode()

    # then it says why it is open and leads to the report, without buttons for changes or exports
    assert "für ein Auskunftsbegehren der Person geöffnet" in page
    assert disclosure_url(rav_client) in page
    for name in ("registration_create", "consent_create", "ech_export"):
        assert reverse(f"clients:{name}", args=[rav_client.public_id]) not in page
    assert reverse("cases:screening_create", args=[rav_client.public_id]) not in page
    # while the RAV, which registered the person, keeps them
    own = http_as(rav_adviser).get(rav_client.get_absolute_url()).content.decode()
    assert reverse("clients:registration_create", args=[rav_client.public_id]) in own
    assert "Auskunftsbegehren der Person geöffnet" not in own

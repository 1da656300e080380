"""What a person draws from an institution, recorded by that institution for the cost-benefit model."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from iiz.audit.models import AuditEvent
from iiz.clients.models import Client, IvPensionStatus, Registration
from iiz.clients.services import registration_benefits_update
from iiz.organisations.models import InstitutionKind, User
from tests.factories import RegistrationFactory, partner

pytestmark = pytest.mark.django_db


def _url(client: Client, registration: Registration) -> str:
    return f"/klienten/{client.public_id}/anmeldungen/{registration.pk}/leistung/"


def test_it_lets_the_rav_record_the_remaining_entitlement_from_the_client_page(
    rav_client: Client, rav_adviser: User, http_as
) -> None:
    # given the RAV's registration of a person, reached from the person's page
    registration = rav_client.registrations.get()
    http = http_as(rav_adviser)
    page = http.get(rav_client.get_absolute_url()).content.decode()
    assert _url(rav_client, registration) in page
    # when the adviser records 240 remaining daily allowances
    form = http.get(_url(rav_client, registration)).context["form"]
    response = http.post(_url(rav_client, registration), {"alv_remaining_days": "240"})
    # then only the RAV's field was offered, the value is saved, and the audit names the field, not the value
    assert form.benefit_field_names == ["alv_remaining_days"]
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.alv_remaining_days == 240
    event = AuditEvent.objects.filter(object_type="registration", object_id=str(registration.pk)).latest("id")
    assert event.details["fields"] == ["alv_remaining_days"]
    assert "240" not in str(event.details)


def test_it_refuses_an_impossible_entitlement_and_keeps_what_was_typed(
    rav_client: Client, rav_adviser: User, http_as
) -> None:
    # given / when more daily allowances than the law knows are entered
    registration = rav_client.registrations.get()
    response = http_as(rav_adviser).post(_url(rav_client, registration), {"alv_remaining_days": "700"})
    # then the page answers 400 with the reason, keeps the value, and nothing is saved
    assert response.status_code == 400
    assert 'value="700"' in response.content.decode()
    registration.refresh_from_db()
    assert registration.alv_remaining_days is None


def test_it_records_a_benefit_only_with_the_institution_that_pays_it(rav_client: Client, iv_specialist: User) -> None:
    # given the person registered with the IV-Stelle as well
    iv = RegistrationFactory(client=rav_client, institution=partner(InstitutionKind.DISABILITY))
    # when the IV records that no pension is in question, then tries a social assistance amount
    registration_benefits_update(actor=iv_specialist, registration=iv, iv_pension_status=IvPensionStatus.NONE)
    with pytest.raises(ValidationError):
        registration_benefits_update(actor=iv_specialist, registration=iv, sa_monthly_amount=Decimal(1500))
    # then the first is kept and the second refused
    iv.refresh_from_db()
    assert (iv.iv_pension_status, iv.sa_monthly_amount) == (IvPensionStatus.NONE, None)


def test_it_hides_another_institutions_registration(rav_client: Client, social_worker: User, http_as) -> None:
    # given the RAV's registration / when the social service asks for its benefit page / then it does not exist
    registration = rav_client.registrations.get()
    assert http_as(social_worker).get(_url(rav_client, registration)).status_code == 404

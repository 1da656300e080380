"""Person matching, merges and their undo."""

from __future__ import annotations

import datetime as dt

import pytest

from iiz.clients.models import Registration
from iiz.interfaces.matching import candidates_for, clients_merge, clients_merge_undo, name_normalise
from iiz.organisations.models import User
from tests.factories import ClientFactory, RegistrationFactory, ahv_from_serial

pytestmark = pytest.mark.django_db


def test_it_finds_mueller_with_day_and_month_swapped() -> None:
    # given
    known = ClientFactory(first_name="Jürg", last_name="Müller", date_of_birth=dt.date(1980, 3, 7))

    # when
    found = candidates_for(ahv_number=ahv_from_serial(555_000_001), last_name="Mueller", first_name="Juerg",
                           date_of_birth=dt.date(1980, 7, 3), municipality_bfs=None)

    # then
    assert found[0].client_id == known.pk
    assert found[0].score >= 85
    assert "date_of_birth_swapped" in found[0].reasons
    assert name_normalise("Zoë MÜLLER-Sánchez") == "zoe mueller sanchez"


def test_it_finds_the_exact_ahv_number_first() -> None:
    known = ClientFactory()
    found = candidates_for(ahv_number=known.ahv_number, last_name="x", first_name="y",
                           date_of_birth=dt.date(2000, 1, 1), municipality_bfs=None)
    assert [(c.client_id, c.score) for c in found] == [(known.pk, 100)]


def test_it_merges_and_undoes_a_merge(rav_adviser: User) -> None:
    # given two records of one person, both registered with the adviser's institution
    keep = ClientFactory(recorded_by_institution=rav_adviser.institution)
    merge = ClientFactory(recorded_by_institution=rav_adviser.institution)
    extra = RegistrationFactory(client=merge, institution=rav_adviser.institution)
    before = sorted(Registration.objects.filter(client=merge).values_list("pk", flat=True))

    # when
    record = clients_merge(actor=rav_adviser, keep=keep, merge=merge, reason="Doppelt erfasst")

    # then
    assert not Registration.objects.filter(client=merge).exists()
    assert Registration.objects.filter(client=keep, pk=extra.pk).exists()

    # when undone
    clients_merge_undo(actor=rav_adviser, record=record)

    # then the original state is back
    assert sorted(Registration.objects.filter(client=merge).values_list("pk", flat=True)) == before
    assert keep.registrations.count() == 1


def test_it_refuses_a_merge_to_an_institution_that_sees_a_record_only_through_a_case(
    rav_adviser: User, iv_specialist: User, coordinator: User, world
) -> None:
    # given two records of one person: one registered at the IV-Stelle, in a case in which the RAV adviser
    # takes part, and one registered at the RAV only
    from django.core.exceptions import PermissionDenied

    from tests import cases_world as cw

    case = cw.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    at_iv = case.client
    cw.participant_join(case=case, by=coordinator, users=[rav_adviser])
    at_rav = ClientFactory(registered=False)
    RegistrationFactory(client=at_rav, institution=world.labour, unit=world.rav_uster)

    # when the RAV adviser, who sees both, merges the IV's record into the RAV's
    with pytest.raises(PermissionDenied) as refused:
        clients_merge(actor=rav_adviser, keep=at_rav, merge=at_iv, reason="Doppelt erfasst")

    # then it is refused and nothing moved
    assert "Koordination" in str(refused.value)
    assert at_iv.registrations.filter(institution=world.disability).count() == 1
    assert Registration.objects.filter(client=at_rav).count() == 1


def test_it_leads_from_the_client_page_to_the_duplicates_and_merges_there(http_as, rav_adviser: User, world) -> None:
    # given two records of Jürg Müller, both registered at RAV Uster
    from django.urls import reverse

    from iiz.interfaces.models_imports import MergeRecord

    keep = ClientFactory(first_name="Jürg", last_name="Müller", date_of_birth=dt.date(1980, 3, 7), registered=False)
    other = ClientFactory(first_name="Juerg", last_name="Mueller", date_of_birth=dt.date(1980, 3, 7), registered=False)
    for client in (keep, other):
        RegistrationFactory(client=client, institution=world.labour, unit=world.rav_uster)
    http = http_as(rav_adviser)

    # when the adviser follows the link on the client page and merges the other record
    candidates_url = reverse("imports:candidates", args=[keep.public_id])
    assert candidates_url in http.get(keep.get_absolute_url()).content.decode()
    listed = http.get(candidates_url).content.decode()
    merged = http.post(
        reverse("imports:decide", args=[keep.public_id, other.public_id]),
        {"decision": "merge", "reason": "Zweimal erfasst"},
    )

    # then the other record was listed, and its registration now belongs to the kept one
    assert other.full_name in listed
    assert merged.status_code == 302
    assert not Registration.objects.filter(client=other).exists()
    assert Registration.objects.filter(client=keep).count() == 2
    assert MergeRecord.objects.get().reason == "Zweimal erfasst"


def test_it_asks_for_the_reason_of_a_merge_on_the_page(http_as, rav_adviser: User, world) -> None:
    # given two records of one person at the RAV
    from django.urls import reverse

    keep = ClientFactory(registered=False)
    other = ClientFactory(registered=False)
    for client in (keep, other):
        RegistrationFactory(client=client, institution=world.labour, unit=world.rav_uster)

    # when the merge is sent without a reason
    response = http_as(rav_adviser).post(
        reverse("imports:decide", args=[keep.public_id, other.public_id]), {"decision": "merge"}, follow=True
    )

    # then the page says why, and nothing moved
    assert response.status_code == 200
    assert "Bitte begründen Sie die Zusammenführung." in response.content.decode()
    assert Registration.objects.filter(client=other).count() == 1


def test_it_audits_the_duplicates_shown_and_logs_an_outsiders_attempt(
    http_as, rav_adviser: User, biz_adviser: User, world
) -> None:
    # given two records of one person at the RAV
    from django.urls import reverse

    from iiz.audit.models import AuditAction, AuditEvent

    keep = ClientFactory(first_name="Jürg", last_name="Müller", date_of_birth=dt.date(1980, 3, 7), registered=False)
    other = ClientFactory(first_name="Juerg", last_name="Mueller", date_of_birth=dt.date(1980, 3, 7), registered=False)
    for client in (keep, other):
        RegistrationFactory(client=client, institution=world.labour, unit=world.rav_uster)
    url = reverse("imports:candidates", args=[keep.public_id])

    # when the adviser and an outsider open the duplicates page
    shown = http_as(rav_adviser).get(url)
    hidden = http_as(biz_adviser).get(url)

    # then the adviser's search is audited with the record shown, and the outsider's 404 is logged
    assert (shown.status_code, hidden.status_code) == (200, 404)
    search = AuditEvent.objects.get(object_type="client_duplicates", actor=rav_adviser)
    assert (search.action, search.details["results"]) == (AuditAction.SEARCH, [other.pk])
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, actor=biz_adviser, client_id=keep.pk).count() == 1

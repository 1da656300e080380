"""The visibility rule, decided in ``iiz.access`` and applied by the client selectors.

A user sees a client only where the user's own institution has a registration for the client, or where
the user takes part in one of the client's cases (and has not left it). Data recorded by another
institution (its contact details, its registration, whose category depends on the institution's kind) is
shown only under a valid consent that names both institutions and covers the category.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from iiz import access
from iiz.audit.models import AuditBasis, AuditEvent
from iiz.clients import selectors
from iiz.clients.models import REGISTRATION_CATEGORY, DataCategory, Registration
from iiz.organisations.models import Institution, InstitutionKind, Role
from tests.factories import (
    CaseFactory,
    CaseParticipantFactory,
    ClientFactory,
    ConsentFactory,
    RegistrationFactory,
    UserFactory,
)

TODAY = timezone.localdate


@contextmanager
def rolled_back():
    """Run one hypothesis example in a savepoint that is undone afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def sees(user, client) -> bool:
    return access.clients_visible_to(user=user).filter(pk=client.pk).exists()


# --- who sees the client at all ---------------------------------------------------------------------


def test_it_shows_the_client_to_the_registering_institution(rav_adviser, rav_client):
    # given a client registered with the Amt für Arbeit / when / then
    grant = access.client_access_for(user=rav_adviser, client=rav_client)
    assert sees(rav_adviser, rav_client)
    assert grant.basis == AuditBasis.REGISTRATION


def test_it_shows_the_client_to_a_colleague_at_another_unit_of_the_same_institution(world, rav_client):
    # given a case worker at RAV Wetzikon (same institution as RAV Uster)
    colleague = UserFactory(unit=world.rav_wetzikon, roles=[Role.CASE_WORKER])

    # when / then the registration belongs to the institution, not the unit
    assert sees(colleague, rav_client)


def test_it_hides_the_client_from_another_institution(biz_adviser, iv_specialist, social_worker, rav_client):
    # given institutions without a registration or a case for the client / when / then
    assert not sees(biz_adviser, rav_client)
    assert not sees(iv_specialist, rav_client)
    assert not sees(social_worker, rav_client)
    assert access.client_access_for(user=biz_adviser, client=rav_client) is None


def test_it_shows_the_client_to_a_participant_of_one_of_its_cases(coordinator, rav_client):
    # given the coordinator takes part in the client's case
    CaseParticipantFactory(case=CaseFactory(client=rav_client), user=coordinator)

    # when
    grant = access.client_access_for(user=coordinator, client=rav_client)

    # then
    assert sees(coordinator, rav_client)
    assert grant.basis == AuditBasis.CASE


def test_it_hides_the_client_once_the_participant_has_left_the_case(coordinator, rav_client):
    # given the coordinator left the case yesterday
    CaseParticipantFactory(case=CaseFactory(client=rav_client), user=coordinator, left_on=TODAY())

    # when / then
    assert not sees(coordinator, rav_client)
    assert access.client_access_for(user=coordinator, client=rav_client) is None


def test_it_does_not_extend_a_case_participation_to_colleagues(coordinator, world, rav_client):
    # given the coordinator takes part, a colleague of the same office does not
    CaseParticipantFactory(case=CaseFactory(client=rav_client), user=coordinator)
    colleague = UserFactory(unit=world.unit("Geschäftsstelle iiz"), roles=[Role.COORDINATOR])

    # when / then
    assert not sees(colleague, rav_client)


def test_it_does_not_extend_a_case_participation_to_the_clients_other_persons(coordinator, rav_client):
    # given the coordinator takes part in the case of another client
    CaseParticipantFactory(case=CaseFactory(client=ClientFactory()), user=coordinator)

    # when / then
    assert not sees(coordinator, rav_client)


@pytest.mark.parametrize("persona", ["committee", "supervisory", "admin"])
def test_it_never_shows_persons_to_roles_without_client_work(persona, request, world, rav_client):
    # given the role's own institution even has a registration and the user takes part in a case
    user = request.getfixturevalue(persona)
    RegistrationFactory(client=rav_client, institution=user.institution)
    CaseParticipantFactory(case=CaseFactory(client=rav_client), user=user)

    # when / then
    assert not access.clients_visible_to(user=user).exists()
    assert access.client_access_for(user=user, client=rav_client) is None
    assert selectors.client_search(user=user, query="Muster") == []


def test_it_hides_clients_from_an_inactive_user(world, rav_client):
    # given
    user = UserFactory(unit=world.rav_uster, roles=[Role.CASE_WORKER], is_active=False)

    # when / then
    assert not sees(user, rav_client)


def test_it_hides_clients_from_a_user_without_unit(rav_client):
    # given
    user = UserFactory(unit=None, roles=[Role.CASE_WORKER])

    # when / then
    assert not sees(user, rav_client)


# --- what is shown of data recorded by another institution ---------------------------------------------


@pytest.mark.parametrize(
    ("kind", "category"),
    [
        (InstitutionKind.LABOUR, DataCategory.OCCUPATIONAL),
        (InstitutionKind.DISABILITY, DataCategory.MEDICAL),
        (InstitutionKind.CANTONAL_SOCIAL, DataCategory.SOCIAL_ASSISTANCE),
        (InstitutionKind.SOCIAL_SERVICE, DataCategory.SOCIAL_ASSISTANCE),
        (InstitutionKind.YOUTH, DataCategory.OCCUPATIONAL),
        (InstitutionKind.EDUCATION, DataCategory.OCCUPATIONAL),
        (InstitutionKind.COORDINATION, DataCategory.PERSONAL),
        (InstitutionKind.EXTERNAL, DataCategory.PERSONAL),
    ],
)
def test_it_derives_a_registrations_category_from_the_institution_kind(kind, category):
    # given / when / then: being known to the IV-Stelle is medical data, to social services social assistance
    registration = Registration(institution=Institution(kind=kind))
    assert registration.category == category


def test_it_covers_every_partner_kind_with_a_registration_category():
    # given / when / then: a new partner kind must get a deliberate category, not the fallback
    partner_kinds = set(InstitutionKind.values) - {InstitutionKind.COORDINATION, InstitutionKind.EXTERNAL}
    assert set(REGISTRATION_CATEGORY) == partner_kinds


@pytest.fixture
def shared_client(world, iv_specialist):
    """A RAV client that the IV-Stelle also has registered (so the IV specialist sees the person)."""
    client = ClientFactory(last_name="Geteilt", registered=False)
    RegistrationFactory(client=client, institution=world.labour, unit=world.rav_uster)
    RegistrationFactory(client=client, institution=world.disability, recorded_by=iv_specialist)
    return client


def test_it_withholds_another_institutions_contact_details_without_consent(iv_specialist, shared_client):
    # given no consent / when
    file = selectors.client_file_for_user(user=iv_specialist, public_id=shared_client.public_id)

    # then the IV specialist sees the person and the own registration only
    assert not file.show_contact_details
    assert [r.institution.kind for r in file.registrations] == [InstitutionKind.DISABILITY]
    assert file.hidden_registrations == 1


def test_it_shows_contact_details_and_registration_under_a_covering_consent(iv_specialist, shared_client, world):
    # given a valid consent for AFA and IV-Stelle covering personal and occupational data
    ConsentFactory(
        client=shared_client,
        institutions=[world.labour, world.disability],
        categories=[DataCategory.PERSONAL, DataCategory.OCCUPATIONAL],
    )

    # when
    file = selectors.client_file_for_user(user=iv_specialist, public_id=shared_client.public_id)

    # then
    assert file.show_contact_details
    assert {r.institution.kind for r in file.registrations} == {InstitutionKind.LABOUR, InstitutionKind.DISABILITY}
    assert file.hidden_registrations == 0


def test_it_needs_the_medical_category_to_reveal_an_iv_registration(rav_adviser, shared_client, world):
    # given a consent for both institutions that covers only personal and occupational data
    ConsentFactory(
        client=shared_client,
        institutions=[world.labour, world.disability],
        categories=[DataCategory.PERSONAL, DataCategory.OCCUPATIONAL],
    )

    # when the RAV adviser opens the file
    file = selectors.client_file_for_user(user=rav_adviser, public_id=shared_client.public_id)

    # then being known to the IV-Stelle (medical) stays hidden
    assert [r.institution.kind for r in file.registrations] == [InstitutionKind.LABOUR]
    assert file.hidden_registrations == 1


def test_it_needs_the_social_assistance_category_to_reveal_a_social_service_registration(
    rav_adviser, rav_client, world
):
    # given the social service of Uster also has the client, consent covers medical but not social assistance
    RegistrationFactory(client=rav_client, institution=world.social_service_uster)
    ConsentFactory(
        client=rav_client,
        institutions=[world.labour, world.social_service_uster],
        categories=[DataCategory.MEDICAL],
    )
    withheld = selectors.client_file_for_user(user=rav_adviser, public_id=rav_client.public_id)

    # when the consent is amended to cover social assistance
    ConsentFactory(
        client=rav_client,
        institutions=[world.labour, world.social_service_uster],
        categories=[DataCategory.SOCIAL_ASSISTANCE],
    )
    shown = selectors.client_file_for_user(user=rav_adviser, public_id=rav_client.public_id)

    # then
    assert withheld.hidden_registrations == 1
    assert shown.hidden_registrations == 0


CONSENT_STATES = {
    # name: (model fields relative to today, valid today?)
    "valid": (lambda today, now: {"valid_from": today - dt.timedelta(days=30)}, True),
    "starts_today": (lambda today, now: {"valid_from": today}, True),
    "ends_today": (lambda today, now: {"valid_from": today - dt.timedelta(days=30), "valid_until": today}, True),
    "revoked": (lambda today, now: {"valid_from": today - dt.timedelta(days=30), "revoked_at": now}, False),
    "superseded": (lambda today, now: {"valid_from": today - dt.timedelta(days=30), "superseded_at": now}, False),
    "expired": (
        lambda today, now: {"valid_from": today - dt.timedelta(days=60), "valid_until": today - dt.timedelta(days=1)},
        False,
    ),
    "future": (lambda today, now: {"valid_from": today + dt.timedelta(days=1)}, False),
}


@pytest.mark.parametrize("state", sorted(CONSENT_STATES))
def test_it_honours_a_consent_only_while_it_is_valid(state, iv_specialist, shared_client, world):
    # given a consent covering everything for both institutions, in the given state
    fields, valid = CONSENT_STATES[state]
    ConsentFactory(
        client=shared_client,
        institutions=[world.labour, world.disability],
        categories=list(DataCategory.values),
        **fields(TODAY(), timezone.now()),
    )

    # when
    file = selectors.client_file_for_user(user=iv_specialist, public_id=shared_client.public_id)

    # then
    assert file.show_contact_details is valid
    assert file.hidden_registrations == (0 if valid else 1)


@pytest.mark.parametrize("named", ["only_viewer", "only_recorder", "other_pair"])
def test_it_needs_a_consent_that_names_both_institutions(named, iv_specialist, shared_client, world):
    # given a consent covering everything, but not naming both the viewer's and the recorder's institution
    institutions = {
        "only_viewer": [world.disability, world.youth],
        "only_recorder": [world.labour, world.youth],
        "other_pair": [world.youth, world.social_service_uster],
    }[named]
    ConsentFactory(client=shared_client, institutions=institutions, categories=list(DataCategory.values))

    # when
    file = selectors.client_file_for_user(user=iv_specialist, public_id=shared_client.public_id)

    # then
    assert not file.show_contact_details
    assert file.hidden_registrations == 1


def test_it_names_the_consent_used_in_the_audit_entry_of_the_read(iv_specialist, shared_client, world):
    # given
    consent = ConsentFactory(
        client=shared_client, institutions=[world.labour, world.disability], categories=[DataCategory.PERSONAL]
    )

    # when
    selectors.client_file_for_user(user=iv_specialist, public_id=shared_client.public_id)

    # then
    event = AuditEvent.objects.filter(client_id=shared_client.pk, action="read").latest("id")
    assert event.details["consents_used"] == [consent.pk]
    assert event.details["contact_details"] is True


# --- the rule under many combinations (hypothesis) ----------------------------------------------------

INSTITUTION_KEYS = ["labour", "disability", "social_service", "youth", "coordination"]
VIEWERS = {  # persona fixture: institution key
    "rav_adviser": "labour",
    "iv_specialist": "disability",
    "social_worker": "social_service",
    "biz_adviser": "youth",
    "coordinator": "coordination",
}


@pytest.fixture
def institutions(world):
    return {
        "labour": world.labour,
        "disability": world.disability,
        "social_service": world.social_service_uster,
        "youth": world.youth,
        "coordination": world.coordination,
    }


@pytest.fixture
def viewers(request):
    return {name: request.getfixturevalue(name) for name in [*VIEWERS, "committee", "supervisory"]}


@hypothesis_settings(max_examples=60)
@given(
    viewer_name=st.sampled_from([*VIEWERS, "committee", "supervisory"]),
    registered_at=st.sets(st.sampled_from(INSTITUTION_KEYS)),
    participation=st.sampled_from(["none", "active", "left"]),
)
def test_it_shows_a_client_exactly_to_registered_institutions_and_active_participants(
    viewers, institutions, rav_adviser, viewer_name, registered_at, participation
):
    viewer = viewers[viewer_name]
    with rolled_back():
        # given a client with registrations at some institutions and maybe a case with the viewer
        client = ClientFactory(registered=False)
        for key in registered_at:
            RegistrationFactory(client=client, institution=institutions[key], recorded_by=rav_adviser)
        case = CaseFactory(client=client, opened_by=rav_adviser)
        left_on = {"none": None, "active": None, "left": TODAY()}[participation]
        CaseParticipantFactory.create_batch(
            int(participation != "none"), case=case, user=viewer, institution=viewer.institution, left_on=left_on
        )
        works_with_clients = viewer_name in VIEWERS
        expected = works_with_clients and (VIEWERS.get(viewer_name) in registered_at or participation == "active")

        # when
        visible = sees(viewer, client)
        grant = access.client_access_for(user=viewer, client=client)

        # then
        assert visible is expected
        assert (grant is not None) is expected


@hypothesis_settings(max_examples=80)
@given(
    viewer_name=st.sampled_from(list(VIEWERS)),
    basis=st.sampled_from(["registration", "case"]),
    recorder=st.sampled_from(INSTITUTION_KEYS),
    others_registered=st.sets(st.sampled_from(INSTITUTION_KEYS)),
    consent_institutions=st.sets(st.sampled_from(INSTITUTION_KEYS)),
    consent_categories=st.sets(st.sampled_from(DataCategory.values), min_size=1),
    consent_state=st.sampled_from(sorted(CONSENT_STATES)),
)
def test_it_shows_other_institutions_data_exactly_under_a_valid_covering_consent(
    viewers,
    institutions,
    rav_adviser,
    viewer_name,
    basis,
    recorder,
    others_registered,
    consent_institutions,
    consent_categories,
    consent_state,
):
    viewer = viewers[viewer_name]
    own = VIEWERS[viewer_name]
    with rolled_back():
        # given a client the viewer sees (through an own registration or a case), recorded by some
        # institution, registered at others, with one consent in some state
        client = ClientFactory(registered=False, recorded_by_institution=institutions[recorder])
        registered = (others_registered | {own}) if basis == "registration" else (others_registered - {own})
        for key in registered:
            RegistrationFactory(client=client, institution=institutions[key], recorded_by=rav_adviser)
        CaseParticipantFactory.create_batch(
            int(basis == "case"), case=CaseFactory(client=client, opened_by=rav_adviser), user=viewer
        )
        fields, consent_valid = CONSENT_STATES[consent_state]
        ConsentFactory(
            client=client,
            recorded_by=rav_adviser,
            institutions=[institutions[key] for key in consent_institutions],
            categories=sorted(consent_categories),
            **fields(TODAY(), timezone.now()),
        )

        def covered(category: str, recorded_by: str) -> bool:
            # The consent has no signed form and was recorded by the RAV: it never opens medical data to the RAV.
            vouched_by_receiver = category == DataCategory.MEDICAL and own == VIEWERS["rav_adviser"]
            return (
                consent_valid
                and category in consent_categories
                and {own, recorded_by} <= consent_institutions
                and not vouched_by_receiver
            )

        expected_contact = recorder == own or covered(DataCategory.PERSONAL, recorder)
        expected_registrations = {
            key
            for key in registered
            if key == own or covered(Registration(institution=institutions[key]).category, key)
        }

        # when
        file = selectors.client_file_for_user(user=viewer, public_id=client.public_id)

        # then
        assert file.show_contact_details is expected_contact
        assert {r.institution_id for r in file.registrations} == {
            institutions[key].pk for key in expected_registrations
        }
        assert file.hidden_registrations == len(registered) - len(expected_registrations)


def test_it_answers_404_for_a_hidden_client_and_for_an_unknown_id(biz_adviser, rav_client):
    # given / when / then: the same answer, so a 404 never tells whether the person exists
    with pytest.raises(Http404):
        selectors.client_get_for_user(user=biz_adviser, public_id=rav_client.public_id)
    with pytest.raises(Http404):
        selectors.client_get_for_user(user=biz_adviser, public_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(Http404):
        selectors.client_get_for_user(user=biz_adviser, public_id="not-a-uuid")

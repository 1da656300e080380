"""Who sees what of a case: access, consent-gated clarifications and answers, the timeline, the audit of reads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from iiz import access
from iiz.audit.models import AuditAction, AuditEvent
from iiz.cases import selectors, services
from iiz.cases.models import Case, CaseParticipant, FollowUp, FollowUpStatus, Outcome
from iiz.clients.models import DataCategory
from iiz.clients.services import consent_revoke
from iiz.organisations.models import Institution, User
from tests import cases_world as cw
from tests.factories import CaseParticipantFactory

if TYPE_CHECKING:
    from tests.conftest import World

MEDICAL_TEXT = "Chronische Rückenschmerzen, Arbeitsfähigkeit 50 %"
MEDICAL_ANSWER = "Die Abklärung der IV läuft seit Mai"


@pytest.fixture
def case3(iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User) -> Case:
    """A case at level 3 in which the RAV adviser and the social worker take part."""
    case = cw.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    cw.participant_join(case=case, by=coordinator, users=[rav_adviser, social_worker])
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def medical_clarification(case3: Case, iv_specialist: User) -> None:
    services.clarification_save(actor=iv_specialist, case=case3, dimension="medical", situation=MEDICAL_TEXT)


def _file(user: User, case: Case) -> selectors.CaseFile:
    return selectors.case_file_for_user(user=user, reference=case.reference)


# ---------------------------------------------------------------------------------------------------------
# Access to a case
# ---------------------------------------------------------------------------------------------------------


def test_it_grants_a_participant_access_to_the_case(case3: Case, rav_adviser: User) -> None:
    # given a case in which the RAV adviser takes part
    # when the adviser's access is worked out
    grant = access.case_access_for(user=rav_adviser, case=case3)
    # then the adviser sees the case, as a participant
    assert grant is not None
    assert (grant.case, grant.basis) == (case3, "case")


def test_it_hides_a_case_from_a_user_who_does_not_take_part(case3: Case, biz_adviser: User) -> None:
    # given a case in which the career adviser does not take part
    # when the adviser's access is worked out
    grant = access.case_access_for(user=biz_adviser, case=case3)
    # then the case is hidden
    assert grant is None
    assert not access.cases_visible_to(user=biz_adviser).filter(pk=case3.pk).exists()


def test_it_hides_a_case_from_a_participant_who_left(case3: Case, rav_adviser: User) -> None:
    # given a case the RAV adviser left yesterday (no service ends a participation yet)
    CaseParticipant.objects.filter(case=case3, user=rav_adviser).update(left_on=cw.days_ago(1))
    # when the adviser's access is worked out
    grant = access.case_access_for(user=rav_adviser, case=case3)
    # then the case is hidden, in every list too
    assert grant is None
    assert not access.cases_visible_to(user=rav_adviser).filter(pk=case3.pk).exists()


def test_it_hides_a_case_from_a_participant_without_a_client_work_role(case3: Case, committee: User) -> None:
    # given a member of the operating committee recorded as a participant (a state only a direct write produces)
    CaseParticipantFactory(case=case3, user=committee)
    # when the member's access is worked out
    grant = access.case_access_for(user=committee, case=case3)
    # then the case is hidden: the committee sees aggregates, never a person
    assert grant is None


def test_it_answers_a_hidden_case_with_404_and_records_the_refusal(case3: Case, biz_adviser: User) -> None:
    # given a case in which the career adviser does not take part
    denied_before = AuditEvent.objects.filter(action=AuditAction.DENIED).count()
    # when the adviser opens it by its reference
    with pytest.raises(Http404):
        _file(biz_adviser, case3)
    # then the refusal is in the audit trail
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() == denied_before + 1
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, actor=biz_adviser, object_id=case3.reference).exists()


def test_it_lists_only_the_cases_the_user_takes_part_in(
    iv_specialist: User, coordinator: User, rav_adviser: User
) -> None:
    # given one case at level 1 and one at level 3, and the RAV adviser in the second only
    first = cw.case_open(specialist=iv_specialist)
    second = cw.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    cw.participant_join(case=second, by=coordinator, users=[rav_adviser])
    # when the lists are read
    specialist_level_3 = list(selectors.case_list_for_user(user=iv_specialist, level=3))
    adviser_all = list(selectors.case_list_for_user(user=rav_adviser))
    # then each sees what they take part in, filtered by level
    assert specialist_level_3 == [second]
    assert adviser_all == [second]
    assert set(selectors.cases_of_participant(user=iv_specialist)) == {first, second}


# ---------------------------------------------------------------------------------------------------------
# Clarifications under consent
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("medical_clarification")
def test_it_withholds_the_medical_clarification_from_social_services_without_consent(
    case3: Case, social_worker: User
) -> None:
    # given a medical clarification by the IV-Stelle and no consent
    # when the social worker reads the case
    file = _file(social_worker, case3)
    # then the clarification is withheld, and the timeline says so without showing it
    entry = next(e for e in file.timeline if e.kind == "clarification")
    assert (file.clarifications["medical"], file.clarifications_withheld) == (None, ["medical"])
    assert (entry.withheld, entry.detail, entry.institution, entry.person) == (True, "", "", "")
    assert entry.day == cw.days_ago(0)
    assert MEDICAL_TEXT not in repr(file.timeline)


@pytest.mark.usefixtures("medical_clarification")
def test_it_shows_the_medical_clarification_to_its_writer(case3: Case, iv_specialist: User) -> None:
    # given a medical clarification by the IV-Stelle and no consent
    # when the IV specialist reads the case
    file = _file(iv_specialist, case3)
    # then it is shown
    assert file.clarifications["medical"] is not None
    assert (file.clarifications["medical"].situation, file.clarifications_withheld) == (MEDICAL_TEXT, [])


@pytest.mark.usefixtures("medical_clarification")
@pytest.mark.parametrize(
    ("categories", "other_institution"),
    [([DataCategory.SOCIAL_ASSISTANCE, DataCategory.OCCUPATIONAL], "social_service"), ([DataCategory.MEDICAL], "rav")],
    ids=["consent-without-medical", "consent-without-the-social-service"],
)
def test_it_withholds_the_medical_clarification_under_a_consent_that_does_not_cover_it(
    categories: list[str],
    other_institution: str,
    case3: Case,
    iv_specialist: User,
    social_worker: User,
    world: World,
) -> None:
    # given a consent that either leaves out the medical category or names the RAV instead of the social service
    other = {"social_service": social_worker.institution, "rav": world.labour}[other_institution]
    cw.consent_give(
        actor=iv_specialist, client=case3.client, institutions=[iv_specialist.institution, other], categories=categories
    )
    # when the social worker reads the case
    file = _file(social_worker, case3)
    # then the clarification is still withheld
    assert (file.clarifications["medical"], file.clarifications_withheld) == (None, ["medical"])


@pytest.mark.usefixtures("medical_clarification")
def test_it_shows_the_medical_clarification_under_consent_and_withholds_it_again_after_revocation(
    case3: Case, iv_specialist: User, social_worker: User
) -> None:
    # given a consent naming the IV-Stelle and the social service for medical data
    consent = cw.consent_give(
        actor=iv_specialist,
        client=case3.client,
        institutions=[iv_specialist.institution, social_worker.institution],
        categories=[DataCategory.MEDICAL],
    )
    # when the social worker reads the case, the client revokes the consent, and the worker reads again
    shown = _file(social_worker, case3)
    read_under_consent = AuditEvent.objects.filter(action=AuditAction.READ, actor=social_worker).latest("id")
    consent_revoke(actor=iv_specialist, consent=consent, reason="Widerruf im Gespräch")
    hidden = _file(social_worker, case3)
    # then the clarification was shown (and the read names the consent) and is withheld after the revocation
    assert shown.clarifications["medical"] is not None
    assert shown.clarifications["medical"].situation == MEDICAL_TEXT
    assert read_under_consent.details["consents_used"] == [consent.pk]
    assert (hidden.clarifications["medical"], hidden.clarifications_withheld) == (None, ["medical"])


def test_it_withholds_the_social_clarification_from_the_iv_without_consent(
    case3: Case, iv_specialist: User, social_worker: User
) -> None:
    # given a social clarification by the social service and no consent
    services.clarification_save(actor=social_worker, case=case3, dimension="social", situation="Schulden")
    # when the IV specialist reads the case
    file = _file(iv_specialist, case3)
    # then it is withheld
    assert (file.clarifications["social"], file.clarifications_withheld) == (None, ["social"])


# ---------------------------------------------------------------------------------------------------------
# Answers to information requests, by category
# ---------------------------------------------------------------------------------------------------------


def _answered(case: Case, asker: User, answerer: User, to: Institution, category: str, answer: str) -> None:
    info = services.information_request_create(
        actor=asker,
        case=case,
        to_institution=to,
        question=f"Frage ({category})",
        category=category,
        due_on=cw.days_ago(-7),
    )
    services.information_request_answer(actor=answerer, info=info, answer=answer)


def _answers(file: selectors.CaseFile) -> dict[str, tuple[bool, str]]:
    return {e.title: (e.withheld, e.detail) for e in file.timeline if e.kind == "information_answer"}


def test_it_shows_each_answer_only_under_consent_for_its_category(
    case3: Case, coordinator: User, iv_specialist: User, rav_adviser: User, world: World
) -> None:
    # given a medical answer of the IV-Stelle and an occupational answer of the RAV, both to the coordinator,
    # and a consent that covers the occupational exchange between the Geschäftsstelle and the RAV only
    _answered(case3, coordinator, iv_specialist, iv_specialist.institution, DataCategory.MEDICAL, MEDICAL_ANSWER)
    _answered(case3, coordinator, rav_adviser, world.labour, DataCategory.OCCUPATIONAL, "Seit März gemeldet")
    cw.consent_give(
        actor=iv_specialist,
        client=case3.client,
        institutions=[world.coordination, world.labour],
        categories=[DataCategory.OCCUPATIONAL],
    )
    # when the coordinator reads the case
    answers = _answers(_file(coordinator, case3))
    # then the RAV's answer is shown and the IV-Stelle's is withheld
    assert answers == {
        f"Antwort von {world.labour.short_name}": (False, "Seit März gemeldet"),
        f"Antwort von {iv_specialist.institution.short_name}": (True, ""),
    }


def test_it_shows_the_answering_institution_its_own_answer(case3: Case, coordinator: User, iv_specialist: User) -> None:
    # given a medical answer of the IV-Stelle and no consent
    _answered(case3, coordinator, iv_specialist, iv_specialist.institution, DataCategory.MEDICAL, MEDICAL_ANSWER)
    # when the IV specialist reads the case
    answers = _answers(_file(iv_specialist, case3))
    # then the answer is shown
    assert answers == {f"Antwort von {iv_specialist.institution.short_name}": (False, MEDICAL_ANSWER)}


def test_it_shows_a_medical_answer_once_the_consent_covers_it(
    case3: Case, coordinator: User, iv_specialist: User, world: World
) -> None:
    # given a medical answer of the IV-Stelle and a consent for medical data between it and the Geschäftsstelle
    _answered(case3, coordinator, iv_specialist, iv_specialist.institution, DataCategory.MEDICAL, MEDICAL_ANSWER)
    cw.consent_give(
        actor=iv_specialist,
        client=case3.client,
        institutions=[world.coordination, iv_specialist.institution],
        categories=[DataCategory.MEDICAL],
    )
    # when the coordinator reads the case
    answers = _answers(_file(coordinator, case3))
    # then the answer is shown
    assert answers == {f"Antwort von {iv_specialist.institution.short_name}": (False, MEDICAL_ANSWER)}


# ---------------------------------------------------------------------------------------------------------
# The timeline and the audit of reads
# ---------------------------------------------------------------------------------------------------------


def _full_case(*, specialist: User, coordinator: User, rav_adviser: User, social_worker: User, times: int = 1) -> Case:
    """A case that went through every step: each kind of timeline entry is in it ``times`` times or more."""
    case = cw.case_at_level(3, specialist=specialist, coordinator=coordinator)
    cw.participant_join(case=case, by=coordinator, users=[rav_adviser, social_worker])
    services.clarification_save(actor=specialist, case=case, dimension="medical", situation=MEDICAL_TEXT)
    services.clarification_save(actor=social_worker, case=case, dimension="social", situation="Schulden")
    for _ in range(times):
        services.joint_interview_record(
            actor=coordinator, case=case, held_on=cw.days_ago(45), participants=[specialist], summary="Zweitmeinung"
        )
        _answered(case, coordinator, rav_adviser, rav_adviser.institution, DataCategory.OCCUPATIONAL, "Seit März")
        plan, _ = cw.plan_with_measure(
            case=case, actor=coordinator, case_lead=rav_adviser, responsible_institution=rav_adviser.institution
        )
        cw.plan_agreed(plan=plan, actor=coordinator, agreed_on=cw.days_ago(5))
        meeting = cw.meeting_schedule(case=case, coordinator=coordinator, users=[rav_adviser], day=cw.days_ago(4))
        agreement = services.agreement_add(
            actor=coordinator, case=case, text="Bericht", owner=rav_adviser, due_on=cw.days_ago(1), meeting=meeting
        )
        services.agreement_set_status(actor=rav_adviser, agreement=agreement, status="done", done_on=cw.days_ago(2))
    services.case_close(
        actor=coordinator, case=Case.objects.get(pk=case.pk), outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(1)
    )
    for follow_up in FollowUp.objects.filter(case=case)[:times]:
        services.follow_up_record(
            actor=coordinator, follow_up=follow_up, status=FollowUpStatus.STILL_INTEGRATED, recorded_on=cw.days_ago(0)
        )
    return case


TIMELINE_KINDS = {
    "level",
    "joint_interview",
    "information_request",
    "information_answer",
    "clarification",
    "plan",
    "meeting",
    "agreement",
    "closure",
    "follow_up",
}


def test_it_puts_every_kind_of_entry_in_the_timeline_newest_first(
    iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User
) -> None:
    # given a case that went through every step
    case = _full_case(
        specialist=iv_specialist, coordinator=coordinator, rav_adviser=rav_adviser, social_worker=social_worker
    )
    # when the social worker reads it
    timeline = _file(social_worker, case).timeline
    # then every kind is there, the days run from the newest to the oldest (today's follow-up among the first)
    # and the opening is last
    days = [entry.day for entry in timeline]
    assert {entry.kind for entry in timeline} == TIMELINE_KINDS
    assert days == sorted(days, reverse=True)
    assert timeline[0].day == cw.days_ago(0)
    assert "follow_up" in {entry.kind for entry in timeline if entry.day == cw.days_ago(0)}
    assert (timeline[-1].kind, timeline[-1].title, timeline[-1].day) == (
        "level",
        "Fall eröffnet (Stufe 1)",
        cw.days_ago(cw.OPENED_DAYS_AGO),
    )


def test_it_shows_each_level_move_with_its_date_person_and_reason(iv_specialist: User, coordinator: User) -> None:
    # given a case brought to level 3
    case = cw.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    # when the coordinator reads it
    timeline = _file(coordinator, case).timeline
    # then the moves are in it, newest first, each with its date, person and reason
    assert [(e.title, e.day, e.person, e.detail) for e in timeline if e.kind == "level"] == [
        ("Stufe 2 → Stufe 3", cw.days_ago(40), str(coordinator), "Gemeinsame Planung im Fallteam nötig"),
        ("Stufe 1 → Stufe 2", cw.days_ago(50), str(iv_specialist), "Mehrere Institutionen beteiligt"),
        ("Fall eröffnet (Stufe 1)", cw.days_ago(60), str(iv_specialist), "Fall eröffnet"),
    ]


def test_it_marks_what_the_reader_may_not_see_in_the_timeline(
    iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User
) -> None:
    # given a case with a medical clarification by the IV-Stelle and no consent
    case = _full_case(
        specialist=iv_specialist, coordinator=coordinator, rav_adviser=rav_adviser, social_worker=social_worker
    )
    # when the social worker reads it
    timeline = _file(social_worker, case).timeline
    # then exactly the medical clarification and the RAV's answer are withheld, and their content is not shown
    withheld = sorted((e.kind, e.title) for e in timeline if e.withheld)
    assert withheld == [
        ("clarification", "Situationsklärung: Medizinische Situation"),
        ("information_answer", f"Antwort von {rav_adviser.institution.short_name}"),
    ]
    assert MEDICAL_TEXT not in repr(timeline)


def test_it_writes_exactly_one_read_entry_per_reading_of_the_case(
    iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User
) -> None:
    # given a case that went through every step
    case = _full_case(
        specialist=iv_specialist, coordinator=coordinator, rav_adviser=rav_adviser, social_worker=social_worker
    )
    reads_before = AuditEvent.objects.filter(action=AuditAction.READ).count()
    # when the social worker reads it twice
    _file(social_worker, case)
    _file(social_worker, case)
    # then two read entries are written, for the social worker and this case, naming the withheld dimension
    reads = AuditEvent.objects.filter(action=AuditAction.READ).order_by("id")
    assert reads.count() == reads_before + 2
    assert [(r.actor, r.object_type, r.object_id, r.client_id) for r in reads[reads_before:]] == [
        (social_worker, "case", str(case.pk), case.client_id)
    ] * 2
    assert reads.last().details["clarifications_withheld"] == ["medical"]  # type: ignore[union-attr]


def test_it_reads_a_case_in_the_same_number_of_queries_whatever_its_size(
    iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User
) -> None:
    # given two cases that went through every step, the second with more entries of every kind
    people = {"specialist": iv_specialist, "coordinator": coordinator, "rav_adviser": rav_adviser}
    small = _full_case(**people, social_worker=social_worker, times=1)
    large = _full_case(**people, social_worker=social_worker, times=2)
    # when the social worker reads each (the roles of a user are cached, as within one request)
    social_worker = User.objects.get(pk=social_worker.pk)
    _ = social_worker.role_set
    with CaptureQueriesContext(connection) as small_queries:
        _file(social_worker, small)
    with CaptureQueriesContext(connection) as large_queries:
        _file(social_worker, large)
    # then both take the same number of queries
    assert len(large_queries) == len(small_queries)


def test_it_lists_the_follow_on_case_of_a_returning_person(iv_specialist: User) -> None:
    # given a closed case and the person's new case
    old = cw.case_open(specialist=iv_specialist)
    services.case_close(actor=iv_specialist, case=old, outcome=Outcome.DROPPED_OUT, closed_on=cw.days_ago(20))
    new = cw.case_open(specialist=iv_specialist, client=old.client, opened_on=cw.days_ago(1))
    # when the specialist reads the old case
    file = _file(iv_specialist, old)
    # then the new case is listed as its follow-on
    assert [case.reference for case in file.follow_on_cases] == [new.reference]


def test_it_leaves_the_service_accounts_of_api_tokens_out_of_the_meeting_invitations(world: World) -> None:
    # given a token of RAV Uster, whose service account has the case-worker role
    from iiz.cases.forms.fields import meeting_invitable_users
    from tests.api_world import token_for

    issued = token_for(world.labour, unit=world.rav_uster)
    # when the invitation list of a case-team meeting is built
    invitable = set(meeting_invitable_users())
    # then the RAV adviser is on it and the token's service account is not
    assert User.objects.get(username="rav-berater") in invitable
    assert issued.token.service_user not in invitable

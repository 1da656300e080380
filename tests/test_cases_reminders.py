"""The daily reminders (notices and e-mails) and the task list on the start page."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import TYPE_CHECKING

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from iiz.cases import services
from iiz.cases.models import Case, FollowUp, Notification, Outcome
from iiz.cases.reminders import reminders_send
from iiz.cases.selectors import tasks_for_user
from iiz.organisations.models import User
from tests import cases_world as cw

if TYPE_CHECKING:
    from tests.conftest import World


@pytest.fixture
def case3(iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User) -> Case:
    """A case at level 3 in which the RAV adviser and the social worker take part."""
    case = cw.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    cw.participant_join(case=case, by=coordinator, users=[rav_adviser, social_worker])
    return Case.objects.get(pk=case.pk)


def _notices() -> list[tuple[str, str, int | None]]:
    return sorted(Notification.objects.values_list("user__username", "kind", "case_id"))


def _tomorrow() -> dt.date:
    return cw.days_ago(-1)


def test_it_reminds_the_owner_of_an_overdue_agreement_by_notice_and_e_mail(
    case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given an agreement of the RAV adviser due today
    cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(0))
    # when the daily job runs tomorrow
    counts = reminders_send(today=_tomorrow())
    # then the adviser has one notice and one e-mail that names the case but not the person
    [message] = mail.outbox
    assert counts == {"agreement_overdue": 1, "emails": 1}
    assert _notices() == [(rav_adviser.username, "agreement_overdue", case3.pk)]
    assert message.to == [rav_adviser.email]
    assert case3.reference in message.body
    assert case3.client.last_name not in message.subject + message.body
    assert case3.client.first_name not in message.subject + message.body
    assert Notification.objects.get().link == case3.get_absolute_url()


def test_it_does_not_remind_of_an_agreement_on_its_due_day(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given an agreement due today
    cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(0))
    # when the daily job runs today
    counts = reminders_send(today=cw.days_ago(0))
    # then nothing is overdue yet
    assert (counts, _notices(), len(mail.outbox)) == ({}, [], 0)


def test_it_does_not_remind_of_an_agreement_marked_done(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given an agreement due today that the adviser already did
    agreement = cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(0))
    services.agreement_set_status(actor=rav_adviser, agreement=agreement, status="done")
    # when the daily job runs tomorrow
    counts = reminders_send(today=_tomorrow())
    # then there is nothing to remind of
    assert (counts, _notices()) == ({}, [])


def test_it_reminds_the_person_responsible_for_an_overdue_measure(
    case3: Case, coordinator: User, social_worker: User, rav_adviser: User
) -> None:
    # given an agreed plan led by the social worker with an RAV measure of the RAV adviser, due yesterday
    plan, _ = cw.plan_with_measure(
        case=case3,
        actor=coordinator,
        case_lead=social_worker,
        responsible_institution=rav_adviser.institution,
        responsible_user=rav_adviser,
        due_on=cw.days_ago(1),
    )
    cw.plan_agreed(plan=plan, actor=coordinator)
    # when the daily job runs
    counts = reminders_send(today=cw.days_ago(0))
    # then the RAV adviser, not the case lead, is reminded
    assert counts == {"measure_overdue": 1, "emails": 1}
    assert _notices() == [(rav_adviser.username, "measure_overdue", case3.pk)]


def test_it_reminds_the_case_lead_of_an_overdue_measure_without_a_responsible_person(
    case3: Case, coordinator: User, social_worker: User, rav_adviser: User
) -> None:
    # given an agreed plan led by the social worker with an RAV measure nobody in particular holds, due yesterday
    plan, _ = cw.plan_with_measure(
        case=case3,
        actor=coordinator,
        case_lead=social_worker,
        responsible_institution=rav_adviser.institution,
        due_on=cw.days_ago(1),
    )
    cw.plan_agreed(plan=plan, actor=coordinator)
    # when the daily job runs
    reminders_send(today=cw.days_ago(0))
    # then the case lead is reminded
    assert _notices() == [(social_worker.username, "measure_overdue", case3.pk)]


def test_it_does_not_remind_of_measures_of_a_draft(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given a draft with a measure due yesterday
    cw.plan_with_measure(
        case=case3,
        actor=coordinator,
        case_lead=rav_adviser,
        responsible_institution=rav_adviser.institution,
        responsible_user=rav_adviser,
        due_on=cw.days_ago(1),
    )
    # when the daily job runs
    counts = reminders_send(today=cw.days_ago(0))
    # then nothing is reminded: the measure is not agreed yet
    assert (counts, _notices()) == ({}, [])


def test_it_reminds_the_asker_and_the_asked_institution_of_an_overdue_request(
    case3: Case, coordinator: User, rav_adviser: User, world: World
) -> None:
    # given an unanswered request of the coordinator to the Amt für Arbeit, due today
    services.information_request_create(
        actor=coordinator,
        case=case3,
        to_institution=world.labour,
        question="Seit wann gemeldet?",
        category="occupational",
        due_on=cw.days_ago(0),
    )
    # when the daily job runs tomorrow
    counts = reminders_send(today=_tomorrow())
    # then the coordinator and the RAV adviser are reminded, the other participants are not
    assert counts == {"information_request_overdue": 2, "emails": 2}
    assert _notices() == sorted(
        [
            (coordinator.username, "information_request_overdue", case3.pk),
            (rav_adviser.username, "information_request_overdue", case3.pk),
        ]
    )
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        [coordinator.email, rav_adviser.email]
    )


def test_it_does_not_remind_of_an_answered_request(
    case3: Case, coordinator: User, rav_adviser: User, world: World
) -> None:
    # given a request to the Amt für Arbeit, due today, that the RAV answered
    info = services.information_request_create(
        actor=coordinator,
        case=case3,
        to_institution=world.labour,
        question="Seit wann gemeldet?",
        category="occupational",
        due_on=cw.days_ago(0),
    )
    services.information_request_answer(actor=rav_adviser, info=info, answer="Seit März")
    # when the daily job runs tomorrow
    counts = reminders_send(today=_tomorrow())
    # then nothing is reminded
    assert (counts, _notices()) == ({}, [])


def test_it_reminds_the_owner_of_a_due_follow_up(iv_specialist: User) -> None:
    # given a case the specialist closed twenty days ago
    case = cw.case_open(specialist=iv_specialist)
    services.case_close(actor=iv_specialist, case=case, outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(20))
    six_months = FollowUp.objects.get(case=case, months_after=6)
    # when the daily job runs the day before the follow-up is due, and on the day
    before = reminders_send(today=six_months.due_on - dt.timedelta(days=1))
    on_the_day = reminders_send(today=six_months.due_on)
    # then the specialist is reminded on the day only
    assert (before, on_the_day) == ({}, {"follow_up_due": 1, "emails": 1})
    assert _notices() == [(iv_specialist.username, "follow_up_due", case.pk)]
    assert "6" in Notification.objects.get().text


def test_it_sends_each_owner_one_e_mail_listing_all_new_reminders(
    case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given two overdue agreements and an overdue measure of the RAV adviser
    for _ in range(2):
        cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(0))
    plan, _ = cw.plan_with_measure(
        case=case3,
        actor=coordinator,
        case_lead=rav_adviser,
        responsible_institution=rav_adviser.institution,
        responsible_user=rav_adviser,
        due_on=cw.days_ago(0),
    )
    cw.plan_agreed(plan=plan, actor=coordinator)
    # when the daily job runs tomorrow
    counts = reminders_send(today=_tomorrow())
    # then the adviser gets three notices and a single e-mail with three lines
    [message] = mail.outbox
    assert counts == {"agreement_overdue": 2, "measure_overdue": 1, "emails": 1}
    assert len([line for line in message.body.splitlines() if line.startswith("- ")]) == 3


def test_it_runs_twice_a_day_without_reminding_twice(
    case3: Case, coordinator: User, rav_adviser: User, world: World
) -> None:
    # given an overdue agreement and an overdue request, and a first run of the job
    cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(0))
    services.information_request_create(
        actor=coordinator,
        case=case3,
        to_institution=world.labour,
        question="?",
        category="occupational",
        due_on=cw.days_ago(0),
    )
    reminders_send(today=_tomorrow())
    notices, mails = Notification.objects.count(), len(mail.outbox)
    # when the job runs again the same day
    counts = reminders_send(today=_tomorrow())
    # then it creates no notice and sends no e-mail
    assert (counts, Notification.objects.count(), len(mail.outbox)) == ({}, notices, mails)


def test_it_prints_the_counts_of_the_run(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given an overdue agreement
    cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(0))
    out = StringIO()
    # when the command runs as of tomorrow
    call_command("send_reminders", "--date", _tomorrow().isoformat(), stdout=out)
    # then it prints what it did, kind by kind
    assert out.getvalue().splitlines() == ["agreement_overdue: 1", "emails: 1"]
    assert _notices() == [(rav_adviser.username, "agreement_overdue", case3.pk)]


def test_it_says_when_there_is_nothing_to_remind(case3: Case) -> None:
    # given a case without anything due
    out = StringIO()
    # when the command runs
    call_command("send_reminders", "--date", cw.days_ago(0).isoformat(), stdout=out)
    # then it says so
    assert out.getvalue().strip() == "Nothing overdue or due."


def test_it_refuses_a_malformed_date(case3: Case) -> None:
    # given a case
    # when the command gets a date that is not YYYY-MM-DD
    with pytest.raises(CommandError, match="--date"):
        call_command("send_reminders", "--date", "22.11.2026", stdout=StringIO())
    # then nothing was reminded
    assert _notices() == []


# ---------------------------------------------------------------------------------------------------------
# The task list
# ---------------------------------------------------------------------------------------------------------


def test_it_lists_the_users_tasks_overdue_first_then_by_due_date(
    case3: Case, coordinator: User, rav_adviser: User, world: World
) -> None:
    # given for the RAV adviser: an agreement due in five days, an agreement due today, an agreed measure due
    # in two days, a request to the RAV due tomorrow, and a request to the IV-Stelle (not the RAV's task)
    cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(-5))
    cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(0))
    plan, _ = cw.plan_with_measure(
        case=case3,
        actor=coordinator,
        case_lead=rav_adviser,
        responsible_institution=rav_adviser.institution,
        responsible_user=rav_adviser,
        due_on=cw.days_ago(-2),
    )
    cw.plan_agreed(plan=plan, actor=coordinator)
    for institution in (world.labour, world.disability):
        services.information_request_create(
            actor=coordinator,
            case=case3,
            to_institution=institution,
            question="?",
            category="occupational",
            due_on=cw.days_ago(-1),
        )
    # when the adviser's tasks are listed as of three days from now
    tasks = tasks_for_user(user=rav_adviser, today=cw.days_ago(-3))
    # then the overdue ones come first, each group by due date, all flagged
    assert [(t.kind, t.due_on, t.overdue, t.case) for t in tasks] == [
        ("agreement", cw.days_ago(0), True, case3),
        ("information_request", cw.days_ago(-1), True, case3),
        ("measure", cw.days_ago(-2), True, case3),
        ("agreement", cw.days_ago(-5), False, case3),
    ]


def test_it_leaves_tasks_of_closed_cases_off_the_list(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given an agreement of the RAV adviser on a case that was then closed
    cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(-5))
    services.case_close(actor=coordinator, case=case3, outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(0))
    # when the adviser's tasks are listed
    tasks = tasks_for_user(user=rav_adviser, today=cw.days_ago(0))
    # then the agreement is not on the list
    assert [t.kind for t in tasks] == []


def test_it_lists_a_follow_up_for_its_owner(iv_specialist: User) -> None:
    # given a case the specialist closed twenty days ago
    case = cw.case_open(specialist=iv_specialist)
    services.case_close(actor=iv_specialist, case=case, outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(20))
    six_months = FollowUp.objects.get(case=case, months_after=6).due_on
    # when the specialist's tasks are listed on the day after the six-month follow-up was due
    tasks = tasks_for_user(user=iv_specialist, today=six_months + dt.timedelta(days=1))
    # then both follow-ups are listed, the six-month one overdue
    assert [(t.kind, t.due_on, t.overdue) for t in tasks] == [
        ("follow_up", six_months, True),
        ("follow_up", FollowUp.objects.get(case=case, months_after=12).due_on, False),
    ]

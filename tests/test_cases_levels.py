"""The level model (Stufenmodell): every allowed and every forbidden move.

The test keeps its own reading of the level model (``EXPECTED_MOVERS``, written from issue 4 and
DOMAIN.md, not imported from ``iiz.cases.levels``) and checks the state machine against it for every
(source, target) pair of levels 1–3 and every set of roles, then checks ``case_change_level`` against it
with real users on real cases.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from typing import TYPE_CHECKING

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from iiz.audit.models import AuditEvent
from iiz.cases import levels, services
from iiz.cases.models import Case, CaseParticipant, LevelChange, Outcome
from iiz.organisations.models import Role, User
from tests import cases_world as cw
from tests.factories import UserFactory

if TYPE_CHECKING:
    from tests.conftest import World

# ---------------------------------------------------------------------------------------------------------
# The test's own truth
# ---------------------------------------------------------------------------------------------------------

# Level 1 → 2: the specialist asks the Geschäftsstelle for help (a coordinator may also take the case up).
# Level 2 → 3 (case team), 3 → 2 and 2 → 1 (stepping down): the coordinator's decisions. Nothing else.
EXPECTED_MOVERS: dict[tuple[int, int], frozenset[str]] = {
    (1, 2): frozenset({"specialist", "coordinator"}),
    (2, 3): frozenset({"coordinator"}),
    (3, 2): frozenset({"coordinator"}),
    (2, 1): frozenset({"coordinator"}),
}
LEVEL_PAIRS = list(itertools.product((1, 2, 3), repeat=2))
ALL_ROLES = sorted(Role.values)
ALL_ROLE_SETS = [
    frozenset(combination)
    for size in range(len(ALL_ROLES) + 1)
    for combination in itertools.combinations(ALL_ROLES, size)
]
# The message the user reads for each reason of a refusal, and the reason's name in this test.
REFUSAL_FRAGMENTS = {
    "Der Fall ist abgeschlossen": "closed",
    "bereits auf dieser Stufe": "same_level",
    "keinen direkten Wechsel": "no_such_move",
    "Ihre Rolle darf": "role",
}


def expected_outcome(source: int, target: int, roles: frozenset[str], case_open: bool) -> str:
    """What the level model should answer, the first failing reason winning."""
    movers = EXPECTED_MOVERS.get((source, target), frozenset())
    reasons = [
        (not case_open, "closed"),
        (source == target, "same_level"),
        ((source, target) not in EXPECTED_MOVERS, "no_such_move"),
        (not roles & movers, "role"),
    ]
    return next((name for failed, name in reasons if failed), "allowed")


def actual_outcome(source: int, target: int, roles: frozenset[str], case_open: bool) -> str:
    try:
        levels.level_move_check(source=source, target=target, roles=roles, case_open=case_open)
    except levels.MoveNotAllowed as refusal:
        return next(name for fragment, name in REFUSAL_FRAGMENTS.items() if fragment in str(refusal))
    return "allowed"


# ---------------------------------------------------------------------------------------------------------
# The state machine alone: every pair of levels for every set of roles
# ---------------------------------------------------------------------------------------------------------


def test_it_declares_the_same_moves_and_movers_as_the_level_model_of_the_issue() -> None:
    # given the moves table of the application
    # when it is read as plain pairs and role names
    declared = {pair: frozenset(str(role) for role in roles) for pair, roles in levels.MOVES.items()}
    # then it is exactly the test's own table
    assert declared == EXPECTED_MOVERS


@pytest.mark.parametrize("case_open", [True, False], ids=["open", "closed"])
@pytest.mark.parametrize(("source", "target"), LEVEL_PAIRS, ids=[f"{s}to{t}" for s, t in LEVEL_PAIRS])
def test_it_answers_every_role_set_as_the_hand_written_table_expects(source: int, target: int, case_open: bool) -> None:
    # given every one of the 128 sets of roles a user can hold
    # when the level model is asked about this move for each of them
    actual = {roles: actual_outcome(source, target, roles, case_open) for roles in ALL_ROLE_SETS}
    # then each answer, and each reason for a refusal, is the one the test's table expects
    assert actual == {roles: expected_outcome(source, target, roles, case_open) for roles in ALL_ROLE_SETS}


@pytest.mark.parametrize(("source", "target"), LEVEL_PAIRS, ids=[f"{s}to{t}" for s, t in LEVEL_PAIRS])
def test_it_allows_a_move_exactly_when_the_moves_table_names_one_of_the_roles(source: int, target: int) -> None:
    # given the application's own moves table
    allowed_roles = levels.MOVES.get((source, target), frozenset())
    # when the state machine is asked for every set of roles on an open case
    allowed = {roles for roles in ALL_ROLE_SETS if actual_outcome(source, target, roles, True) == "allowed"}
    # then it allows exactly the role sets that share a role with the table's entry
    assert allowed == {roles for roles in ALL_ROLE_SETS if roles & allowed_roles}


@pytest.mark.parametrize("source", [1, 2, 3])
def test_it_offers_exactly_the_moves_the_role_may_make(source: int) -> None:
    # given every set of roles on an open case at this level
    # when the available moves are listed
    available = {
        roles: levels.level_moves_available(source=source, roles=roles, case_open=True) for roles in ALL_ROLE_SETS
    }
    # then they are the targets of the test's table that the roles may reach, in ascending order
    assert available == {
        roles: sorted(t for (s, t), movers in EXPECTED_MOVERS.items() if s == source and roles & movers)
        for roles in ALL_ROLE_SETS
    }


def test_it_offers_a_coordinator_both_directions_at_level_2() -> None:
    # given a coordinator on a case at level 2
    roles = frozenset({Role.COORDINATOR})
    # when the available moves are listed
    available = levels.level_moves_available(source=2, roles=roles, case_open=True)
    # then the case can go down to 1 or up to 3
    assert available == [1, 3]


@pytest.mark.parametrize("source", [1, 2, 3])
def test_it_offers_no_move_on_a_closed_case(source: int) -> None:
    # given a user holding every role, on a closed case
    roles = frozenset(ALL_ROLES)
    # when the available moves are listed
    available = levels.level_moves_available(source=source, roles=roles, case_open=False)
    # then there are none
    assert available == []


@given(
    source=st.integers(min_value=-1, max_value=5),
    target=st.integers(min_value=-1, max_value=5),
    roles=st.frozensets(st.sampled_from(ALL_ROLES)),
    case_open=st.booleans(),
)
def test_it_refuses_levels_outside_the_model_and_agrees_with_the_table_inside_it(
    source: int, target: int, roles: frozenset[str], case_open: bool
) -> None:
    # given any pair of integers as levels, including ones the model does not know
    # when the level model is asked
    actual = actual_outcome(source, target, roles, case_open)
    # then it answers as the test's table does (no pair outside 1–3 is a move)
    assert actual == expected_outcome(source, target, roles, case_open)


# ---------------------------------------------------------------------------------------------------------
# case_change_level: the moves on real cases, by real users
# ---------------------------------------------------------------------------------------------------------

# The users who try the moves: the world's specialist, coordinator and case worker, and a user who is
# only a case-team member (built below).
PERSONA_ROLES = {
    "iv_specialist": frozenset({"specialist", "case_team_member"}),
    "coordinator": frozenset({"coordinator", "case_team_member"}),
    "rav_adviser": frozenset({"case_worker", "case_team_member"}),
    "team_member": frozenset({"case_team_member"}),
}
FORBIDDEN_MESSAGES = {
    "same_level": "bereits auf dieser Stufe",
    "no_such_move": "keinen direkten Wechsel",
    "role": "Ihre Rolle darf diesen Stufenwechsel nicht vornehmen",
}
PERSONA_OUTCOMES = [
    (source, target, persona, expected_outcome(source, target, roles, True))
    for source, target in LEVEL_PAIRS
    for persona, roles in PERSONA_ROLES.items()
]
ALLOWED_BY_PERSONA = [(s, t, p) for s, t, p, outcome in PERSONA_OUTCOMES if outcome == "allowed"]
FORBIDDEN_BY_PERSONA = [(s, t, p, FORBIDDEN_MESSAGES[o]) for s, t, p, o in PERSONA_OUTCOMES if o != "allowed"]


@pytest.fixture
def team_member(world: World) -> User:
    """A user of the RAV who is only a case-team member."""
    return UserFactory(unit=world.rav_uster, roles=[Role.CASE_TEAM_MEMBER])


@pytest.fixture
def persona(request: pytest.FixtureRequest) -> User:
    return request.getfixturevalue(request.param)


def _case_at(level: int, *, iv_specialist: User, coordinator: User, joining: User) -> Case:
    case = cw.case_at_level(level, specialist=iv_specialist, coordinator=coordinator)
    # The specialist who opened the case brings the user in (a no-op for someone already taking part).
    services.case_participant_add(actor=iv_specialist, case=case, user=joining)
    return Case.objects.get(pk=case.pk)


def _state(case: Case) -> tuple[int, int, int, int, str]:
    case.refresh_from_db()
    return (
        case.level,
        case.lock_version,
        LevelChange.objects.filter(case=case).count(),
        CaseParticipant.objects.filter(case=case).count(),
        case.route,
    )


def test_it_confirms_the_personas_hold_the_roles_the_table_assumes(
    iv_specialist: User, coordinator: User, rav_adviser: User, team_member: User
) -> None:
    # given the world's users and the team member
    users = {"iv_specialist": iv_specialist, "coordinator": coordinator, "rav_adviser": rav_adviser}
    users["team_member"] = team_member
    # when their roles are read
    roles = {name: frozenset(str(role) for role in user.role_set) for name, user in users.items()}
    # then they are the ones the parametrisation of this module is computed from
    assert roles == PERSONA_ROLES


@pytest.mark.parametrize(
    ("source", "target", "persona"),
    ALLOWED_BY_PERSONA,
    ids=[f"{s}to{t}-{p}" for s, t, p in ALLOWED_BY_PERSONA],
    indirect=["persona"],
)
def test_it_makes_every_allowed_move_with_date_person_and_reason(
    source: int, target: int, persona: User, iv_specialist: User, coordinator: User
) -> None:
    # given a case at the source level in which the persona takes part
    case = _case_at(source, iv_specialist=iv_specialist, coordinator=coordinator, joining=persona)
    changes_before = LevelChange.objects.filter(case=case).count()
    day = cw.days_ago(3)
    # when the persona moves it, naming the coordinator and the case team the move may need
    moved = services.case_change_level(
        actor=persona,
        case=case,
        to_level=target,
        reason="  Der Fall braucht diese Stufe  ",
        changed_on=day,
        coordinator=coordinator,
        case_team=cw.oberland_team(),
    )
    # then the case is at the target level and one dated, reasoned change by the persona is recorded
    change = LevelChange.objects.filter(case=case).latest("changed_at", "id")
    assert Case.objects.get(pk=case.pk).level == moved.level == target
    assert LevelChange.objects.filter(case=case).count() == changes_before + 1
    assert (change.from_level, change.to_level, change.changed_by, change.changed_on, change.reason) == (
        source,
        target,
        persona,
        day,
        "Der Fall braucht diese Stufe",
    )
    assert AuditEvent.objects.filter(
        object_type="case_level", object_id=str(case.pk), actor=persona, details__to_level=target
    ).exists()


@pytest.mark.parametrize(
    ("source", "target", "persona", "message"),
    FORBIDDEN_BY_PERSONA,
    ids=[f"{s}to{t}-{p}" for s, t, p, _ in FORBIDDEN_BY_PERSONA],
    indirect=["persona"],
)
def test_it_refuses_every_forbidden_move_with_a_clear_message_and_changes_nothing(
    source: int, target: int, persona: User, message: str, iv_specialist: User, coordinator: User
) -> None:
    # given a case at the source level in which the persona takes part
    case = _case_at(source, iv_specialist=iv_specialist, coordinator=coordinator, joining=persona)
    before = _state(case)
    # when the persona tries the move with everything else in order
    with pytest.raises(ValidationError, match=message):
        services.case_change_level(
            actor=persona,
            case=case,
            to_level=target,
            reason="Versuch",
            changed_on=cw.days_ago(3),
            coordinator=coordinator,
            case_team=cw.oberland_team(),
        )
    # then the case, its moves and its participants are as before
    assert _state(case) == before


@pytest.mark.parametrize(("source", "target"), [(1, 2), (2, 3), (3, 2), (2, 1)])
def test_it_refuses_any_move_on_a_closed_case(source: int, target: int, iv_specialist: User, coordinator: User) -> None:
    # given a closed case that was at the source level, with the coordinator taking part
    case = cw.case_at_level(source, specialist=iv_specialist, coordinator=coordinator)
    services.case_participant_add(actor=iv_specialist, case=case, user=coordinator)
    services.case_close(actor=coordinator, case=case, outcome=Outcome.OTHER, closed_on=cw.days_ago(2))
    before = _state(case)
    # when the coordinator tries a move that would be allowed on an open case
    with pytest.raises(ValidationError, match="Der Fall ist abgeschlossen"):
        services.case_change_level(
            actor=coordinator,
            case=case,
            to_level=target,
            reason="Neuer Anlauf",
            changed_on=cw.days_ago(1),
            coordinator=coordinator,
            case_team=cw.oberland_team(),
        )
    # then nothing changed
    assert _state(case) == before


@pytest.mark.parametrize("reason", ["", "   \n "], ids=["empty", "blank"])
def test_it_refuses_a_move_without_a_reason(reason: str, iv_specialist: User, coordinator: User) -> None:
    # given a case at level 1
    case = cw.case_open(specialist=iv_specialist)
    before = _state(case)
    # when the specialist asks for help without saying why
    with pytest.raises(ValidationError, match="Begründen Sie den Stufenwechsel"):
        services.case_change_level(
            actor=iv_specialist,
            case=case,
            to_level=2,
            reason=reason,
            changed_on=cw.days_ago(1),
            coordinator=coordinator,
        )
    # then nothing changed, and the coordinator did not join
    assert _state(case) == before


def test_it_refuses_a_move_dated_before_the_last_move(iv_specialist: User, coordinator: User) -> None:
    # given a case that moved to level 2 fifty days ago
    case = cw.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)
    last = LevelChange.objects.filter(case=case).latest("changed_on").changed_on
    before = _state(case)
    # when the coordinator records a move to level 3 on the day before that move
    with pytest.raises(ValidationError, match="vor dem letzten Stufenwechsel"):
        services.case_change_level(
            actor=coordinator,
            case=case,
            to_level=3,
            reason="Fallteam",
            changed_on=last - dt.timedelta(days=1),
            case_team=cw.oberland_team(),
        )
    # then nothing changed
    assert _state(case) == before


def test_it_accepts_a_move_on_the_same_day_as_the_last_one(iv_specialist: User, coordinator: User) -> None:
    # given a case that moved to level 2 on some day
    case = cw.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)
    last = LevelChange.objects.filter(case=case).latest("changed_on").changed_on
    # when the coordinator forms a case team on that same day
    moved = services.case_change_level(
        actor=coordinator, case=case, to_level=3, reason="Fallteam", changed_on=last, case_team=cw.oberland_team()
    )
    # then the move is recorded
    assert moved.level == 3


def test_it_refuses_a_move_dated_in_the_future(iv_specialist: User, coordinator: User) -> None:
    # given a case at level 1
    case = cw.case_open(specialist=iv_specialist)
    before = _state(case)
    # when the specialist dates the move tomorrow
    with pytest.raises(ValidationError, match="nicht in der Zukunft"):
        services.case_change_level(
            actor=iv_specialist,
            case=case,
            to_level=2,
            reason="Hilfe",
            changed_on=cw.days_ago(-1),
            coordinator=coordinator,
        )
    # then nothing changed
    assert _state(case) == before


def test_it_refuses_level_2_without_a_coordinator(iv_specialist: User) -> None:
    # given a case at level 1
    case = cw.case_open(specialist=iv_specialist)
    before = _state(case)
    # when the specialist asks for help without naming a coordinator
    with pytest.raises(ValidationError, match="Koordinatorin oder den Koordinator"):
        services.case_change_level(
            actor=iv_specialist, case=case, to_level=2, reason="Hilfe", changed_on=cw.days_ago(1)
        )
    # then nothing changed
    assert _state(case) == before


def test_it_refuses_level_2_with_a_person_who_is_not_a_coordinator(iv_specialist: User, rav_adviser: User) -> None:
    # given a case at level 1
    case = cw.case_open(specialist=iv_specialist)
    before = _state(case)
    # when the specialist names an RAV adviser as the coordinator
    with pytest.raises(ValidationError, match="Koordinatorin oder den Koordinator"):
        services.case_change_level(
            actor=iv_specialist,
            case=case,
            to_level=2,
            reason="Hilfe",
            changed_on=cw.days_ago(1),
            coordinator=rav_adviser,
        )
    # then nothing changed and the adviser did not join the case
    assert _state(case) == before
    assert not CaseParticipant.objects.filter(case=case, user=rav_adviser).exists()


def test_it_brings_the_coordinator_into_the_case_and_records_the_route_at_level_2(
    iv_specialist: User, coordinator: User
) -> None:
    # given a case at level 1 without the coordinator
    case = cw.case_open(specialist=iv_specialist)
    # when the specialist asks the Geschäftsstelle for help
    moved = services.case_change_level(
        actor=iv_specialist, case=case, to_level=2, reason="Hilfe", changed_on=cw.days_ago(1), coordinator=coordinator
    )
    # then the coordinator takes part from that day and the route is the Geschäftsstelle's
    participant = CaseParticipant.objects.get(case=case, user=coordinator)
    assert (participant.joined_on, participant.left_on, moved.route) == (cw.days_ago(1), None, "coordination")


def test_it_refuses_level_3_without_a_case_team(iv_specialist: User, coordinator: User) -> None:
    # given a case at level 2
    case = cw.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)
    before = _state(case)
    # when the coordinator escalates without naming the regional case team
    with pytest.raises(ValidationError, match="regionale Fallteam"):
        services.case_change_level(
            actor=coordinator, case=case, to_level=3, reason="Fallteam", changed_on=cw.days_ago(1)
        )
    # then nothing changed and the case has no team
    assert _state(case) == before
    assert Case.objects.get(pk=case.pk).case_team is None


def test_it_records_the_case_team_at_level_3(iv_specialist: User, coordinator: User) -> None:
    # given a case at level 2
    case = cw.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)
    # when the coordinator forms the case team
    services.case_change_level(
        actor=coordinator,
        case=case,
        to_level=3,
        reason="Fallteam",
        changed_on=cw.days_ago(1),
        case_team=cw.oberland_team(),
    )
    # then the case belongs to the Oberland team
    assert Case.objects.get(pk=case.pk).case_team == cw.oberland_team()


def test_it_refuses_a_move_by_a_user_who_does_not_take_part(iv_specialist: User, coordinator: User) -> None:
    # given a case at level 1 in which the coordinator does not take part
    case = cw.case_open(specialist=iv_specialist)
    before = _state(case)
    # when the coordinator tries to take it up
    with pytest.raises(PermissionDenied):
        services.case_change_level(
            actor=coordinator, case=case, to_level=2, reason="Hilfe", changed_on=cw.days_ago(1), coordinator=coordinator
        )
    # then nothing changed
    assert _state(case) == before


def test_it_tells_the_second_writer_that_the_case_changed(iv_specialist: User, coordinator: User) -> None:
    # given a case at level 2 loaded by two coordinators' forms at version v
    case = cw.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)
    version = Case.objects.get(pk=case.pk).lock_version
    services.case_change_level(
        actor=coordinator,
        case=case,
        to_level=3,
        reason="Fallteam",
        changed_on=cw.days_ago(1),
        case_team=cw.oberland_team(),
        expected_version=version,
    )
    before = _state(case)
    # when the second form, still at version v, steps the case down
    with pytest.raises(services.StaleEdit):
        services.case_change_level(
            actor=coordinator,
            case=case,
            to_level=2,
            reason="zurück",
            changed_on=cw.days_ago(1),
            expected_version=version,
        )
    # then the first writer's move stands and nothing of the second is saved
    assert _state(case) == before


# ---------------------------------------------------------------------------------------------------------
# Any sequence of moves
# ---------------------------------------------------------------------------------------------------------

COORDINATOR_NEXT_LEVEL = {
    **{pair: pair[0] for pair in LEVEL_PAIRS},
    **{pair: pair[1] for pair, movers in EXPECTED_MOVERS.items() if "coordinator" in movers},
}


@settings(max_examples=10)
@given(targets=st.lists(st.integers(min_value=1, max_value=3), min_size=1, max_size=6))
def test_it_follows_the_table_through_any_sequence_of_moves(
    targets: list[int], iv_specialist: User, coordinator: User
) -> None:
    # given a fresh case at level 2 (in a savepoint of its own for each example)
    with transaction.atomic():
        case = cw.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)
        expected_levels = list(
            itertools.accumulate(targets, lambda level, target: COORDINATOR_NEXT_LEVEL[(level, target)], initial=2)
        )[1:]
        # when the coordinator tries each target in turn, allowed or not
        reached = [_try_move(case, coordinator, target) for target in targets]
        # then the case went exactly where the table says and one change was written per allowed move
        moves_made = sum(before != after for before, after in itertools.pairwise([2, *expected_levels]))
        assert reached == expected_levels
        # Opening and the move to level 2 are the first two changes.
        assert LevelChange.objects.filter(case=case).count() == 2 + moves_made
        transaction.set_rollback(True)


def _try_move(case: Case, coordinator: User, target: int) -> int:
    with contextlib.suppress(ValidationError):
        services.case_change_level(
            actor=coordinator,
            case=case,
            to_level=target,
            reason="Stufe angepasst",
            changed_on=cw.days_ago(0),
            coordinator=coordinator,
            case_team=cw.oberland_team(),
        )
    return Case.objects.get(pk=case.pk).level

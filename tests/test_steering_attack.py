"""The differencing attack: no count below the threshold can be worked out from the published figures.

Two years of demo data (``load_demo``: 300 persons, 50 cases opened over the last 24 months) are published
for every filter combination (year and quarter, institution, district, life situation) through every channel
the supervisory body and the operating committee have: the strategic and operational dashboards, the API's
key figures of both audiences, the reports (the workbook of the whole canton read back cell by cell, the
report data of every other combination) and the cost-benefit page. ``tests/steering_attack.py`` builds the
attacker's linear system and proves, for every protected cell, that the published intervals leave it more
than one whole value (see there).

The same harness, run on the code before the cell key method (complementary suppression per table), found
what the issue describes: on the demo data, the strategic dashboard alone gave away 135 of its 141 protected
cells, and all channels together (the operating committee's exact operational figures included) 393 of 393.
"""

from __future__ import annotations

import io
from hashlib import sha256

import pytest
from django.core.management import call_command
from django.utils import timezone

from iiz.cases.models import Case
from iiz.organisations.models import User
from iiz.steering.kpis import Scope
from tests import steering_attack

pytestmark = pytest.mark.django_db


def test_it_leaves_no_small_count_to_a_differencing_attack(capsys: pytest.CaptureFixture[str]) -> None:
    # given two years of demo data
    call_command("load_demo", "--clients", "300", "--cases", "50", "--case-share", "0", stdout=io.StringIO())
    # Record keys are drawn at random when a case is made; fixed ones keep the attack the same on every run.
    for case in Case.objects.only("pk"):
        key = int(sha256(f"case {case.pk}".encode()).hexdigest(), 16) % 2**31
        Case.objects.filter(pk=case.pk).update(record_key=key)
    today = timezone.localdate()
    # when every published figure of every filter combination is collected and attacked
    collection, requested = steering_attack.collect(
        years=(today.year - 1, today.year),
        today=today,
        trustee=User.objects.get(username="traegerschaft"),
        committee=User.objects.get(username="ausschuss"),
        threshold=5,
        xlsx_files=lambda scope: scope == Scope(),
    )
    result = steering_attack.attack(collection)
    with capsys.disabled():
        print(f"\n{result.line} ({result.published} published counts, {dict(requested)})")
    # then there was something to protect, and nothing of it is pinned down
    assert result.protected > 50
    assert result.recovered == [], [r.where for r in result.recovered[:10]]


def test_it_finds_what_complementary_suppression_inside_one_table_gives_away() -> None:
    # given the example: all districts 8 closures, Bezirk Uster 7, each table protected on its own
    collection = steering_attack.Collection(threshold=5)
    uster = tuple((case_id, 1) for case_id in range(1, 8))
    hinwil = ((8, 1),)
    # when both totals are published exactly and Hinwil's own cell as "< 5"
    collection.add("all districts", uster + hinwil, (8, 8))
    collection.add("Bezirk Uster", uster, (7, 7))
    collection.add("Bezirk Hinwil", hinwil, (1, 4))
    result = steering_attack.attack(collection)
    # then the attack recovers the suppressed cell, as it did on the old pages
    assert [r.where for r in result.recovered] == ["Bezirk Hinwil"]
    assert result.line == "differencing attack: recovered 1 of 1 protected cells"

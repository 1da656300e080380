"""Webhooks: signed case events for the institutions taking part, retried with backoff, never personal data.

A small HTTP server on 127.0.0.1 (in a thread) receives the deliveries, as a partner system would, and
checks their signatures. Time is passed explicitly (``now=``) to walk through the retry schedule.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from iiz.interfaces import services
from iiz.interfaces.models import DeliveryStatus, Scope, WebhookDelivery, WebhookEvent, WebhookSubscription
from iiz.interfaces.webhooks import (
    BACKOFF,
    MAX_ATTEMPTS,
    webhook_deliver_now,
    webhook_signature_verify,
    webhooks_retry_due,
)
from tests import cases_world
from tests.api_world import api_client, problem, token_for

ALL_EVENTS = list(WebhookEvent.values)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A partner system's endpoint: records every request and answers with the next status code."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server expects
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            # Header names are case-insensitive (urllib sends "X-iiz-signature"): keep them in lower case.
            state.requests.append(Received(headers={k.lower(): v for k, v in self.headers.items()}, body=body))
            status = state.statuses.pop(0) if state.statuses else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/iiz-hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def subscribe(admin, institution, url: str, events=ALL_EVENTS) -> tuple[WebhookSubscription, str]:
    created = services.webhook_subscription_create(actor=admin, institution=institution, target_url=url, events=events)
    return created.subscription, created.secret


def test_it_signs_each_delivery_with_hmac(receiver, admin, iv_specialist, world, django_capture_on_commit_callbacks):
    # given B's subscription
    subscription, secret = subscribe(admin, world.disability, receiver.url)

    # when B's specialist opens a case (the delivery is sent after commit, inline in the demo)
    with django_capture_on_commit_callbacks(execute=True):
        case = cases_world.case_open(specialist=iv_specialist)

    # then the receiver got one signed request it can verify
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert webhook_signature_verify(secret=secret, body=request.body, header=request.headers["x-iiz-signature"])
    assert request.headers["x-iiz-event"] == "case.opened"
    assert request.headers["x-iiz-delivery"] == str(delivery.public_id)
    payload = json.loads(request.body)
    assert payload["event"] == "case.opened" and payload["case"]["reference"] == case.reference
    assert payload["case"]["level"] == 1
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 204)


def test_it_refuses_a_forged_or_old_signature(receiver):
    body = b'{"event":"case.opened"}'
    from iiz.interfaces.webhooks import webhook_signature

    header = webhook_signature(secret="whsec_right", body=body, timestamp=1_800_000_000)

    assert webhook_signature_verify(secret="whsec_right", body=body, header=header, now=1_800_000_010)
    assert not webhook_signature_verify(secret="whsec_wrong", body=body, header=header, now=1_800_000_010)
    assert not webhook_signature_verify(secret="whsec_right", body=body + b" ", header=header, now=1_800_000_010)
    assert not webhook_signature_verify(secret="whsec_right", body=body, header=header, now=1_800_001_000)
    assert not webhook_signature_verify(secret="whsec_right", body=body, header="garbage")


def test_it_sends_events_only_to_institutions_taking_part(receiver, admin, iv_specialist, world):
    # given subscriptions of B (which opens the case) and of the youth office (which does not take part)
    taking_part, _ = subscribe(admin, world.disability, receiver.url)
    outside, _ = subscribe(admin, world.youth, receiver.url)

    # when the case is opened
    cases_world.case_open(specialist=iv_specialist)

    # then only B's subscription has a delivery
    assert WebhookDelivery.objects.filter(subscription=taking_part).count() == 1
    assert not WebhookDelivery.objects.filter(subscription=outside).exists()


def test_it_emits_the_case_events_of_the_level_model_plan_and_closure(
    admin, iv_specialist, coordinator, rav_adviser, world
):
    # given B's subscription to every event
    subscription, _ = subscribe(admin, world.disability, "https://partner.example.ch/hooks")

    # when a case goes through levels, an agreed plan and its closure
    case = cases_world.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    plan, _measure = cases_world.plan_with_measure(
        case=case, actor=coordinator, case_lead=rav_adviser, responsible_institution=world.labour
    )
    cases_world.plan_agreed(plan=plan, actor=coordinator)
    from iiz.cases.services import case_close

    case_close(actor=coordinator, case=case, outcome="first_labour_market", closed_on=timezone.localdate())

    # then one delivery per event, in order, with the level or outcome
    deliveries = list(WebhookDelivery.objects.filter(subscription=subscription).order_by("id"))
    assert [d.event for d in deliveries] == [
        "case.opened",
        "case.level_changed",
        "case.level_changed",
        "case.plan_agreed",
        "case.closed",
    ]
    assert [d.payload.get("previous_level") for d in deliveries[1:3]] == [1, 2]
    assert deliveries[3].payload["plan_version"] == plan.version
    assert deliveries[4].payload["case"]["outcome"] == "first_labour_market"


def test_it_leaves_personal_data_out_of_the_payload(admin, iv_specialist, world):
    # given a subscription and a case of a named person
    subscribe(admin, world.disability, "https://partner.example.ch/hooks")
    case = cases_world.case_open(specialist=iv_specialist)
    person = case.client

    # when the event is recorded
    payload = WebhookDelivery.objects.get().payload
    text = json.dumps(payload)

    # then the payload names the case, never the person
    for value in [
        person.first_name,
        person.last_name,
        person.ahv_number,
        person.ahv_display,
        str(person.public_id),
        person.date_of_birth.isoformat(),
    ]:
        assert value not in text
    assert set(payload) == {"id", "event", "occurred_at", "case"}
    assert set(payload["case"]) == {"reference", "status", "level", "route", "opened_on", "closed_on", "outcome"}


def test_it_announces_nothing_when_the_change_is_rolled_back(
    admin, iv_specialist, world, django_capture_on_commit_callbacks
):
    subscribe(admin, world.disability, "https://partner.example.ch/hooks")

    # when a case opening fails after the event was recorded (the transaction rolls back)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError):
        from django.db import transaction

        with transaction.atomic():
            cases_world.case_open(specialist=iv_specialist)
            raise ValidationError("later failure")

    # then neither the delivery row nor a send remains
    assert not WebhookDelivery.objects.exists()
    assert callbacks == []


def test_it_retries_with_exponential_backoff_and_gives_up(receiver, admin, iv_specialist, world):
    # given a receiver that fails every time
    subscribe(admin, world.disability, receiver.url)
    cases_world.case_open(specialist=iv_specialist)
    delivery = WebhookDelivery.objects.get()
    receiver.statuses = [500] * 10
    clock = timezone.now()

    # when the first attempt fails
    webhook_deliver_now(delivery_id=delivery.pk, now=clock)
    delivery.refresh_from_db()
    schedule = [delivery.next_attempt_at - clock]

    # then it waits 1 min, 5 min, 30 min, 2 h, 12 h: not before, exactly then
    for wait in BACKOFF:
        assert webhooks_retry_due(now=clock + wait - dt.timedelta(seconds=1)) == 0
        clock = clock + wait
        assert webhooks_retry_due(now=clock) == 1
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            schedule.append(delivery.next_attempt_at - clock)

    # and after six attempts it is marked failed, with the last answer
    assert schedule == list(BACKOFF)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.FAILED, MAX_ATTEMPTS, 500)
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert webhooks_retry_due(now=clock + dt.timedelta(days=2)) == 0
    # every attempt carried the same delivery id, so the receiver can drop repeats
    assert len({r.headers["x-iiz-delivery"] for r in receiver.requests}) == 1


def test_it_delivers_on_a_retry_and_never_twice(receiver, admin, iv_specialist, world):
    subscribe(admin, world.disability, receiver.url)
    cases_world.case_open(specialist=iv_specialist)
    delivery = WebhookDelivery.objects.get()
    receiver.statuses = [503, 200]
    clock = timezone.now()

    webhook_deliver_now(delivery_id=delivery.pk, now=clock)
    webhooks_retry_due(now=clock + BACKOFF[0])
    again = webhook_deliver_now(delivery_id=delivery.pk, now=clock + dt.timedelta(days=1))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)
    assert again is None and len(receiver.requests) == 2


def test_it_counts_an_unreachable_receiver_as_a_failed_attempt(admin, iv_specialist, world):
    # given a subscription to a port where nothing listens
    subscribe(admin, world.disability, "http://127.0.0.1:9/nothing")
    cases_world.case_open(specialist=iv_specialist)

    # when attempted
    delivery = webhook_deliver_now(delivery_id=WebhookDelivery.objects.get().pk)

    # then it is recorded and scheduled again
    assert delivery is not None and delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None and delivery.last_error
    assert delivery.attempts == 1


def test_it_sends_nothing_more_once_the_subscription_is_deactivated(receiver, admin, iv_specialist, world):
    subscription, _ = subscribe(admin, world.disability, receiver.url)
    cases_world.case_open(specialist=iv_specialist)
    services.webhook_subscription_deactivate(actor=admin, subscription=subscription)

    delivery = webhook_deliver_now(delivery_id=WebhookDelivery.objects.get().pk)

    assert delivery is not None and delivery.status == DeliveryStatus.FAILED
    assert receiver.requests == []


def test_the_retry_command_sends_what_is_due(receiver, admin, iv_specialist, world, capsys):
    subscribe(admin, world.disability, receiver.url)
    cases_world.case_open(specialist=iv_specialist)

    call_command("webhooks_retry")

    assert "attempted: 1" in capsys.readouterr().out
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example.ch/hooks",
        "ftp://127.0.0.1/x",
        "https://user:pw@partner.example.ch/",
        "http://10.0.0.1/x",
    ],
)
def test_it_refuses_targets_that_are_not_https(admin, world, url):
    with pytest.raises(ValidationError):
        subscribe(admin, world.disability, url)


def test_it_allows_plain_http_to_localhost_only_in_the_demo(admin, world, settings):
    settings.DEMO_MODE = False

    with pytest.raises(ValidationError):
        subscribe(admin, world.disability, "http://127.0.0.1:8080/hooks")


# ---------------------------------------------------------------------------------------------------------
# Through the API (scope webhooks:manage)
# ---------------------------------------------------------------------------------------------------------


def test_a_partner_subscribes_and_reads_its_delivery_log(iv_specialist, world):
    # given B's token with the webhook scope, and A's
    api_b = api_client(token_for(world.disability, scopes=[Scope.WEBHOOKS_MANAGE]).key)
    api_a = api_client(token_for(world.labour, scopes=[Scope.WEBHOOKS_MANAGE]).key)

    # when B subscribes and a case of B is opened
    created = api_b.post(
        "/api/v1/webhooks/subscriptions/",
        data={"target_url": "https://partner.example.ch/hooks", "events": ["case.opened"]},
        content_type="application/json",
    )
    cases_world.case_open(specialist=iv_specialist)
    log_b = api_b.get("/api/v1/webhooks/deliveries/").json()["results"]
    log_a = api_a.get("/api/v1/webhooks/deliveries/").json()["results"]
    listed = api_b.get("/api/v1/webhooks/subscriptions/").json()["results"]

    # then the secret is shown once, B sees its delivery and A sees nothing of B's
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    assert "secret" not in listed[0]
    assert [d["event"] for d in log_b] == ["case.opened"] and log_a == []
    assert api_a.get(f"/api/v1/webhooks/subscriptions/{created.json()['id']}/").status_code == 404


def test_a_partner_stops_its_subscription(world):
    api = api_client(token_for(world.disability, scopes=[Scope.WEBHOOKS_MANAGE]).key)
    created = api.post(
        "/api/v1/webhooks/subscriptions/",
        data={"target_url": "https://partner.example.ch/hooks", "events": ALL_EVENTS},
        content_type="application/json",
    ).json()

    response = api.delete(f"/api/v1/webhooks/subscriptions/{created['id']}/")

    assert response.status_code == 204
    assert WebhookSubscription.objects.get(pk=created["id"]).active is False


def test_it_refuses_webhook_management_without_the_scope_or_a_token(world, http_as, rav_adviser):
    api = api_client(token_for(world.disability, scopes=[Scope.CASES_READ]).key)

    by_token = api.get("/api/v1/webhooks/subscriptions/")
    by_browser = http_as(rav_adviser).get("/api/v1/webhooks/subscriptions/")

    assert (by_token.status_code, by_browser.status_code) == (403, 403)
    assert problem(by_token)["type"] == "urn:iiz:problem:scope-missing"


def test_it_refuses_an_http_target_through_the_api(world, settings):
    settings.DEMO_MODE = False
    api = api_client(token_for(world.disability, scopes=[Scope.WEBHOOKS_MANAGE]).key)

    response = api.post(
        "/api/v1/webhooks/subscriptions/",
        data={"target_url": "http://partner.example.ch/hooks", "events": ["case.closed"]},
        content_type="application/json",
    )

    assert response.status_code == 400 and problem(response)["errors"][0]["field"] == "target_url"

"""Webhooks: case events for the partner systems of the institutions that take part in a case.

The case services call ``webhook_emit`` inside their transaction. It writes one delivery row per matching
subscription and records its first attempt in the outbox, sent after commit, so that a rolled-back change
announces nothing. The
payload names the case, the event and the level or outcome, never the person: a partner fetches details
through the API, where its token meets the access rules.

Each request is signed: ``X-IIZ-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the
subscription's secret. ``X-IIZ-Delivery`` stays the same over retries, so the receiver can drop repeats.
A failed attempt is retried after 1 minute, 5 minutes, 30 minutes, 2 hours and 12 hours; after the sixth
attempt the delivery is marked failed. ``webhooks_retry_due`` (Celery beat, or ``manage.py
webhooks_retry``) sends what is due.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import ssl
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.interfaces.models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription
from iiz.outbox.services import outbox_enqueue

if TYPE_CHECKING:
    from iiz.cases.models import Case

logger = logging.getLogger(__name__)

# The wait after the first, second, ... failed attempt. Six attempts in all: the first and five retries.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 10
# While one worker sends a delivery, no other takes it: the claim pushes its next attempt this far out.
CLAIM_SECONDS = 5 * 60
SIGNATURE_HEADER = "X-IIZ-Signature"
USER_AGENT = "iiz-webhooks/1"
_LOOPBACK_NAMES = {"localhost"}


# ---------------------------------------------------------------------------------------------------------
# Target addresses
# ---------------------------------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_allowed(host: str) -> bool:
    """Whether the operators allow webhooks to this host (IIZ_WEBHOOK_ALLOWED_HOSTS: names, or ``.suffix``)."""
    name = host.lower().rstrip(".")
    for allowed in settings.IIZ_WEBHOOK_ALLOWED_HOSTS:
        entry = allowed.lower().rstrip(".")
        if entry.startswith(".") and (name.endswith(entry) or name == entry[1:]):
            return True
        if name == entry:
            return True
    return False


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def target_url_validate(url: str) -> str:
    """A public https host on the operators' allow-list; plain http only to this machine and only in the demo.

    Internal addresses (10.x, 192.168.x, link-local, …) are refused here, and again when the name is
    resolved for each delivery, so that a webhook can never scan the internal network.
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.username or parts.password:
        raise ValidationError({"target_url": _("Die Adresse darf keine Zugangsdaten enthalten.")})
    if parts.scheme == "http" and host and _is_loopback(host) and settings.DEMO_MODE:
        return url.strip()
    if parts.scheme != "https" or not host:
        raise ValidationError(
            {"target_url": _("Webhooks werden nur an https-Adressen gesendet (http nur an localhost in der Demo).")}
        )
    literal = _literal_address(host)
    if (literal is not None and not literal.is_global) or not host_allowed(host):
        raise ValidationError(
            {
                "target_url": _(
                    "Diese Adresse ist nicht freigegeben. Webhooks gehen nur an öffentliche Adressen, die der "
                    "Betrieb der Plattform freigegeben hat."
                )
            }
        )
    return url.strip()


def _resolves_to_internal(host: str) -> bool:
    """Whether the host name resolves to any address that is not public (checked before each delivery)."""
    literal = _literal_address(host)
    if literal is not None:
        return not literal.is_global
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # the connection fails on its own, and the error says "not reachable"
    return any(not ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_global for info in infos)


# ---------------------------------------------------------------------------------------------------------
# Emitting
# ---------------------------------------------------------------------------------------------------------


def webhook_payload(
    *,
    event: str,
    case: Case,
    delivery_id: uuid.UUID,
    occurred_at: dt.datetime,
    previous_level: int | None = None,
    plan_version: int | None = None,
) -> dict[str, Any]:
    """What a partner learns of an event: the case reference and its state, no personal data."""
    payload: dict[str, Any] = {
        "id": str(delivery_id),
        "event": event,
        "occurred_at": occurred_at.isoformat(),
        "case": {
            "reference": case.reference,
            "status": case.status,
            "level": case.level,
            "route": case.route,
            "opened_on": case.opened_on.isoformat(),
            "closed_on": case.closed_on.isoformat() if case.closed_on else None,
            "outcome": case.outcome or None,
        },
    }
    if event == WebhookEvent.CASE_LEVEL_CHANGED:
        payload["previous_level"] = previous_level
    if event == WebhookEvent.CASE_PLAN_AGREED:
        payload["plan_version"] = plan_version
    return payload


def webhook_emit(
    *, event: str, case: Case, previous_level: int | None = None, plan_version: int | None = None
) -> list[WebhookDelivery]:
    """Record the event for every active subscription of an institution taking part in the case.

    Call inside the service's transaction: the rows are written with the change and sent after commit.
    """
    if event not in WebhookEvent.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(
            active=True, institution_id__in=access.institutions_taking_part(case=case)
        ).order_by("pk")
        if event in subscription.events
    ]
    if not subscriptions:
        return []
    now = timezone.now()
    deliveries = []
    for subscription in subscriptions:
        delivery_id = uuid.uuid4()
        deliveries.append(
            WebhookDelivery(
                public_id=delivery_id,
                subscription=subscription,
                event=event,
                case_reference=case.reference,
                payload=webhook_payload(
                    event=event,
                    case=case,
                    delivery_id=delivery_id,
                    occurred_at=now,
                    previous_level=previous_level,
                    plan_version=plan_version,
                ),
                next_attempt_at=now,
                created_at=now,
            )
        )
    WebhookDelivery.objects.bulk_create(deliveries)
    ids = [delivery.pk for delivery in deliveries]
    if None in ids:
        # Databases that cannot return the new keys from a bulk insert.
        created = WebhookDelivery.objects.filter(public_id__in=[d.public_id for d in deliveries])
        ids = list(created.values_list("pk", flat=True))

    for delivery_pk in ids:
        outbox_enqueue(task="iiz.interfaces.tasks.webhook_deliver", args=[delivery_pk])
    return deliveries


# ---------------------------------------------------------------------------------------------------------
# Signing and sending
# ---------------------------------------------------------------------------------------------------------


def webhook_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_signature_verify(
    *, secret: str, body: bytes, header: str, tolerance: int = 300, now: int | None = None
) -> bool:
    """What a receiver does (and the tests): check the HMAC and that the timestamp is recent."""
    try:
        fields = dict(part.strip().split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        received = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else int(time.time())) - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, body=body, timestamp=timestamp).rsplit("v1=", 1)[1]
    return hmac.compare_digest(expected, received)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is answered as a failure: the signed payload goes only to the address the partner registered.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxy from the environment either: deliveries go straight to the subscriber inside the closed network.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None
    error: str


def webhook_send(*, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
    """Send one delivery. The error kept (and shown to the partner) is a short category, never the raw
    message of the network stack, which would describe the internal network; the log has the details."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    demo_loopback = parts.scheme == "http" and _is_loopback(host) and settings.DEMO_MODE
    if not demo_loopback and _resolves_to_internal(host):
        logger.warning("Webhook to %s refused: the host resolves to an internal address", host)
        return SendResult(False, None, "refused: not a public address")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - https or loopback, checked on subscription
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            code = int(response.status)
            return SendResult(200 <= code < 300, code, "" if 200 <= code < 300 else f"HTTP {code}")
    except urllib.error.HTTPError as error:
        return SendResult(False, int(error.code), f"HTTP {error.code}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        logger.info("Webhook to %s failed: %s", host, reason)
        return SendResult(False, None, _error_category(reason))


def _error_category(reason: object) -> str:
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(reason, ssl.SSLError):
        return "TLS error"
    if isinstance(reason, socket.gaierror):
        return "host name not found"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return "not reachable"


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    """Take the delivery for this attempt, unless it is done, not yet due or another worker has it."""
    claimed = WebhookDelivery.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=delivery_id,
        status=DeliveryStatus.PENDING,
    ).update(next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS), last_attempt_at=now)
    return claimed == 1


def webhook_deliver_now(*, delivery_id: int, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """One attempt to deliver, if the delivery is due. Idempotent: a delivered one is never sent again."""
    moment = now or timezone.now()
    if not _claim(delivery_id, moment):
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    attempt = delivery.attempts + 1
    if not subscription.active:
        result = SendResult(False, None, "subscription inactive")
        attempt = MAX_ATTEMPTS
    else:
        body = webhook_body(delivery.payload)
        timestamp = int(moment.timestamp())
        result = webhook_send(
            url=subscription.target_url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-IIZ-Event": delivery.event,
                "X-IIZ-Delivery": str(delivery.public_id),
                SIGNATURE_HEADER: webhook_signature(secret=subscription.secret, body=body, timestamp=timestamp),
            },
        )
    delivery.attempts = attempt
    delivery.last_attempt_at = moment
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error[:500]
    if result.ok:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = moment
        delivery.next_attempt_at = None
    elif attempt >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = moment + BACKOFF[attempt - 1]
    delivery.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    if not result.ok:
        logger.warning("Webhook delivery %s attempt %s failed: %s", delivery.public_id, attempt, result.error)
    return delivery


def webhooks_due(*, now: dt.datetime | None = None) -> list[int]:
    moment = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=moment)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )


def webhooks_retry_due(*, now: dt.datetime | None = None) -> int:
    """Attempt every delivery that is due now; returns how many were attempted."""
    attempted = 0
    for delivery_id in webhooks_due(now=now):
        if webhook_deliver_now(delivery_id=delivery_id, now=now) is not None:
            attempted += 1
    return attempted

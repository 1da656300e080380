"""Issuing, scoping, rotating and revoking API tokens; subscribing partner systems to webhooks.

Tokens are an administrator's business: every service here checks ``access.may_administer`` (the API's
own webhook endpoints call the subscription services as the token's service user, whose scope the API
checked). Each change writes its audit entry in the same transaction. Secrets are returned once, to be
shown once; only a hash (tokens) or the encrypted secret (webhooks, which must sign) is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.interfaces.models import ApiToken, Scope, WebhookEvent, WebhookSubscription
from iiz.interfaces.webhooks import target_url_validate
from iiz.organisations.models import Institution, OrganisationalUnit, Role
from iiz.organisations.services import user_create

if TYPE_CHECKING:
    from iiz.organisations.models import User

PREFIX_LENGTH = 12  # hex characters after "iiz_"
# last_used_at is bookkeeping, not a change of state: written at most once a minute per token.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


def secret_hash(secret: str) -> str:
    # The secret is 256 random bits, so a fast hash is enough: there is nothing to guess by brute force.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _new_prefix() -> str:
    return "iiz_" + secrets.token_hex(PREFIX_LENGTH // 2)


@dataclass(frozen=True)
class IssuedToken:
    """A token with its key ``<prefix>.<secret>``, which exists only in this object and is shown once."""

    token: ApiToken
    key: str


def _require_administrator(actor: User) -> None:
    if not access.may_administer(actor):
        raise PermissionDenied(_("Nur Administratorinnen und Administratoren verwalten API-Tokens."))


def _scopes_validate(scopes: Iterable[str]) -> list[str]:
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in Scope.values]
    if unknown:
        raise ValidationError({"scopes": _("Unbekannte Berechtigung: %(scopes)s") % {"scopes": ", ".join(unknown)}})
    if not wanted:
        raise ValidationError({"scopes": _("Wählen Sie mindestens eine Berechtigung.")})
    return wanted


def _audit_token(actor: User, action: str, token: ApiToken, request: HttpRequest | None, **details: object) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="api_token",
        object_id=token.pk,
        basis=AuditBasis.ROLE,
        request=request,
        details={"institution": token.institution.short_name, "name": token.name, "prefix": token.prefix, **details},
    )


def _new_token(
    *,
    actor: User,
    institution: Institution,
    name: str,
    scopes: list[str],
    expires_at: dt.datetime | None,
    service_user: User,
    rotated_from: ApiToken | None = None,
    prefix: str | None = None,
) -> IssuedToken:
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        institution=institution,
        name=name,
        prefix=prefix or _new_prefix(),
        secret_hash=secret_hash(secret),
        scopes=scopes,
        service_user=service_user,
        created_by=actor,
        expires_at=expires_at,
        rotated_from=rotated_from,
    )
    token.full_clean()
    token.save()
    return IssuedToken(token=token, key=f"{token.prefix}.{secret}")


@transaction.atomic
def api_token_issue(
    *,
    actor: User,
    institution: Institution,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
    unit: OrganisationalUnit | None = None,
    language: str = "de",
    request: HttpRequest | None = None,
) -> IssuedToken:
    """Issue a token for a partner system of the institution, with a new service user that it acts through.

    The service user belongs to a unit of the institution (the first active one unless named), has the
    case-worker role and no password: it cannot sign in, it only carries the token's requests through the
    same access rules and audit trail as a person of that institution.
    """
    _require_administrator(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Geben Sie dem Token eine Bezeichnung.")})
    wanted = _scopes_validate(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("Das Ablaufdatum muss in der Zukunft liegen.")})
    if unit is None:
        unit = institution.units.filter(is_active=True).order_by("pk").first()
    if unit is None or unit.institution_id != institution.pk:
        raise ValidationError({"unit": _("Das Dienstkonto braucht eine Organisationseinheit dieser Institution.")})
    prefix = _new_prefix()
    # The service user is named after its first token; rotated tokens keep acting through the same user.
    service_user = user_create(
        actor=actor,
        username=f"api-{prefix[4:]}",
        first_name="API",
        last_name=name[:150],
        email="",
        unit=unit,
        roles=[Role.CASE_WORKER],
        password=None,
        language=language,
    )
    issued = _new_token(
        actor=actor,
        institution=institution,
        name=name,
        scopes=wanted,
        expires_at=expires_at,
        service_user=service_user,
        prefix=prefix,
    )
    _audit_token(actor, AuditAction.CREATE, issued.token, request, scopes=wanted, service_user=service_user.username)
    return issued


@transaction.atomic
def api_token_update(
    *,
    actor: User,
    token: ApiToken,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None,
    request: HttpRequest | None = None,
) -> ApiToken:
    """Rename a token, change its scopes or its expiry. The key stays the same."""
    _require_administrator(actor)
    token = ApiToken.objects.select_for_update().select_related("institution").get(pk=token.pk)
    before = {"name": token.name, "scopes": list(token.scopes), "expires_at": token.expires_at}
    token.name = name.strip()
    token.scopes = _scopes_validate(scopes)
    token.expires_at = expires_at
    token.full_clean()
    token.save(update_fields=["name", "scopes", "expires_at"])
    changed = sorted(key for key, value in before.items() if getattr(token, key) != value)
    _audit_token(actor, AuditAction.UPDATE, token, request, changed=changed, scopes=token.scopes)
    return token


@transaction.atomic
def api_token_rotate(
    *,
    actor: User,
    token: ApiToken,
    grace: dt.timedelta = dt.timedelta(0),
    request: HttpRequest | None = None,
) -> IssuedToken:
    """A new key for the same partner system; the old one stops working now or after the grace period."""
    _require_administrator(actor)
    token = ApiToken.objects.select_for_update().select_related("institution", "service_user").get(pk=token.pk)
    now = timezone.now()
    if not token.is_valid_at(now):
        raise ValidationError(_("Ein widerrufenes oder abgelaufenes Token kann nicht rotiert werden."))
    if hasattr(token, "rotated_to"):
        raise ValidationError(_("Dieses Token wurde bereits rotiert; rotieren Sie das neue."))
    if grace < dt.timedelta(0) or grace > dt.timedelta(days=30):
        raise ValidationError({"grace": _("Die Übergangsfrist liegt zwischen 0 und 30 Tagen.")})
    issued = _new_token(
        actor=actor,
        institution=token.institution,
        name=token.name,
        scopes=list(token.scopes),
        expires_at=token.expires_at,
        service_user=token.service_user,
        rotated_from=token,
    )
    token.revoked_at = now + grace
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    _audit_token(
        actor,
        AuditAction.UPDATE,
        token,
        request,
        rotated_to=issued.token.prefix,
        revoked_at=token.revoked_at.isoformat(),
    )
    _audit_token(
        actor, AuditAction.CREATE, issued.token, request, rotated_from=token.prefix, scopes=issued.token.scopes
    )
    return issued


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken, request: HttpRequest | None = None) -> ApiToken:
    """The key stops working at once (also one that is still in its rotation grace period)."""
    _require_administrator(actor)
    token = ApiToken.objects.select_for_update().select_related("institution", "service_user").get(pk=token.pk)
    now = timezone.now()
    if token.revoked_at is not None and token.revoked_at <= now:
        raise ValidationError(_("Dieses Token ist bereits widerrufen."), code="already_revoked")
    token.revoked_at = now
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    _audit_token(actor, AuditAction.UPDATE, token, request, revoked=True)
    return token


def api_token_touch(*, token: ApiToken, now: dt.datetime | None = None) -> None:
    """Remember when the token was last used (bookkeeping for administrators, not audited)."""
    moment = now or timezone.now()
    if token.last_used_at is None or moment - token.last_used_at >= TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
        token.last_used_at = moment


# ---------------------------------------------------------------------------------------------------------
# Webhook subscriptions
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedSubscription:
    """A subscription with its signing secret, which is shown once."""

    subscription: WebhookSubscription
    secret: str


def _may_manage_webhooks(actor: User, institution: Institution) -> bool:
    # An administrator for any institution; a partner system for its own (the API checked its scope).
    if access.may_administer(actor):
        return True
    return access.acts_for_institution(actor) and actor.institution_id == institution.pk


def _events_validate(events: Iterable[str]) -> list[str]:
    wanted = sorted(set(events))
    if not wanted:
        raise ValidationError({"events": _("Wählen Sie mindestens ein Ereignis.")})
    unknown = [event for event in wanted if event not in WebhookEvent.values]
    if unknown:
        raise ValidationError({"events": _("Unbekanntes Ereignis: %(events)s") % {"events": ", ".join(unknown)}})
    return wanted


def _audit_subscription(
    actor: User, action: str, subscription: WebhookSubscription, request: HttpRequest | None, **details: object
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="webhook_subscription",
        object_id=subscription.pk,
        basis=AuditBasis.ROLE,
        request=request,
        details={"institution": subscription.institution.short_name, "target_url": subscription.target_url, **details},
    )


@transaction.atomic
def webhook_subscription_create(
    *,
    actor: User,
    institution: Institution,
    target_url: str,
    events: Iterable[str],
    description: str = "",
    request: HttpRequest | None = None,
) -> CreatedSubscription:
    if not _may_manage_webhooks(actor, institution):
        raise PermissionDenied(_("Sie verwalten keine Webhooks dieser Institution."))
    subscription = WebhookSubscription(
        institution=institution,
        target_url=target_url_validate(target_url),
        events=_events_validate(events),
        description=description.strip(),
        created_by=actor,
    )
    secret = "whsec_" + secrets.token_urlsafe(32)
    subscription.secret = secret
    subscription.full_clean()
    subscription.save()
    _audit_subscription(actor, AuditAction.CREATE, subscription, request, events=subscription.events)
    return CreatedSubscription(subscription=subscription, secret=secret)


@transaction.atomic
def webhook_subscription_deactivate(
    *, actor: User, subscription: WebhookSubscription, request: HttpRequest | None = None
) -> WebhookSubscription:
    """No further events; pending deliveries are not sent either. The delivery log stays."""
    if not _may_manage_webhooks(actor, subscription.institution):
        raise PermissionDenied(_("Sie verwalten keine Webhooks dieser Institution."))
    if subscription.active:
        subscription.active = False
        subscription.deactivated_at = timezone.now()
        subscription.save(update_fields=["active", "deactivated_at"])
        _audit_subscription(actor, AuditAction.UPDATE, subscription, request, active=False)
    return subscription

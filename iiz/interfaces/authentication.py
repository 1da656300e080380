"""Bearer tokens for partner systems: ``Authorization: Bearer <prefix>.<secret>``.

The prefix finds the token, the SHA-256 of the secret must match in constant time, and the token must be
neither expired nor revoked (a rotated token counts until the end of its grace period). The request then
runs as the token's service user, with the token bound to it, so that ``iiz.access`` lets it act for its
institution and the audit trail names it.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from iiz.interfaces.models import ApiToken
from iiz.interfaces.services import api_token_touch, secret_hash

logger = logging.getLogger(__name__)

KEYWORD = "Bearer"
# Compared against when the prefix is unknown, so that a miss takes as long as a wrong secret.
_DUMMY_HASH = secret_hash("no-such-token")


def api_token_for_key(key: str) -> ApiToken | None:
    """The live token for a presented key, or None."""
    prefix, separator, secret = key.partition(".")
    if not separator or not prefix or not secret or len(prefix) > 24 or len(secret) > 128:
        return None
    token = (
        ApiToken.objects.select_related("institution", "service_user__unit__institution").filter(prefix=prefix).first()
    )
    presented = secret_hash(secret)
    if token is None:
        hmac.compare_digest(_DUMMY_HASH, presented)
        return None
    if not hmac.compare_digest(token.secret_hash, presented):
        return None
    if not token.is_valid_at(timezone.now()) or not token.service_user.is_active:
        return None
    if not token.institution.is_active:
        return None
    return token


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Erwartet wird «Authorization: Bearer <Präfix>.<Geheimnis>»."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise AuthenticationFailed(_("Das Token enthält ungültige Zeichen.")) from error
        token = api_token_for_key(key)
        if token is None:
            logger.info("API token refused (prefix %s)", key.partition(".")[0][:24])
            raise AuthenticationFailed(_("Das Token ist ungültig, abgelaufen oder widerrufen."))
        user = token.service_user
        # Bound for this request only: iiz.access reads it to let the user act for its institution.
        user.api_token = token  # type: ignore[attr-defined]
        api_token_touch(token=token)
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{KEYWORD} realm="iiz"'

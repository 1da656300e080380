"""Scopes: what a token may do, on top of the access rules that apply to everyone."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from iiz import access
from iiz.organisations.models import User


class HasScope(BasePermission):
    """The view names the scope each method needs (``scopes = {"GET": Scope.CLIENTS_READ, ...}``)."""

    message = ""
    code = "permission_denied"

    def has_permission(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "scopes", {}).get(request.method or "")
        if scope is None:
            return True
        user = request.user
        if isinstance(user, User) and access.token_allows(user, scope):
            return True
        self.message = _("Dem Token fehlt die Berechtigung «%(scope)s».") % {"scope": scope}
        self.code = "scope_missing"
        return False


class TokenRequired(BasePermission):
    """Endpoints that only make sense for a partner system (its webhook subscriptions)."""

    message = ""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if isinstance(user, User) and access.acts_for_institution(user):
            return True
        self.message = _("Nur mit einem API-Token einer Institution. Administratoren nutzen die Administration.")
        return False

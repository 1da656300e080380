"""Authentication backend: Django's model backend, minus the demo accounts outside the demo."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class IizBackend(ModelBackend):
    def user_can_authenticate(self, user: Any) -> bool:
        # Demo accounts share a well-known password; they must never open a production platform.
        if getattr(user, "is_demo_account", False) and not settings.DEMO_MODE:
            return False
        return super().user_can_authenticate(user)

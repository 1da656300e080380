"""Template helpers of the steering area: whether the navigation shows the steering pages."""

from __future__ import annotations

from typing import Any

from django import template

from iiz import access

register = template.Library()


@register.simple_tag(takes_context=True)
def may_see_steering(context: dict[str, Any]) -> bool:
    user = context.get("user")
    return bool(
        user is not None
        and user.is_authenticated
        and (access.may_see_operational_dashboard(user) or access.may_see_strategic_dashboard(user))
    )

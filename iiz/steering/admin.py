"""Administration of the steering area: the cost-benefit assumptions are edited here; reports are only shown.

The assumptions are a fixed set that the model reads by key, so administrators change values and sources but
neither add nor delete them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from iiz import access
from iiz.lib.admin import ReadOnlyAdmin
from iiz.steering.models import CostBenefitParameter, SteeringReport


def _administrator(request: HttpRequest) -> bool:
    return access.may_administer(request.user)  # type: ignore[arg-type]


@admin.register(CostBenefitParameter)
class CostBenefitParameterAdmin(admin.ModelAdmin):
    list_display = ["label", "value", "unit", "updated_at"]
    search_fields = ["label", "key", "source"]
    fields = ["key", "label", "value", "unit", "source", "position", "updated_at"]
    readonly_fields = ["key", "unit", "updated_at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _administrator(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _administrator(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SteeringReport)
class SteeringReportAdmin(ReadOnlyAdmin):
    list_display = ["period", "audience", "format", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "audience", "format"]
    list_select_related = ["created_by"]
    readonly_fields = [f.name for f in SteeringReport._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _administrator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _administrator(request)

"""The audit trail in the admin: readable by administrators, never editable or deletable."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from iiz.audit.models import AccessRequest, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "actor_username", "actor_institution", "action", "object_type", "client_id", "basis"]
    list_filter = ["action", "basis", "object_type"]
    search_fields = ["actor_username", "object_id"]
    date_hierarchy = "occurred_at"
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    """Read-only: requests are recorded and closed by the coordinators on their page, with an audit entry."""

    list_display = ["received_on", "reference", "recorded_by", "closed_at"]
    list_filter = ["closed_at"]
    search_fields = ["reference"]
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

"""The audit trail in the admin: readable by administrators, never editable or deletable."""

from django.contrib import admin

from iiz.audit.models import AccessRequest, AuditEvent
from iiz.lib.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "actor_username", "actor_institution", "action", "object_type", "client_id", "basis"]
    list_filter = ["action", "basis", "object_type"]
    search_fields = ["actor_username", "object_id"]
    date_hierarchy = "occurred_at"


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    """Read-only: requests are recorded and closed by the coordinators on their page, with an audit entry."""

    list_display = ["received_on", "reference", "recorded_by", "closed_at"]
    list_filter = ["closed_at"]
    search_fields = ["reference"]

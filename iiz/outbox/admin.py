"""Operators read the outbox here: what waits, what runs, what failed and why."""

from __future__ import annotations

from django.contrib import admin

from iiz.lib.admin import ReadOnlyAdmin
from iiz.outbox.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["pk", "task", "status", "attempts", "sends", "created_at", "due_at", "finished_at"]
    list_filter = ["status", "task"]
    search_fields = ["task"]
    ordering = ["-created_at"]

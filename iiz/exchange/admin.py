"""Administration of the exchange: only the catalogue of legal provisions.

Messages, documents, legal bases recorded on cases and read receipts are client data and deliberately not
in the admin; they are read only through the case pages and their access check.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from iiz.exchange.models import LegalProvision


@admin.register(LegalProvision)
class LegalProvisionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "summary"]
    ordering = ["name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Recorded legal bases point to their provision; retire a provision by making it inactive.
        return False

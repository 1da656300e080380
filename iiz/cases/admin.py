"""Administration of the case catalogues. Cases and everything about a person stay out of the admin:
they are read and changed only through the platform's pages, with their access rules and audit trail."""

from django.contrib import admin

from iiz.cases.models import CaseTeam, LifeSituation, ProblemTopic, ServiceOffering


@admin.register(LifeSituation)
class LifeSituationAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "min_age", "max_age", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["group", "is_active"]
    search_fields = ["name", "code", "description"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(ProblemTopic)
class ProblemTopicAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(ServiceOffering)
class ServiceOfferingAdmin(admin.ModelAdmin):
    list_display = ["name", "institution_kind", "code", "is_active"]
    list_filter = ["institution_kind", "is_active"]
    search_fields = ["name", "code", "description"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(CaseTeam)
class CaseTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]

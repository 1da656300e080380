"""Administration of catalogues and users. Client data are deliberately absent from the admin."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from iiz.organisations.models import (
    Contact,
    District,
    Institution,
    Municipality,
    MunicipalityContract,
    OrganisationalUnit,
    User,
    UserRole,
)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["number", "name"]
    search_fields = ["name"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["bfs_number", "name", "district", "valid_from", "valid_until"]
    list_filter = ["district", "valid_until"]
    search_fields = ["name", "bfs_number"]
    list_select_related = ["district"]


class UnitInline(admin.TabularInline):
    model = OrganisationalUnit
    extra = 0
    fields = ["name", "municipality", "email", "phone", "is_active"]
    autocomplete_fields = ["municipality"]


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "is_partner", "is_active"]
    list_filter = ["kind", "is_partner", "is_active"]
    search_fields = ["name", "short_name", "formerly"]
    autocomplete_fields = ["municipality"]
    inlines = [UnitInline]


@admin.register(OrganisationalUnit)
class OrganisationalUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "institution", "municipality", "is_active"]
    list_filter = ["institution", "is_active"]
    search_fields = ["name", "institution__name"]
    autocomplete_fields = ["institution", "municipality"]
    list_select_related = ["institution", "municipality"]


@admin.register(MunicipalityContract)
class MunicipalityContractAdmin(admin.ModelAdmin):
    list_display = ["municipality", "institution", "signed_on", "ended_on"]
    list_filter = ["ended_on"]
    search_fields = ["municipality__name", "institution__name"]
    autocomplete_fields = ["municipality", "institution"]
    list_select_related = ["municipality", "institution"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "kind", "organisation", "email", "phone"]
    list_filter = ["kind"]
    search_fields = ["last_name", "first_name", "organisation"]


class RoleInline(admin.TabularInline):
    model = UserRole
    extra = 1


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "last_name", "first_name", "unit", "is_active"]
    list_filter = ["is_active", "roles__role", "unit__institution"]
    list_select_related = ["unit__institution"]
    search_fields = ["username", "first_name", "last_name", "email"]
    autocomplete_fields = ["unit"]
    inlines = [RoleInline]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("iiz"), {"fields": ("unit", "phone", "language")}),
    )

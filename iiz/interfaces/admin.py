"""Administration of API tokens and webhooks.

Tokens are issued, changed, rotated and revoked through the services, which check the administrator role
and write the audit trail; the admin never saves a token itself. A new key or signing secret is shown once,
on a page that is not cached, and never stored in clear.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from iiz.interfaces import services
from iiz.interfaces.models import ApiToken, Scope, WebhookDelivery, WebhookEvent, WebhookSubscription
from iiz.lib.admin import ReadOnlyAdmin
from iiz.organisations.models import Institution, OrganisationalUnit, User


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _secret_page(
    request: HttpRequest, title: str, secrets: list[tuple[str, str]], note: str, back: str
) -> TemplateResponse:
    response = TemplateResponse(
        request,
        "interfaces/admin_secret.html",
        {**admin.site.each_context(request), "title": title, "secrets": secrets, "note": note, "back": back},
    )
    response["Cache-Control"] = "no-store"
    return response


def _form_page(request: HttpRequest, title: str, form: forms.Form) -> TemplateResponse:
    return TemplateResponse(
        request, "interfaces/admin_form.html", {**admin.site.each_context(request), "title": title, "form": form}
    )


class ApiTokenIssueForm(forms.Form):
    institution = forms.ModelChoiceField(Institution.objects.filter(is_active=True), label=_("Institution"))
    unit = forms.ModelChoiceField(
        OrganisationalUnit.objects.filter(is_active=True).select_related("institution"),
        required=False,
        label=_("Organisationseinheit des Dienstkontos"),
        help_text=_("Leer: die erste aktive Einheit der Institution."),
    )
    name = forms.CharField(label=_("Bezeichnung"), max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, label=_("Berechtigungen")
    )
    expires_at = forms.DateTimeField(label=_("läuft ab am"), required=False, help_text=_("Leer: läuft nicht ab."))
    language = forms.ChoiceField(
        choices=[("de", "Deutsch"), ("fr", "Français"), ("it", "Italiano"), ("en", "English")],
        initial="de",
        label=_("Sprache der Meldungen"),
    )


class ApiTokenChangeForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, label=_("Berechtigungen")
    )

    class Meta:
        model = ApiToken
        fields = ["name", "scopes", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenChangeForm
    list_display = ["name", "institution", "prefix", "status", "expires_at", "last_used_at", "created_at"]
    list_filter = ["institution", "revoked_at"]
    list_select_related = ["institution"]
    search_fields = ["name", "prefix", "institution__name"]
    readonly_fields = [
        "institution",
        "prefix",
        "service_user",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "rotated_from",
    ]
    actions = ["rotate_now", "rotate_with_grace", "revoke"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Tokens are revoked, never deleted: the audit trail refers to them.
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiTokenIssueForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                issued = services.api_token_issue(actor=_user(request), request=request, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _secret_page(
                    request,
                    str(_("API-Token ausgestellt")),
                    [(str(issued.token), issued.key)],
                    str(_("Geben Sie den Schlüssel dem Partnersystem. Er wird nur jetzt angezeigt.")),
                    reverse("admin:interfaces_apitoken_changelist"),
                )
        return _form_page(request, str(_("API-Token ausstellen")), form)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        services.api_token_update(
            actor=_user(request),
            token=obj,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.cleaned_data["expires_at"],
            request=request,
        )

    def _rotate(self, request: HttpRequest, queryset: QuerySet[ApiToken], grace: dt.timedelta) -> HttpResponse | None:
        issued = []
        for token in queryset:
            try:
                issued.append(
                    services.api_token_rotate(actor=_user(request), token=token, grace=grace, request=request)
                )
            except ValidationError as error:
                self.message_user(request, f"{token}: {' '.join(error.messages)}", messages.ERROR)
        if not issued:
            return None
        return _secret_page(
            request,
            str(_("API-Tokens rotiert")),
            [(str(item.token), item.key) for item in issued],
            str(_("Die neuen Schlüssel werden nur jetzt angezeigt. Die alten gelten bis: %(until)s."))
            % {"until": _("sofort widerrufen") if not grace else f"+{grace}"},
            reverse("admin:interfaces_apitoken_changelist"),
        )

    @admin.action(description=_("Rotieren (altes Token sofort widerrufen)"))
    def rotate_now(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> HttpResponse | None:
        return self._rotate(request, queryset, dt.timedelta(0))

    @admin.action(description=_("Rotieren (altes Token gilt noch 24 Stunden)"))
    def rotate_with_grace(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> HttpResponse | None:
        return self._rotate(request, queryset, dt.timedelta(hours=24))

    @admin.action(description=_("Widerrufen"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            try:
                services.api_token_revoke(actor=_user(request), token=token, request=request)
            except ValidationError as error:
                self.message_user(request, f"{token}: {' '.join(error.messages)}", messages.WARNING)
            else:
                self.message_user(request, f"{token}: {_('widerrufen')}", messages.SUCCESS)


class WebhookSubscriptionForm(forms.Form):
    institution = forms.ModelChoiceField(Institution.objects.filter(is_active=True), label=_("Institution"))
    target_url = forms.URLField(label=_("Ziel-URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple, label=_("Ereignisse")
    )
    description = forms.CharField(label=_("Beschreibung"), max_length=200, required=False)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["institution", "target_url", "active", "created_at"]
    list_filter = ["active", "institution"]
    list_select_related = ["institution"]
    search_fields = ["target_url", "institution__name", "description"]
    readonly_fields = [
        "institution",
        "target_url",
        "events",
        "description",
        "active",
        "created_by",
        "created_at",
        "deactivated_at",
    ]
    actions = ["deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = WebhookSubscriptionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                created = services.webhook_subscription_create(
                    actor=_user(request), request=request, **form.cleaned_data
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _secret_page(
                    request,
                    str(_("Webhook-Abonnement erstellt")),
                    [(str(created.subscription), created.secret)],
                    str(_("Mit diesem Geheimnis prüft das Partnersystem die Signatur. Es wird nur jetzt angezeigt.")),
                    reverse("admin:interfaces_webhooksubscription_changelist"),
                )
        return _form_page(request, str(_("Webhook-Abonnement erstellen")), form)

    @admin.action(description=_("Deaktivieren"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        for subscription in queryset.select_related("institution"):
            services.webhook_subscription_deactivate(actor=_user(request), subscription=subscription, request=request)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log, read only."""

    list_display = ["created_at", "event", "case_reference", "subscription", "status", "attempts", "last_status_code"]
    list_filter = ["status", "event"]
    list_select_related = ["subscription__institution"]
    search_fields = ["case_reference", "public_id"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

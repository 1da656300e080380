"""The API under /api/: version 1, its OpenAPI schema and the documentation (Swagger UI from the sidecar)."""

from __future__ import annotations

from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView

from iiz.interfaces import views, views_cases, views_imports, views_reports, views_webhooks
from iiz.interfaces.docs import ApiDocsView
from iiz.interfaces.ech import views as ech_views

app_name = "api"


class IdConverter:
    # Keys of at most 18 digits: larger numbers cannot be ids and must not reach the database as such.
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class ReferenceConverter:
    regex = "[A-Za-z0-9-]{1,20}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")
register_converter(ReferenceConverter, "reference")

urlpatterns = [
    path(
        "v1/early-detection-reports/",
        views_reports.EarlyDetectionReportCreateView.as_view(),
        name="early_detection_reports",
    ),
    path("v1/clients/", views.ClientListView.as_view(), name="clients"),
    path("v1/clients/<uuid:public_id>/", views.ClientDetailView.as_view(), name="client"),
    path("v1/clients/<uuid:public_id>/registrations/", views.RegistrationListView.as_view(), name="registrations"),
    path(
        "v1/clients/<uuid:public_id>/registrations/<id:registration_id>/",
        views.RegistrationDetailView.as_view(),
        name="registration",
    ),
    path(
        "v1/clients/<uuid:public_id>/registrations/<id:registration_id>/end/",
        views.RegistrationEndView.as_view(),
        name="registration_end",
    ),
    path("v1/clients/<uuid:public_id>/consents/", views.ConsentListView.as_view(), name="consents"),
    path("v1/clients/<uuid:public_id>/consents/<id:consent_id>/", views.ConsentDetailView.as_view(), name="consent"),
    path(
        "v1/clients/<uuid:public_id>/consents/<id:consent_id>/revoke/",
        views.ConsentRevokeView.as_view(),
        name="consent_revoke",
    ),
    path("v1/clients/<uuid:public_id>/ech/", ech_views.ClientEchView.as_view(), name="client_ech"),
    path("v1/cases/", views_cases.CaseListView.as_view(), name="cases"),
    path("v1/cases/<reference:reference>/", views_cases.CaseDetailView.as_view(), name="case"),
    path("v1/cases/<reference:reference>/messages/", views_cases.CaseMessagesView.as_view(), name="case_messages"),
    path("v1/agreements/", views_cases.AgreementListView.as_view(), name="agreements"),
    path("v1/agreements/<id:agreement_id>/", views_cases.AgreementDetailView.as_view(), name="agreement"),
    path("v1/kpis/", views_cases.KpiView.as_view(), name="kpis"),
    path("v1/ech/persons/", ech_views.EchPersonsView.as_view(), name="ech_persons"),
    path(
        "v1/webhooks/subscriptions/",
        views_webhooks.WebhookSubscriptionListView.as_view(),
        name="webhook_subscriptions",
    ),
    path(
        "v1/webhooks/subscriptions/<id:subscription_id>/",
        views_webhooks.WebhookSubscriptionDetailView.as_view(),
        name="webhook_subscription",
    ),
    path("v1/webhooks/deliveries/", views_webhooks.WebhookDeliveryListView.as_view(), name="webhook_deliveries"),
    path("v1/imports/", views_imports.ImportListView.as_view(), name="imports"),
    path("v1/imports/<uuid:public_id>/", views_imports.ImportDetailView.as_view(), name="import"),
    path("v1/imports/<uuid:public_id>/confirm/", views_imports.ImportConfirmView.as_view(), name="import_confirm"),
    path(
        "v1/imports/<uuid:public_id>/rejected.csv",
        views_imports.ImportRejectedRowsView.as_view(),
        name="import_rejected_rows",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    # Any other path, including one with a line break in it, is a problem detail too.
    re_path(r"^[\s\S]*$", views.NotFoundView.as_view(), name="not_found"),
]

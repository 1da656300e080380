from django.urls import path

from iiz.clients import views
from iiz.interfaces.ech import views as ech_views

app_name = "clients"

urlpatterns = [
    path("", views.client_search_view, name="search"),
    path("neu/", views.client_create_view, name="create"),
    path("ahv-konflikte/", views.ahv_conflicts_view, name="ahv_conflicts"),
    path("ahv-konflikte/<int:conflict_id>/erledigen/", views.ahv_conflict_resolve_view, name="ahv_conflict_resolve"),
    path("<str:public_id>/", views.client_detail_view, name="detail"),
    path("<str:public_id>/kontakt/", views.client_contact_view, name="contact"),
    path("<str:public_id>/protokoll/", views.client_audit_view, name="audit"),
    path("<str:public_id>/auskunft/", views.client_disclosure_view, name="disclosure"),
    path("<str:public_id>/ech0044.xml", ech_views.client_ech_download, name="ech_export"),
    path("<str:public_id>/anmeldungen/neu/", views.registration_create_view, name="registration_create"),
    path(
        "<str:public_id>/anmeldungen/<int:registration_id>/leistung/",
        views.registration_benefits_view,
        name="registration_benefits",
    ),
    path(
        "<str:public_id>/anmeldungen/<int:registration_id>/beenden/",
        views.registration_end_view,
        name="registration_end",
    ),
    path("<str:public_id>/einwilligungen/neu/", views.consent_create_view, name="consent_create"),
    path(
        "<str:public_id>/einwilligungen/<int:consent_id>/neue-version/", views.consent_amend_view, name="consent_amend"
    ),
    path(
        "<str:public_id>/einwilligungen/<int:consent_id>/widerrufen/", views.consent_revoke_view, name="consent_revoke"
    ),
    path(
        "<str:public_id>/einwilligungen/<int:consent_id>/dokument/",
        views.consent_document_view,
        name="consent_document",
    ),
]

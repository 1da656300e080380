"""The exchange of one case, mounted under /faelle/<reference>/austausch/ (see ``iiz.urls``)."""

from django.urls import path

from iiz.exchange import views

app_name = "exchange"

urlpatterns = [
    path("", views.case_exchange_view, name="case"),
    path("nachricht/neu/", views.message_create_view, name="message_create"),
    path("nachricht/<str:public_id>/", views.message_detail_view, name="message"),
    path("nachricht/<str:public_id>/antworten/", views.answer_view, name="answer"),
    path("dokument/teilen/", views.document_share_view, name="document_share"),
    path("dokument/<str:public_id>/", views.document_download_view, name="document"),
    path("rechtsgrundlage/neu/", views.legal_basis_create_view, name="legal_basis_create"),
    path("rechtsgrundlage/<int:basis_id>/aufheben/", views.legal_basis_end_view, name="legal_basis_end"),
]

"""The triage queue of the contact point (the public pages are in iiz.frontdoor)."""

from __future__ import annotations

from django.urls import path

from iiz.interfaces import triage_views

app_name = "triage"

urlpatterns = [
    path("", triage_views.report_list_view, name="list"),
    path("<uuid:public_id>/", triage_views.report_detail_view, name="detail"),
    path("<uuid:public_id>/frueherkennung/", triage_views.report_screening_view, name="screening"),
    path("<uuid:public_id>/weiterleiten/", triage_views.report_forward_view, name="forward"),
    path("<uuid:public_id>/abschliessen/", triage_views.report_close_view, name="close"),
]

"""The bulk import's web pages under /import/ (the API's URLs end in a catch-all, so these live apart)."""

from __future__ import annotations

from django.urls import path

from iiz.interfaces import imports_views, matching_views

app_name = "imports"

urlpatterns = [
    path("", imports_views.import_start, name="start"),
    path("<uuid:public_id>/", imports_views.import_detail, name="detail"),
    path("<uuid:public_id>/bestaetigen/", imports_views.import_confirm, name="confirm"),
    path("<uuid:public_id>/abgelehnt.csv", imports_views.import_errors, name="errors"),
    path("personen/<uuid:public_id>/duplikate/", matching_views.merge_candidates, name="candidates"),
    path("personen/<uuid:public_id>/duplikate/<uuid:other_id>/", matching_views.merge_decide, name="decide"),
    path("zusammenfuehrungen/<int:record_id>/rueckgaengig/", matching_views.merge_undo, name="merge_undo"),
]

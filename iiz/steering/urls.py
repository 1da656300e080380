from django.urls import path

from iiz.steering import views

app_name = "steering"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("operativ/", views.operational_view, name="operational"),
    path("strategisch/", views.strategic_view, name="strategic"),
    path("faelle/", views.drilldown_view, name="drilldown"),
    path("berichte/", views.reports_view, name="reports"),
    path("berichte/<int:report_id>/datei/", views.report_download_view, name="report_download"),
]

# ---------------------------------------------------------------------------------------------------------
# Case analyses and the cost-benefit page (iiz/steering/views_analyses.py, maintained separately).
# Append their routes below this line, e.g.
#     from iiz.steering import views_analyses
#     urlpatterns += [path("kosten-nutzen/", views_analyses.costbenefit_view, name="costbenefit"), ...]
# The strategic cockpit links to the route named "costbenefit" (falling back to /steuerung/kosten-nutzen/).
# ---------------------------------------------------------------------------------------------------------

from iiz.steering import views_analyses  # noqa: E402 - the analyses' routes are appended here

urlpatterns += [
    path("analysen/", views_analyses.analyses_view, name="analyses"),
    path("analysen/export.csv", views_analyses.analyses_export_view, name="analyses_export"),
    path("kosten-nutzen/", views_analyses.costbenefit_view, name="costbenefit"),
]

from django.urls import path

from iiz.frontdoor import views

app_name = "frontdoor"

urlpatterns = [
    path("anlaufstelle/", views.contact_point_view, name="contact_point"),
    path("meldung/", views.report_view, name="report"),
    path("meldung/danke/", views.thanks_view, name="thanks"),
]

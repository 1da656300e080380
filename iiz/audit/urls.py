from django.urls import path

from iiz.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.access_request_list_view, name="access_requests"),
    path("<uuid:public_id>/abschliessen/", views.access_request_close_view, name="access_request_close"),
]

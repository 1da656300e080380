from django.urls import path

from iiz.cases.views import changes, entry, meetings, pages, plan

app_name = "cases"

urlpatterns = [
    path("", pages.case_list_view, name="list"),
    path("liste.<str:fmt>", pages.case_export_view, name="export"),
    # Before a case: on a client (the client is read with the user's access, 404 when hidden).
    path("personen/<str:public_id>/frueherkennung/", entry.screening_create_view, name="screening_create"),
    path("personen/<str:public_id>/zielgruppe/", entry.check_create_view, name="check_create"),
    path("personen/<str:public_id>/zielgruppe/<int:check_id>/", entry.check_detail_view, name="check_detail"),
    path(
        "personen/<str:public_id>/zielgruppe/<int:check_id>/uebersteuern/",
        entry.check_override_view,
        name="check_override",
    ),
    path(
        "personen/<str:public_id>/zielgruppe/<int:check_id>/antrag/",
        entry.check_override_request_view,
        name="check_override_request",
    ),
    path("personen/<str:public_id>/zielgruppe/<int:check_id>/fall-eroeffnen/", entry.case_open_view, name="open"),
    path("uebersteuerungen/", entry.override_requests_view, name="override_requests"),
    # The case.
    path("<str:reference>/", pages.case_detail_view, name="detail"),
    path("<str:reference>/plan/<int:version>/", pages.plan_version_view, name="plan_version"),
    path("<str:reference>/plan/leistungen/", pages.measure_services_view, name="measure_services"),
    path("<str:reference>/sitzungen/<int:meeting_id>/einladung.ics", pages.meeting_ical_view, name="meeting_ical"),
    # Changes (POST only).
    path("<str:reference>/vorgehen/", changes.route_set_view, name="route"),
    path("<str:reference>/stufe/", changes.level_change_view, name="level_change"),
    path("<str:reference>/anfragen/", changes.information_request_create_view, name="info_create"),
    path(
        "<str:reference>/anfragen/<int:info_id>/antwort/", changes.information_request_answer_view, name="info_answer"
    ),
    path("<str:reference>/gespraeche/", changes.joint_interview_create_view, name="interview_create"),
    path("<str:reference>/klaerung/<str:dimension>/", changes.clarification_save_view, name="clarification_save"),
    path("<str:reference>/plan/", plan.plan_create_view, name="plan_create"),
    path("<str:reference>/plan/<int:version>/bearbeiten/", plan.plan_update_view, name="plan_update"),
    path("<str:reference>/plan/<int:version>/massnahmen/", plan.measure_add_view, name="measure_add"),
    path("<str:reference>/plan/<int:version>/vereinbaren/", plan.plan_agree_view, name="plan_agree"),
    path("<str:reference>/massnahmen/<int:measure_id>/stand/", plan.measure_status_view, name="measure_status"),
    path("<str:reference>/sitzungen/", meetings.meeting_schedule_view, name="meeting_schedule"),
    path(
        "<str:reference>/sitzungen/<int:meeting_id>/protokoll/", meetings.meeting_minutes_view, name="meeting_minutes"
    ),
    path(
        "<str:reference>/sitzungen/<int:meeting_id>/vereinbarungen/",
        meetings.agreement_add_view,
        name="agreement_add",
    ),
    path(
        "<str:reference>/vereinbarungen/<int:agreement_id>/stand/",
        meetings.agreement_status_view,
        name="agreement_status",
    ),
    path("<str:reference>/abschluss/", changes.case_close_view, name="close"),
    path(
        "<str:reference>/nachbefragungen/<int:follow_up_id>/",
        changes.follow_up_record_view,
        name="follow_up_record",
    ),
]

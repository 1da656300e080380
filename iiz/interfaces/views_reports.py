"""Reports for early detection from partner systems: they land in the contact point's triage queue.

A partner system (a daily-allowance insurer, a social service's case system) reports a person as the public
page does. The answer is the same whether or not the person is known to the platform: a reference number.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from iiz.cases.models import LifeSituation, ReportChannel, ReporterType
from iiz.frontdoor import services
from iiz.frontdoor.models import PersonAgrees, ReportStatus
from iiz.interfaces.models import Scope
from iiz.interfaces.serializers import InputSerializer
from iiz.interfaces.views import ApiView, actor, http, validated


def _text(max_length: int) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, allow_blank=True, required=False, default="")


class EarlyDetectionReportCreateSerializer(InputSerializer):
    reporter_type = serializers.ChoiceField(choices=ReporterType.choices)
    reporter_name = _text(150)
    reporter_organisation = _text(200)
    reporter_phone = _text(40)
    reporter_email = serializers.EmailField(max_length=254, allow_blank=True, required=False, default="")
    person_first_name = serializers.CharField(max_length=100)
    person_last_name = serializers.CharField(max_length=100)
    person_date_of_birth = serializers.DateField()
    person_ahv_number = _text(20)
    life_situations = serializers.ListField(
        child=serializers.SlugRelatedField(slug_field="code", queryset=LifeSituation.objects.filter(is_active=True)),
        required=False,
        default=list,
        max_length=20,
        help_text="Codes of the life situations observed (the catalogue of early detection).",
    )
    absent_since = serializers.DateField(required=False, allow_null=True, default=None)
    absence_days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0, max_value=366)
    description = _text(2000)
    person_informed = serializers.BooleanField(
        help_text="The person was told of the report beforehand (IVG Art. 3b para. 3); required unless the person "
        "reports themselves."
    )
    person_agrees = serializers.ChoiceField(choices=PersonAgrees.choices)


class EarlyDetectionReportSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    reference = serializers.CharField()
    received_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ReportStatus.choices)


_EXAMPLE = OpenApiExample(
    "Report of a daily-allowance insurer",
    value={
        "reporter_type": "daily_allowance_insurer",
        "reporter_name": "Petra Muster",
        "reporter_organisation": "Beispiel Versicherung AG",
        "reporter_email": "case@versicherung.example",
        "person_first_name": "Laura",
        "person_last_name": "Beispiel",
        "person_date_of_birth": "1979-04-02",
        "life_situations": ["frequent-certified-absences"],
        "absent_since": "2026-01-12",
        "person_informed": True,
        "person_agrees": "yes",
    },
    request_only=True,
)


class EarlyDetectionReportCreateView(ApiView):
    scopes = {"POST": Scope.REPORTS_WRITE}

    @extend_schema(
        operation_id="early_detection_reports_create",
        summary="Report a person for early detection to the contact point",
        description=(
            "The report lands in the triage queue of the Geschäftsstelle iiz, like a report on the public page. "
            "The answer never says whether the person is known to the platform."
        ),
        tags=["early detection"],
        request=EarlyDetectionReportCreateSerializer,
        responses={201: EarlyDetectionReportSerializer},
        examples=[_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        data: dict[str, Any] = validated(EarlyDetectionReportCreateSerializer, request)
        report = services.report_submit(
            channel=ReportChannel.API,
            submitted_by=actor(request),
            language=actor(request).language,
            request=http(request),
            **data,
        )
        return Response(EarlyDetectionReportSerializer(report).data, status=201)

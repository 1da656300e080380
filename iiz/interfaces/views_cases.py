"""The REST API: cases (read only), agreements and their status, messages (metadata), key figures."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from iiz import access
from iiz.cases import services as case_services
from iiz.cases.models import Agreement, Case
from iiz.cases.selectors import case_file_for_user
from iiz.interfaces import selectors
from iiz.interfaces.conditional import detail_response, if_match_require
from iiz.interfaces.filters import AgreementFilter, CaseFilter, StrictOrderingFilter
from iiz.interfaces.models import Scope
from iiz.interfaces.serializers_cases import (
    AgreementSerializer,
    AgreementStatusSerializer,
    CaseDetailSerializer,
    CaseSummarySerializer,
    KpiQuerySerializer,
    KpiReportSerializer,
    MessageMetaSerializer,
)
from iiz.interfaces.views import ApiView, actor, http, validated
from iiz.steering.kpis import OPERATIONAL, Period
from iiz.steering.kpis import Scope as KpiScope


class CaseListView(ApiView):
    scopes = {"GET": Scope.CASES_READ}
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = CaseFilter
    ordering_fields = ["opened_on", "closed_on", "reference", "level"]
    ordering = ["-opened_on", "-id"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks without a user
            return Case.objects.none()
        return selectors.cases_for_api(user=actor(self.request))

    @extend_schema(
        operation_id="cases_list",
        summary="Cases in which your institution takes part",
        tags=["cases"],
        responses=CaseSummarySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        selectors.list_read_audit(
            user=actor(request), object_type="case_list", ids=[case.reference for case in page], request=http(request)
        )
        return self.get_paginated_response(CaseSummarySerializer(page, many=True).data)


class CaseDetailView(ApiView):
    scopes = {"GET": Scope.CASES_READ}
    etag_on_read = True

    @extend_schema(
        operation_id="cases_retrieve",
        summary="A case: level, status, route, case lead, team, institutions and the agreed plan",
        tags=["cases"],
        responses=CaseDetailSerializer,
    )
    def get(self, request: Request, reference: str) -> Response:
        file = case_file_for_user(user=actor(request), reference=reference, request=http(request))
        return detail_response(request, CaseDetailSerializer(file).data)


class CaseMessagesView(ApiView):
    scopes = {"GET": Scope.MESSAGES_READ}

    @extend_schema(
        operation_id="case_messages_list",
        summary="Messages of a case your institution may read: metadata only, never the text",
        tags=["messages"],
        responses=MessageMetaSerializer(many=True),
    )
    def get(self, request: Request, reference: str) -> Response:
        entries = selectors.case_messages_for_api(user=actor(request), reference=reference, request=http(request))
        page = self.paginate_queryset(entries) or []
        return self.get_paginated_response(MessageMetaSerializer(page, many=True).data)


class AgreementListView(ApiView):
    scopes = {"GET": Scope.AGREEMENTS_READ}
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = AgreementFilter
    ordering_fields = ["due_on", "created_on", "status"]
    ordering = ["due_on", "id"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks without a user
            return Agreement.objects.none()
        return selectors.agreements_for_api(user=actor(self.request))

    @extend_schema(
        operation_id="agreements_list",
        summary="Your agreements (a token: those of its institution's people)",
        tags=["agreements"],
        responses=AgreementSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        selectors.list_read_audit(
            user=actor(request), object_type="agreement_list", ids=[a.pk for a in page], request=http(request)
        )
        return self.get_paginated_response(AgreementSerializer(page, many=True).data)


class AgreementDetailView(ApiView):
    scopes = {"GET": Scope.AGREEMENTS_READ, "PATCH": Scope.AGREEMENTS_WRITE}
    if_match_methods = frozenset({"PATCH"})
    etag_on_read = True

    @extend_schema(operation_id="agreements_retrieve", tags=["agreements"], responses=AgreementSerializer)
    def get(self, request: Request, agreement_id: int) -> Response:
        agreement = selectors.agreement_get_for_api(
            user=actor(request), agreement_id=agreement_id, request=http(request)
        )
        return detail_response(request, AgreementSerializer(agreement).data)

    @extend_schema(
        operation_id="agreements_status_update",
        summary="Report an agreement done, open again or dropped",
        tags=["agreements"],
        request=AgreementStatusSerializer,
        responses=AgreementSerializer,
        examples=[OpenApiExample("Done", value={"status": "done", "done_on": "2026-03-02"}, request_only=True)],
    )
    def patch(self, request: Request, agreement_id: int) -> Response:
        user = actor(request)
        agreement = selectors.agreement_get_for_api(user=user, agreement_id=agreement_id, request=http(request))
        data = validated(AgreementStatusSerializer, request)
        with transaction.atomic():
            locked = (
                Agreement.objects.select_for_update(of=("self",))
                .select_related("case", "owner__unit__institution")
                .get(pk=agreement.pk)
            )
            if_match_require(request, AgreementSerializer(locked).data)
            updated = case_services.agreement_set_status(
                actor=user, agreement=locked, status=data["status"], done_on=data.get("done_on"), request=http(request)
            )
        return detail_response(request, AgreementSerializer(updated).data)


class KpiView(ApiView):
    scopes = {"GET": Scope.KPIS_READ}
    etag_on_read = True

    @extend_schema(
        operation_id="kpis_retrieve",
        summary="Key figures for a period and scope (aggregates; small numbers suppressed)",
        tags=["kpis"],
        parameters=[KpiQuerySerializer],
        responses=KpiReportSerializer,
    )
    def get(self, request: Request) -> Response:
        user = actor(request)
        query = KpiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        audience = params["audience"]
        allowed = (
            access.may_see_operational_dashboard(user)
            if audience == OPERATIONAL
            else access.may_read_published_kpis(user)
        )
        if not allowed:
            raise PermissionDenied()
        try:
            period = (
                Period.parse(params["period"]) if params.get("period") else Period.current_quarter(timezone.localdate())
            )
        except ValueError as error:
            raise ValidationError({"period": [str(error)]}) from error
        scope = KpiScope(
            institution_id=params.get("institution"),
            district=params.get("district"),
            life_situation=params.get("life_situation"),
            level=int(params["level"]) if params.get("level") else None,
        )
        threshold = int(getattr(settings, "IIZ_SUPPRESSION_THRESHOLD", 5))
        figures = selectors.kpis_published(
            period=period, scope=scope, audience=audience, threshold=threshold, user=user
        )
        report = {
            "period": {"label": period.label, "start": period.start, "end": period.end},
            "audience": audience,
            "threshold": threshold,
            "figures": figures,
        }
        return detail_response(request, KpiReportSerializer(report).data)

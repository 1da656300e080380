"""Serializers for cases, agreements, messages, key figures and webhooks."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from iiz.cases.models import (
    AgreementStatus,
    CaseStatus,
    IntegrationPlan,
    Level,
    MeasureStatus,
    Outcome,
    PlanStatus,
    Route,
)
from iiz.cases.selectors import CaseFile
from iiz.clients.models import DataCategory
from iiz.exchange.models import MessageKind
from iiz.interfaces.models import DeliveryStatus, WebhookEvent
from iiz.interfaces.serializers import ID_MAX, InputSerializer, InstitutionRefSerializer
from iiz.organisations.models import User
from iiz.steering.kpis import OPERATIONAL, STRATEGIC

# ---------------------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------------------


class PersonRefSerializer(serializers.Serializer):
    """A staff member (never a client)."""

    name = serializers.CharField()
    institution = InstitutionRefSerializer(allow_null=True)


def person_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    institution = user.institution
    return {
        "name": user.get_full_name() or user.username,
        "institution": dict(InstitutionRefSerializer(institution).data) if institution else None,
    }


class CaseTeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CaseSummarySerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    level = serializers.ChoiceField(choices=Level.choices)
    route = serializers.ChoiceField(choices=Route.choices, allow_blank=True)
    bilateral_institution = InstitutionRefSerializer(allow_null=True)
    client = serializers.UUIDField(source="client.public_id", help_text="The person (fetch with clients:read).")
    serving_institution = InstitutionRefSerializer()
    case_lead = serializers.SerializerMethodField()
    case_team = CaseTeamRefSerializer(allow_null=True)
    opened_on = serializers.DateField()
    closed_on = serializers.DateField(allow_null=True)
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True)

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_case_lead(self, case: Any) -> dict[str, Any] | None:
        return person_ref(case.case_lead)


class MeasureSummarySerializer(serializers.Serializer):
    service = serializers.CharField(source="service.code", allow_null=True, default=None)
    responsible_institution = InstitutionRefSerializer()
    start_on = serializers.DateField()
    due_on = serializers.DateField()
    status = serializers.ChoiceField(choices=MeasureStatus.choices)


class PlanSummarySerializer(serializers.Serializer):
    """The agreed integration plan without its free text: who contributes what, by when."""

    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PlanStatus.choices)
    agreed_on = serializers.DateField(allow_null=True)
    client_agreed_on = serializers.DateField(allow_null=True)
    case_lead = serializers.SerializerMethodField()
    measures = MeasureSummarySerializer(many=True, source="measures.all")

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_case_lead(self, plan: IntegrationPlan) -> dict[str, Any] | None:
        return person_ref(plan.case_lead)


class CaseDetailSerializer(serializers.Serializer):
    """A case as its participating institutions see it, read from the case file."""

    reference = serializers.CharField(source="case.reference")
    status = serializers.ChoiceField(source="case.status", choices=CaseStatus.choices)
    level = serializers.ChoiceField(source="case.level", choices=Level.choices)
    route = serializers.ChoiceField(source="case.route", choices=Route.choices, allow_blank=True)
    bilateral_institution = InstitutionRefSerializer(source="case.bilateral_institution", allow_null=True)
    client = serializers.UUIDField(source="case.client.public_id")
    serving_institution = InstitutionRefSerializer(source="case.serving_institution")
    case_lead = serializers.SerializerMethodField()
    case_team = CaseTeamRefSerializer(source="case.case_team", allow_null=True)
    opened_on = serializers.DateField(source="case.opened_on")
    closed_on = serializers.DateField(source="case.closed_on", allow_null=True)
    outcome = serializers.ChoiceField(source="case.outcome", choices=Outcome.choices, allow_blank=True)
    institutions = serializers.SerializerMethodField(help_text="The institutions taking part in the case.")
    plan = serializers.SerializerMethodField(help_text="The agreed integration plan, if any.")
    draft_plan_version = serializers.SerializerMethodField()

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_case_lead(self, file: CaseFile) -> dict[str, Any] | None:
        return person_ref(file.case.case_lead)

    @extend_schema_field(InstitutionRefSerializer(many=True))
    def get_institutions(self, file: CaseFile) -> list[dict[str, Any]]:
        institutions = {p.institution.pk: p.institution for p in file.participants}
        ordered = sorted(institutions.values(), key=lambda i: i.name)
        return [dict(item) for item in InstitutionRefSerializer(ordered, many=True).data]

    @extend_schema_field(PlanSummarySerializer(allow_null=True))
    def get_plan(self, file: CaseFile) -> dict[str, Any] | None:
        plan = file.current_plan
        return dict(PlanSummarySerializer(plan).data) if plan is not None else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_draft_plan_version(self, file: CaseFile) -> int | None:
        draft = file.draft_plan
        return draft.version if draft is not None else None


# ---------------------------------------------------------------------------------------------------------
# Agreements
# ---------------------------------------------------------------------------------------------------------


class AgreementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.reference")
    text = serializers.CharField()
    owner = serializers.SerializerMethodField()
    due_on = serializers.DateField()
    status = serializers.ChoiceField(choices=AgreementStatus.choices)
    done_on = serializers.DateField(allow_null=True)
    created_on = serializers.DateField()

    @extend_schema_field(PersonRefSerializer())
    def get_owner(self, agreement: Any) -> dict[str, Any] | None:
        return person_ref(agreement.owner)


class AgreementStatusSerializer(InputSerializer):
    status = serializers.ChoiceField(choices=AgreementStatus.choices)
    done_on = serializers.DateField(required=False, allow_null=True, help_text="With status done; default today.")


# ---------------------------------------------------------------------------------------------------------
# Messages (metadata only)
# ---------------------------------------------------------------------------------------------------------


class MessageMetaSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="message.public_id")
    case = serializers.CharField(source="message.case.reference")
    kind = serializers.ChoiceField(source="message.kind", choices=MessageKind.choices)
    category = serializers.ChoiceField(source="message.category", choices=DataCategory.choices)
    sender_institution = InstitutionRefSerializer(source="message.sender_institution")
    recipients = InstitutionRefSerializer(source="message.recipients.all", many=True)
    sent_at = serializers.DateTimeField(source="message.sent_at")
    in_reply_to = serializers.UUIDField(source="message.in_reply_to.public_id", allow_null=True, default=None)
    basis = serializers.ChoiceField(
        choices=["case", "consent", "legal"], help_text="Why your institution may read it: sender, consent or law."
    )


# ---------------------------------------------------------------------------------------------------------
# Key figures
# ---------------------------------------------------------------------------------------------------------


class KpiQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False, max_length=7, help_text="A year (2026) or a quarter (2026-Q3); default: the current quarter."
    )
    audience = serializers.ChoiceField(
        choices=[STRATEGIC, OPERATIONAL],
        required=False,
        default=STRATEGIC,
        help_text="operational: all figures, for operational roles only.",
    )
    institution = serializers.IntegerField(
        required=False, min_value=1, max_value=ID_MAX, help_text="Serving institution (id)."
    )
    district = serializers.IntegerField(required=False, min_value=101, max_value=112, help_text="Bezirk number.")
    life_situation = serializers.SlugField(required=False, max_length=40)
    level = serializers.ChoiceField(choices=Level.choices, required=False)


class PeriodSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    start = serializers.DateField()
    end = serializers.DateField()


class KpiFigureSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    definition = serializers.CharField()
    unit = serializers.ChoiceField(choices=["count", "share", "days", "ratio"])
    audience = serializers.ChoiceField(choices=[STRATEGIC, OPERATIONAL])
    value = serializers.FloatField(allow_null=True, help_text="Null when suppressed or when there is no data.")
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField(allow_null=True)
    n = serializers.IntegerField(allow_null=True, help_text="How many cases stand behind the figure.")
    suppressed = serializers.BooleanField(
        help_text="Hidden because it would describe fewer persons than the threshold."
    )


class KpiReportSerializer(serializers.Serializer):
    period = PeriodSerializer()
    audience = serializers.ChoiceField(choices=[STRATEGIC, OPERATIONAL])
    threshold = serializers.IntegerField(help_text="Counts from 1 to threshold - 1 are suppressed.")
    figures = KpiFigureSerializer(many=True)


# ---------------------------------------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------------------------------------


class WebhookSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    institution = InstitutionRefSerializer()
    target_url = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    description = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    deactivated_at = serializers.DateTimeField(allow_null=True)


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(help_text="For verifying X-IIZ-Signature. Shown only in this response.")


class WebhookSubscriptionCreateSerializer(InputSerializer):
    target_url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=len(WebhookEvent.values)
    )
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", help_text="Sent as X-IIZ-Delivery.")
    subscription = serializers.IntegerField(source="subscription_id")
    event = serializers.ChoiceField(choices=WebhookEvent.choices)
    case_reference = serializers.CharField()
    payload = serializers.JSONField()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

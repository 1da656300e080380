"""The REST API: a partner system's webhook subscriptions and their delivery log."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from iiz.interfaces import selectors, services
from iiz.interfaces.conditional import detail_response
from iiz.interfaces.filters import StrictOrderingFilter, WebhookDeliveryFilter
from iiz.interfaces.models import Scope, WebhookDelivery, WebhookSubscription
from iiz.interfaces.permissions import HasScope, TokenRequired
from iiz.interfaces.serializers_cases import (
    WebhookDeliverySerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionCreateSerializer,
    WebhookSubscriptionSerializer,
)
from iiz.interfaces.views import ApiView, actor, http, validated


class WebhookSubscriptionListView(ApiView):
    permission_classes = [IsAuthenticated, TokenRequired, HasScope]
    scopes = {"GET": Scope.WEBHOOKS_MANAGE, "POST": Scope.WEBHOOKS_MANAGE}

    @extend_schema(
        operation_id="webhook_subscriptions_list",
        summary="Your institution's webhook subscriptions",
        tags=["webhooks"],
        responses=WebhookSubscriptionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        subscriptions = selectors.webhook_subscriptions_for(user=actor(request)).order_by("-created_at", "-id")
        page = self.paginate_queryset(subscriptions) or []
        return self.get_paginated_response(WebhookSubscriptionSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhook_subscriptions_create",
        summary="Subscribe to case events; the signing secret is in this response only",
        tags=["webhooks"],
        request=WebhookSubscriptionCreateSerializer,
        responses={201: WebhookSubscriptionCreatedSerializer},
        examples=[
            OpenApiExample(
                "Subscription",
                value={"target_url": "https://partner.example.ch/iiz-hooks", "events": ["case.opened", "case.closed"]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        user = actor(request)
        data = validated(WebhookSubscriptionCreateSerializer, request)
        institution = user.institution
        if institution is None:
            raise Http404
        created = services.webhook_subscription_create(
            actor=user,
            institution=institution,
            target_url=data["target_url"],
            events=data["events"],
            description=data["description"],
            request=http(request),
        )
        body: dict[str, Any] = dict(WebhookSubscriptionSerializer(created.subscription).data)
        body["secret"] = created.secret
        return Response(WebhookSubscriptionCreatedSerializer(body).data, status=201)


class WebhookSubscriptionDetailView(ApiView):
    permission_classes = [IsAuthenticated, TokenRequired, HasScope]
    scopes = {"GET": Scope.WEBHOOKS_MANAGE, "DELETE": Scope.WEBHOOKS_MANAGE}
    etag_on_read = True

    def _subscription(self, request: Request, subscription_id: int) -> WebhookSubscription:
        subscription = selectors.webhook_subscriptions_for(user=actor(request)).filter(pk=subscription_id).first()
        if subscription is None:
            raise Http404
        return subscription

    @extend_schema(
        operation_id="webhook_subscriptions_retrieve", tags=["webhooks"], responses=WebhookSubscriptionSerializer
    )
    def get(self, request: Request, subscription_id: int) -> Response:
        return detail_response(
            request, WebhookSubscriptionSerializer(self._subscription(request, subscription_id)).data
        )

    @extend_schema(
        operation_id="webhook_subscriptions_deactivate",
        summary="Stop the subscription (its delivery log stays)",
        tags=["webhooks"],
        responses={204: None},
    )
    def delete(self, request: Request, subscription_id: int) -> Response:
        services.webhook_subscription_deactivate(
            actor=actor(request), subscription=self._subscription(request, subscription_id), request=http(request)
        )
        return Response(status=204)


class WebhookDeliveryListView(ApiView):
    permission_classes = [IsAuthenticated, TokenRequired, HasScope]
    scopes = {"GET": Scope.WEBHOOKS_MANAGE}
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at", "next_attempt_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks without a user
            return WebhookDelivery.objects.none()
        return selectors.webhook_deliveries_for(user=actor(self.request))

    @extend_schema(
        operation_id="webhook_deliveries_list",
        summary="The delivery log of your institution's subscriptions",
        tags=["webhooks"],
        responses=WebhookDeliverySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

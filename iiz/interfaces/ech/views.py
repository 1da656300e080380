"""The eCH export on the web (one person, from the client page) and in the API (one person, or the persons
registered with the caller's institution). Both answer the XML message as a download."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from iiz import access
from iiz.interfaces.ech.export import Delivery, client_ech_export, institution_ech_export
from iiz.interfaces.models import Scope
from iiz.interfaces.views import ApiView, actor, http
from iiz.organisations.models import User

XML_CONTENT_TYPE = "application/xml; charset=utf-8"


def _download(delivery: Delivery) -> HttpResponse:
    response = HttpResponse(delivery.content, content_type=XML_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{delivery.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def client_ech_download(request: HttpRequest, public_id: str) -> HttpResponse:
    """The person as an eCH message, with what the client page shows (a hidden person is a logged 404)."""
    user: User = request.user  # type: ignore[assignment]
    if not access.may_work_with_clients(user):
        raise PermissionDenied(_("Ihre Rolle sieht keine Personendaten."))
    try:
        delivery = client_ech_export(user=user, public_id=public_id, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("clients:detail", public_id=public_id)
    return _download(delivery)


class XmlRenderer(BaseRenderer):
    """The message's format, so that content negotiation accepts XML. The message itself is answered as a
    plain response; what reaches this renderer is a problem detail, which stays JSON whatever was asked for."""

    media_type = "application/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


_XML_RESPONSE = OpenApiResponse(OpenApiTypes.BINARY, description="iiz person delivery (XML), see schemas/README.md")
_RECIPIENT = OpenApiParameter("recipient", str, description="sedex id of the recipient, written to the header.")


class _RecipientQuery(serializers.Serializer):
    recipient = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")


class _PersonsQuery(_RecipientQuery):
    active = serializers.BooleanField(required=False, default=True)
    registered_from = serializers.DateField(required=False, allow_null=True, default=None)
    registered_until = serializers.DateField(required=False, allow_null=True, default=None)


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The query parameters, checked; a parameter the endpoint does not know is an error, not ignored."""
    unknown = sorted(set(request.query_params) - set(serializer_class().fields) - {"lang"})
    if unknown:
        raise ApiValidationError({name: [_("Unbekannter Parameter.")] for name in unknown})
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ClientEchView(ApiView):
    scopes = {"GET": Scope.CLIENTS_READ}
    renderer_classes = [JSONRenderer, XmlRenderer]

    @extend_schema(
        operation_id="clients_ech_export",
        summary="A person as an eCH message (eCH-0044, eCH-0010, eCH-0058 header)",
        tags=["clients"],
        parameters=[_RECIPIENT],
        responses={(200, "application/xml"): _XML_RESPONSE},
    )
    def get(self, request: Request, public_id: str) -> HttpResponse:
        query = _query(_RecipientQuery, request)
        delivery = client_ech_export(
            user=actor(request), public_id=public_id, recipient_id=query["recipient"], request=http(request)
        )
        return _download(delivery)


class EchPersonsView(ApiView):
    scopes = {"GET": Scope.CLIENTS_READ}
    renderer_classes = [JSONRenderer, XmlRenderer]

    @extend_schema(
        operation_id="ech_persons_export",
        summary="The persons registered with your institution as one eCH message",
        tags=["clients"],
        parameters=[
            OpenApiParameter("active", bool, description="Only open registrations (default true)."),
            OpenApiParameter("registered_from", OpenApiTypes.DATE),
            OpenApiParameter("registered_until", OpenApiTypes.DATE),
            _RECIPIENT,
        ],
        responses={(200, "application/xml"): _XML_RESPONSE},
    )
    def get(self, request: Request) -> HttpResponse:
        query = _query(_PersonsQuery, request)
        delivery = institution_ech_export(
            user=actor(request),
            active_only=query["active"],
            registered_from=query["registered_from"],
            registered_until=query["registered_until"],
            recipient_id=query["recipient"],
            limit=settings.IIZ_ECH_EXPORT_LIMIT,
            request=http(request),
        )
        return _download(delivery)

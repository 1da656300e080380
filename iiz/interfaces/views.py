"""The REST API: clients, their registrations and consents.

Views are thin: they check the input's shape with an input serializer, ask the same selectors and call the
same services as the web pages (which decide access and write the audit trail), and answer with an output
serializer. Reads carry an ETag; changes of existing records need If-Match.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from iiz import access
from iiz.audit.models import AuditAction
from iiz.clients import services as client_services
from iiz.clients.models import AhvConflictSource, Client, Consent, Registration
from iiz.clients.selectors import client_access_get, client_file_for_user
from iiz.interfaces import selectors
from iiz.interfaces.conditional import detail_response, if_match_require
from iiz.interfaces.filters import ClientFilter, StrictOrderingFilter
from iiz.interfaces.matching import similar_persons_for
from iiz.interfaces.models import Scope
from iiz.interfaces.permissions import HasScope
from iiz.interfaces.problems import problem_response
from iiz.interfaces.schema import LANGUAGES
from iiz.interfaces.serializers import (
    ClientContactUpdateSerializer,
    ClientCreateSerializer,
    ClientDetailSerializer,
    ClientSummarySerializer,
    ConsentCreateMultipartSerializer,
    ConsentCreateSerializer,
    ConsentRevokeSerializer,
    ConsentSerializer,
    RegistrationCreateSerializer,
    RegistrationEndSerializer,
    RegistrationSerializer,
)
from iiz.interfaces.throttling import TokenRateThrottle
from iiz.organisations.models import OrganisationalUnit, User


def http(request: Request) -> HttpRequest:
    """The Django request behind DRF's, for the services' audit entries (address of the caller)."""
    return request._request


def actor(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - IsAuthenticated runs before every handler
    return user


def validated(serializer_class: type[serializers.Serializer], request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ApiView(GenericAPIView):
    """The common ground of every endpoint: authentication, scopes, language, no implicit serializer."""

    permission_classes = [IsAuthenticated, HasScope]
    # Named here rather than inherited: DRF binds its default list when rest_framework.views is first
    # imported, which may happen while a test has the settings overridden.
    throttle_classes = [TokenRateThrottle]
    # The scope each method needs; access rules apply on top.
    scopes: ClassVar[dict[str, str]] = {}
    # Methods that change an existing record: If-Match is required.
    if_match_methods: ClassVar[frozenset[str]] = frozenset()
    # Reads answer with an ETag and honour If-None-Match.
    etag_on_read: ClassVar[bool] = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # German unless the caller asks for another language; the browser's Accept-Language is ignored as
        # everywhere on the platform.
        language = request.GET.get("lang", "")
        with translation.override(language if language in LANGUAGES else settings.LANGUAGE_CODE):
            response = super().dispatch(request, *args, **kwargs)
            response.headers.setdefault("Content-Language", translation.get_language() or settings.LANGUAGE_CODE)
        return response

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # A partner system speaks the language its service user was given, unless the request says otherwise.
        user = request.user
        if "lang" not in request.query_params and isinstance(user, User) and access.acts_for_institution(user):
            translation.activate(user.language)


def _own_unit(user: User, unit_id: int | None) -> OrganisationalUnit | None:
    """A unit named by id; the services refuse one of another institution."""
    if unit_id is None:
        return user.unit
    unit = OrganisationalUnit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise ValidationError({"unit": [_("Unbekannte Organisationseinheit.")]})
    return unit


_CLIENT_EXAMPLE = OpenApiExample(
    "New person",
    value={
        "ahv_number": "756.1234.5678.97",
        "first_name": "Laura",
        "last_name": "Beispiel",
        "date_of_birth": "1979-04-02",
        "sex": "female",
        "municipality_bfs": 198,
        "languages": ["de"],
        "external_case_number": "RAV-2026-0042",
    },
    request_only=True,
)


class ClientListView(ApiView):
    scopes = {"GET": Scope.CLIENTS_READ, "POST": Scope.CLIENTS_WRITE}
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = ClientFilter
    ordering_fields = ["last_name", "first_name", "date_of_birth", "created_at", "updated_at"]
    ordering = ["last_name", "first_name", "id"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks without a user
            return Client.objects.none()
        return selectors.clients_for_api(user=actor(self.request))

    @extend_schema(
        operation_id="clients_list",
        summary="Persons your institution may see",
        tags=["clients"],
        responses=ClientSummarySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        selectors.list_read_audit(
            user=actor(request),
            object_type="client_search",
            action=AuditAction.SEARCH,
            ids=[client.pk for client in page],
            request=http(request),
            # The names of the filters, never their values: the trail would otherwise hold names and numbers.
            details={"filters": sorted(name for name in request.query_params if name in ClientFilter.base_filters)},
        )
        return self.get_paginated_response(ClientSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="clients_create",
        summary="Record a person, registered with your institution",
        tags=["clients"],
        request=ClientCreateSerializer,
        responses={201: ClientDetailSerializer},
        examples=[_CLIENT_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        user = actor(request)
        data = validated(ClientCreateSerializer, request)
        if not data["confirm_new"]:
            municipality = data.get("municipality_bfs")
            similar = similar_persons_for(
                user=user,
                last_name=data["last_name"],
                first_name=data["first_name"],
                date_of_birth=data["date_of_birth"],
                municipality_bfs=municipality.bfs_number if municipality else None,
                request=http(request),
            )
            if similar:
                return problem_response(
                    status_code=409,
                    slug="likely-duplicate",
                    detail=_(
                        "Diese Person ist vermutlich schon erfasst. Prüfen Sie die Kandidaten und senden Sie "
                        "«confirm_new»: true, wenn es eine andere Person ist."
                    ),
                    instance=request.path,
                    extensions={
                        "candidates": [{"id": str(client.public_id), "score": found.score} for client, found in similar]
                    },
                )
        client = client_services.client_create(
            actor=user,
            ahv_number=data["ahv_number"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            sex=data["sex"],
            municipality=data.get("municipality_bfs"),
            street=data["street"],
            house_number=data["house_number"],
            postal_code=data["postal_code"],
            town=data["town"],
            phone=data["phone"],
            email=data["email"],
            languages=data["languages"],
            registration_unit=_own_unit(user, data.get("unit")),
            external_case_number=data["external_case_number"],
            registered_on=data.get("registered_on") or timezone.localdate(),
            source=AhvConflictSource.API,
            request=http(request),
        )
        file = client_file_for_user(user=user, public_id=client.public_id, request=http(request))
        response = detail_response(request, ClientDetailSerializer(file).data, status=201)
        response["Location"] = f"{request.path}{client.public_id}/"
        return response


class ClientDetailView(ApiView):
    scopes = {"GET": Scope.CLIENTS_READ, "PATCH": Scope.CLIENTS_WRITE}
    if_match_methods = frozenset({"PATCH"})
    etag_on_read = True

    @extend_schema(
        operation_id="clients_retrieve",
        summary="A person as your institution may see them",
        tags=["clients"],
        responses=ClientDetailSerializer,
    )
    def get(self, request: Request, public_id: str) -> Response:
        file = client_file_for_user(user=actor(request), public_id=public_id, request=http(request))
        return detail_response(request, ClientDetailSerializer(file).data)

    @extend_schema(
        operation_id="clients_contact_update",
        summary="Change address, phone, e-mail, languages or municipality",
        tags=["clients"],
        request=ClientContactUpdateSerializer,
        responses=ClientDetailSerializer,
        examples=[
            OpenApiExample("New address", value={"street": "Seestrasse", "house_number": "3"}, request_only=True)
        ],
    )
    def patch(self, request: Request, public_id: str) -> Response:
        user = actor(request)
        # Access before validation: an outsider learns nothing from the body's errors, and the attempt is logged.
        file = client_file_for_user(user=user, public_id=public_id, request=http(request))
        data = validated(ClientContactUpdateSerializer, request)
        if "municipality_bfs" in data:
            data["municipality"] = data.pop("municipality_bfs")
        with transaction.atomic():
            locked = (
                Client.objects.select_for_update(of=("self",))
                .select_related("municipality", "recorded_by_institution")
                .get(pk=file.client.pk)
            )
            if_match_require(request, ClientDetailSerializer(dataclasses.replace(file, client=locked)).data)
            client = client_services.client_update_contact(actor=user, client=locked, request=http(request), **data)
        return detail_response(request, ClientDetailSerializer(dataclasses.replace(file, client=client)).data)


class RegistrationListView(ApiView):
    scopes = {"GET": Scope.CLIENTS_READ, "POST": Scope.REGISTRATIONS_WRITE}

    @extend_schema(
        operation_id="registrations_list",
        summary="A person's registrations that your institution may see",
        tags=["registrations"],
        responses=RegistrationSerializer(many=True),
    )
    def get(self, request: Request, public_id: str) -> Response:
        file = client_file_for_user(user=actor(request), public_id=public_id, request=http(request))
        page = self.paginate_queryset(file.registrations) or []
        return self.get_paginated_response(RegistrationSerializer(page, many=True).data)

    @extend_schema(
        operation_id="registrations_create",
        summary="Register a person with your institution",
        tags=["registrations"],
        request=RegistrationCreateSerializer,
        responses={201: RegistrationSerializer},
    )
    def post(self, request: Request, public_id: str) -> Response:
        user = actor(request)
        grant = client_access_get(user=user, public_id=public_id, request=http(request))
        data = validated(RegistrationCreateSerializer, request)
        registration = client_services.registration_create(
            actor=user,
            client=grant.client,
            unit=_own_unit(user, data.get("unit")),
            external_case_number=data["external_case_number"],
            registered_on=data["registered_on"],
            deregistered_on=data.get("deregistered_on"),
            request=http(request),
        )
        response = detail_response(request, RegistrationSerializer(registration).data, status=201)
        response["Location"] = f"{request.path}{registration.pk}/"
        return response


class RegistrationDetailView(ApiView):
    scopes = {"GET": Scope.CLIENTS_READ}
    etag_on_read = True

    @extend_schema(operation_id="registrations_retrieve", tags=["registrations"], responses=RegistrationSerializer)
    def get(self, request: Request, public_id: str, registration_id: int) -> Response:
        file = client_file_for_user(user=actor(request), public_id=public_id, request=http(request))
        registration = selectors.registration_in_file(file=file, registration_id=registration_id)
        return detail_response(request, RegistrationSerializer(registration).data)


class RegistrationEndView(ApiView):
    scopes = {"POST": Scope.REGISTRATIONS_WRITE}
    if_match_methods = frozenset({"POST"})
    etag_on_read = True

    @extend_schema(
        operation_id="registrations_end",
        summary="End your institution's registration of a person",
        tags=["registrations"],
        request=RegistrationEndSerializer,
        responses={200: RegistrationSerializer},
    )
    def post(self, request: Request, public_id: str, registration_id: int) -> Response:
        user = actor(request)
        file = client_file_for_user(user=user, public_id=public_id, request=http(request))
        registration = selectors.registration_in_file(file=file, registration_id=registration_id)
        data = validated(RegistrationEndSerializer, request)
        with transaction.atomic():
            locked = (
                Registration.objects.select_for_update(of=("self",))
                .select_related("institution", "unit")
                .get(pk=registration.pk)
            )
            if_match_require(request, RegistrationSerializer(locked).data)
            ended = client_services.registration_end(
                actor=user, registration=locked, deregistered_on=data["deregistered_on"], request=http(request)
            )
        return detail_response(request, RegistrationSerializer(ended).data)


_CONSENT_REQUEST = {
    "application/json": ConsentCreateSerializer,
    "multipart/form-data": ConsentCreateMultipartSerializer,
}


class ConsentListView(ApiView):
    scopes = {"GET": Scope.CONSENTS_READ, "POST": Scope.CONSENTS_WRITE}
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        operation_id="consents_list",
        summary="A person's consents, every version",
        tags=["consents"],
        responses=ConsentSerializer(many=True),
    )
    def get(self, request: Request, public_id: str) -> Response:
        file = client_file_for_user(user=actor(request), public_id=public_id, request=http(request))
        page = self.paginate_queryset(file.consents) or []
        return self.get_paginated_response(ConsentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="consents_create",
        summary="Record a consent (JSON) or a consent with its signed form (multipart)",
        tags=["consents"],
        request=_CONSENT_REQUEST,
        responses={201: ConsentSerializer},
        examples=[
            OpenApiExample(
                "Consent",
                value={
                    "institutions": [1, 2],
                    "categories": ["personal", "occupational"],
                    "purpose": "Koordination der Integration im iiz-Fall",
                    "valid_from": "2026-03-01",
                },
                request_only=True,
                media_type="application/json",
            )
        ],
    )
    def post(self, request: Request, public_id: str) -> Response:
        user = actor(request)
        multipart = (request.content_type or "").startswith("multipart/")
        grant = client_access_get(user=user, public_id=public_id, request=http(request))
        data = validated(ConsentCreateMultipartSerializer if multipart else ConsentCreateSerializer, request)
        replaces = None
        if data.get("replaces") is not None:
            replaces = Consent.objects.filter(pk=data["replaces"], client=grant.client).first()
            if replaces is None:
                raise ValidationError({"replaces": [_("Keine Einwilligung dieser Person.")]})
        consent = client_services.consent_record(
            actor=user,
            client=grant.client,
            institutions=data["institutions"],
            categories=data["categories"],
            purpose=data["purpose"],
            valid_from=data["valid_from"],
            valid_until=data.get("valid_until"),
            document=data.get("document"),
            verbal_statement=data.get("verbal_statement", ""),
            form_due_on=data.get("form_due_on"),
            replaces=replaces,
            request=http(request),
        )
        response = detail_response(request, ConsentSerializer(consent).data, status=201)
        response["Location"] = f"{request.path}{consent.pk}/"
        return response


class ConsentDetailView(ApiView):
    scopes = {"GET": Scope.CONSENTS_READ}
    etag_on_read = True

    @extend_schema(operation_id="consents_retrieve", tags=["consents"], responses=ConsentSerializer)
    def get(self, request: Request, public_id: str, consent_id: int) -> Response:
        file = client_file_for_user(user=actor(request), public_id=public_id, request=http(request))
        consent = selectors.consent_in_file(file=file, consent_id=consent_id)
        return detail_response(request, ConsentSerializer(consent).data)


class ConsentRevokeView(ApiView):
    scopes = {"POST": Scope.CONSENTS_WRITE}
    if_match_methods = frozenset({"POST"})
    etag_on_read = True

    @extend_schema(
        operation_id="consents_revoke",
        summary="Record that the person revoked the consent",
        tags=["consents"],
        request=ConsentRevokeSerializer,
        responses={200: ConsentSerializer},
    )
    def post(self, request: Request, public_id: str, consent_id: int) -> Response:
        user = actor(request)
        file = client_file_for_user(user=user, public_id=public_id, request=http(request))
        consent = selectors.consent_in_file(file=file, consent_id=consent_id)
        data = validated(ConsentRevokeSerializer, request)
        with transaction.atomic():
            locked = (
                Consent.objects.select_for_update(of=("self",))
                .select_related("recorded_by__unit__institution", "client")
                .prefetch_related("institutions")
                .get(pk=consent.pk)
            )
            if_match_require(request, ConsentSerializer(locked).data)
            revoked = client_services.consent_revoke(
                actor=user, consent=locked, reason=data["reason"], request=http(request)
            )
        return detail_response(request, ConsentSerializer(revoked).data)


class NotFoundView(ApiView):
    """Every other path under /api/: a problem, not the HTML page of the web."""

    permission_classes: ClassVar[list[Any]] = []  # type: ignore[misc]
    authentication_classes: ClassVar[list[Any]] = []  # type: ignore[misc]
    throttle_classes: ClassVar[list[Any]] = []  # type: ignore[misc]
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise NotFound(_("Diese Adresse gibt es in der API nicht."))

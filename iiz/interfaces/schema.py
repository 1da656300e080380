"""The OpenAPI description: bearer tokens, problem details on every operation, conditional headers.

Every operation documents the problem responses it can give (so that a client, and schemathesis, can rely
on the schema), the ``lang`` parameter, and where it applies ``If-None-Match``/``ETag`` on reads and the
required ``If-Match`` on changes. Request bodies forbid properties they do not name, as the serializers do.
"""

from __future__ import annotations

import inspect
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

LANGUAGES = ["de", "fr", "it", "en"]
PROBLEM_MEDIA_TYPE = "application/problem+json"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

_DESCRIPTIONS = {
    400: "Invalid input: malformed JSON, wrong types, unknown fields, invalid filters. See `errors`.",
    401: "No valid token: missing, unknown, expired or revoked.",
    403: "The token lacks the scope, or the rules do not allow this to your institution.",
    404: "Does not exist or is not visible to your institution.",
    406: "Only JSON is offered.",
    409: "Conflicts with the current state (for example already revoked).",
    412: "If-Match does not match the current ETag: somebody changed it since you read it.",
    413: "The request body is too large.",
    415: "Unsupported request content type.",
    428: "If-Match is required for this change.",
    429: "Rate limit of the token exceeded; retry after Retry-After seconds.",
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "iiz.interfaces.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "<prefix>.<secret>",
            "description": "An API token of your institution, issued by an administrator of the platform.",
        }


class IizAutoSchema(AutoSchema):
    def get_description(self) -> str:  # type: ignore[override]
        # The handler's or the view's own docstring, not one inherited from the common base view.
        handler = getattr(self.view, (self.method or "").lower(), None)
        text = getattr(handler, "__doc__", None) or type(self.view).__dict__.get("__doc__") or ""
        return inspect.cleandoc(text)

    def _etag_read(self) -> bool:
        return self.method == "GET" and bool(getattr(self.view, "etag_on_read", False))

    def _if_match(self) -> bool:
        return self.method in getattr(self.view, "if_match_methods", frozenset())

    def _returns_etag(self) -> bool:
        return bool(getattr(self.view, "etag_on_read", False)) and self.method in {"GET", "PATCH", "POST", "PUT"}

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        parameters.append(
            OpenApiParameter(
                "lang",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=LANGUAGES,
                description="Language of messages and titles (default German).",
            )
        )
        if self._etag_read():
            parameters.append(
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag of your copy: 304 when it is still current.",
                )
            )
        if self._if_match():
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=True,
                    description="The ETag of the representation you read last (428 without, 412 if outdated).",
                )
            )
        if self._returns_etag():
            parameters.append(
                OpenApiParameter(
                    "ETag",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    response=[200, 201, 304],
                    description="Tag of this representation, for If-None-Match and If-Match.",
                )
            )
        return parameters

    def _problem_codes(self) -> list[int]:
        codes = [400, 401, 403, 404, 406, 429]
        if self.method in WRITE_METHODS:
            codes += [409, 413, 415]
        if self._if_match():
            codes += [412, 428]
        return sorted(codes)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        from iiz.interfaces.serializers import ProblemSerializer

        component = self.resolve_serializer(ProblemSerializer, "response")
        for code in self._problem_codes():
            response: dict[str, Any] = {
                "description": _DESCRIPTIONS[code],
                "content": {PROBLEM_MEDIA_TYPE: {"schema": component.ref}},
            }
            if code == 429:
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                }
            if code == 401:
                response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            responses.setdefault(str(code), response)
        if self._etag_read():
            responses["304"] = {
                "description": "Not modified: your copy (If-None-Match) is current.",
                "headers": {"ETag": {"schema": {"type": "string"}}},
            }
        return responses


def postprocess_strict_requests(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Request bodies name every property they accept; the API refuses any other."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
    return result

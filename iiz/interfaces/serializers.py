"""Input and output serializers of the API: one pair per operation, written out field by field.

Input serializers refuse unknown fields (a misspelt field must not pass as "nothing to change") and only
check the shape of the input; the services decide everything else and their errors come back as problem
details. Output serializers read the selectors' objects; they never decide what a user may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from iiz.clients.models import Consent, DataCategory, Language, Sex
from iiz.clients.selectors import ClientFile
from iiz.lib.ahv import ahv_normalise
from iiz.organisations.models import Institution, Municipality

# ---------------------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------------------


# Ids are 64-bit in the database; anything larger is refused as input rather than reaching a query.
ID_MAX = 2**53


class StrictInputMixin:
    """Refuse fields the operation does not know, instead of ignoring them."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError({name: [_("Unbekanntes Feld.")] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class InputSerializer(StrictInputMixin, serializers.Serializer):
    pass


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="The input field, dotted for nested ones; null for the input as a whole."
    )
    message = serializers.CharField()
    code = serializers.CharField()


class LikelyDuplicateSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The public id of the existing client.")
    score = serializers.IntegerField(min_value=0, max_value=100)


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="A URN naming the kind of problem, e.g. urn:iiz:problem:validation-error.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(help_text="The path that was requested.")
    errors = ProblemErrorSerializer(many=True, required=False)  # type: ignore[assignment]
    candidates = LikelyDuplicateSerializer(
        many=True,
        required=False,
        help_text="With urn:iiz:problem:likely-duplicate: the existing records you may see that may be this person.",
    )


class InstitutionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    short_name = serializers.CharField()
    name = serializers.CharField()


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MunicipalityRefSerializer(serializers.Serializer):
    bfs_number = serializers.IntegerField()
    name = serializers.CharField()


def _plain_text(max_length: int, **kwargs: Any) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, allow_blank=True, trim_whitespace=True, **kwargs)


def municipality_from_bfs(value: int | None) -> Municipality | None:
    """The current register entry of the municipality with this BFS number."""
    if value is None:
        return None
    municipality = Municipality.objects.filter(bfs_number=value, valid_until__isnull=True).first()
    if municipality is None:
        raise serializers.ValidationError(_("Keine aktuelle Gemeinde des Kantons mit dieser BFS-Nummer."))
    return municipality


# ---------------------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------------------


class ContactDetailsSerializer(serializers.Serializer):
    street = serializers.CharField()
    house_number = serializers.CharField()
    postal_code = serializers.CharField()
    town = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    languages = serializers.ListField(child=serializers.ChoiceField(choices=Language.choices))


class ClientSummarySerializer(serializers.Serializer):
    """A person as listed: identification only (contact details need the person's record)."""

    id = serializers.UUIDField(source="public_id")
    ahv_number = serializers.CharField(help_text="13 digits, without dots.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    municipality = MunicipalityRefSerializer(allow_null=True)
    recorded_by_institution = InstitutionRefSerializer()
    updated_at = serializers.DateTimeField()


class RegistrationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    institution = InstitutionRefSerializer()
    unit = UnitRefSerializer(allow_null=True)
    external_case_number = serializers.CharField()
    registered_on = serializers.DateField()
    deregistered_on = serializers.DateField(allow_null=True)


class ClientDetailSerializer(serializers.Serializer):
    """A person as the asking institution may see them: contact details only where it may."""

    id = serializers.UUIDField(source="client.public_id")
    ahv_number = serializers.CharField(source="client.ahv_number")
    first_name = serializers.CharField(source="client.first_name")
    last_name = serializers.CharField(source="client.last_name")
    date_of_birth = serializers.DateField(source="client.date_of_birth")
    sex = serializers.ChoiceField(source="client.sex", choices=Sex.choices)
    municipality = MunicipalityRefSerializer(source="client.municipality", allow_null=True)
    recorded_by_institution = InstitutionRefSerializer(source="client.recorded_by_institution")
    contact = serializers.SerializerMethodField(
        help_text="Null when the recording institution's contact details are not shared with you (no consent)."
    )
    registrations = RegistrationSerializer(many=True, help_text="The registrations you may see.")
    created_at = serializers.DateTimeField(source="client.created_at")
    updated_at = serializers.DateTimeField(source="client.updated_at")

    @extend_schema_field(ContactDetailsSerializer(allow_null=True))
    def get_contact(self, file: ClientFile) -> dict[str, Any] | None:
        if not file.show_contact_details:
            return None
        return dict(ContactDetailsSerializer(file.client).data)


class _AhvField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return ahv_normalise(text)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class ClientCreateSerializer(InputSerializer):
    ahv_number = _AhvField(max_length=20, help_text="756.XXXX.XXXX.XX, with or without dots.")
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    municipality_bfs = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=9999, help_text="Null: living outside the canton."
    )
    street = _plain_text(150, required=False, default="")
    house_number = _plain_text(12, required=False, default="")
    postal_code = serializers.RegexField(r"^(\d{4})?$", max_length=4, required=False, default="", allow_blank=True)
    town = _plain_text(100, required=False, default="")
    phone = _plain_text(40, required=False, default="")
    email = serializers.EmailField(max_length=254, required=False, default="", allow_blank=True)
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=Language.choices), required=False, default=list, max_length=10
    )
    unit = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=ID_MAX,
        help_text="Your unit that registers the person (default: the token's).",
    )
    external_case_number = _plain_text(50, required=False, default="")
    registered_on = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")
    confirm_new = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Without it, a person born on the same (or swapped) day with a close name whom your institution "
            "may see is answered with 409 likely-duplicate and its candidates. Send true after checking them "
            "to create the person anyway."
        ),
    )

    def validate_municipality_bfs(self, value: int | None) -> Municipality | None:
        return municipality_from_bfs(value)


class ClientContactUpdateSerializer(InputSerializer):
    street = _plain_text(150, required=False)
    house_number = _plain_text(12, required=False)
    postal_code = serializers.RegexField(r"^(\d{4})?$", max_length=4, required=False, allow_blank=True)
    town = _plain_text(100, required=False)
    phone = _plain_text(40, required=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=Language.choices), required=False, max_length=10
    )
    municipality_bfs = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=9999)

    def validate_municipality_bfs(self, value: int | None) -> Municipality | None:
        return municipality_from_bfs(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(_("Nennen Sie mindestens ein Feld, das sich ändert."))
        return attrs


# ---------------------------------------------------------------------------------------------------------
# Registrations
# ---------------------------------------------------------------------------------------------------------


class RegistrationCreateSerializer(InputSerializer):
    unit = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=ID_MAX)
    external_case_number = _plain_text(50, required=False, default="")
    registered_on = serializers.DateField()
    deregistered_on = serializers.DateField(required=False, allow_null=True)


class RegistrationEndSerializer(InputSerializer):
    deregistered_on = serializers.DateField()


# ---------------------------------------------------------------------------------------------------------
# Consents
# ---------------------------------------------------------------------------------------------------------


class ConsentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["valid", "pending", "expired", "superseded", "revoked"])
    institutions = InstitutionRefSerializer(many=True, source="institutions.all")
    categories = serializers.ListField(child=serializers.ChoiceField(choices=DataCategory.choices))
    purpose = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    replaces = serializers.IntegerField(source="replaces_id", allow_null=True)
    recorded_at = serializers.DateTimeField()
    recorded_by_institution = serializers.SerializerMethodField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revocation_reason = serializers.CharField()
    has_document = serializers.SerializerMethodField(help_text="Whether the signed form is on file.")

    @extend_schema_field(InstitutionRefSerializer(allow_null=True))
    def get_recorded_by_institution(self, consent: Consent) -> dict[str, Any] | None:
        institution = consent.recorded_by.institution
        return dict(InstitutionRefSerializer(institution).data) if institution else None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_has_document(self, consent: Consent) -> bool:
        return bool(consent.document)


class ConsentCreateSerializer(InputSerializer):
    institutions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        min_length=1,
        max_length=50,
        help_text="The institutions that may exchange data (ids).",
    )
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=DataCategory.choices), min_length=1, max_length=len(DataCategory.values)
    )
    purpose = serializers.CharField(max_length=2000)
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(required=False, allow_null=True)
    replaces = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=ID_MAX, help_text="The version this one amends (id)."
    )
    verbal_statement = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "Without the signed form (multipart `document`), a consent that names other institutions needs the "
            "record of the verbal consent (who took it, when, how) and `form_due_on`, at most 30 days ahead."
        ),
    )
    form_due_on = serializers.DateField(
        required=False, allow_null=True, help_text="The deadline for the signed form of a verbal consent."
    )

    def validate_institutions(self, value: list[int]) -> list[Institution]:
        wanted = set(value)
        found = list(Institution.objects.filter(pk__in=wanted, is_active=True))
        if len(found) != len(wanted):
            raise serializers.ValidationError(_("Unbekannte oder inaktive Institution."))
        return found


class ConsentCreateMultipartSerializer(ConsentCreateSerializer):
    document = serializers.FileField(required=False, help_text="The signed form: PDF, PNG, JPEG or TIFF.")


class ConsentRevokeSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why or on what occasion the client revoked it.")

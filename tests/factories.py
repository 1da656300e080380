"""factory_boy factories for the test world.

Factories write models directly so that a test can build any state, including states the services would
refuse to reach (an expired consent, a participant who left a case). Tests of the services themselves
call the services.
"""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from stdnum import ean

from iiz.cases.models import Case, CaseParticipant
from iiz.clients.models import Client, Consent, DataCategory, Registration, Sex
from iiz.organisations.models import Institution, InstitutionKind, OrganisationalUnit, User, UserRole

TEST_PASSWORD = "ein-langes-Test-Passwort-2026"


def ahv_from_serial(serial: int) -> str:
    """The valid AHV number (13 digits, compact) with the nine-digit serial ``serial``."""
    body = f"756{serial:09d}"
    return body + ean.calc_check_digit(body)


def partner(kind: str) -> Institution:
    """The cantonal partner institution of a kind, as loaded by the data migration."""
    return Institution.objects.get(kind=kind, municipality__isnull=True)


class InstitutionFactory(DjangoModelFactory):
    class Meta:
        model = Institution

    kind = InstitutionKind.SOCIAL_SERVICE
    name = factory.Sequence(lambda n: f"Testinstitution {n}")
    short_name = factory.Sequence(lambda n: f"TI{n}")
    is_partner = True


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = OrganisationalUnit

    institution = factory.SubFactory(InstitutionFactory)
    name = factory.Sequence(lambda n: f"Testeinheit {n}")


class UserFactory(DjangoModelFactory):
    """A user of a unit with roles: ``UserFactory(unit=unit, roles=[Role.CASE_WORKER])``."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name", locale="de_CH")
    last_name = factory.Faker("last_name", locale="de_CH")
    email = factory.LazyAttribute(lambda o: f"{o.username}@test.iiz.invalid")
    unit = factory.SubFactory(UnitFactory)
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            UserRole.objects.bulk_create([UserRole(user=obj, role=role) for role in extracted])


class ClientFactory(DjangoModelFactory):
    """A client recorded by an institution (the labour office unless told) and registered with it.

    ``ClientFactory(registered=False)`` leaves the client without any registration.
    """

    class Meta:
        model = Client
        skip_postgeneration_save = True

    ahv_number = factory.Sequence(lambda n: ahv_from_serial(100_000_000 + n))
    first_name = factory.Faker("first_name", locale="de_CH")
    last_name = factory.Sequence(lambda n: f"Testperson{n}")
    date_of_birth = factory.Faker("date_between", start_date=dt.date(1960, 1, 1), end_date=dt.date(2005, 12, 31))
    sex = Sex.FEMALE
    street = "Bahnhofstrasse"
    house_number = "12"
    postal_code = "8610"
    town = "Uster"
    phone = "044 000 00 00"
    email = factory.LazyAttribute(lambda o: f"{o.last_name.lower()}@example.invalid")
    recorded_by_institution = factory.LazyFunction(lambda: partner(InstitutionKind.LABOUR))

    @factory.post_generation
    def registered(obj: Client, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted is not False:
            RegistrationFactory(client=obj, institution=obj.recorded_by_institution)


class RegistrationFactory(DjangoModelFactory):
    class Meta:
        model = Registration

    client = factory.SubFactory(ClientFactory, registered=False)
    institution = factory.LazyFunction(lambda: partner(InstitutionKind.LABOUR))
    unit = None
    external_case_number = factory.Sequence(lambda n: f"FN-{n:06d}")
    registered_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=90))
    # Someone of the registering institution recorded it, as the service does.
    recorded_by = factory.SubFactory(
        UserFactory, unit=factory.SubFactory(UnitFactory, institution=factory.SelfAttribute("...institution"))
    )


class ConsentFactory(DjangoModelFactory):
    """A consent that is valid today: ``ConsentFactory(client=c, institutions=[a, b], categories=[...])``."""

    class Meta:
        model = Consent
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    version = 1
    categories = factory.LazyFunction(lambda: [DataCategory.PERSONAL])
    purpose = "Koordination der Integration im iiz-Fall"
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    valid_until = None
    recorded_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def institutions(obj: Consent, create: bool, extracted: list[Institution] | None, **kwargs: object) -> None:
        if create and extracted:
            obj.institutions.set(extracted)


class CaseFactory(DjangoModelFactory):
    class Meta:
        model = Case

    client = factory.SubFactory(ClientFactory)
    reference = factory.Sequence(lambda n: f"IIZ-T-{n:05d}")
    opened_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=10))
    opened_by = factory.SubFactory(UserFactory)
    serving_institution = factory.LazyAttribute(lambda o: o.client.recorded_by_institution)


class CaseParticipantFactory(DjangoModelFactory):
    """A user taking part in a case for the user's own institution (``left_on=None``: still taking part)."""

    class Meta:
        model = CaseParticipant

    case = factory.SubFactory(CaseFactory)
    user = factory.SubFactory(UserFactory)
    institution = factory.LazyAttribute(lambda o: o.user.institution)
    joined_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=5))
    left_on = None

"""The one place that decides who may see and do what.

Selectors, services and views ask this module; nothing else decides access. The rules:

* Only users with a client-work role (iiz specialist, case worker, coordinator, case-team member) ever
  see a person. The operating committee, the supervisory body and administrators see aggregates and
  catalogues, never a person, unless they also hold a client-work role.
* A user sees a client when the user's own institution has a registration for that client, or when the
  user takes part in one of the client's IIZ cases.
* Data recorded by another institution (contact details, that institution's registration) is shown only
  under a valid consent of the client that names both institutions and covers the data's category.
* Everything else is hidden: a 404, never a hint that the person exists.
* A partner system calls the API with a token of its institution. The token acts through a service user of
  that institution (role case worker, no password) and is bound to it for the request; bound so, the user
  acts for the institution as a whole: it sees the cases in which anyone of its institution takes part, and
  otherwise the same rules apply (own registrations, consent for other institutions' data). The token's
  scopes narrow what it may do further; they never widen what the rules allow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz.audit.models import ACCESS_REQUEST_DAYS, AccessRequest, AuditBasis
from iiz.organisations.models import Role

if TYPE_CHECKING:
    from iiz.cases.models import Agreement, Case
    from iiz.clients.models import Client, Consent, Registration
    from iiz.exchange.models import LegalBasis
    from iiz.frontdoor.models import EarlyDetectionReport
    from iiz.organisations.models import Institution, User

CLIENT_WORK_ROLES = frozenset({Role.SPECIALIST, Role.CASE_WORKER, Role.COORDINATOR, Role.CASE_TEAM_MEMBER})
# Roles that may open a client record for their institution.
CLIENT_CREATE_ROLES = frozenset({Role.SPECIALIST, Role.CASE_WORKER, Role.COORDINATOR})


def may_work_with_clients(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.unit_id and user.has_role(*CLIENT_WORK_ROLES))


def may_create_clients(user: User) -> bool:
    return may_work_with_clients(user) and user.has_role(*CLIENT_CREATE_ROLES)


def may_use_directory(user: User) -> bool:
    """The directory of iiz specialists serves everyone who works with clients, coordinators included."""
    return may_work_with_clients(user)


def own_institution(user: User) -> Institution:
    """The institution the user acts for; services refuse users without one."""
    institution = user.institution
    if institution is None:
        raise PermissionDenied(_("Ihr Konto ist keiner Institution zugeordnet."))
    return institution


def may_handle_access_requests(user: User) -> bool:
    """The coordinators of the Geschäftsstelle answer persons' requests for access to their data."""
    return user.is_authenticated and user.has_role(Role.COORDINATOR)


# ---------------------------------------------------------------------------------------------------------
# The front door: reports for early detection
# ---------------------------------------------------------------------------------------------------------


def may_triage_reports(user: User) -> bool:
    """The Geschäftsstelle's coordinators run the contact point: they see every report and decide on it."""
    return bool(user.is_authenticated and user.is_active and user.unit_id and user.has_role(Role.COORDINATOR))


def may_receive_reports(user: User) -> bool:
    """A report forwarded to an institution goes to its iiz specialists (and the coordinators see all)."""
    return may_triage_reports(user) or bool(
        user.is_authenticated and user.is_active and user.unit_id and user.has_role(Role.SPECIALIST)
    )


def reports_visible_to(*, user: User) -> QuerySet[EarlyDetectionReport]:
    """Every report for the coordinators; the reports forwarded to their institution for the specialists."""
    from iiz.frontdoor.models import EarlyDetectionReport

    if may_triage_reports(user):
        return EarlyDetectionReport.objects.all()
    if may_receive_reports(user) and user.institution_id is not None:
        return EarlyDetectionReport.objects.filter(forwarded_to_id=user.institution_id)
    return EarlyDetectionReport.objects.none()


def may_handle_ahv_conflicts(user: User) -> bool:
    """The coordinators resolve AHV numbers given with another person's name or birth date (AhvConflict)."""
    return user.is_authenticated and user.has_role(Role.COORDINATOR)


def may_administer(user: User) -> bool:
    return bool(user.is_active and (user.is_superuser or user.has_role(Role.ADMINISTRATOR)))


# Steering: dashboards and reports show aggregates. The operating committee and the coordinators steer case
# work (operational); the supervisory body reads outcomes only (strategic), and so do the other two.
OPERATIONAL_DASHBOARD_ROLES = frozenset({Role.OPERATING_COMMITTEE, Role.COORDINATOR})
STRATEGIC_DASHBOARD_ROLES = frozenset({Role.SUPERVISORY_BODY, Role.OPERATING_COMMITTEE, Role.COORDINATOR})


def may_see_operational_dashboard(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(*OPERATIONAL_DASHBOARD_ROLES))


def may_see_strategic_dashboard(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_role(*STRATEGIC_DASHBOARD_ROLES))


def may_drill_down(user: User) -> bool:
    """From a figure to the cases behind it: only for those who may see cases at all (and then only theirs)."""
    return may_work_with_clients(user)


def may_export_case_analysis(user: User) -> bool:
    """The pseudonymised case histories for evaluators are rows about persons, not aggregates.

    Only the Geschäftsstelle's coordinators, who commission the evaluations and work with cases anyway,
    may export them; the supervisory body and the operating committee see aggregates only.
    """
    return bool(user.is_authenticated and user.is_active and user.has_role(Role.COORDINATOR))


# ---------------------------------------------------------------------------------------------------------
# Partner systems: API tokens act for their institution through a service user
# ---------------------------------------------------------------------------------------------------------


def acts_for_institution(user: User) -> bool:
    """Whether the user is a partner system's service user, bound to a live API token for this request.

    The API's authentication binds the token to the user object (``user.api_token``). A service user loaded
    any other way carries no token and so sees only what its own case participation allows, which is
    nothing: deny by default.
    """
    return getattr(user, "api_token", None) is not None


def token_allows(user: User, scope: str) -> bool:
    """Whether the token behind the request grants the scope. Session users have no token: roles decide."""
    token = getattr(user, "api_token", None)
    return token is None or scope in token.scopes


def may_read_published_kpis(user: User) -> bool:
    """The strategic key figures (aggregates, small numbers suppressed): the steering roles, and partner
    systems whose token has the scope for them (checked by the API with ``token_allows``)."""
    return may_see_strategic_dashboard(user) or acts_for_institution(user)


def _participation(user: User, **lookups: object) -> Q:
    """Current participation in a case: the user's own, or for a partner system anyone of its institution."""
    if acts_for_institution(user):
        return Q(institution_id=user.institution_id, left_on__isnull=True, **lookups)
    return Q(user=user, left_on__isnull=True, **lookups)


def institutions_taking_part(*, case: Case) -> set[int]:
    """The institutions of everyone who currently takes part in the case (those who may learn of its events)."""
    return set(case.participants.filter(left_on__isnull=True).values_list("institution_id", flat=True))


def clients_visible_to(*, user: User) -> QuerySet[Client]:
    """Every client the user may see at all (identification data only; details need `ClientAccess`)."""
    from iiz.cases.models import CaseParticipant
    from iiz.clients.models import Client, Registration

    institution_id = user.institution_id
    if not may_work_with_clients(user) or institution_id is None:
        return Client.objects.none()
    own_registration = Registration.objects.filter(client=OuterRef("pk"), institution_id=institution_id)
    takes_part = CaseParticipant.objects.filter(_participation(user, case__client=OuterRef("pk")))
    return Client.objects.filter(Q(Exists(own_registration)) | Q(Exists(takes_part)))


def _valid_on(day: dt.date) -> Q:
    return Q(revoked_at__isnull=True, superseded_at__isnull=True, valid_from__lte=day) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=day)
    )


def valid_consents(*, client: Client, on: dt.date | None = None) -> list[Consent]:
    return list(
        client.consents.filter(_valid_on(on or timezone.localdate()))
        .select_related("recorded_by__unit")
        .prefetch_related("institutions")
    )


def registered_clients_access(*, user: User, clients: Iterable[Client]) -> list[ClientAccess]:
    """The user's access to many clients registered with the user's institution, in two queries.

    For lists of the institution's own persons (the eCH export of its registrations): the basis is the
    registration, and the consents decide what of other institutions' data may be seen, as for one client.
    """
    from iiz.clients.models import Consent, Registration

    clients = list(clients)
    registered = set(
        Registration.objects.filter(
            client__in=clients, institution_id=own_institution(user).pk
        ).values_list("client_id", flat=True)
    )
    if any(client.pk not in registered for client in clients):
        raise PermissionDenied
    consents: dict[int, list[Consent]] = {}
    for consent in (
        Consent.objects.filter(_valid_on(timezone.localdate()), client__in=clients)
        .select_related("recorded_by__unit")
        .prefetch_related("institutions")
    ):
        consents.setdefault(consent.client_id, []).append(consent)
    return [
        ClientAccess(user=user, client=client, basis=AuditBasis.REGISTRATION, consents=consents.get(client.pk, []))
        for client in clients
    ]


@dataclass
class ClientAccess:
    """What one user may see of one client, worked out once per request.

    ``basis`` says why the user sees the client at all; ``may_see`` answers for each piece of data
    recorded by an institution in a category.
    """

    user: User
    client: Client
    basis: str
    consents: list[Consent] = field(default_factory=list)
    consent_ids_used: set[int] = field(default_factory=set)

    @property
    def institution_id(self) -> int | None:
        return self.user.institution_id

    def consent_between(self, *, category: str, first_id: int | None, second_id: int | None) -> Consent | None:
        """A valid consent that lets ``first_id`` receive data of the category from ``second_id``, if any.

        It must name both institutions and the category, and be in force as ``Consent.unlocks`` says (the
        signed form, or a verbal consent within its deadline; medical data never on a consent that only the
        receiving institution vouches for).
        """
        for consent in self.consents:
            ids = {i.pk for i in consent.institutions.all()}
            if (
                category in consent.categories
                and first_id in ids
                and second_id in ids
                and consent.unlocks(category=category, receiver_id=first_id)
            ):
                return consent
        return None

    def consent_covering(self, *, category: str, recorded_by_id: int) -> Consent | None:
        return self.consent_between(category=category, first_id=self.institution_id, second_id=recorded_by_id)

    def may_see(self, *, category: str, recorded_by_id: int) -> bool:
        if recorded_by_id == self.institution_id:
            return True
        consent = self.consent_covering(category=category, recorded_by_id=recorded_by_id)
        if consent is not None:
            self.consent_ids_used.add(consent.pk)
            return True
        return False

    def may_see_contact_details(self) -> bool:
        from iiz.clients.models import DataCategory

        return self.may_see(category=DataCategory.PERSONAL, recorded_by_id=self.client.recorded_by_institution_id)

    def may_see_registration(self, registration: Registration) -> bool:
        return self.may_see(category=registration.category, recorded_by_id=registration.institution_id)

    def may_edit_contact_details(self) -> bool:
        # The recording institution keeps the contact data. Another institution serving the person may correct
        # them only where it may see them (the edit form shows the current values).
        if self.client.recorded_by_institution_id == self.institution_id:
            return True
        return self.basis == AuditBasis.REGISTRATION and self.may_see_contact_details()

    def may_read_consent_document(self, consent: Consent) -> bool:
        if consent.recorded_by.institution_id == self.institution_id:
            return True
        return any(i.pk == self.institution_id for i in consent.institutions.all())

    def may_see_accesses_of(self, institution: Institution) -> bool:
        """Whether the file's access log may show the accesses of an institution to this viewer.

        That an institution opened the file says that it serves the person (the IV-Stelle: health; the social
        service: social assistance), so its accesses are shown like its registration: to itself, and to others
        only under the person's consent for that category. The Geschäftsstelle's accesses are always shown.
        """
        from iiz.clients.models import REGISTRATION_CATEGORY, DataCategory
        from iiz.organisations.models import InstitutionKind

        if institution.pk == self.institution_id or institution.kind == InstitutionKind.COORDINATION:
            return True
        category = REGISTRATION_CATEGORY.get(institution.kind, DataCategory.PERSONAL)
        consent = self.consent_between(category=category, first_id=self.institution_id, second_id=institution.pk)
        return consent is not None

    @property
    def is_read_only(self) -> bool:
        """An access request opens the file for the right-of-access report only: nothing may be changed or
        passed on through it (no registration, consent, screening, case or export)."""
        return self.basis == AuditBasis.ACCESS_REQUEST

    def audit_details(self) -> dict[str, object]:
        return {"consents_used": sorted(self.consent_ids_used)} if self.consent_ids_used else {}


def client_access_for(*, user: User, client: Client) -> ClientAccess | None:
    """The user's access to a client, or None when the client is hidden from the user."""
    from iiz.cases.models import CaseParticipant
    from iiz.clients.models import Registration

    institution_id = user.institution_id
    if not may_work_with_clients(user) or institution_id is None:
        return None
    if Registration.objects.filter(client=client, institution_id=institution_id).exists():
        basis = AuditBasis.REGISTRATION
    elif CaseParticipant.objects.filter(_participation(user, case__client=client)).exists():
        basis = AuditBasis.CASE
    elif user.has_role(Role.COORDINATOR) and override_request_pending(client=client):
        # A specialist asked the Geschäftsstelle to override a failed target-group check: coordinators see
        # the person (identification only; other data stay behind consent) to decide on the request.
        basis = AuditBasis.ROLE
    elif user.has_role(Role.COORDINATOR) and access_request_open(client=client):
        # The person asked what the platform holds about them: the Geschäftsstelle answers, case or not.
        basis = AuditBasis.ACCESS_REQUEST
    else:
        return None
    return ClientAccess(user=user, client=client, basis=basis, consents=valid_consents(client=client))


def _open_access_requests(*, client: Client) -> QuerySet[AccessRequest]:
    earliest = timezone.localdate() - dt.timedelta(days=ACCESS_REQUEST_DAYS)
    return AccessRequest.objects.filter(client=client, closed_at__isnull=True, received_on__gte=earliest)


def access_request_open(*, client: Client) -> bool:
    """An open request of the person to learn what the platform holds about them (see AccessRequest)."""
    return _open_access_requests(client=client).exists()


def open_access_request(*, client: Client) -> AccessRequest | None:
    """The newest open request of the person, which the right-of-access report answers."""
    return _open_access_requests(client=client).order_by("-received_on", "-id").first()


def may_produce_disclosure(*, user: User, client: Client) -> AccessRequest | None:
    """The request a coordinator may answer with the right-of-access report, or None.

    The report holds the person's data of every institution, so it is produced only for the person: under
    an open access request recorded by the Geschäftsstelle, never because the coordinator takes part in
    a case (a case shows each institution's data only under the person's consent).
    """
    if not may_handle_access_requests(user) or client_access_for(user=user, client=client) is None:
        return None
    return open_access_request(client=client)


def override_request_pending(*, client: Client) -> bool:
    from iiz.cases.models import TargetGroupCheck

    return TargetGroupCheck.objects.filter(
        client=client, override_requested_at__isnull=False, override_by__isnull=True, passed=False
    ).exists()


# ---------------------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------------------

# Which institutions write which dimension of the situation clarification.
CLARIFICATION_WRITERS: dict[str, frozenset[str]] = {
    "social": frozenset({"social_service", "cantonal_social", "youth"}),
    "occupational": frozenset({"labour", "youth", "disability", "education"}),
    "medical": frozenset({"disability"}),
}
# The case lead (Fallführung) comes from the RAV, the social services or the IV-Stelle.
CASE_LEAD_KINDS = frozenset({"labour", "social_service", "disability"})


def cases_visible_to(*, user: User) -> QuerySet[Case]:
    """The cases the user takes part in (and has not left)."""
    from iiz.cases.models import Case

    if not may_work_with_clients(user):
        return Case.objects.none()
    institution_id = user.institution_id
    if acts_for_institution(user) and institution_id is not None:
        return Case.objects.filter(
            participants__institution_id=institution_id, participants__left_on__isnull=True
        ).distinct()
    return Case.objects.filter(participants__user=user, participants__left_on__isnull=True).distinct()


@dataclass
class CaseAccess(ClientAccess):
    """What one participant may see and do in one case."""

    case: Case | None = None
    legal_bases: list[LegalBasis] = field(default_factory=list)

    def _is(self, *roles: str) -> bool:
        return self.user.has_role(*roles)

    @property
    def is_open(self) -> bool:
        return bool(self.case and self.case.is_open)

    def may_change_level(self) -> bool:
        return self.is_open and self._is(Role.SPECIALIST, Role.COORDINATOR)

    def may_coordinate(self) -> bool:
        """Schedule meetings, record minutes, the joint client meeting and agreements (level 2 and 3).

        Requests for information are open to every participant of the case (see the exchange).
        """
        return self.is_open and self._is(Role.COORDINATOR)

    def may_edit_plan(self) -> bool:
        return self.is_open and (
            self._is(Role.COORDINATOR, Role.SPECIALIST)
            or (self.case is not None and self.case.case_lead_id == self.user.pk)
        )

    def may_write_clarification(self, dimension: str) -> bool:
        institution = self.user.institution
        return bool(self.is_open and institution and institution.kind in CLARIFICATION_WRITERS.get(dimension, ()))

    def may_close(self) -> bool:
        return self.is_open and (
            self._is(Role.COORDINATOR)
            or (self.case is not None and self.case.case_lead_id == self.user.pk)
            or (self.case is not None and self.case.level == 1 and self._is(Role.SPECIALIST))
        )

    def may_record_follow_up(self) -> bool:
        return bool(self.case and not self.case.is_open)

    def may_set_agreement_status(self, agreement: Agreement) -> bool:
        """The owner reports an agreement done, the coordination may too; a partner system may for the
        agreements of its own institution's people (it carries their work over from its own system)."""
        if not self.is_open:
            return False
        if agreement.owner_id == self.user.pk or self.may_coordinate():
            return True
        return acts_for_institution(self.user) and agreement.owner.institution_id == self.institution_id

    def legal_basis_covering(self, *, category: str, recipient_id: int) -> LegalBasis | None:
        day = timezone.localdate()
        for basis in self.legal_bases:
            if (
                basis.ended_at is None
                and basis.valid_from <= day
                and (basis.valid_until is None or basis.valid_until >= day)
                and category in basis.categories
                and any(i.pk == recipient_id for i in basis.institutions.all())
            ):
                return basis
        return None

    def exchange_basis(self, *, category: str, sender_id: int, recipient_id: int) -> str | None:
        """Why data of a category may pass from one institution to another in this case, or None."""
        consent = self.consent_between(category=category, first_id=recipient_id, second_id=sender_id)
        if consent is not None:
            return AuditBasis.CONSENT
        if self.legal_basis_covering(category=category, recipient_id=recipient_id) is not None:
            return AuditBasis.LEGAL
        return None

    def may_read_exchange(self, *, category: str, sender_id: int, recipient_ids: set[int]) -> str | None:
        """The basis on which the user may read a message or document, or None when it is hidden.

        The sending institution always reads its own; a recipient institution reads under a valid consent or
        a recorded legal basis, checked at reading time, so a revoked consent cuts access at once.
        """
        own = self.institution_id
        if own is None:
            return None
        if own == sender_id:
            return AuditBasis.CASE
        if own not in recipient_ids:
            return None
        return self.exchange_basis(category=category, sender_id=sender_id, recipient_id=own)

    def may_see_item(self, *, category: str, institution_id: int | None) -> bool:
        """An entry written by an institution in a category: the writer's own, or shared under consent."""
        if institution_id is None:
            return True
        return self.may_see(category=category, recorded_by_id=institution_id)


def case_access_for(*, user: User, case: Case) -> CaseAccess | None:
    """The user's access to a case, or None when the case is hidden from the user."""
    from iiz.cases.models import CaseParticipant

    if not may_work_with_clients(user) or user.institution_id is None:
        return None
    if not CaseParticipant.objects.filter(_participation(user, case=case)).exists():
        return None
    from iiz.exchange.models import LegalBasis

    legal_bases = list(
        LegalBasis.objects.filter(case=case, ended_at__isnull=True)
        .select_related("provision", "recorded_by")
        .prefetch_related("institutions")
    )
    return CaseAccess(
        user=user,
        client=case.client,
        basis=AuditBasis.CASE,
        consents=valid_consents(client=case.client),
        case=case,
        legal_bases=legal_bases,
    )


def client_access_required(*, user: User, client: Client) -> ClientAccess:
    """For services that change a client's data: the user's access to the client, or PermissionDenied."""
    grant = client_access_for(user=user, client=client)
    if grant is None:
        raise PermissionDenied
    refuse_if_read_only(grant)
    return grant


def refuse_if_read_only(grant: ClientAccess) -> None:
    """Changes and disclosures to others need more than an access request's grant (see ClientAccess.is_read_only)."""
    if grant.is_read_only:
        raise PermissionDenied(
            _("Das Auskunftsbegehren öffnet die Akte nur für die Auskunft an die Person, nicht für Änderungen.")
        )


def case_access_required(*, user: User, case: Case) -> CaseAccess:
    """For services: the user's access to the case, or PermissionDenied."""
    grant = case_access_for(user=user, case=case)
    if grant is None:
        raise PermissionDenied
    return grant

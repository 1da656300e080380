"""The access matrix: every routed URL × every role persona × own, foreign and consented objects.

One table (``TABLE``) has one entry per route, keyed as ``tests.access_matrix.routes()`` names it; the
admin site is one group entry whose members are taken from the resolver and are each requested. Each entry
says how to build the route's URL for an object of each kind and what each persona must get, written down
from the rules (``iiz/access.py``, ``DOMAIN.md``), not from the responses:

* own: the persona's institution's client, a case the persona takes part in, a message its institution sent;
* foreign: another institution's client, a case the persona is not in;
* consented: another institution's client, message or document that the persona reaches only because the
  client's consent names both institutions (the persona's institution is registered too, or takes part);
* unconsented (where consent decides): the same without the consent, or after the client revoked it;
* addressed (the exchange's answer page): a request another institution sent to the persona's institution.

Personas without an institution of their own for client work (committee, supervisory body, administrator,
anonymous) are given the coordinator's objects: what they get does not depend on the object. API routes are
called with the bearer token of a partner system (the Amt für Arbeit) instead of a session.

To add a route: add an ``Entry`` to ``TABLE`` (see README, "Tests"); ``test_it_has_an_entry_for_every_route``
fails naming every route without one. The scenario is built once per module and each test rolls back.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Model
from django.test import Client as HttpClient
from django.test.client import ClientHandler
from django.urls import reverse
from django.utils import timezone

from iiz.audit.models import AccessRequest, AuditAction, AuditEvent
from iiz.cases import services as case_services
from iiz.cases.models import Case, CaseStatus, FollowUp, Outcome, ReportChannel, ReporterType, TargetGroupCheck
from iiz.clients.models import AhvConflict, AhvConflictSource, Client, DataCategory
from iiz.clients.services import consent_record, consent_revoke
from iiz.exchange import services as exchange_services
from iiz.exchange.models import DocumentKind, LegalProvision, MessageKind
from iiz.frontdoor.models import EarlyDetectionReport
from iiz.frontdoor.services import report_forward, report_submit
from iiz.interfaces.models import ApiToken, Scope, WebhookEvent
from iiz.interfaces.models_imports import ImportBatch, MergeRecord
from iiz.interfaces.services import api_token_issue, webhook_subscription_create
from iiz.organisations.models import Institution, InstitutionKind, OrganisationalUnit, Role, User
from iiz.steering.models import ReportStatus, SteeringReport
from tests import cases_world
from tests.access_matrix import (
    FORBIDDEN,
    HIDDEN,
    LOGIN,
    OK,
    REDIRECT,
    UNAUTHENTICATED,
    Route,
    coverage,
    outcome_of,
    routes,
)
from tests.conftest import world_restore_if_flushed
from tests.factories import (
    CaseFactory,
    CaseParticipantFactory,
    ClientFactory,
    RegistrationFactory,
    UserFactory,
    partner,
)

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# ---------------------------------------------------------------------------------------------------------
# Personas and what the rules give each of them
# ---------------------------------------------------------------------------------------------------------

USERNAMES = {
    "rav_adviser": "rav-berater",
    "iv_specialist": "iv-spezialistin",
    "social_worker": "sozialdienst-uster",
    "biz_adviser": "biz-beraterin",
    "coordinator": "koordinatorin",
    "committee": "ausschuss",
    "supervisory": "traegerschaft",
    "admin": "admin",
}
PERSONAS = [*USERNAMES, "anonymous"]
# A partner system of the Amt für Arbeit with every scope, the same system's token without any scope, nobody.
API_PERSONAS = ["partner_token", "token_without_scope", "anonymous"]

# Roles as DOMAIN.md and iiz/access.py give them to the demo personas.
CLIENT_WORK = {"rav_adviser", "iv_specialist", "social_worker", "biz_adviser", "coordinator"}
CLIENT_CREATE = CLIENT_WORK  # specialists, case workers and coordinators all open client records
SPECIALISTS = {"iv_specialist"}
COORDINATORS = {"coordinator"}
OPERATIONAL = {"committee", "coordinator"}
STRATEGIC = {"supervisory", "committee", "coordinator"}
# The institution kinds that write the occupational dimension of the clarification (access.CLARIFICATION_WRITERS).
OCCUPATIONAL_WRITERS = {"rav_adviser", "iv_specialist", "biz_adviser"}

OWN, FOREIGN, CONSENTED, NONE = "own", "foreign", "consented", "-"
# Where consent decides, also: the same kind of object of another institution that the persona's institution
# serves too, but without (or no longer with) the client's consent for it.
UNCONSENTED = "unconsented"
# A request another institution sent to the persona's institution (asking is not yet disclosing: no consent).
ADDRESSED = "addressed"
OWN_FOREIGN = (OWN, FOREIGN)
ALL_KINDS = (OWN, FOREIGN, CONSENTED)
CONSENT_KINDS = (OWN, FOREIGN, CONSENTED, UNCONSENTED)

Rule = Callable[[str, str], str]


def everyone(persona: str, kind: str) -> str:
    return OK


def signed_in(persona: str, kind: str) -> str:
    return LOGIN if persona == "anonymous" else OK


def only(allowed: set[str], otherwise: str = FORBIDDEN) -> Rule:
    """Signed-in users with one of the roles; the others get ``otherwise``."""

    def rule(persona: str, kind: str) -> str:
        if persona == "anonymous":
            return LOGIN
        if persona not in allowed:
            return otherwise
        return HIDDEN if kind == FOREIGN else OK

    return rule


def person_page(
    also: set[str] = CLIENT_WORK, *, roles_without_client_work: str = FORBIDDEN, unconsented: str = HIDDEN
) -> Rule:
    """A page about a person or a case: client-work roles only, a foreign object is hidden (404) before any
    role check of the page itself (``also``: who among those who see the object may use the page;
    ``unconsented``: what an object gets that only the client's consent would have opened)."""

    def rule(persona: str, kind: str) -> str:
        if persona == "anonymous":
            return LOGIN
        if persona not in CLIENT_WORK:
            return roles_without_client_work
        if kind == FOREIGN:
            return HIDDEN
        if kind == UNCONSENTED:
            return unconsented
        return OK if persona in also else FORBIDDEN

    return rule


def exchange_page(also: set[str] = CLIENT_WORK, *, own: str | None = None) -> Rule:
    """The exchange reads the case with ``case_access_get``: a case is hidden (404) from everyone who does not
    take part; the roles that never see a person are refused first (403), as on the client and case pages."""
    base = person_page(also)

    def rule(persona: str, kind: str) -> str:
        if own is not None and kind == OWN and persona in CLIENT_WORK:
            return own
        return base(persona, kind)

    return rule


def api(*, scoped: bool = True) -> Rule:
    """A partner system sees what its institution may see; a token's scopes narrow that further."""

    def rule(persona: str, kind: str) -> str:
        if persona == "anonymous":
            return UNAUTHENTICATED
        if persona == "token_without_scope" and scoped:
            return FORBIDDEN
        return HIDDEN if kind in (FOREIGN, UNCONSENTED) else OK

    return rule


def triage(also: set[str] = COORDINATORS | SPECIALISTS) -> Rule:
    """The contact point's queue: coordinators see every report, specialists those forwarded to their
    institution (another institution's report does not exist for them); ``also`` may act on what they see."""

    def rule(persona: str, kind: str) -> str:
        if persona == "anonymous":
            return LOGIN
        if persona not in COORDINATORS | SPECIALISTS:
            return FORBIDDEN
        if kind == FOREIGN and persona not in COORDINATORS:
            return HIDDEN
        return OK if persona in also else FORBIDDEN

    return rule


def disclosure_page(persona: str, kind: str) -> str:
    expected = person_page(COORDINATORS)(persona, kind)
    return FORBIDDEN if expected == OK and kind != CONSENTED else expected


def report_download(persona: str, kind: str) -> str:
    # Strategic reports (own) go to the three steering roles, operational ones (foreign) not to the
    # supervisory body, which reads outcomes only; a report outside one's audience does not exist.
    if persona == "anonymous":
        return LOGIN
    if persona not in STRATEGIC | OPERATIONAL:
        return FORBIDDEN
    if kind == FOREIGN and persona not in OPERATIONAL:
        return HIDDEN
    return OK


# ---------------------------------------------------------------------------------------------------------
# The scenario: the objects of every kind, built once per module through the services where it matters
# ---------------------------------------------------------------------------------------------------------


def _pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


class Scenario:
    def __init__(self) -> None:
        today = timezone.localdate()
        self.users = {persona: User.objects.get(username=name) for persona, name in USERNAMES.items()}
        u = self.users
        self.institution: dict[str, Institution] = {p: u[p].institution for p in CLIENT_WORK}  # type: ignore[misc]
        cantonal = partner(InstitutionKind.CANTONAL_SOCIAL)
        # The "other institution" of foreign and consented objects: the Kantonales Sozialamt, where no persona works.
        self.stranger = UserFactory(
            unit=OrganisationalUnit.objects.get(name="Kantonales Sozialamt"),
            roles=[Role.SPECIALIST, Role.CASE_TEAM_MEMBER],
        )
        everybody = [cantonal, *self.institution.values()]

        # Own clients: recorded and registered by the persona's institution, with a consent (and its signed
        # form) recorded by the persona, a failed target-group check, a duplicate, a merge and an import.
        self.own_client: dict[str, Client] = {}
        self.own_registration = {}
        self.own_consent = {}
        self.own_check = {}
        self.duplicate = {}
        self.merge = {}
        self.batch = {}
        for persona in sorted(CLIENT_WORK):
            institution = self.institution[persona]
            client, registration = self._client(institution, u[persona])
            self.own_client[persona], self.own_registration[persona] = client, registration
            self.own_consent[persona] = consent_record(
                actor=u[persona],
                client=client,
                institutions=[institution],
                categories=[DataCategory.PERSONAL],
                purpose="Abklärung",
                valid_from=today,
                document=_pdf(),
            )
            self.own_check[persona] = self._failed_check(client, institution, u[persona])
            self.duplicate[persona] = self._client(institution, u[persona])[0]
            self.merge[persona] = self._merge(client, u[persona])
            self.batch[persona] = self._batch(institution, u[persona])

        # The consented client: recorded by the Kantonales Sozialamt, registered with every persona's
        # institution too, and a consent of all of them for every category.
        self.q, self.q_registration = self._client(cantonal, self.stranger)
        self.q_own_registration = {
            p: RegistrationFactory(client=self.q, institution=i, recorded_by=u[p]) for p, i in self.institution.items()
        }
        self.q_consent = consent_record(
            actor=self.stranger,
            client=self.q,
            institutions=everybody,
            categories=list(DataCategory.values),
            purpose="Koordination im iiz-Fall",
            valid_from=today,
            document=_pdf(),
        )

        # The unconsented client: like the consented one, but its consent names the Kantonales Sozialamt only.
        self.u, self.u_registration = self._client(cantonal, self.stranger)
        for p, i in self.institution.items():
            RegistrationFactory(client=self.u, institution=i, recorded_by=u[p])
        self.u_consent = consent_record(
            actor=self.stranger,
            client=self.u,
            institutions=[cantonal],
            categories=list(DataCategory.values),
            purpose="Abklärung",
            valid_from=today,
            document=_pdf(),
        )

        # The foreign client: the Kantonales Sozialamt's alone, with its own case.
        self.f, self.f_registration = self._client(cantonal, self.stranger)
        self.f_consent = consent_record(
            actor=self.stranger,
            client=self.f,
            institutions=[cantonal],
            categories=[DataCategory.PERSONAL],
            purpose="Abklärung",
            valid_from=today,
            document=_pdf(),
        )
        self.f_check = self._failed_check(self.f, cantonal, self.stranger)
        self.f_duplicate = self._client(cantonal, self.stranger)[0]
        self.f_merge = self._merge(self.f, self.stranger)
        self.f_batch = self._batch(cantonal, self.stranger)
        self.foreign_case = CaseFactory(client=self.f, opened_by=self.stranger, serving_institution=cantonal)
        CaseParticipantFactory(case=self.foreign_case, user=self.stranger)

        # The case: level 3, opened by the IV specialist, with every client-work persona and the
        # Kantonales Sozialamt taking part, and the client's consent for all of them and every category.
        self.case = self._case(everybody)

        # A closed case with a follow-up due, every client-work persona taking part.
        self.closed_case = CaseFactory(
            client=self.case.client,
            opened_by=u["iv_specialist"],
            opened_on=today - dt.timedelta(days=300),
            status=CaseStatus.CLOSED,
            closed_on=today - dt.timedelta(days=190),
            outcome=Outcome.FIRST_LABOUR_MARKET,
        )
        for persona in sorted(CLIENT_WORK):
            CaseParticipantFactory(case=self.closed_case, user=u[persona], joined_on=today - dt.timedelta(days=290))
        self.follow_up = FollowUp.objects.create(case=self.closed_case, months_after=6, due_on=today)

        # A person's request for access to their data, open, recorded by the Geschäftsstelle.
        self.access_request = AccessRequest.objects.create(
            client=self.q, received_on=today, identity_check="Identitätskarte", recorded_by=u["coordinator"]
        )

        # Reports for early detection: one forwarded to the IV-Stelle (own for its specialist), one forwarded to
        # the Kantonales Sozialamt (foreign); the coordinators see both.
        self.early_report = {
            kind: self._early_report(institution)
            for kind, institution in ((OWN, self.institution["iv_specialist"]), (FOREIGN, cantonal))
        }

        # An AHV number given with another name for the Kantonales Sozialamt's person, for the coordinators.
        self.ahv_conflict = AhvConflict.objects.create(
            client=self.f,
            institution=self.institution["rav_adviser"],
            reported_by=u["rav_adviser"],
            source=AhvConflictSource.FORM,
            typed_first_name="Eva",
            typed_last_name="Erfunden",
            typed_date_of_birth=dt.date(1990, 1, 1),
        )

        # Steering reports: a strategic one and an operational one, finished.
        self.report = {audience: self._report(audience) for audience in ("strategic", "operational")}

        # Partner systems: the Amt für Arbeit's tokens, and webhook subscriptions of it and of the IV-Stelle.
        labour, disability = self.institution["rav_adviser"], self.institution["iv_specialist"]
        full = api_token_issue(actor=u["admin"], institution=labour, name="Matrix AFA", scopes=list(Scope.values))
        # A token needs a scope to be issued; this one then loses it (a state the service would refuse).
        bare = api_token_issue(
            actor=u["admin"], institution=labour, name="Matrix ohne Rechte", scopes=[Scope.KPIS_READ]
        )
        ApiToken.objects.filter(pk=bare.token.pk).update(scopes=[])
        self.token = {"partner_token": full.key, "token_without_scope": bare.key}
        self.token_user = {"partner_token": full.token.service_user, "token_without_scope": bare.token.service_user}
        self.subscription = {
            kind: webhook_subscription_create(
                actor=u["admin"],
                institution=institution,
                target_url=f"https://{kind}.partner.example/hook",
                events=[WebhookEvent.CASE_OPENED],
            ).subscription
            for kind, institution in ((OWN, labour), (FOREIGN, disability))
        }

        self.session = {}
        for persona, user in u.items():
            http = HttpClient()
            http.force_login(user, backend="iiz.organisations.backends.IizBackend")
            self.session[persona] = http.cookies[settings.SESSION_COOKIE_NAME].value

    # --- builders ----------------------------------------------------------------------------------------

    @staticmethod
    def _client(institution: Institution, by: User) -> tuple[Client, Any]:
        client = ClientFactory(recorded_by_institution=institution, registered=False, municipality=cases_world.uster())
        return client, RegistrationFactory(client=client, institution=institution, recorded_by=by)

    @staticmethod
    def _failed_check(client: Client, institution: Institution, by: User) -> TargetGroupCheck:
        return TargetGroupCheck.objects.create(
            client=client,
            serving_institution=institution,
            checked_by=by,
            checked_on=cases_world.days_ago(5),
            employable=False,
            resident_in_canton=True,
            registered_with_partner=True,
            passed=False,
            failures=["Erwerbsfähigkeit: nicht erwerbsfähig"],
        )

    def _merge(self, kept: Client, by: User) -> MergeRecord:
        merged = self._client(kept.recorded_by_institution, by)[0]
        return MergeRecord.objects.create(kept=kept, merged=merged, reason="Doppelt erfasst", moved={}, merged_by=by)

    @staticmethod
    def _batch(institution: Institution, by: User) -> ImportBatch:
        return ImportBatch.objects.create(
            institution=institution, created_by=by, file="imports/matrix.csv", file_name="matrix.csv", file_format="csv"
        )

    def _early_report(self, institution: Institution) -> EarlyDetectionReport:
        report = report_submit(
            channel=ReportChannel.WEB,
            reporter_type=ReporterType.EMPLOYER,
            reporter_name="Arbeitgeberin",
            reporter_phone="044 000 00 00",
            person_first_name="Mara",
            person_last_name="Gemeldet",
            person_date_of_birth=dt.date(1980, 1, 2),
            description="Fehlt oft.",
            person_informed=True,
            person_agrees="yes",
        )
        return report_forward(actor=self.users["coordinator"], report=report, institution=institution)

    def _report(self, audience: str) -> SteeringReport:
        report = SteeringReport.objects.create(
            period="2026-Q1", audience=audience, format="pdf", status=ReportStatus.DONE, created_by=self.users["admin"]
        )
        report.file.save("matrix.pdf", ContentFile(PDF), save=True)
        return report

    def _case(self, everybody: list[Institution]) -> Case:
        u = self.users
        person = cases_world.person_create(actor=u["iv_specialist"])
        cases_world.consent_give(
            actor=u["iv_specialist"],
            client=person,
            institutions=everybody,
            categories=[c for c in DataCategory.values if c != DataCategory.MEDICAL],
        )
        # Medical data need the signed form (a consent the receiving IV-Stelle recorded would not open them).
        medical_consent = consent_record(
            actor=u["iv_specialist"],
            client=person,
            institutions=everybody,
            categories=[DataCategory.MEDICAL],
            purpose="Koordination im iiz-Fall",
            valid_from=cases_world.days_ago(1),
            document=_pdf(),
        )
        case = cases_world.case_at_level(3, specialist=u["iv_specialist"], coordinator=u["coordinator"], client=person)
        cases_world.participant_join(
            case=case,
            by=u["coordinator"],
            users=[u["rav_adviser"], u["social_worker"], u["biz_adviser"], self.stranger],
        )
        labour = self.institution["rav_adviser"]
        self.plan, self.measure = cases_world.plan_with_measure(
            case=case,
            actor=u["coordinator"],
            case_lead=None,
            responsible_institution=labour,
            responsible_user=u["rav_adviser"],
        )
        self.meeting = cases_world.meeting_schedule(
            case=case,
            coordinator=u["coordinator"],
            users=[u[p] for p in sorted(CLIENT_WORK - COORDINATORS)],
        )
        self.agreement = {
            OWN: cases_world.agreement_add(
                case=case, coordinator=u["coordinator"], owner=u["rav_adviser"], due_on=cases_world.days_ago(-14)
            ),
            FOREIGN: cases_world.agreement_add(
                case=case, coordinator=u["coordinator"], owner=u["social_worker"], due_on=cases_world.days_ago(-14)
            ),
        }
        self.info = case_services.information_request_create(
            actor=u["coordinator"],
            case=case,
            to_institution=labour,
            question="Seit wann ist die Person beim RAV gemeldet?",
            category=DataCategory.OCCUPATIONAL,
            due_on=cases_world.days_ago(-7),
        )
        self.legal_basis = exchange_services.legal_basis_record(
            actor=u["coordinator"],
            case=case,
            provision=LegalProvision.objects.filter(is_active=True).order_by("pk").first(),  # type: ignore[arg-type]
            institutions=[labour],
            categories=[DataCategory.OCCUPATIONAL],
            justification="Gesetzliche Grundlage für den Austausch",
            valid_from=timezone.localdate(),
        )
        cantonal = self.stranger.institution
        due = cases_world.days_ago(-7)
        # Each persona's institution asks the Kantonales Sozialamt (own messages and documents) ...
        self.own_message, self.own_document = {}, {}
        for persona in sorted(CLIENT_WORK):
            self.own_message[persona] = self._request(case, u[persona], [cantonal], due)
            self.own_document[persona] = self._share(case, u[persona], [cantonal])
        # ... the Kantonales Sozialamt asks all of them (addressed: a request is read and answered without
        # consent) and tells them something, under the client's consent (consented) ...
        them = list(self.institution.values())
        self.addressed_request = self._request(case, self.stranger, them, due)
        self.consented_message = self._notice(case, self.stranger, them, DataCategory.PERSONAL)
        self.consented_document = self._share(case, self.stranger, them, DataCategory.PERSONAL)
        # ... and something medical, under a consent that the client then revoked (unconsented).
        self.unconsented_message = self._notice(case, self.stranger, them, DataCategory.MEDICAL)
        self.unconsented_document = self._share(case, self.stranger, them, DataCategory.MEDICAL)
        consent_revoke(actor=u["iv_specialist"], consent=medical_consent, reason="Die Person widerruft.")
        return Case.objects.get(pk=case.pk)

    @staticmethod
    def _request(case: Case, sender: User, recipients: list[Institution], due: dt.date) -> Any:
        return exchange_services.message_send(
            actor=sender,
            case=case,
            kind=MessageKind.REQUEST,
            category=DataCategory.PERSONAL,
            subject="Aktuelle Adresse",
            body="Bitte um die aktuelle Adresse.",
            recipients=recipients,
            due_on=due,
        )

    @staticmethod
    def _notice(case: Case, sender: User, recipients: list[Institution], category: str) -> Any:
        return exchange_services.message_send(
            actor=sender,
            case=case,
            kind=MessageKind.NOTICE,
            category=category,
            subject="Neuigkeiten",
            body="Die Lage hat sich verändert.",
            recipients=recipients,
        )

    @staticmethod
    def _share(case: Case, sender: User, recipients: list[Institution], category: str = DataCategory.PERSONAL) -> Any:
        return exchange_services.document_share(
            actor=sender,
            case=case,
            upload=_pdf("bericht.pdf"),
            title="Bericht",
            kind=DocumentKind.REPORT,
            category=category,
            recipients=recipients,
        )

    # --- the object of a kind for a persona --------------------------------------------------------------

    @staticmethod
    def mine(persona: str) -> str:
        """Whose own objects the persona is given: its own, or the coordinator's for roles without client work."""
        return persona if persona in CLIENT_WORK else "coordinator"

    def client(self, persona: str, kind: str) -> Client:
        return {OWN: self.own_client[self.mine(persona)], CONSENTED: self.q, FOREIGN: self.f, UNCONSENTED: self.u}[kind]

    def registration(self, persona: str, kind: str) -> Any:
        mine = self.mine(persona)
        return {
            OWN: self.own_registration[mine],
            CONSENTED: self.q_own_registration[mine],
            FOREIGN: self.f_registration,
        }[kind]

    def others_registration(self, kind: str) -> Any:
        """For the API: the Amt für Arbeit's own registration, or the Kantonales Sozialamt's."""
        return {
            OWN: self.own_registration["rav_adviser"],
            CONSENTED: self.q_registration,
            UNCONSENTED: self.u_registration,
            FOREIGN: self.f_registration,
        }[kind]

    def consent(self, persona: str, kind: str) -> Any:
        return {
            OWN: self.own_consent[self.mine(persona)],
            CONSENTED: self.q_consent,
            FOREIGN: self.f_consent,
            UNCONSENTED: self.u_consent,
        }[kind]

    def check(self, persona: str, kind: str) -> TargetGroupCheck:
        return self.f_check if kind == FOREIGN else self.own_check[self.mine(persona)]

    def case_ref(self, persona: str, kind: str) -> str:
        return (self.foreign_case if kind == FOREIGN else self.case).reference

    def closed_ref(self, persona: str, kind: str) -> str:
        return (self.foreign_case if kind == FOREIGN else self.closed_case).reference

    def message(self, persona: str, kind: str) -> str:
        found = {
            OWN: self.own_message[self.mine(persona)],
            ADDRESSED: self.addressed_request,
            UNCONSENTED: self.unconsented_message,
        }.get(kind, self.consented_message)
        return str(found.public_id)

    def document(self, persona: str, kind: str) -> str:
        found = {OWN: self.own_document[self.mine(persona)], UNCONSENTED: self.unconsented_document}.get(
            kind, self.consented_document
        )
        return str(found.public_id)


# ---------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------

Kwargs = Callable[[Scenario, str, str], dict[str, Any]]
Data = Callable[[Scenario, str, str], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    """One route: the kinds of object it is tried with, its URL arguments, and what each persona must get."""

    key: str
    expect: Rule
    kinds: tuple[str, ...] = (NONE,)
    kwargs: Kwargs | None = None
    method: str = "get"
    data: Data | None = None
    query: str = ""
    api: bool = False


def client_kw(s: Scenario, p: str, k: str) -> dict[str, Any]:
    return {"public_id": s.client(p, k).public_id}


def case_kw(s: Scenario, p: str, k: str) -> dict[str, Any]:
    return {"reference": s.case_ref(p, k)}


def with_(base: Kwargs, **extra: Callable[[Scenario, str, str], Any]) -> Kwargs:
    def kwargs(s: Scenario, p: str, k: str) -> dict[str, Any]:
        return {**base(s, p, k), **{name: make(s, p, k) for name, make in extra.items()}}

    return kwargs


def client_entry(key: str, rule: Rule, kinds: tuple[str, ...] = OWN_FOREIGN, **options: Any) -> Entry:
    return Entry(key, rule, kinds, options.pop("kwargs", client_kw), **options)


def case_entry(key: str, rule: Rule, **options: Any) -> Entry:
    return Entry(key, rule, OWN_FOREIGN, options.pop("kwargs", case_kw), **options)


def exchange_entry(key: str, rule: Rule, kinds: tuple[str, ...] = OWN_FOREIGN, **options: Any) -> Entry:
    return Entry(key, rule, kinds, options.pop("kwargs", case_kw), **options)


def api_client_kw(s: Scenario, p: str, k: str) -> dict[str, Any]:
    return {"public_id": s.client("rav_adviser", k).public_id}


def api_entry(key: str, rule: Rule, kinds: tuple[str, ...] = (NONE,), **options: Any) -> Entry:
    return Entry(key, rule, kinds, api=True, **options)


def api_batch_kw(s: Scenario, p: str, k: str) -> dict[str, Any]:
    return {"public_id": (s.f_batch if k == FOREIGN else s.batch["rav_adviser"]).public_id}


def api_refused_by_state(rule: Rule) -> Rule:
    """Where the rules let the request through, the object's state refuses it: a 409 problem."""
    return lambda persona, kind: "409" if rule(persona, kind) == OK else rule(persona, kind)


check_kw = with_(client_kw, check_id=lambda s, p, k: s.check(p, k).pk)


def early_report_kw(s: Scenario, p: str, k: str) -> dict[str, Any]:
    return {"public_id": s.early_report[k].public_id}


plan_kw = with_(case_kw, version=lambda s, p, k: s.plan.version)
meeting_kw = with_(case_kw, meeting_id=lambda s, p, k: s.meeting.pk)
message_kw = with_(case_kw, public_id=Scenario.message)
document_kw = with_(case_kw, public_id=Scenario.document)

TABLE: list[Entry] = [
    # --- the platform itself ---
    Entry("home", signed_in),
    Entry("healthz", everyone),
    Entry("readyz", everyone),
    Entry("login", everyone),  # signed-in users are sent on to the start page, not to a login page
    # Signing out ends on the login page, and so does the attempt without a session.
    Entry("logout", lambda p, k: LOGIN, method="post"),
    Entry("otp_verify", signed_in),
    Entry("otp_setup", signed_in),
    # Everyone changes their own password; the reset flow is for those who cannot sign in, so open to all.
    Entry("password_change", signed_in),
    Entry("password_change_done", signed_in),
    Entry("password_reset", everyone),
    Entry("password_reset_done", everyone),
    # An unknown link answers with the page that says so (the token decides, not the session).
    Entry("password_reset_confirm", everyone, kwargs=lambda s, p, k: {"uidb64": "MQ", "token": "falsch-1"}),
    Entry("password_reset_complete", everyone),
    Entry("set_language", everyone, method="post", data=lambda s, p, k: {"language": "de"}),
    Entry("directory", only(CLIENT_WORK)),
    # --- clients ---
    Entry("clients:search", only(CLIENT_WORK)),
    Entry("clients:create", only(CLIENT_CREATE)),
    # AHV numbers given with another person's name: the Geschäftsstelle's coordinators resolve them.
    Entry("clients:ahv_conflicts", only(COORDINATORS)),
    Entry(
        "clients:ahv_conflict_resolve",
        only(COORDINATORS),
        kwargs=lambda s, p, k: {"conflict_id": s.ahv_conflict.pk},
        method="post",
        data=lambda s, p, k: {f"conflict-{s.ahv_conflict.pk}-resolution": "Tippfehler"},
    ),
    client_entry("clients:detail", person_page(), ALL_KINDS),
    # Contact details are edited by the recording institution, or by another that serves the person and may
    # see them under the client's consent.
    client_entry("clients:contact", person_page(unconsented=FORBIDDEN), CONSENT_KINDS),
    client_entry("clients:audit", person_page(SPECIALISTS | COORDINATORS), ALL_KINDS),
    # The right-of-access report: coordinators, and only under the person's open access request (the consented
    # client has one; the coordinator's own client, whose case the coordinator takes part in, has none).
    client_entry("clients:disclosure", disclosure_page, ALL_KINDS),
    # The person as an eCH message: what the client page shows, so the same rule.
    client_entry("clients:ech_export", person_page(), ALL_KINDS),
    client_entry("clients:registration_create", person_page()),
    # What the person draws from the institution: recorded on the own institution's registration, as the end.
    client_entry(
        "clients:registration_benefits",
        person_page(),
        ALL_KINDS,
        kwargs=with_(client_kw, registration_id=lambda s, p, k: s.registration(p, k).pk),
    ),
    client_entry(
        "clients:registration_end",
        person_page(),
        ALL_KINDS,
        kwargs=with_(client_kw, registration_id=lambda s, p, k: s.registration(p, k).pk),
    ),
    client_entry("clients:consent_create", person_page()),
    client_entry(
        "clients:consent_amend", person_page(), kwargs=with_(client_kw, consent_id=lambda s, p, k: s.consent(p, k).pk)
    ),
    client_entry(
        "clients:consent_revoke", person_page(), kwargs=with_(client_kw, consent_id=lambda s, p, k: s.consent(p, k).pk)
    ),
    # The signed form: the recording institution and the institutions the consent names.
    client_entry(
        "clients:consent_document",
        person_page(),
        CONSENT_KINDS,
        kwargs=with_(client_kw, consent_id=lambda s, p, k: s.consent(p, k).pk),
    ),
    # --- before a case: early detection, target-group check, opening ---
    Entry("cases:list", only(CLIENT_WORK)),
    # The list as a file: the same cases as the list, to the same roles.
    Entry("cases:export", only(CLIENT_WORK), kwargs=lambda s, p, k: {"fmt": "xlsx"}),
    Entry("cases:override_requests", only(COORDINATORS)),
    client_entry("cases:screening_create", person_page()),
    client_entry("cases:check_create", person_page()),
    client_entry("cases:check_detail", person_page(), kwargs=check_kw),
    client_entry(
        "cases:check_override",
        person_page(COORDINATORS),
        kwargs=check_kw,
        method="post",
        data=lambda s, p, k: {"override_reason": "Mehrfachproblematik trotz Teilzeitpensum"},
    ),
    client_entry(
        "cases:check_override_request",
        person_page(SPECIALISTS),
        kwargs=check_kw,
        method="post",
        data=lambda s, p, k: {"note": "Bitte übersteuern: Mehrfachproblematik"},
    ),
    client_entry("cases:open", person_page(SPECIALISTS | COORDINATORS), kwargs=check_kw),
    # --- the case ---
    case_entry("cases:detail", person_page()),
    case_entry("cases:plan_version", person_page(), kwargs=plan_kw),
    case_entry("cases:measure_services", person_page()),
    case_entry("cases:meeting_ical", person_page(), kwargs=meeting_kw),
    # The route and the level: access.CaseAccess.may_change_level, and at level 3 only the coordinator
    # moves (iiz/cases/levels.py: forming a case team and stepping down are the coordinator's).
    case_entry("cases:route", person_page(SPECIALISTS | COORDINATORS), method="post"),
    case_entry("cases:level_change", person_page(COORDINATORS), method="post"),
    # At level 2 and 3 every participant may ask another institution (the case page offers the form to all).
    case_entry("cases:info_create", person_page(), method="post"),
    # Only the institution asked answers (the Amt für Arbeit here).
    case_entry(
        "cases:info_answer",
        person_page({"rav_adviser"}),
        kwargs=with_(case_kw, info_id=lambda s, p, k: s.info.pk),
        method="post",
    ),
    case_entry("cases:interview_create", person_page(COORDINATORS), method="post"),
    case_entry(
        "cases:clarification_save",
        person_page(OCCUPATIONAL_WRITERS),
        kwargs=with_(case_kw, dimension=lambda s, p, k: "occupational"),
        method="post",
    ),
    # The plan: coordinators, specialists and the case lead (none yet).
    case_entry("cases:plan_create", person_page(SPECIALISTS | COORDINATORS), method="post"),
    case_entry("cases:plan_update", person_page(SPECIALISTS | COORDINATORS), kwargs=plan_kw, method="post"),
    case_entry("cases:measure_add", person_page(SPECIALISTS | COORDINATORS), kwargs=plan_kw, method="post"),
    case_entry("cases:plan_agree", person_page(SPECIALISTS | COORDINATORS), kwargs=plan_kw, method="post"),
    # A measure's status: its responsible institution (the Amt für Arbeit) or the coordination.
    case_entry(
        "cases:measure_status",
        person_page({"rav_adviser"} | COORDINATORS),
        kwargs=with_(case_kw, measure_id=lambda s, p, k: s.measure.pk),
        method="post",
        data=lambda s, p, k: {f"measure-{s.measure.pk}-status": "done"},
    ),
    case_entry("cases:meeting_schedule", person_page(COORDINATORS), method="post"),
    case_entry("cases:meeting_minutes", person_page(COORDINATORS), kwargs=meeting_kw, method="post"),
    case_entry("cases:agreement_add", person_page(COORDINATORS), kwargs=meeting_kw, method="post"),
    # An agreement's status: its owner (the RAV adviser) or the coordination.
    case_entry(
        "cases:agreement_status",
        person_page({"rav_adviser"} | COORDINATORS),
        kwargs=with_(case_kw, agreement_id=lambda s, p, k: s.agreement[OWN].pk),
        method="post",
    ),
    # Closing: the coordinator, the case lead, or at level 1 the specialist; this case is at level 3.
    case_entry("cases:close", person_page(COORDINATORS), method="post"),
    # Follow-ups of a closed case: every participant.
    case_entry(
        "cases:follow_up_record",
        person_page(),
        kwargs=lambda s, p, k: {"reference": s.closed_ref(p, k), "follow_up_id": s.follow_up.pk},
        method="post",
    ),
    # --- the exchange of a case ---
    exchange_entry("exchange:case", exchange_page()),
    exchange_entry("exchange:message_create", exchange_page()),
    # The sending institution reads its own; a recipient reads under the client's consent.
    # A consent revoked after the sending cuts the access at once.
    exchange_entry("exchange:message", exchange_page(), CONSENT_KINDS, kwargs=message_kw),
    # A request is answered by the institutions it was sent to (before any consent: the answer is held back
    # until one covers it), never by the one that asked.
    exchange_entry("exchange:answer", exchange_page(own=HIDDEN), (OWN, FOREIGN, ADDRESSED), kwargs=message_kw),
    exchange_entry("exchange:document_share", exchange_page()),
    exchange_entry("exchange:document", exchange_page(), CONSENT_KINDS, kwargs=document_kw),
    exchange_entry("exchange:legal_basis_create", exchange_page(COORDINATORS)),
    exchange_entry(
        "exchange:legal_basis_end",
        exchange_page(COORDINATORS),
        kwargs=with_(case_kw, basis_id=lambda s, p, k: s.legal_basis.pk),
    ),
    # --- persons' requests for access to their data: the Geschäftsstelle's coordinators ---
    Entry("audit:access_requests", only(COORDINATORS)),
    Entry(
        "audit:access_request_close",
        only(COORDINATORS),
        kwargs=lambda s, p, k: {"public_id": s.access_request.public_id},
        method="post",
    ),
    # --- the front door: public pages, and the contact point's triage queue ---
    Entry("frontdoor:contact_point", everyone),
    Entry("frontdoor:report", everyone),
    # Without a report sent in this session, the confirmation leads back to the form.
    Entry("frontdoor:thanks", everyone),
    Entry("triage:list", only(COORDINATORS | SPECIALISTS)),
    Entry("triage:detail", triage(), OWN_FOREIGN, kwargs=early_report_kw),
    Entry("triage:screening", triage(), OWN_FOREIGN, kwargs=early_report_kw, method="post"),
    Entry("triage:forward", triage(COORDINATORS), OWN_FOREIGN, kwargs=early_report_kw, method="post"),
    Entry("triage:close", triage(), OWN_FOREIGN, kwargs=early_report_kw, method="post"),
    # --- steering: aggregates for the steering roles ---
    Entry("steering:index", only(OPERATIONAL | STRATEGIC)),
    Entry("steering:operational", only(OPERATIONAL)),
    Entry("steering:strategic", only(STRATEGIC)),
    # From a figure to the cases behind it: operational steering by someone who works with cases.
    Entry("steering:drilldown", only(OPERATIONAL & CLIENT_WORK), query="?kpi=new_cases&period=2025"),
    Entry("steering:reports", only(OPERATIONAL | STRATEGIC)),
    Entry(
        "steering:report_download",
        report_download,
        OWN_FOREIGN,
        kwargs=lambda s, p, k: {"report_id": s.report["strategic" if k == OWN else "operational"].pk},
    ),
    Entry("steering:analyses", only(STRATEGIC)),
    Entry("steering:analyses_export", only(COORDINATORS)),  # rows about persons: the Geschäftsstelle only
    Entry("steering:costbenefit", only(STRATEGIC)),
    # --- bulk import and person matching (web) ---
    Entry("imports:start", only(CLIENT_CREATE)),
    Entry(
        "imports:detail",
        only(CLIENT_CREATE),
        OWN_FOREIGN,
        lambda s, p, k: {"public_id": (s.f_batch if k == FOREIGN else s.batch[s.mine(p)]).public_id},
    ),
    Entry(
        "imports:confirm",
        only(CLIENT_CREATE),
        OWN_FOREIGN,
        lambda s, p, k: {"public_id": (s.f_batch if k == FOREIGN else s.batch[s.mine(p)]).public_id},
        method="post",
    ),
    Entry(
        "imports:errors",
        only(CLIENT_CREATE),
        OWN_FOREIGN,
        lambda s, p, k: {"public_id": (s.f_batch if k == FOREIGN else s.batch[s.mine(p)]).public_id},
    ),
    # Duplicates are looked up among the persons one sees: for roles without client work nobody exists.
    Entry("imports:candidates", only(CLIENT_WORK, otherwise=HIDDEN), OWN_FOREIGN, client_kw),
    Entry(
        "imports:decide",
        only(CLIENT_CREATE, otherwise=HIDDEN),
        OWN_FOREIGN,
        with_(
            client_kw, other_id=lambda s, p, k: (s.f_duplicate if k == FOREIGN else s.duplicate[s.mine(p)]).public_id
        ),
        method="post",
        data=lambda s, p, k: {"decision": "reject"},
    ),
    Entry(
        "imports:merge_undo",
        only(CLIENT_CREATE, otherwise=HIDDEN),
        OWN_FOREIGN,
        lambda s, p, k: {"record_id": (s.f_merge if k == FOREIGN else s.merge[s.mine(p)]).pk},
        method="post",
    ),
    # --- the REST API, called by a partner system of the Amt für Arbeit ---
    # Reports for early detection go into the contact point's queue (an empty body is refused as invalid).
    api_entry("api:early_detection_reports", api(), method="post"),
    api_entry("api:clients", api()),
    api_entry("api:client", api(), ALL_KINDS, kwargs=api_client_kw),
    api_entry("api:client_ech", api(), ALL_KINDS, kwargs=api_client_kw),
    # The persons registered with the partner system's institution, as one eCH message.
    api_entry("api:ech_persons", api()),
    api_entry("api:registrations", api(), ALL_KINDS, kwargs=api_client_kw),
    # Another institution's registration is shown under the client's consent for its category.
    api_entry(
        "api:registration",
        api(),
        CONSENT_KINDS,
        kwargs=lambda s, p, k: {
            "public_id": s.client("rav_adviser", k).public_id,
            "registration_id": s.others_registration(k).pk,
        },
    ),
    api_entry(
        "api:registration_end",
        api(),
        OWN_FOREIGN,
        kwargs=with_(api_client_kw, registration_id=lambda s, p, k: s.registration("rav_adviser", k).pk),
        method="post",
    ),
    api_entry("api:consents", api(), ALL_KINDS, kwargs=api_client_kw),
    api_entry(
        "api:consent",
        api(),
        ALL_KINDS,
        kwargs=with_(api_client_kw, consent_id=lambda s, p, k: s.consent("rav_adviser", k).pk),
    ),
    api_entry(
        "api:consent_revoke",
        api(),
        OWN_FOREIGN,
        kwargs=with_(api_client_kw, consent_id=lambda s, p, k: s.consent("rav_adviser", k).pk),
        method="post",
    ),
    api_entry("api:cases", api()),
    api_entry("api:case", api(), OWN_FOREIGN, kwargs=case_kw),
    api_entry("api:case_messages", api(), OWN_FOREIGN, kwargs=case_kw),
    api_entry("api:agreements", api()),
    # The agreements of the institution's own people; another institution's owner's agreement is hidden.
    api_entry("api:agreement", api(), OWN_FOREIGN, kwargs=lambda s, p, k: {"agreement_id": s.agreement[k].pk}),
    # Published strategic figures: for partner systems with the scope.
    api_entry("api:kpis", api(), query="?audience=strategic"),
    api_entry("api:webhook_subscriptions", api()),
    api_entry(
        "api:webhook_subscription",
        api(),
        OWN_FOREIGN,
        kwargs=lambda s, p, k: {"subscription_id": s.subscription[k].pk},
    ),
    api_entry("api:webhook_deliveries", api()),
    # Bulk imports: the token institution's batches; another institution's batch does not exist for it.
    api_entry("api:imports", api()),
    api_entry("api:import", api(), OWN_FOREIGN, kwargs=api_batch_kw),
    # The scenario's batch is still being checked: let through, a confirmation is refused by its state.
    api_entry("api:import_confirm", api_refused_by_state(api()), OWN_FOREIGN, kwargs=api_batch_kw, method="post"),
    api_entry("api:import_rejected_rows", api(), OWN_FOREIGN, kwargs=api_batch_kw),
    # The schema and its documentation describe the API, not anybody's data: public.
    api_entry("api:schema", everyone),
    api_entry("api:docs", everyone),
    # Any other path under /api/ is a problem detail 404, for everybody.
    api_entry("api:not_found", lambda p, k: HIDDEN),
]

ENTRIES = {entry.key: entry for entry in TABLE}


# ---------------------------------------------------------------------------------------------------------
# The admin site: one group entry, its members taken from the resolver
# ---------------------------------------------------------------------------------------------------------

ADMIN_PREFIX = "admin/"
# What the platform's rules refuse even to administrators (model label → admin views answered 403): the audit
# trail is append-only; tokens and subscriptions are revoked or deactivated, never deleted (the audit trail
# refers to them); the delivery log and the steering reports are written by the platform only; legal
# provisions are retired, not deleted; the cost-benefit assumptions are a fixed set whose values are edited;
# django-axes records login attempts itself.
ADMIN_REFUSED: dict[str, set[str]] = {
    "audit.auditevent": {"add", "delete"},
    "interfaces.apitoken": {"delete"},
    "interfaces.webhooksubscription": {"delete"},
    "interfaces.webhookdelivery": {"add", "delete"},
    "exchange.legalprovision": {"delete"},
    "steering.costbenefitparameter": {"add", "delete"},
    "steering.steeringreport": {"add", "delete"},
    "outbox.outboxmessage": {"add", "delete"},  # written by the services, run by the workers
    "audit.accessrequest": {"add", "delete"},  # recorded and closed by the coordinators on their page
    "axes.accessattempt": {"add"},
    "axes.accesslog": {"add"},
    "axes.accessfailurelog": {"add"},
}


def admin_routes() -> list[Route]:
    return [route for route in routes() if route.pattern.startswith(ADMIN_PREFIX)]


def declared_keys() -> set[str]:
    """Every route key the matrix covers: the table's entries and the admin group's members."""
    return set(ENTRIES) | {route.key for route in admin_routes()}


def _admin_model(route: Route) -> type[Model] | None:
    for model in django_admin.site._registry:
        meta = model._meta
        if route.key.startswith(f"admin:{meta.app_label}_{meta.model_name}_") or route.pattern.startswith(
            f"{ADMIN_PREFIX}{meta.app_label}/{meta.model_name}/"
        ):
            return model
    return None


def _admin_action(route: Route) -> str:
    return route.key.rsplit("_", 1)[-1] if route.key.startswith("admin:") else "redirect"


def expected_in_admin(route: Route, persona: str) -> str:
    """Administrators use the admin, within ADMIN_REFUSED; everybody else is sent to sign in as one."""
    if persona == "anonymous" or route.pattern == "admin/login/" or route.key == "admin:login":
        return LOGIN  # /admin/login/ is the platform's own login, for everybody
    if route.key == "admin:logout":
        # Signing out ends on the login page; without the role the admin has nobody to sign out.
        return LOGIN if persona == "admin" else REDIRECT
    if persona != "admin":
        return LOGIN  # not even an unknown admin address is told apart (Django wraps the catch-all too)
    if route.key == "admin/(?P<url>.*)$":
        return HIDDEN
    model = _admin_model(route)
    if model is not None and _admin_action(route) in ADMIN_REFUSED.get(model._meta.label_lower, set()):
        return FORBIDDEN
    return OK


def _admin_object(model: type[Model], s: Scenario) -> Model:
    """An object of the model: the first there is, or a small one made for the purpose."""
    found = model._default_manager.order_by("pk").first()
    if found is not None:
        return found
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from iiz.interfaces.models import WebhookDelivery
    from iiz.organisations.models import Contact, ContactKind, MunicipalityContract

    now = timezone.now()
    makers: dict[type[Model], Callable[[], Model]] = {
        Group: lambda: Group.objects.create(name="Matrix"),
        TOTPDevice: lambda: TOTPDevice.objects.create(user=s.users["admin"], name="Matrix", confirmed=False),
        AccessAttempt: lambda: AccessAttempt.objects.create(
            username="x", ip_address="127.0.0.1", user_agent="", failures_since_start=1, attempt_time=now
        ),
        AccessLog: lambda: AccessLog.objects.create(
            username="x", ip_address="127.0.0.1", user_agent="", attempt_time=now
        ),
        AccessFailureLog: lambda: AccessFailureLog.objects.create(
            username="x", ip_address="127.0.0.1", user_agent="", attempt_time=now
        ),
        Contact: lambda: Contact.objects.create(kind=ContactKind.DOCTOR, first_name="Hans", last_name="Arzt"),
        MunicipalityContract: lambda: MunicipalityContract.objects.create(
            institution=s.institution["social_worker"], municipality=cases_world.uster(), signed_on=timezone.localdate()
        ),
        WebhookDelivery: lambda: WebhookDelivery.objects.create(
            subscription=s.subscription[OWN], event=WebhookEvent.CASE_OPENED, case_reference="IIZ-X", payload={}
        ),
    }
    make = makers.get(model)
    if make is None:
        # A model without rows and without a maker: its object pages are tried with an id that does not exist
        # (the admin answers with a redirect to its list). Add a maker to try them with a real object.
        return model(pk=0)
    return make()


def admin_request(route: Route, s: Scenario) -> tuple[str, str, str]:
    """(method, path, query) for one member of the admin group."""
    if route.key == "admin:logout":
        return "post", "/admin/logout/", ""
    if route.key == "admin/(?P<url>.*)$":
        return "get", "/admin/gibt-es-nicht/", ""
    if route.key == "admin:app_list":
        return "get", reverse(route.key, kwargs={"app_label": "organisations"}), ""
    if route.key == "admin:autocomplete":
        query = "?app_label=organisations&model_name=institution&field_name=municipality"
        return "get", reverse(route.key), query
    if route.key == "admin:view_on_site":
        content_type = ContentType.objects.get_for_model(Client)
        return "get", reverse(route.key, kwargs={"content_type_id": content_type.pk, "object_id": s.q.pk}), ""
    if route.key == "admin:auth_user_password_change":
        return "get", reverse(route.key, kwargs={"id": s.users["admin"].pk}), ""
    if route.key.startswith("admin:otp_totp_totpdevice_") and route.key.endswith(("config", "qrcode")):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return "get", reverse(route.key, kwargs={"pk": _admin_object(TOTPDevice, s).pk}), ""
    model = _admin_model(route)
    if model is not None and "<path:object_id>" in route.pattern:
        pk = _admin_object(model, s).pk
        path = "/" + route.pattern.replace("<path:object_id>", str(pk))
        return "get", path, ""
    if route.key.startswith("admin:"):
        return "get", reverse(route.key), ""
    return "get", "/" + route.pattern, ""


# ---------------------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scenario(django_db_setup: None, django_db_blocker: Any) -> Iterator[Scenario]:
    """The scenario, built once for this module in a transaction that each test's own one nests in."""
    with django_db_blocker.unblock():
        world_restore_if_flushed()
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = Scenario()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def matrix(scenario: Scenario, db: None) -> Scenario:
    cache.clear()  # the API's rate limits count in the cache
    return scenario


@functools.cache
def _handler() -> ClientHandler:
    # One request handler for all the test clients: building one loads the middleware, and WhiteNoise then
    # looks at every static file, which would cost more than most of the requests here.
    return ClientHandler(enforce_csrf_checks=False)


def http_for(s: Scenario, persona: str, *, api: bool, own_session: bool = False) -> HttpClient:
    key = s.token.get(persona) if api else None
    http = HttpClient(headers={"Authorization": f"Bearer {key}"}) if key else HttpClient()
    http.handler = _handler()
    if api:
        return http
    if persona != "anonymous" and own_session:
        http.force_login(s.users[persona], backend="iiz.organisations.backends.IizBackend")
    elif persona != "anonymous":
        # The persona's session, signed in once with the scenario (a test's changes to it are rolled back).
        http.cookies[settings.SESSION_COOKIE_NAME] = s.session[persona]
    return http


# ---------------------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------------------


def test_it_has_an_entry_for_every_route() -> None:
    # given the routes the project routes / when they are compared with the matrix
    missing, stale, total = coverage(declared_keys())

    # then every route has an entry, and no entry names a route that is gone
    assert not missing, f"routes without an entry in the access matrix: {missing}"
    assert not stale, f"matrix entries for routes that are not routed: {stale}"
    assert total == len(routes())


def _cases() -> Iterator[Any]:
    for entry in TABLE:
        for persona in API_PERSONAS if entry.api else PERSONAS:
            for kind in entry.kinds:
                yield pytest.param(entry.key, persona, kind, id=f"{entry.key}-{persona}-{kind}")


@pytest.mark.parametrize(("key", "persona", "kind"), list(_cases()))
def test_it_decides_access_as_the_rules_say(key: str, persona: str, kind: str, matrix: Scenario) -> None:
    # given
    entry = ENTRIES[key]
    url = reverse(key, kwargs=entry.kwargs(matrix, persona, kind) if entry.kwargs else None) + entry.query
    if key == "api:not_found":
        url = "/api/v1/gibt-es-nicht/"
    http = http_for(matrix, persona, api=entry.api)
    data = entry.data(matrix, persona, kind) if entry.data else {}
    user = matrix.users.get(persona) or (matrix.token_user.get(persona) if entry.api else None)
    denials = AuditEvent.objects.filter(action=AuditAction.DENIED, actor_id=user.pk if user else None)
    denials_before = denials.count()

    # when
    if entry.api and entry.method != "get":
        response = getattr(http, entry.method)(url, data, content_type="application/json")
    elif entry.method != "get" and key.startswith("cases:"):
        # A change to a case answers htmx with its section only: the same decision, a smaller page.
        response = getattr(http, entry.method)(url, data, headers={"HX-Request": "true"})
    else:
        response = getattr(http, entry.method)(url, data)

    # then
    expected = entry.expect(persona, kind)
    actual = outcome_of(response, method=entry.method)
    assert actual == expected, f"{entry.method.upper()} {url} as {persona} ({kind}): {response.status_code}"
    # Every refusal of a signed-in user or a partner system is in the audit trail, once.
    if expected in (HIDDEN, FORBIDDEN) and user is not None and key != "api:not_found":
        assert denials.count() == denials_before + 1, "the denial is not in the audit trail"


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_keeps_the_admin_site_to_administrators(persona: str, matrix: Scenario) -> None:
    # given every route of the admin site
    members = admin_routes()
    http = http_for(matrix, persona, api=False)
    wrong: list[str] = []

    # when each is requested
    for route in members:
        method, path, query = admin_request(route, matrix)
        # Signing out is tried last and with its own client, so that the other requests stay signed in.
        client = http if route.key != "admin:logout" else http_for(matrix, persona, api=False, own_session=True)
        response = getattr(client, method)(path + query)

        # then each answers as the rules say
        expected = expected_in_admin(route, persona)
        actual = outcome_of(response, method=method)
        if expected == REDIRECT:
            ok = response.status_code in (301, 302, 303)
        else:
            ok = actual == expected
        if not ok:
            wrong.append(f"{route.key} {method.upper()} {path}{query}: expected {expected}, got {response.status_code}")
    assert len(members) > 100
    assert not wrong, "\n".join(wrong)


# The API's other writes share a route with a read: the matrix tries the read, these try the write. An
# outsider's write is refused as hidden before its body is looked at, so the body's errors tell nothing.
API_WRITES_ON_READ_ROUTES = [
    ("patch", "api:client", lambda s: {"public_id": s.f.public_id}),
    ("post", "api:registrations", lambda s: {"public_id": s.f.public_id}),
    ("post", "api:consents", lambda s: {"public_id": s.f.public_id}),
    ("patch", "api:agreement", lambda s: {"agreement_id": s.agreement[FOREIGN].pk}),
]


@pytest.mark.parametrize(
    ("method", "key", "kwargs"), API_WRITES_ON_READ_ROUTES, ids=[f"{m}-{k}" for m, k, _ in API_WRITES_ON_READ_ROUTES]
)
def test_it_hides_a_foreign_object_from_an_api_write_before_validating_it(
    method: str, key: str, kwargs: Callable[[Scenario], dict[str, Any]], matrix: Scenario
) -> None:
    # given the partner system's token and another institution's object
    http = http_for(matrix, "partner_token", api=True)

    # when it writes with an empty body
    response = getattr(http, method)(reverse(key, kwargs=kwargs(matrix)), {}, content_type="application/json")

    # then the object does not exist for it
    assert response.status_code == 404


def test_it_answers_a_second_undo_of_a_merge_with_the_page_not_a_server_error(matrix: Scenario) -> None:
    # given a merge that the RAV adviser has just undone
    http = http_for(matrix, "rav_adviser", api=False)
    url = reverse("imports:merge_undo", kwargs={"record_id": matrix.merge["rav_adviser"].pk})
    http.post(url)

    # when the same undo is sent again
    response = http.post(url)

    # then the candidates page says why, and nothing failed
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "imports:candidates", kwargs={"public_id": matrix.own_client["rav_adviser"].public_id}
    )

"""Client pages: search, record, the client file, registrations and consents.

Views only translate between HTTP and the selectors and services; access is decided in ``iiz.access``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases import selectors as case_selectors
from iiz.clients import disclosure, forms, selectors, services
from iiz.clients.models import Consent, Registration
from iiz.interfaces.matching import similar_persons_for
from iiz.lib.crypto import decrypt_bytes
from iiz.lib.forms import form_add_service_errors
from iiz.organisations.models import Institution, Role, User


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _require_client_work(request: HttpRequest) -> User:
    user = _user(request)
    if not access.may_work_with_clients(user):
        raise PermissionDenied(_("Ihre Rolle sieht keine Personendaten."))
    return user


def _own_institution(user: User) -> Institution:
    institution = user.institution
    if institution is None:
        raise PermissionDenied(_("Ihr Konto ist keiner Institution zugeordnet."))
    return institution


@require_GET
def client_search_view(request: HttpRequest) -> HttpResponse:
    user = _require_client_work(request)
    query = request.GET.get("q", "")[:200]
    page = selectors.client_search_page(user=user, query=query, page_number=request.GET.get("seite"), request=request)
    context = {
        "query": query,
        "page": page,
        "results": page.object_list,
        "searched": bool(query.strip()),
        "pager_query": urlencode({"q": query}),
    }
    template = "clients/search.html#results" if request.htmx else "clients/search.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def client_create_view(request: HttpRequest) -> HttpResponse:
    user = _require_client_work(request)
    if not access.may_create_clients(user):
        raise PermissionDenied(_("Sie dürfen keine Personen erfassen."))
    institution = _own_institution(user)
    form = forms.ClientCreateForm(
        request.POST or None,
        institution=institution,
        initial={"registered_on": timezone.localdate(), "registration_unit": user.unit},
    )
    similar = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["confirm_new"]:
            # A person may already be recorded under another (mistyped) AHV number: ask before creating.
            similar = similar_persons_for(
                user=user,
                last_name=data["last_name"],
                first_name=data["first_name"],
                date_of_birth=data["date_of_birth"],
                municipality_bfs=data["municipality"].bfs_number if data["municipality"] else None,
                request=request,
            )
    if request.method == "POST" and form.is_valid() and not similar:
        data = form.cleaned_data
        try:
            client = services.client_create(
                actor=user,
                ahv_number=data["ahv_number"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                sex=data["sex"],
                municipality=data["municipality"],
                street=data["street"],
                house_number=data["house_number"],
                postal_code=data["postal_code"],
                town=data["town"],
                phone=data["phone"],
                email=data["email"],
                languages=data["languages"],
                registration_unit=data["registration_unit"],
                external_case_number=data["external_case_number"],
                registered_on=data["registered_on"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s ist erfasst.") % {"name": client.full_name})
            return redirect(client)
    return render(
        request, "clients/create.html", {"form": form, "similar": similar}, status=400 if form.errors else 200
    )


@require_GET
def client_detail_view(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _require_client_work(request)
    file = selectors.client_file_for_user(user=user, public_id=public_id, request=request)
    return render(
        request,
        "clients/detail.html",
        {
            "file": file,
            "client": file.client,
            "age": file.client.age_on(timezone.localdate()),
            "may_edit_contact": file.grant.may_edit_contact_details(),
            "read_only": file.grant.is_read_only,
            # The grant is there already (file.grant): the role decides (disclosure.may_read_client_audit).
            "may_read_audit": user.has_role(Role.COORDINATOR, Role.SPECIALIST),
            "may_disclose": access.may_produce_disclosure(user=user, client=file.client) is not None,
            "own_institution": user.institution,
            # The IIZ side: screenings, target-group checks and cases, read in a fixed number of queries.
            "detection": case_selectors.client_detection_for_user(grant=file.grant),
        },
    )


@require_http_methods(["GET", "POST"])
def client_contact_view(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _require_client_work(request)
    grant = selectors.client_access_get(user=user, public_id=public_id, request=request)
    client = grant.client
    if not grant.may_edit_contact_details():
        raise PermissionDenied(_("Nur die erfassende Institution ändert die Kontaktdaten."))
    initial = {name: getattr(client, name) for name in services.CONTACT_FIELDS}
    initial["municipality"] = client.municipality
    form = forms.ClientContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update_contact(actor=user, client=client, request=request, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Kontaktdaten sind gespeichert."))
            return redirect(client)
    return render(
        request, "clients/contact_form.html", {"form": form, "client": client}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def registration_create_view(request: HttpRequest, public_id: str) -> HttpResponse:
    user = _require_client_work(request)
    grant = selectors.client_access_get(user=user, public_id=public_id, request=request)
    access.refuse_if_read_only(grant)
    client = grant.client
    institution = _own_institution(user)
    form = forms.RegistrationForm(
        request.POST or None,
        institution=institution,
        initial={"registered_on": timezone.localdate(), "unit": user.unit},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.registration_create(actor=user, client=client, request=request, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Anmeldung ist erfasst."))
            return redirect(client)
    return render(
        request,
        "clients/registration_form.html",
        {"form": form, "client": client, "institution": institution},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def registration_benefits_view(request: HttpRequest, public_id: str, registration_id: int) -> HttpResponse:
    """What the person draws from the user's institution (for the cost-benefit model), recorded by it."""
    user = _require_client_work(request)
    grant = selectors.client_access_get(user=user, public_id=public_id, request=request)
    access.refuse_if_read_only(grant)
    client = grant.client
    institution = _own_institution(user)
    registration = (
        Registration.objects.filter(pk=registration_id, client=client, institution_id=institution.pk)
        .select_related("institution", "unit")
        .first()
    )
    if registration is None:
        raise Http404
    form = forms.RegistrationBenefitsForm(
        request.POST or None,
        institution=institution,
        initial={
            "alv_remaining_days": registration.alv_remaining_days,
            "sa_monthly_amount": registration.sa_monthly_amount,
            "iv_pension_status": registration.iv_pension_status,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.registration_benefits_update(
                actor=user, registration=registration, request=request, **form.cleaned_data
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Leistungsangaben sind gespeichert."))
            return redirect(client)
    return render(
        request,
        "clients/registration_benefits.html",
        {"form": form, "client": client, "registration": registration},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def registration_end_view(request: HttpRequest, public_id: str, registration_id: int) -> HttpResponse:
    user = _require_client_work(request)
    client = selectors.client_get_for_user(user=user, public_id=public_id, request=request)
    registration = (
        Registration.objects.filter(pk=registration_id, client=client, institution_id=_own_institution(user).pk)
        .select_related("institution", "unit")
        .first()
    )
    if registration is None:
        raise Http404
    form = forms.RegistrationEndForm(request.POST or None, initial={"deregistered_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.registration_end(
                actor=user,
                registration=registration,
                deregistered_on=form.cleaned_data["deregistered_on"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Abmeldung ist erfasst."))
            return redirect(client)
    return render(
        request,
        "clients/registration_end.html",
        {"form": form, "client": client, "registration": registration},
        status=400 if form.errors else 200,
    )


def _consent_form_view(request: HttpRequest, public_id: str, replaces_id: int | None) -> HttpResponse:
    user = _require_client_work(request)
    client = selectors.client_get_for_user(user=user, public_id=public_id, request=request)
    replaces: Consent | None = None
    initial: dict[str, Any] = {"valid_from": timezone.localdate(), "institutions": [user.institution_id]}
    if replaces_id is not None:
        replaces = selectors.consent_get_for_user(user=user, client=client, consent_id=replaces_id)
        initial = {
            "institutions": list(replaces.institutions.values_list("pk", flat=True)),
            "categories": replaces.categories,
            "purpose": replaces.purpose,
            "valid_from": timezone.localdate(),
            "valid_until": replaces.valid_until,
        }
    form = forms.ConsentForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.consent_record(
                actor=user,
                client=client,
                institutions=data["institutions"],
                categories=data["categories"],
                purpose=data["purpose"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                document=data["document"],
                verbal_statement=data["verbal_statement"],
                form_due_on=data["form_due_on"],
                replaces=replaces,
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Einwilligung ist erfasst."))
            return redirect(client)
    return render(
        request,
        "clients/consent_form.html",
        {"form": form, "client": client, "replaces": replaces},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def consent_create_view(request: HttpRequest, public_id: str) -> HttpResponse:
    return _consent_form_view(request, public_id, None)


@require_http_methods(["GET", "POST"])
def consent_amend_view(request: HttpRequest, public_id: str, consent_id: int) -> HttpResponse:
    return _consent_form_view(request, public_id, consent_id)


@require_http_methods(["GET", "POST"])
def consent_revoke_view(request: HttpRequest, public_id: str, consent_id: int) -> HttpResponse:
    user = _require_client_work(request)
    client = selectors.client_get_for_user(user=user, public_id=public_id, request=request)
    consent = selectors.consent_get_for_user(user=user, client=client, consent_id=consent_id)
    form = forms.ConsentRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_revoke(
                actor=user, consent=consent, reason=form.cleaned_data["revocation_reason"], request=request
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(
                request, _("Der Widerruf ist erfasst. Der Zugriff, den die Einwilligung gewährte, endet jetzt.")
            )
            return redirect(client)
    return render(
        request,
        "clients/consent_revoke.html",
        {"form": form, "client": client, "consent": consent},
        status=400 if form.errors else 200,
    )


@require_GET
def consent_document_view(request: HttpRequest, public_id: str, consent_id: int) -> HttpResponse:
    """Serve a signed consent form, only after the access check; files are never on a public URL."""
    user = _require_client_work(request)
    grant = selectors.client_access_get(user=user, public_id=public_id, request=request)
    client = grant.client
    consent = selectors.consent_get_for_user(user=user, client=client, consent_id=consent_id)
    if not consent.document:
        raise Http404
    if not grant.may_read_consent_document(consent):
        # The person is visible, but the consent does not name the user's institution: a refused read.
        audit_record(
            actor=user,
            action=AuditAction.DENIED,
            client_id=client.pk,
            object_type="consent_document",
            object_id=consent.pk,
            basis=AuditBasis.NONE,
            request=request,
        )
        raise Http404
    audit_record(
        actor=user,
        action=AuditAction.READ,
        client_id=client.pk,
        object_type="consent_document",
        object_id=consent.pk,
        basis=grant.basis,
        request=request,
    )
    with consent.document.open("rb") as handle:
        content = decrypt_bytes(handle.read())
    response = HttpResponse(content, content_type=consent.document_content_type or "application/octet-stream")
    suffix = (consent.document.name or "").rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="consent-{consent.pk}-v{consent.version}.{suffix}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def client_audit_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """Who saw this person's file: every read, change, disclosure and export, newest first."""
    user = _require_client_work(request)
    grant = selectors.client_access_get(user=user, public_id=public_id, request=request)
    if not disclosure.may_read_client_audit(user=user, client=grant.client):
        raise PermissionDenied(_("Das Zugriffsprotokoll sehen die Koordination und die iiz-Spezialistinnen."))
    page = Paginator(selectors.client_access_log_for(grant=grant), 50).get_page(request.GET.get("seite"))
    audit_record(
        actor=user,
        action=AuditAction.READ,
        client_id=grant.client.pk,
        object_type="audit_log",
        basis=grant.basis,
        request=request,
    )
    return render(request, "clients/audit.html", {"client": grant.client, "page": page})


@require_http_methods(["GET", "POST"])
def client_disclosure_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """The right of access: a PDF for the person and a machine-readable file, under the person's open request."""
    user = _require_client_work(request)
    grant = selectors.client_access_get(user=user, public_id=public_id, request=request)
    answered = access.may_produce_disclosure(user=user, client=grant.client)
    if answered is None:
        raise PermissionDenied(_("Die Auskunft wird nur für ein offenes Auskunftsbegehren der Person erstellt."))
    if request.method == "POST":
        fmt = "json" if request.POST.get("format") == "json" else "pdf"
        content, content_type, filename = disclosure.client_disclosure_export(
            actor=user, client=grant.client, fmt=fmt, request=request
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "clients/disclosure.html", {"client": grant.client, "access_request": answered})


def _conflict_handler(request: HttpRequest) -> User:
    user = _user(request)
    if not access.may_handle_ahv_conflicts(user):
        raise PermissionDenied(_("AHV-Konflikte löst die Koordination der Geschäftsstelle."))
    return user


@require_GET
def ahv_conflicts_view(request: HttpRequest) -> HttpResponse:
    """Coordinators: AHV numbers given with another person's name or birth date, to be resolved."""
    user = _conflict_handler(request)
    conflicts = selectors.ahv_conflicts_open()
    if conflicts:
        # The stored identities are shown to the coordinators: a read of those persons.
        audit_record(
            actor=user,
            action=AuditAction.READ,
            object_type="ahv_conflicts",
            basis=AuditBasis.ROLE,
            details={"results": sorted({c.client_id for c in conflicts})},
            request=request,
        )
    forms_by_id = {c.pk: forms.AhvConflictResolveForm(prefix=f"conflict-{c.pk}") for c in conflicts}
    return render(request, "clients/ahv_conflicts.html", {"rows": [(c, forms_by_id[c.pk]) for c in conflicts]})


@require_POST
def ahv_conflict_resolve_view(request: HttpRequest, conflict_id: int) -> HttpResponse:
    user = _conflict_handler(request)
    conflict = selectors.ahv_conflict_get(conflict_id=conflict_id)
    form = forms.AhvConflictResolveForm(request.POST, prefix=f"conflict-{conflict.pk}")
    if form.is_valid():
        try:
            services.ahv_conflict_resolve(
                actor=user, conflict=conflict, resolution=form.cleaned_data["resolution"], request=request
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Der Konflikt ist als erledigt vermerkt."))
    else:
        messages.error(request, _("Halten Sie fest, wie der Konflikt gelöst wurde."))
    return redirect("clients:ahv_conflicts")

"""The public pages of the contact point: what it is, the report form and its confirmation.

No sign-in. The answer to a report never depends on the person reported: the same redirect for everyone,
and the confirmation shows only the reference number. Abuse protection: a rate limit per address, a field
that only bots fill in, a size limit on the request, no files.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from iiz.cases.models import ReportChannel
from iiz.frontdoor import services
from iiz.frontdoor.forms import ReportForm
from iiz.frontdoor.models import reference_new
from iiz.lib.forms import form_add_service_errors

SESSION_KEY = "frontdoor_reference"
# A filled-in report is a few kilobytes; anything much larger is not a report.
MAX_REPORT_BYTES = 32 * 1024


class SeeOther(HttpResponseRedirect):
    status_code = 303


@login_not_required
@require_GET
def contact_point_view(request: HttpRequest) -> HttpResponse:
    return render(request, "frontdoor/contact_point.html")


def _limited(request: HttpRequest) -> HttpResponse:
    response = render(request, "frontdoor/report_limited.html", status=429)
    response["Retry-After"] = "3600"
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def report_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "frontdoor/report_form.html", {"form": ReportForm()})
    if is_ratelimited(
        request, group="frontdoor:report", key="ip", rate=settings.IIZ_REPORT_RATE, method="POST", increment=True
    ):
        return _limited(request)
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REPORT_BYTES or request.FILES:
        return render(request, "frontdoor/report_too_large.html", status=413)
    form = ReportForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            # A bot: it is told what everybody is told, and nothing is stored.
            request.session[SESSION_KEY] = reference_new()
            return SeeOther(reverse("frontdoor:thanks"))
        try:
            report = services.report_submit(
                channel=ReportChannel.WEB,
                reporter_type=data["reporter_type"],
                reporter_name=data["reporter_name"],
                reporter_organisation=data["reporter_organisation"],
                reporter_phone=data["reporter_phone"],
                reporter_email=data["reporter_email"],
                person_first_name=data["person_first_name"],
                person_last_name=data["person_last_name"],
                person_date_of_birth=data["person_date_of_birth"],
                person_ahv_number=data["person_ahv_number"],
                life_situations=data["life_situations"],
                absent_since=data["absent_since"],
                absence_days=data["absence_days"],
                description=data["description"],
                person_informed=data["person_informed"],
                person_agrees=data["person_agrees"],
                language=get_language() or "de",
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            request.session[SESSION_KEY] = report.reference
            return SeeOther(reverse("frontdoor:thanks"))
    return render(request, "frontdoor/report_form.html", {"form": form}, status=400)


@login_not_required
@require_GET
def thanks_view(request: HttpRequest) -> HttpResponse:
    reference = request.session.get(SESSION_KEY)
    if not reference:
        return redirect("frontdoor:report")
    return render(request, "frontdoor/report_thanks.html", {"reference": reference})

"""Sign-in with password and TOTP second factor (django-otp), sign-out, and enrolment of a device."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any, cast

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.core.middleware import SESSION_FLAG
from iiz.organisations.models import User


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": gettext_lazy(
            "Benutzername oder Passwort ist falsch. Nach mehreren Fehlversuchen wird das Konto vorübergehend gesperrt."
        ),
        "inactive": gettext_lazy("Dieses Konto ist deaktiviert."),
    }


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        self.request.session[SESSION_FLAG] = bool(settings.IIZ_REQUIRE_OTP or has_device)
        audit_record(actor=user, action=AuditAction.LOGIN, object_type="session", request=self.request)
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        audit_record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            object_type="session",
            actor_username=str(form.data.get("username", ""))[:150],
            request=self.request,
        )
        return super().form_invalid(form)


login_view = login_not_required(LoginView.as_view())


@login_not_required
def admin_login_redirect(request: HttpRequest) -> HttpResponse:
    return redirect_to_login(request.GET.get("next", "/admin/"))


@require_http_methods(["POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(
            actor=cast(User, request.user),
            action=AuditAction.LOGOUT,
            object_type="session",
            request=request,
        )
    return auth_views.LogoutView.as_view()(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Einmalcode"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Ask for the current TOTP code; users without a device are sent to enrol one."""
    devices = list(TOTPDevice.objects.filter(user=request.user, confirmed=True))
    if not devices:
        return redirect(f"/konto/zweiter-faktor/einrichten/?next={_safe_next(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].replace(" ", "")
        for device in devices:
            if device.verify_token(token):
                otp_login(request, device)
                return HttpResponseRedirect(_safe_next(request))
        # A wrong second factor after a right password: someone may hold the password.
        audit_record(
            actor=cast(User, request.user),
            action=AuditAction.DENIED,
            object_type="otp_code",
            basis=AuditBasis.NONE,
            request=request,
        )
        form.add_error("token", _("Der Code ist falsch oder abgelaufen. Geben Sie den aktuellen Code ein."))
    return render(request, "registration/otp_verify.html", {"form": form, "next": _safe_next(request)})


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the key as a QR code, confirm with a first code."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=request.user, name=_("Authenticator-App"), confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            request.session[SESSION_FLAG] = True
            audit_record(
                actor=cast(User, request.user),
                action=AuditAction.UPDATE,
                object_type="otp_device",
                object_id=device.pk,
                request=request,
            )
            messages.success(request, _("Der zweite Faktor ist eingerichtet."))
            return HttpResponseRedirect(_safe_next(request))
        audit_record(
            actor=cast(User, request.user),
            action=AuditAction.DENIED,
            object_type="otp_setup_code",
            basis=AuditBasis.NONE,
            request=request,
        )
        form.add_error(
            "token", _("Der Code stimmt nicht. Prüfen Sie die Uhrzeit Ihres Geräts und versuchen Sie es erneut.")
        )
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "registration/otp_setup.html",
        {
            "form": form,
            "qr_svg_base64": _qr_svg(device.config_url),
            "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": _safe_next(request),
        },
    )


# ---------------------------------------------------------------------------------------------------------
# Password change and reset
# ---------------------------------------------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    """The user changes their own password; other sessions end (Django rotates the session hash)."""

    template_name = "registration/password_change_form.html"
    success_url = "/konto/passwort/geaendert/"

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(actor=cast(User, self.request.user), action=AuditAction.UPDATE, object_type="password")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for the e-mail address and always answers the same, whether an account has it or not."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = "/konto/passwort-vergessen/gesendet/"

    def form_valid(self, form: Any) -> HttpResponse:
        # Who asked is not known, and whether the address exists must not be told: the entry names neither.
        audit_record(actor=None, action=AuditAction.UPDATE, object_type="password_reset_request", request=self.request)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = "/konto/passwort-vergessen/fertig/"
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit_record(actor=form.user, action=AuditAction.UPDATE, object_type="password_reset", request=self.request)
        return response


password_change_view = PasswordChangeView.as_view()
password_change_done_view = auth_views.PasswordChangeDoneView.as_view(
    template_name="registration/password_change_done.html"
)
password_reset_view = login_not_required(PasswordResetView.as_view())
password_reset_done_view = login_not_required(
    auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html")
)
password_reset_confirm_view = login_not_required(PasswordResetConfirmView.as_view())
password_reset_complete_view = login_not_required(
    auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html")
)

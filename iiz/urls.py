from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from iiz.core import accounts, health, views
from iiz.exchange import views as exchange_views

# 503 with Retry-After while the database is unreachable, else Django's 500 (iiz/core/errors.py).
handler500 = "iiz.core.errors.server_error"

admin.site.site_header = "iiz Administration"
admin.site.site_title = "iiz"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("konto/anmelden/", accounts.login_view, name="login"),
    path("konto/abmelden/", accounts.logout_view, name="logout"),
    path("konto/zweiter-faktor/", accounts.otp_verify, name="otp_verify"),
    path("konto/zweiter-faktor/einrichten/", accounts.otp_setup, name="otp_setup"),
    path("konto/passwort/", accounts.password_change_view, name="password_change"),
    path("konto/passwort/geaendert/", accounts.password_change_done_view, name="password_change_done"),
    path("konto/passwort-vergessen/", accounts.password_reset_view, name="password_reset"),
    path("konto/passwort-vergessen/gesendet/", accounts.password_reset_done_view, name="password_reset_done"),
    path(
        "konto/passwort-vergessen/<uidb64>/<token>/",
        accounts.password_reset_confirm_view,
        name="password_reset_confirm",
    ),
    path("konto/passwort-vergessen/fertig/", accounts.password_reset_complete_view, name="password_reset_complete"),
    # The language switch is in the header of every page, the login page included.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # The public front door: the contact point and its report form (no sign-in).
    path("", include("iiz.frontdoor.urls")),
    path("anlaufstelle/eingang/", include("iiz.interfaces.urls_triage")),
    path("klienten/", include("iiz.clients.urls")),
    path("faelle/<str:reference>/austausch/", include("iiz.exchange.urls")),
    path("faelle/", include("iiz.cases.urls")),
    path("verzeichnis/", exchange_views.directory_view, name="directory"),
    path("auskunftsbegehren/", include("iiz.audit.urls")),
    path("steuerung/", include("iiz.steering.urls")),
    # The REST API for the partners' systems, its OpenAPI schema and documentation.
    path("api/", include("iiz.interfaces.urls")),
    path("import/", include("iiz.interfaces.urls_imports")),
    # The admin signs in through the platform's own login, so that lock-out and second factor apply.
    path("admin/login/", accounts.admin_login_redirect),
    path("admin/", admin.site.urls),
]

from django.contrib import admin
from django.urls import include, path

from iiz.core import accounts, health, views

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
    path("i18n/", include("django.conf.urls.i18n")),
    path("klienten/", include("iiz.clients.urls")),
    # The admin signs in through the platform's own login, so that lock-out and second factor apply.
    path("admin/login/", accounts.admin_login_redirect),
    path("admin/", admin.site.urls),
]

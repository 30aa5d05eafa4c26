from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from config.health import healthz
from libraries import views as library_views
from publishing.views.home import home

# The admin is a fallback for superusers; it logs in through allauth, so the
# same rate limits and two-factor authentication apply.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # allauth's documented way to guard the admin login
admin.site.site_header = _("Innspill administration")

urlpatterns = [
    path("", home, name="home"),
    path("county/", library_views.choose_county, name="choose_county"),
    path("libraries/", include("libraries.urls")),
    # Top-level paths: /ideas/, /concepts/, /recording-days/, /calendar/.
    path("", include("production.urls")),
    # Top-level paths: /posts/, /plan/, /channel/.
    path("", include("publishing.urls")),
    path("invitation/<str:token>/", library_views.invitation_accept, name="invitation_accept"),
    path("outbox/", library_views.outbox, name="outbox"),
    path("accounts/", include("allauth.urls")),
    # Django's own view, wrapped to keep the choice on the person's account (their e-mails follow it).
    path("i18n/setlang/", library_views.set_language, name="set_language"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

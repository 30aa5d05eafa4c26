from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibrariesConfig(AppConfig):
    name = "libraries"
    verbose_name = _("Libraries")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from libraries.middleware import remember_language_on_login

        user_logged_in.connect(remember_language_on_login, dispatch_uid="libraries.remember_language_on_login")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibrariesConfig(AppConfig):
    name = "libraries"
    verbose_name = _("Libraries")

    def ready(self) -> None:
        from allauth.mfa.models import Authenticator
        from django.contrib.auth.signals import user_logged_in
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save

        from libraries.access import everyones_access_changed, users_access_changed
        from libraries.middleware import remember_language_on_login
        from libraries.models import County, Invitation, Library, Membership
        from libraries.overview import libraries_changed
        from libraries.versions import install_data_version

        connection_created.connect(install_data_version, dispatch_uid="libraries.versions.install_data_version")
        user_logged_in.connect(remember_language_on_login, dispatch_uid="libraries.remember_language_on_login")
        # The cached accesses (libraries.access.county_accesses) follow every write they are read from.
        for signal in (post_save, post_delete):
            for model in (Membership, Authenticator):
                signal.connect(users_access_changed, sender=model, dispatch_uid=f"libraries.access.{model.__name__}")
            for model in (County, Library):
                signal.connect(
                    everyones_access_changed, sender=model, dispatch_uid=f"libraries.access.{model.__name__}"
                )
            # And the coordinator's overview of the county's libraries (libraries.overview).
            for model in (Library, Invitation):
                signal.connect(libraries_changed, sender=model, dispatch_uid=f"libraries.overview.{model.__name__}")

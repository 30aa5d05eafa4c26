from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = _("Publishing")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from libraries.models import County
        from publishing.instagram.channels import channel_changed
        from publishing.models import Channel

        post_save.connect(county_saved, sender=County, dispatch_uid="publishing.county_saved")
        # The channel pages show is kept (publishing.instagram.channels.shown_channel) until any is written.
        for signal in (post_save, post_delete):
            signal.connect(channel_changed, sender=Channel, dispatch_uid="publishing.channel_changed")


def county_saved(sender: type, instance: Any, **kwargs: Any) -> None:
    """A county joining or leaving the network, or renamed, changes what the shared pool shows (and its
    cached searches); libraries knows nothing of the pool, so the pool listens."""
    from publishing.archive.search import archive_changed

    archive_changed([instance.pk])

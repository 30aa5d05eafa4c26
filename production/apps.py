from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("Production")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from production.models import Concept, Idea
        from production.overview import concepts_changed, ideas_changed

        # The ideas list's kept overview (production.overview) follows every write it is read from.
        for signal in (post_save, post_delete):
            signal.connect(concepts_changed, sender=Concept, dispatch_uid="production.overview.Concept")
            signal.connect(ideas_changed, sender=Idea, dispatch_uid="production.overview.Idea")

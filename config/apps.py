from django.apps import AppConfig


class InnspillConfig(AppConfig):
    """The project's own checks (config/checks.py), registered when Django starts."""

    name = "config"
    label = "innspill"
    verbose_name = "Innspill"

    def ready(self) -> None:
        from config import checks  # noqa: F401  # registers the checks

"""Rebuild every archive item's copied metadata and search document (after an upgrade, or a change of the rules)."""

from typing import Any

from django.core.management.base import BaseCommand

from publishing import archive
from publishing.models import ArchiveItem


class Command(BaseCommand):
    help = "Copy the current text and consent of each archive item's asset and post again, and rebuild search."

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(ArchiveItem.objects.order_by("pk").values_list("pk", flat=True))
        self.stdout.write(f"{archive.refresh_items(ids)} archive item(s) refreshed.")

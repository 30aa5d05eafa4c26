"""Rebuild every archive item's copied metadata and search document (after an upgrade, or a change of the rules)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from publishing.archive import filing as archive
from publishing.models import ArchiveItem, ArchiveWord


class Command(BaseCommand):
    help = (
        "Copy the current text and consent of each archive item's asset and post again, rebuild search, "
        "and rebuild the words a misspelt search is corrected to."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(ArchiveItem.objects.order_by("pk").values_list("pk", flat=True))
        with transaction.atomic():
            # Words of items that changed or went are dropped; refreshing adds back every word in use.
            ArchiveWord.objects.all().delete()
            refreshed = archive.refresh_items(ids)
        self.stdout.write(f"{refreshed} archive item(s) refreshed.")

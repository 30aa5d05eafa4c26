"""Remove location and personal metadata from originals stored before it was removed at upload (idempotent)."""

import logging
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from production.models import Asset
from production.processing import metadata
from production.processing.files import MediaRejected

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Take the location (GPS), camera details, XMP and comments out of the originals of counties that do not "
        "keep them, without re-encoding. Originals already cleaned are left alone, so it can run again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--county", help="only this county (its short name)")

    def handle(self, *args: Any, **options: Any) -> None:
        assets = Asset.objects.select_related("county").only("pk", "info", "status", "county__keep_original_metadata")
        if options["county"]:
            assets = assets.filter(county__slug=options["county"])
        candidates, waiting = [], 0
        for asset in assets.filter(county__keep_original_metadata=False).order_by("pk").iterator():
            if metadata.needs_cleaning(asset):
                candidates.append(asset.pk)
            elif asset.status == Asset.Status.PROCESSING and (asset.info or {}).get("metadata_removed") is None:
                waiting += 1  # the worker may be reading it now
        cleaned = unchanged = failed = 0
        for asset_id in candidates:
            try:
                removed = metadata.clean_stored_original(asset_id=asset_id)
            except (MediaRejected, OSError):
                logger.exception("The original of asset %s could not be cleaned", asset_id)
                failed += 1
                continue
            if removed:
                cleaned += 1
            else:
                unchanged += 1
        self.stdout.write(
            f"{cleaned} original(s) cleaned, {unchanged} had nothing to remove, {failed} could not be read"
            + (f", {waiting} still processing (run again later)." if waiting else ".")
        )

"""Celery tasks for production: thin, ids in, idempotent in the database (see services.py, asset_services.py)."""

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from production import uploads
from production.services import media as asset_services
from production.services import planning as services

logger = logging.getLogger(__name__)


@shared_task(name="production.send_recording_day_announcement", acks_late=True, time_limit=300, soft_time_limit=240)
def send_recording_day_announcement(recording_day_id: int, language: str) -> int:
    """E-mail the county that a recording day was announced (once, however often it is delivered)."""
    return services.send_recording_day_announcement(day_id=recording_day_id, language=language)


@shared_task(name="production.send_recording_day_reminders", acks_late=True, time_limit=300, soft_time_limit=240)
def send_recording_day_reminders() -> int:
    """Remind the people expected on each recording day two days ahead (each day once)."""
    return services.send_due_reminders()


# A 100-megapixel photo takes a few seconds. The limits
# leave room for a slow object store, and stay far below the broker's
# visibility timeout (config/settings.py).
# A video's transcode gets more, scaled by its duration: asset_services.processing_time_limits, given when
# the task is queued.
PROCESS_SOFT_TIME_LIMIT = asset_services.PROCESS_SOFT_TIME_LIMIT
PROCESS_TIME_LIMIT = asset_services.PROCESS_TIME_LIMIT
PROCESS_MAX_RETRIES = 3


@shared_task(
    bind=True,
    name="production.process_asset",
    acks_late=True,
    soft_time_limit=PROCESS_SOFT_TIME_LIMIT,
    time_limit=PROCESS_TIME_LIMIT,
    max_retries=PROCESS_MAX_RETRIES,
)
def process_asset(self: Task, asset_id: int, language: str = "") -> str:  # type: ignore[type-arg]  # Celery's Task is generic in the stubs only
    """Make an asset's renditions and Instagram check; a second delivery finds it ready and does nothing."""
    language = language or settings.LANGUAGE_CODE
    try:
        asset = asset_services.process_asset(asset_id=asset_id, language=language)
    except SoftTimeLimitExceeded:
        logger.warning("Processing asset %s ran out of time", asset_id)
        with translation.override(language):
            reason = _("Making the Instagram version took too long. Try again, or upload a smaller file.")
        asset = asset_services.mark_processing_failed(asset_id=asset_id, reason=reason)
    except OSError as error:
        # Storage that did not answer (a full disk, the object store away) may work a minute later.
        if self.request.retries < PROCESS_MAX_RETRIES:
            raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error
        logger.exception("Processing asset %s failed for good", asset_id)
        with translation.override(language):
            reason = _("The file could not be read from storage. Try again later.")
        asset_services.mark_processing_failed(asset_id=asset_id, reason=reason)
        raise
    return asset.status if asset is not None else "deleted"


@shared_task(name="production.expire_consents", acks_late=True, time_limit=300, soft_time_limit=240)
def expire_consents() -> int:
    """Nightly: consents past their last valid day lapse (each once), and the coordinators are told."""
    return asset_services.expire_consents()


@shared_task(name="production.clean_abandoned_uploads", acks_late=True, time_limit=300, soft_time_limit=240)
def clean_abandoned_uploads() -> int:
    """Hourly: delete resumable uploads nobody has touched for UPLOAD_ABANDONED_AFTER_HOURS."""
    return uploads.clean_abandoned_uploads()

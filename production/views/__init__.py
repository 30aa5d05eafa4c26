"""Pages for concepts, ideas, recording days, run sheets and calendars; helpers they share."""

from __future__ import annotations

from libraries.access import CountyAccess
from libraries.http import error_text, is_htmx, safe_next_url
from production.models import RecordingDay, RecordingDayQuerySet

__all__ = ["error_text", "is_htmx", "plannable_days", "safe_next_url"]


def plannable_days(access: CountyAccess) -> RecordingDayQuerySet:
    return RecordingDay.objects.for_county(access.county).not_done().upcoming().select_related("host_library")

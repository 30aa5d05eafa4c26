"""Pages for concepts, ideas, recording days, run sheets and calendars; helpers they share."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format, time_format

from libraries.access import CountyAccess
from libraries.http import error_text, is_htmx, safe_next_url
from libraries.models import Role, User
from production.models import RecordingDay, RecordingDayQuerySet

__all__ = ["county_staff", "date_text", "error_text", "is_htmx", "plannable_days", "safe_next_url", "time_text"]


def county_staff(access: CountyAccess) -> QuerySet[User]:
    """People with an editor or coordinator role in the county (owners of concepts, responsible for days)."""
    return (
        User.objects.filter(
            memberships__library__county=access.county,
            memberships__role__in=[Role.EDITOR, Role.COORDINATOR],
            is_active=True,
        )
        .distinct()
        .order_by("name")
    )


def plannable_days(access: CountyAccess) -> RecordingDayQuerySet:
    return RecordingDay.objects.for_county(access.county).not_done().upcoming().select_related("host_library")


def date_text(value: date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def time_text(value: datetime) -> str:
    return time_format(timezone.localtime(value), "H:i")

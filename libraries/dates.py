"""Local time and durations, the one way every app shows them.

Times are stored aware in UTC; people read them in the county's time zone
(settings.TIME_ZONE), formatted for the active language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, timezone
from django.utils.formats import date_format, get_format, time_format
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: date) -> datetime:
    """Midnight at the start of `day`, local time, as an aware datetime."""
    return datetime.combine(day, time(), tzinfo=local_zone())


def date_text(value: date) -> str:
    """A date as the active language writes it briefly ("04.12.2026")."""
    return date_format(value, "SHORT_DATE_FORMAT")


def date_texts() -> Callable[[date], str]:
    """`date_text` for the many dates of one page (a moment: its local day): the format is looked up once and
    each day written once, where Django looks the format up for every date."""
    short = get_format("SHORT_DATE_FORMAT")
    zone = timezone.get_current_timezone()
    written: dict[date, str] = {}

    def text(value: date) -> str:
        day = timezone.localtime(value, zone).date() if isinstance(value, datetime) else value
        if day not in written:
            written[day] = dateformat.format(day, short)
        return written[day]

    return text


def time_text(value: datetime) -> str:
    """The local time of day of an aware datetime ("14:30")."""
    return time_format(timezone.localtime(value), "H:i")


def datetime_text(value: datetime | None) -> str:
    """An aware datetime in local time, as the active language writes it briefly; "" for none."""
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


def duration_text(seconds: float, *, short: bool = False, depth: int = 1, now: datetime | None = None) -> str:
    """How long, in the active language.

    In words ("3 hours", depth 2: "2 hours, 5 minutes") where a sentence
    reads it, as the inbox does; `short` ("45 min", "3 h 5 min", "2 days 4 h")
    where a table or report column does.
    """
    if short:
        minutes = round(seconds / 60)
        if minutes < 60:
            return _("%(minutes)s min") % {"minutes": minutes}
        hours, minutes = divmod(minutes, 60)
        if hours < 24:
            return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
        days, hours = divmod(hours, 24)
        return ngettext("%(days)s day %(hours)s h", "%(days)s days %(hours)s h", days) % {
            "days": days,
            "hours": hours,
        }
    if seconds < 60:
        return _("less than a minute")  # rather than "0 minutes"
    now = now or timezone.now()
    return timesince(now - timedelta(seconds=seconds), now, depth=depth)

"""Calendars of recording days: the month grid, and a person's iCalendar feed (RFC 5545).

The feed is written the one way libraries/ical.py writes feeds.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import icalendar
from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from libraries import holidays, ical
from libraries.models import User
from production.models import CalendarFeed, RecordingDay, RunSheetSlot


@dataclass
class CalendarDay:
    date: date
    in_month: bool
    is_today: bool
    recording_days: list[RecordingDay] = field(default_factory=list)
    holiday: str = ""  # the public holiday's name, when the day is one


def month_grid(
    year: int, month: int, days: list[RecordingDay], today: date, *, country: str
) -> list[list[CalendarDay]]:
    """Weeks (Monday first) covering the month, each day with the recording days on it and its holiday."""
    by_date: dict[date, list[RecordingDay]] = {}
    for day in days:
        by_date.setdefault(day.date, []).append(day)
    weeks = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month)
    named = holidays.holidays_between(country, weeks[0][0], weeks[-1][-1])
    return [
        [
            CalendarDay(
                date=d,
                in_month=d.month == month,
                is_today=d == today,
                recording_days=by_date.get(d, []),
                holiday=named.get(d, ""),
            )
            for d in week
        ]
        for week in weeks
    ]


def month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    return first, first.replace(day=calendar.monthrange(year, month)[1])


def neighbour_months(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return previous, following


# --- The iCalendar feed ---


def feed_days(user: User) -> list[RecordingDay]:
    """Announced and done days in every county the person belongs to, with the slots they present in."""
    since = timezone.localdate() - timedelta(days=ical.FEED_PAST_DAYS)
    return list(
        RecordingDay.objects.filter(county__libraries__memberships__user=user, date__gte=since)
        .visible_to_librarians()
        .distinct()
        .select_related("host_library", "county")
        .prefetch_related(
            Prefetch("slots", queryset=RunSheetSlot.objects.select_related("idea").prefetch_related("presenters"))
        )
        .order_by("date", "starts_at")
    )


def build_feed(feed: CalendarFeed) -> bytes:
    """The person's calendar as iCalendar bytes, in the language they chose when they made the address."""
    return ical.feed_bytes(
        prodid="-//Innspill//Recording days//EN",
        name=gettext_lazy("Innspill: recording days"),
        language=feed.language,
        events=lambda stamp: feed_events(feed.user, stamp),
    )


def feed_events(user: User, stamp: datetime) -> Iterator[icalendar.Event]:
    """The announced and done days, and the run-sheet slots the person presents in."""
    for day in feed_days(user):
        url = settings.PUBLIC_BASE_URL + day.get_absolute_url()
        description = "\n\n".join(part for part in [day.notes, url] if part)
        yield ical.event(
            uid=ical.uid("recording-day", day.pk),
            stamp=stamp,
            start=day.start,
            end=day.end,
            summary=_("Recording day at %(library)s") % {"library": day.host_library.name},
            location=day.place or None,
            description=description,
            url=url,
            last_modified=day.updated_at,
        )
        for row in day.run_sheet().rows:
            if not any(person.pk == user.pk for person in row.slot.presenters.all()):
                continue
            yield ical.event(
                uid=ical.uid("run-sheet-slot", row.slot.pk),
                stamp=stamp,
                start=row.starts,
                end=row.ends,
                summary=_("You present: %(title)s") % {"title": row.slot.label},
                location=day.place or None,
                description="\n\n".join(part for part in [row.slot.note, url] if part),
                url=url,
            )

"""The one way Innspill writes an iCalendar feed (RFC 5545): the recording days' and the publishing plan's.

What Outlook and Google Calendar subscribe to: stable UIDs, a DTSTAMP on
every event, times with a TZID and the matching VTIMEZONE, and a refresh
interval hint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.functional import Promise

# How far back a feed reaches.
FEED_PAST_DAYS = 180
REFRESH_INTERVAL = timedelta(hours=1)


def uid(kind: str, pk: int) -> str:
    """A stable event id: the same row is the same event in every download."""
    host = urlsplit(settings.PUBLIC_BASE_URL).hostname or "innspill"
    return f"{kind}-{pk}@{host}"


def event(*, stamp: datetime, **properties: Any) -> icalendar.Event:
    """A confirmed event; properties as icalendar.Event.new takes them (uid, start, end, summary, ...)."""
    return icalendar.Event.new(stamp=stamp, status=icalendar.STATUS.CONFIRMED, **properties)


def feed_bytes(
    *, prodid: str, name: str | Promise, language: str, events: Callable[[datetime], Iterable[icalendar.Event]]
) -> bytes:
    """A calendar of `events(stamp)`, its name and events in `language` (chosen when the address was made)."""
    stamp = timezone.now()
    with translation.override(language):
        cal = icalendar.Calendar.new(
            prodid=prodid,
            name=str(name),
            method="PUBLISH",
            calscale="GREGORIAN",
            refresh_interval=REFRESH_INTERVAL,
        )
        # Outlook reads its own name for the refresh interval.
        cal.add("x-published-ttl", REFRESH_INTERVAL)
        for component in events(stamp):
            cal.add_component(component)
        cal.add_missing_timezones()
    return bytes(cal.to_ical())


def feed_response(body: bytes, *, filename: str) -> HttpResponse:
    """A feed as calendar apps download it: shown inline, under a file name for those that save it."""
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response

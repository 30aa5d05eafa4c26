"""A concept's cadence: an RFC 5545 RRULE, built from a few choices and read back.

Dates come from dateutil's rrule (the RFC's own rules for "last Tuesday of the
month", year ends and leap years), never from hand-written date arithmetic.
Only the rules a form can build are offered; an empty rule means "ad hoc".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# RFC 5545 weekday codes, Monday first (as datetime.weekday() counts).
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

WEEKLY = "weekly"
MONTHLY = "monthly"
AD_HOC = "adhoc"

KIND_CHOICES = [
    (WEEKLY, gettext_lazy("Weekly, on a weekday")),
    (MONTHLY, gettext_lazy("Monthly, on the nth or last weekday")),
    (AD_HOC, gettext_lazy("Ad hoc (no fixed dates)")),
]
WEEKDAY_CHOICES = [(code, WEEKDAYS[index]) for index, code in enumerate(WEEKDAY_CODES)]
ORDINAL_CHOICES = [
    (1, gettext_lazy("First")),
    (2, gettext_lazy("Second")),
    (3, gettext_lazy("Third")),
    (4, gettext_lazy("Fourth")),
    (-1, gettext_lazy("Last")),
]

_WEEKLY_RULE = re.compile(r"^FREQ=WEEKLY;BYDAY=(MO|TU|WE|TH|FR|SA|SU)$")
_MONTHLY_RULE = re.compile(r"^FREQ=MONTHLY;BYDAY=(-1|[1-4])(MO|TU|WE|TH|FR|SA|SU)$")


@dataclass(frozen=True)
class Cadence:
    """The choices behind a rule: kind, weekday code and (monthly) ordinal."""

    kind: str
    weekday: str = ""
    ordinal: int | None = None

    @property
    def rule(self) -> str:
        if self.kind == WEEKLY:
            return f"FREQ=WEEKLY;BYDAY={self.weekday}"
        if self.kind == MONTHLY:
            return f"FREQ=MONTHLY;BYDAY={self.ordinal}{self.weekday}"
        return ""


def parse(rule: str) -> Cadence:
    """The choices a rule was built from; ValueError for a rule the forms cannot build."""
    if not rule:
        return Cadence(AD_HOC)
    if match := _WEEKLY_RULE.match(rule):
        return Cadence(WEEKLY, match.group(1))
    if match := _MONTHLY_RULE.match(rule):
        return Cadence(MONTHLY, match.group(2), int(match.group(1)))
    raise ValueError(f"Unsupported cadence rule: {rule!r}")


def describe(rule: str) -> str:
    """The rule in words, in the active language: "Every Friday", "Last Tuesday of the month"."""
    cadence = parse(rule)
    if cadence.kind == AD_HOC:
        return _("Ad hoc")
    weekday = WEEKDAYS[WEEKDAY_CODES.index(cadence.weekday)]
    if cadence.kind == WEEKLY:
        return _("Every %(weekday)s") % {"weekday": weekday}
    ordinal = dict(ORDINAL_CHOICES)[cadence.ordinal]  # type: ignore[index]  # parse() only gives ordinals in the choices
    return _("%(ordinal)s %(weekday)s of the month") % {"ordinal": ordinal, "weekday": weekday}


def occurrences(rule: str, *, anchor: date, start: date, end: date) -> list[date]:
    """The dates from `start` to `end` (both included) on which the rule falls, counted from `anchor`."""
    if not rule or end < start:
        return []
    parse(rule)  # only the rules the forms build (ValueError otherwise)
    # Counting starts at the window, not at the anchor years back: these rules have no
    # INTERVAL or COUNT, so their dates do not depend on where counting starts, and
    # dateutil would otherwise step through every week since the concept began.
    window_start = datetime.combine(max(start, anchor), time())
    recurrence = rrulestr(rule, dtstart=window_start)
    window_end = datetime.combine(end, time())
    return [moment.date() for moment in recurrence.between(window_start, window_end, inc=True)]


def occurrence_times(rule: str, *, anchor: date, at: time, zone: ZoneInfo, start: date, end: date) -> list[datetime]:
    """Like `occurrences`, as aware datetimes at the wall-clock time `at` in `zone`.

    The wall-clock time stays the same across daylight-saving changes (12:00 is
    12:00 in March and in November); only the UTC offset moves. A time that does
    not exist on a spring-forward night is moved forward by the gap.
    """
    moments = []
    for day in occurrences(rule, anchor=anchor, start=start, end=end):
        # fold=0 whatever `at` carries: a time in the gap then moves forward, an ambiguous one is the first.
        local = datetime.combine(day, at.replace(fold=0), tzinfo=zone)
        # A round trip through UTC resolves a wall-clock time inside the DST gap.
        moments.append(local.astimezone(UTC).astimezone(zone))
    return moments
